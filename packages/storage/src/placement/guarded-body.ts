import { Transform, pipeline, type Readable } from 'node:stream';
import type { BlobBody, BlobStore } from '../blob-store.js';
import { withTimeout } from './timeout.js';

/**
 * A body handed to several stores in turn, which remembers whether a failure came from the
 * body itself (its stream failed, or gave more or fewer bytes than declared) rather than from
 * a store. A body failure is the caller's problem and must not be retried on the next store;
 * a store failure is the next store's chance.
 */
export interface GuardedBody {
  body: BlobBody;
  failure(): Error | undefined;
}

export function guardBody(key: string, body: BlobBody): GuardedBody {
  if (Buffer.isBuffer(body)) return { body, failure: () => undefined };
  let failure: Error | undefined;
  const record = (error: Error) => {
    failure ??= error;
  };
  return {
    failure: () => failure,
    body: {
      size: body.size,
      open() {
        const source = body.open();
        const checked = sizeChecked(key, body.size, record);
        // Listening before pipeline does: the failure is recorded before any store sees it.
        source.on('error', record);
        pipeline(source, checked, () => {});
        return checked;
      },
    },
  };
}

function sizeChecked(key: string, declared: number, record: (error: Error) => void): Transform {
  let seen = 0;
  const fail = (message: string) => {
    const error = new Error(`blob ${key}: ${message}`);
    record(error);
    return error;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > declared) callback(fail(`body is longer than its declared ${declared} bytes`));
      else callback(null, chunk);
    },
    flush(callback) {
      if (seen < declared) callback(fail(`body ended after ${seen} bytes, short of its declared ${declared}`));
      else callback();
    },
  });
}

/**
 * A body that reads blob `key` (of `size` bytes) from `source`, for copying it onto another
 * store; a failure to read it (absent, failing, too short or long) is the body's failure.
 */
export function guardedCopy(source: { name: string; store: BlobStore }, key: string, size: number, readTimeoutMs: number): GuardedBody {
  let failure: Error | undefined;
  const record = (error: Error) => {
    failure ??= error;
  };
  const open = async (): Promise<Readable> => {
    const stream = await withTimeout(source.store.getStream(key), readTimeoutMs, `read of blob ${key} on store ${source.name}`, (late) =>
      late?.destroy(),
    );
    if (!stream) throw new Error(`blob ${key} is no longer on store ${source.name}`);
    return stream;
  };
  return {
    failure: () => failure,
    body: {
      size,
      open() {
        // BlobBody.open() is synchronous, reading from a store is not: hand out a stream
        // at once and feed it when the source is open.
        const checked = sizeChecked(key, size, record);
        open().then(
          (stream) => {
            stream.on('error', record);
            pipeline(stream, checked, () => {});
          },
          (error: Error) => {
            record(error);
            checked.destroy(error);
          },
        );
        return checked;
      },
    },
  };
}
