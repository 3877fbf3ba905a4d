/**
 * Owner hooks through the admin CLI: keyed by the owner's account id, refused at hostile
 * targets, and deleted with the user or organisation they belong to.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runCli, type CliResult } from '@gitfleet/test-support/cli';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { loadConfig, openStores } from '../src/index.js';

const dataDir = tempDir({ after }, 'cli-hooks');

function gitfleet(...args: string[]): Promise<CliResult> {
  return runCli(args, { GITFLEET_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
}

async function ownerHookKeys(ownerId: string): Promise<string[]> {
  const stores = await openStores(loadConfig({ GITFLEET_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
  try {
    return (await stores.kv.scan(`hooks:owner-id:${ownerId}`, '')).map(({ key }) => key);
  } finally {
    await stores.close();
  }
}

test('a user deleted from the CLI takes its owner hooks along; a new user of that name has none', async () => {
  const created = await gitfleet('user', 'create', 'carol', '--email', 'carol@example.test', '--password', 'a long password 1');
  assert.equal(created.code, 0, created.stderr);
  const listed = await gitfleet('user', 'list', '--json');
  const carol = (JSON.parse(listed.stdout) as Array<{ login: string; id: string | number }>).find((user) => user.login === 'carol')!;

  const refused = await gitfleet('hook', 'create', 'carol', '--url', 'http://169.254.169.254/latest/meta-data/', '--inactive');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /config\.url: 169\.254\.169\.254 is a link-local/);

  const hook = await gitfleet('hook', 'create', 'carol', '--url', 'http://192.0.32.10/hook', '--inactive');
  assert.equal(hook.code, 0, hook.stderr);
  assert.equal((await gitfleet('hook', 'list', 'carol')).stdout.trim().split('\n').length, 1);
  assert.ok((await ownerHookKeys(String(carol.id))).length > 0);

  assert.equal((await gitfleet('user', 'delete', 'carol', '--yes')).code, 0);
  assert.deepEqual(await ownerHookKeys(String(carol.id)), []);

  assert.equal((await gitfleet('user', 'create', 'carol', '--email', 'carol@example.test', '--password', 'a long password 2')).code, 0);
  assert.equal((await gitfleet('hook', 'list', 'carol')).stdout, '');
});
