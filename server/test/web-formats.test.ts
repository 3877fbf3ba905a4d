import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../src/format-bytes.js';
import { parseHookId } from '../src/hook-ids.js';

test('byte counts for people, as the file pages and `gitfleet repair` print them', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [3.25 * 1024 ** 3, '3.3 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
    [2 * 1024 ** 5, '2048.0 TiB'],
  ];
  for (const [bytes, text] of cases) assert.equal(formatBytes(bytes), text, String(bytes));
});

test('hook and delivery ids in URLs: positive integers of at most 15 digits, anything else names nothing', () => {
  assert.equal(parseHookId('1'), 1);
  assert.equal(parseHookId('999999999999999'), 999_999_999_999_999);
  for (const text of ['', '0', '01', '-1', '1.5', '1e3', ' 1', '1 ', '0x10', '1000000000000000', 'abc'])
    assert.equal(parseHookId(text), undefined, JSON.stringify(text));
});
