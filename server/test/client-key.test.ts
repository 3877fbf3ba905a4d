import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientKey } from '../src/limits/client-key.js';

test('IPv4 clients are counted by address, also in their IPv4-mapped IPv6 form', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::FFFF:192.0.2.7'), '192.0.2.7');
});

test('IPv6 clients are counted by /64: every address of one network is one client', () => {
  const one = [
    '2001:db8:1:2::1',
    '2001:db8:1:2:ffff:ffff:ffff:ffff',
    '2001:0db8:0001:0002:0:0:0:9',
    '2001:db8:1:2:a:b:c:d%eth0',
    '2001:db8:1:2::192.0.2.1',
  ];
  assert.deepEqual(new Set(one.map(clientKey)), new Set(['2001:db8:1:2::/64']));
  assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%lo'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('2001:db8::'), '2001:db8:0:0::/64');
});

test('anything else is kept as it is', () => {
  assert.equal(clientKey('unknown'), 'unknown');
});
