import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HttpError } from '../src/http-errors.js';
import { openRequestBody } from '../src/request-body.js';

const MIB = 1024 * 1024;

/** A request stand-in carrying `body` with the given headers. */
function requestOf(body: Buffer, headers: Record<string, string>): IncomingMessage {
  const req = Object.assign(new PassThrough(), { headers, complete: false });
  req.end(body, () => (req.complete = true));
  return req as unknown as IncomingMessage;
}

test('a gzip bomb is inflated only as fast as it is read, and cut at the limit of inflated bytes', async () => {
  const bomb = gzipSync(Buffer.alloc(512 * MIB), { level: 9 });
  const before = process.memoryUsage().arrayBuffers;
  const body = openRequestBody(requestOf(bomb, { 'content-encoding': 'gzip' }), 4 * MIB);
  // Nobody reads yet: the inflater must wait rather than fill memory.
  await sleep(300);
  assert.ok(
    process.memoryUsage().arrayBuffers - before < 16 * MIB,
    `${(process.memoryUsage().arrayBuffers - before) / MIB} MiB held while nothing was read`,
  );
  let received = 0;
  await assert.rejects(
    (async () => {
      for await (const chunk of body.stream) received += (chunk as Buffer).length;
    })(),
  );
  assert.ok(received <= 4 * MIB, `${received} bytes passed the 4 MiB limit`);
  const failure = body.failure();
  assert.ok(failure instanceof HttpError);
  assert.equal(failure.status, 413);
  assert.match(failure.message, /once inflated/);
});
