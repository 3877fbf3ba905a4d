import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKVStore } from '@gitfleet/storage';
import { ConfigError, loadConfig } from '../src/config.js';
import { PackfileUriSigner, packfileUriSecret, type PackfileGrant } from '../src/packfile-uri-signing.js';
import { byteRange } from '../src/ranged-download.js';

const GRANT: PackfileGrant = { repositoryId: 'a'.repeat(32), pack: 'b'.repeat(40), expires: 1_800_000_000 };

test('a signature holds for its grant only: another repository, pack or expiry, or an altered signature, is refused', async () => {
  const signer = new PackfileUriSigner(async () => Buffer.from('k'.repeat(32)));
  const signature = await signer.sign(GRANT);
  assert.equal(await signer.verify(GRANT, signature), true);
  for (const other of [
    { ...GRANT, repositoryId: 'c'.repeat(32) },
    { ...GRANT, pack: 'd'.repeat(40) },
    { ...GRANT, expires: GRANT.expires + 1 },
  ]) {
    assert.equal(await signer.verify(other, signature), false, JSON.stringify(other));
  }
  assert.equal(await signer.verify(GRANT, `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`), false);
  assert.equal(await signer.verify(GRANT, signature.slice(1)), false);
  assert.equal(await signer.verify(GRANT, ''), false);
  const otherKey = new PackfileUriSigner(async () => Buffer.from('x'.repeat(32)));
  assert.equal(await otherKey.verify(GRANT, signature), false);
});

test('the generated secret is made once and shared through the KV store; a configured one wins', async () => {
  const kv = new MemoryKVStore();
  const [first, second] = await Promise.all([packfileUriSecret(kv, undefined), packfileUriSecret(kv, undefined)]);
  assert.equal(first.length, 64);
  assert.deepEqual(second, first);
  assert.deepEqual(await packfileUriSecret(kv, undefined), first);
  assert.deepEqual(await packfileUriSecret(kv, 's'.repeat(40)), Buffer.from('s'.repeat(40)));
});

test('a secret the KV store could not give is asked for again, not kept as a failure', async () => {
  let calls = 0;
  const signer = new PackfileUriSigner(async () => {
    calls++;
    if (calls === 1) throw new Error('KV store unavailable');
    return Buffer.from('k'.repeat(32));
  });
  await assert.rejects(signer.sign(GRANT), /KV store unavailable/);
  assert.equal(typeof (await signer.sign(GRANT)), 'string');
});

test('Range headers: one range clamped to the pack, several or malformed ones serve it whole', () => {
  assert.deepEqual(byteRange(undefined, 100), undefined);
  assert.deepEqual(byteRange('bytes=10-', 100), { start: 10, end: 100 });
  assert.deepEqual(byteRange('bytes=10-19', 100), { start: 10, end: 20 });
  assert.deepEqual(byteRange('bytes=90-500', 100), { start: 90, end: 100 });
  assert.deepEqual(byteRange('bytes=-30', 100), { start: 70, end: 100 });
  assert.deepEqual(byteRange('bytes=-300', 100), { start: 0, end: 100 });
  assert.equal(byteRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(byteRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(byteRange('bytes=20-10', 100), 'unsatisfiable');
  assert.equal(byteRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(byteRange('bytes=-', 100), undefined);
  assert.equal(byteRange('items=0-1', 100), undefined);
});

test('GITFLEET_PACKFILE_URIS: on by default, server or off; expiry bounded; a weak secret refused unechoed', () => {
  assert.deepEqual(loadConfig({}).packfileUris, { mode: 'direct', expirySeconds: 300 });
  assert.equal(loadConfig({ GITFLEET_PACKFILE_URIS: 'server' }).packfileUris.mode, 'server');
  assert.equal(loadConfig({ GITFLEET_PACKFILE_URIS: '0' }).packfileUris.mode, 'off');
  assert.equal(loadConfig({ GITFLEET_PACKFILE_URI_SECRET: 'z'.repeat(32) }).packfileUris.secret, 'z'.repeat(32));
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  assert.match(problems({ GITFLEET_PACKFILE_URIS: 'sometimes' }).join(), /GITFLEET_PACKFILE_URIS="sometimes"/);
  assert.match(problems({ GITFLEET_PACKFILE_URI_EXPIRY_SECONDS: '0' }).join(), /GITFLEET_PACKFILE_URI_EXPIRY_SECONDS/);
  const weak = problems({ GITFLEET_PACKFILE_URI_SECRET: 'short-secret' }).join();
  assert.match(weak, /GITFLEET_PACKFILE_URI_SECRET: expected at least 32 characters/);
  assert.doesNotMatch(weak, /short-secret/);
});
