import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLfsPointer } from '../src/index.js';

const OID = 'a'.repeat(64);
const pointer = (text: string) => parseLfsPointer(Buffer.from(text));

describe('parseLfsPointer', () => {
  it('reads the pointer git-lfs writes, and older or extended ones', () => {
    assert.deepEqual(pointer(`version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12345\n`), { oid: OID, size: 12345 });
    assert.deepEqual(pointer(`version https://hawser.github.com/spec/v1\noid sha256:${OID}\nsize 0\n`), { oid: OID, size: 0 });
    assert.deepEqual(
      pointer(`version https://git-lfs.github.com/spec/v1\next-0-foo sha256:${'b'.repeat(64)}\noid sha256:${OID}\nsize 7\n`),
      {
        oid: OID,
        size: 7,
      },
    );
  });

  it('takes an ordinary file for what it is', () => {
    for (const text of [
      '',
      'hello\n',
      `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12`, // no final newline
      `version https://git-lfs.github.com/spec/v1\nsize 12\noid sha256:${OID}\n`, // keys out of order
      `version https://git-lfs.github.com/spec/v2\noid sha256:${OID}\nsize 12\n`, // unknown version
      `version https://git-lfs.github.com/spec/v1\noid sha256:${OID.toUpperCase()}\nsize 12\n`,
      `version https://git-lfs.github.com/spec/v1\noid sha1:${'a'.repeat(40)}\nsize 12\n`,
      `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize -1\n`,
      `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12\nsize 13\n`,
      `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12\n${'x'.repeat(1024)}\n`,
    ]) {
      assert.equal(pointer(text), undefined, JSON.stringify(text.slice(0, 80)));
    }
  });
});
