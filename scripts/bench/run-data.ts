import { loadConfig } from '../../server/src/index.js';
import { S3BlobStore } from '../../packages/storage/src/index.js';
import { run } from './exec.js';

const DELETE_CONCURRENCY = 16;
const REDIS_TIMEOUT_MS = 120_000;
/** Keys per UNLINK: a few hundred keep the command line short. */
const REDIS_BATCH = 500;

/**
 * Deletes what one run of gitfleet-s3 stored: the objects under its S3 prefix and the keys of
 * its Redis namespace. The prefix and namespace are the run's own, so nothing else is touched;
 * the S3 and Redis servers themselves keep running (other runs and tests use them).
 */
export async function deleteRunData(backendEnv: NodeJS.ProcessEnv): Promise<void> {
  // The server's own parser: the same bucket, prefix and namespace the processes used.
  const config = loadConfig({ ...backendEnv, GITFLEET_DATA_DIR: '/nonexistent' });
  const { blobs, kv } = config;
  if (blobs.backend === 'placement' || blobs.store.type !== 's3' || kv.backend !== 'redis' || !('url' in kv.target)) {
    throw new Error('deleteRunData: expects one S3 store and one Redis instance');
  }
  await deleteS3Prefix(new S3BlobStore(blobs.store.s3));
  await deleteRedisNamespace(kv.target.url, kv.namespace);
}

async function deleteS3Prefix(store: S3BlobStore): Promise<void> {
  try {
    const keys: string[] = [];
    // Keys come back without the store's prefix: exactly this run's objects.
    for await (const blob of store.list('')) keys.push(blob.key);
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map((key) => store.delete(key)));
    }
  } finally {
    await store.close();
  }
}

async function deleteRedisNamespace(url: string, namespace: string): Promise<void> {
  // The namespace is [A-Za-z0-9._-] (checked by loadConfig), so it holds no glob character.
  const scan = await run('redis-cli', ['-u', url, '--scan', '--pattern', `${namespace}:*`], { timeoutMs: REDIS_TIMEOUT_MS });
  const keys = scan.stdout.split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += REDIS_BATCH) {
    await run('redis-cli', ['-u', url, 'unlink', ...keys.slice(i, i + REDIS_BATCH)], { timeoutMs: REDIS_TIMEOUT_MS });
  }
}
