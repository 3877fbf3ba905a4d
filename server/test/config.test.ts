import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseByteSize } from '../src/config.js';

test('defaults follow the start-up contract', () => {
  const config = loadConfig({}, '/srv/gitfleet');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.dataDir, path.resolve('/srv/gitfleet/data'));
  assert.equal(config.publicUrl, undefined);
  assert.equal(config.blobStore, 'fs');
  assert.equal(config.kvStore, 'sqlite');
  assert.deepEqual(config.limits, { maxPackBytes: 2 * 1024 ** 3, maxObjectSize: 512 * 1024 ** 2, maxRequestBytes: 64 * 1024 ** 2 });
  assert.equal(config.logLevel, 'info');
});

test('reads every setting from the environment', () => {
  const config = loadConfig(
    {
      HOST: '0.0.0.0',
      PORT: '0',
      GITFLEET_DATA_DIR: '/var/lib/gitfleet',
      GITFLEET_PUBLIC_URL: 'https://git.example.com/',
      GITFLEET_MAX_PACK_BYTES: '1g',
      GITFLEET_MAX_OBJECT_BYTES: '100MiB',
      GITFLEET_MAX_REQUEST_BYTES: '65536',
      GITFLEET_CACHE_BYTES: '0',
      LOG_LEVEL: 'silent',
    },
    '/elsewhere',
  );
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.port, 0);
  assert.equal(config.dataDir, '/var/lib/gitfleet');
  assert.equal(config.publicUrl, 'https://git.example.com');
  assert.deepEqual(config.limits, { maxPackBytes: 1024 ** 3, maxObjectSize: 100 * 1024 ** 2, maxRequestBytes: 65536 });
  assert.equal(config.cache.maxBytes, 0);
  assert.equal(config.logLevel, 'silent');
});

test('reports every invalid setting at once', () => {
  assert.throws(
    () => loadConfig({ PORT: '70000', GITFLEET_MAX_PACK_BYTES: 'lots', LOG_LEVEL: 'loud', GITFLEET_KV_STORE: 'mongo', GITFLEET_PUBLIC_URL: 'ftp://x' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const names = error.problems.map((problem) => problem.split('=')[0]);
      assert.deepEqual(names.sort(), ['GITFLEET_KV_STORE', 'GITFLEET_MAX_PACK_BYTES', 'GITFLEET_PUBLIC_URL', 'LOG_LEVEL', 'PORT']);
      return true;
    },
  );
});

test('byte sizes take binary unit suffixes', () => {
  assert.equal(parseByteSize('512'), 512);
  assert.equal(parseByteSize('64k'), 65536);
  assert.equal(parseByteSize('64 KiB'), 65536);
  assert.equal(parseByteSize('2GiB'), 2 * 1024 ** 3);
  assert.equal(parseByteSize('1.5g'), undefined);
  assert.equal(parseByteSize('-1'), undefined);
  assert.equal(parseByteSize('12 parsecs'), undefined);
});
