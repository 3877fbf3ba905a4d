import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { childEnv, gitfleetEntry, runCli as runGitfleet, type CliResult } from '@gitfleet/test-support/cli';
import { tempDir } from '@gitfleet/test-support/temp-dir';

const dataDir = tempDir({ after }, 'cli-test');

/** The CLI's environment in these tests: their data directory, a free port on loopback. */
function cliEnv(env: Record<string, string>): Record<string, string> {
  return { GITFLEET_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', ...env };
}

function startCli(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...gitfleetEntry(), ...args], { env: childEnv(cliEnv(env)) });
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runGitfleet(args, cliEnv(env));
}

test('repo create prints the clone URL, then refuses the same name (exit 4) and invalid names (exit 2)', async () => {
  const owner = await runCli(['user', 'create', 'alice', '--email', 'alice@example.test', '--password', 'alice-password']);
  assert.equal(owner.code, 0, owner.stderr);
  const created = await runCli(['repo', 'create', 'alice/hello'], { GITFLEET_PUBLIC_URL: 'https://git.example.com' });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, 'https://git.example.com/alice/hello.git\n');

  const again = await runCli(['repo', 'create', 'alice/hello']);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /alice\/hello already exists/);

  for (const hostile of ['alice/..', 'alice/a/b', '../etc', 'noslash']) {
    const refused = await runCli(['repo', 'create', hostile]);
    assert.equal(refused.code, 2, hostile);
    assert.match(refused.stderr, /^gitfleet: /);
  }
});

test('serve logs a "listening" JSON line with its URL, serves, and stops on SIGTERM', async () => {
  const child = startCli(['serve']);
  const lines = createInterface({ input: child.stdout });
  let url: string | undefined;
  for await (const line of lines) {
    const entry = JSON.parse(line);
    if (entry.msg === 'listening') {
      url = entry.url;
      break;
    }
  }
  assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  const repo = await fetch(`${url}/api/v1/repos/alice/hello`);
  assert.equal(repo.status, 200, 'the CLI-created repository is visible to the server');
  assert.equal((await repo.json()).clone_url, `${url}/alice/hello.git`);

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

test('serve refuses an invalid configuration with every problem listed', async () => {
  const result = await runCli(['serve'], { PORT: 'eighty', LOG_LEVEL: 'chatty' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /PORT="eighty"/);
  assert.match(result.stderr, /LOG_LEVEL="chatty"/);
});
