import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LookupAddress } from 'node:dns';
import {
  HookTargetPolicy,
  HookTargetRefused,
  InvalidAllowedNetwork,
  sendDelivery,
  validateAllowedNetworks,
  type LookupAll,
} from '../src/index.js';

/** A resolver that answers from a table, and counts how often each name was asked (rebinding: the answer changes). */
function fakeResolver(answers: Record<string, string[][]>): { resolve: LookupAll; asked: Map<string, number> } {
  const asked = new Map<string, number>();
  const resolve: LookupAll = (hostname, _options, callback) => {
    const times = asked.get(hostname) ?? 0;
    asked.set(hostname, times + 1);
    const rounds = answers[hostname];
    if (!rounds)
      return process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []));
    const round = rounds[Math.min(times, rounds.length - 1)];
    const addresses: LookupAddress[] = round.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    process.nextTick(() => callback(null, addresses));
  };
  return { resolve, asked };
}

describe('hook target policy', () => {
  it('refuses special-purpose addresses in every spelling, and allows public ones', () => {
    const policy = new HookTargetPolicy({ allowed: [] });
    const refused = [
      '127.0.0.1',
      '127.255.0.9',
      '0.0.0.0',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '100.127.255.254',
      '169.254.169.254',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '::ffff:a00:1',
      '64:ff9b::7f00:1',
      '64:ff9b::a9fe:a9fe',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'ff02::1',
      '2002:7f00:1::1',
    ];
    for (const address of refused) assert.notEqual(policy.refusal(address), undefined, address);
    for (const address of ['8.8.8.8', '1.1.1.1', '100.128.0.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      assert.equal(policy.refusal(address), undefined, address);
    }
  });

  it('lets the allow-list through: networks, addresses and host names', async () => {
    const policy = new HookTargetPolicy({
      allowed: ['10.0.0.0/8', '::1', 'ci.internal'],
      resolve: fakeResolver({ 'ci.internal': [['192.168.7.7']] }).resolve,
    });
    assert.equal(policy.refusal('10.9.8.7'), undefined);
    assert.equal(policy.refusal('::1'), undefined);
    assert.notEqual(policy.refusal('127.0.0.1'), undefined);
    await policy.checkUrl('http://ci.internal:8080/hook');
    await policy.checkUrl('http://10.1.1.1/hook');
    await assert.rejects(policy.checkUrl('http://192.168.0.1/hook'), HookTargetRefused);
    validateAllowedNetworks(['10.0.0.0/8', 'fd00::/8', '127.0.0.1', 'ci.internal']);
    for (const bad of ['10.0.0.0/33', 'not a host', '10.0.0.0/8/1', 'http://x'])
      assert.throws(() => validateAllowedNetworks([bad]), InvalidAllowedNetwork, bad);
  });

  it('judges a host name by every address it resolves to when a hook is saved', async () => {
    const { resolve } = fakeResolver({ 'mixed.test': [['8.8.8.8', '127.0.0.1']], 'public.test': [['8.8.8.8']] });
    const policy = new HookTargetPolicy({ allowed: [], resolve });
    await assert.rejects(policy.checkUrl('http://mixed.test/'), /mixed\.test resolves to 127\.0\.0\.1, which is a loopback address/);
    await policy.checkUrl('http://public.test/');
    await policy.checkUrl('http://unresolvable.test/');
  });
});

describe('deliveries and the policy', () => {
  let receiver: http.Server;
  let port: number;
  let requests = 0;

  before(async () => {
    receiver = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(200).end('inside'));
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    port = (receiver.address() as AddressInfo).port;
  });
  after(() => receiver.close());

  const send = (url: string, policy: HookTargetPolicy) =>
    sendDelivery({
      url,
      headers: { 'content-type': 'application/json' },
      body: '{}',
      timeoutMs: 5000,
      insecureSsl: false,
      maxResponseBytes: 1024,
      policy,
    });

  it('refuses at connect time a name that resolves to loopback by then (DNS rebinding), and does not retry', async () => {
    // Public when the hook was saved, loopback when the delivery connects.
    const { resolve, asked } = fakeResolver({ 'rebind.test': [['93.184.216.34'], ['127.0.0.1']] });
    const policy = new HookTargetPolicy({ allowed: [], resolve });
    const url = `http://rebind.test:${port}/hook`;
    await policy.checkUrl(url);
    const before = requests;
    const result = await send(url, policy);
    assert.equal(result.statusCode, null);
    assert.match(result.status, /^refused: rebind\.test resolves to 127\.0\.0\.1, which is a loopback address/);
    assert.equal(result.retryable, false);
    assert.equal(requests, before, 'the receiver on loopback heard nothing');
    assert.equal(asked.get('rebind.test'), 2, 'resolved again for the connection');
  });

  it('refuses an address literal without connecting, and delivers once the allow-list names it', async () => {
    const before = requests;
    const refused = await send(`http://127.0.0.1:${port}/hook`, new HookTargetPolicy({ allowed: [] }));
    assert.match(refused.status, /^refused: 127\.0\.0\.1 is a loopback address/);
    assert.equal(refused.retryable, false);
    const viaName = await send(`http://localhost:${port}/hook`, new HookTargetPolicy({ allowed: [] }));
    assert.match(viaName.status, /^refused: localhost resolves to/);
    assert.equal(requests, before);

    const allowed = await send(`http://localhost:${port}/hook`, new HookTargetPolicy({ allowed: ['127.0.0.1'] }));
    assert.equal(allowed.statusCode, 200);
    assert.equal(allowed.body, 'inside');
    assert.equal(requests, before + 1);
  });
});
