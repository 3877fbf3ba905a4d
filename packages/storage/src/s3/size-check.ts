import { Transform } from 'node:stream';

/**
 * Passes a body through unchanged and fails it when it yields more or fewer bytes than
 * declared, before the last byte reaches the store: an upload then fails instead of
 * storing a truncated or overlong blob.
 */
export function checkDeclaredSize(key: string, declared: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > declared) callback(new Error(`blob ${key}: body is longer than its declared ${declared} bytes`));
      else callback(null, chunk);
    },
    flush(callback) {
      if (seen < declared) callback(new Error(`blob ${key}: body ended after ${seen} bytes, short of its declared ${declared}`));
      else callback();
    },
  });
}
