import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageFull, StoreUnavailable, isOutOfSpace } from '@gitfleet/storage';
import { s3Error } from '../src/s3/s3-errors.js';

// Which failures of the S3 SDK say the store cannot serve now (the call may succeed later) and
// which are answers about the call itself or faults of ours: the server answers the first 503.

/** An error shaped as the SDK throws it: a service answer carries its HTTP status in $metadata. */
function sdkError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name }, fields);
}

const answered = (status: number, name = 'S3ServiceException') => sdkError(name, { $metadata: { httpStatusCode: status } });

describe('s3Error', () => {
  const unavailable: Array<[string, unknown]> = [
    ['a 500', answered(500, 'InternalError')],
    ['a 503 SlowDown', answered(503, 'SlowDown')],
    ['a 502 from a proxy in front', answered(502, 'Unknown')],
    ['a 429', answered(429, 'TooManyRequests')],
    ['a refused connection', sdkError('Error', { code: 'ECONNREFUSED' })],
    ['a connection reset mid-body', sdkError('Error', { code: 'ECONNRESET' })],
    ['the socket timeout', sdkError('TimeoutError')],
    ['a deadline', sdkError('AbortError')],
  ];
  for (const [what, error] of unavailable) {
    it(`says the store is unavailable on ${what}, keeping the cause and what was done`, () => {
      const wrapped = s3Error('head of blob packs/a', error);
      assert.ok(wrapped instanceof StoreUnavailable);
      assert.equal(wrapped.cause, error);
      assert.match(wrapped.message, /^S3 head of blob packs\/a failed/);
    });
  }

  const notUnavailable: Array<[string, unknown]> = [
    ['a 403 (credentials refused)', answered(403, 'AccessDenied')],
    ['a 400', answered(400, 'InvalidArgument')],
    ['a 404 of the bucket', answered(404, 'NoSuchBucket')],
    ['a bug of ours', new TypeError('cannot read properties of undefined')],
    ['something not an error', 'a string'],
  ];
  for (const [what, error] of notUnavailable) {
    it(`leaves ${what} a plain failure`, () => {
      const wrapped = s3Error('head of blob packs/a', error);
      assert.ok(!(wrapped instanceof StoreUnavailable));
      assert.ok(!isOutOfSpace(wrapped));
      assert.match(wrapped.message, /^S3 head of blob packs\/a failed/);
    });
  }

  const full: Array<[string, unknown]> = [
    ["radosgw's exhausted quota (403 QuotaExceeded)", answered(403, 'QuotaExceeded')],
    ['a 507 Insufficient Storage', answered(507, 'XMinioStorageFull')],
  ];
  for (const [what, error] of full) {
    it(`says the store is full on ${what}, not that it is unavailable`, () => {
      const wrapped = s3Error('put of blob packs/a', error);
      assert.ok(wrapped instanceof StorageFull);
      assert.ok(isOutOfSpace(new Error('storing a pack', { cause: wrapped })));
      assert.equal(wrapped.cause, error);
    });
  }
});
