/** `gitfleet repo transfer` as an operator runs it: real CLI processes on one temporary data directory. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gitfleetEntry } from '@gitfleet/test-support/cli';

const EXIT = { ok: 0, usage: 2, notFound: 3, conflict: 4 };
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gitfleet-cli-transfer-'));
});

after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs the CLI and asserts its exit code; its output. */
function expectExit(code: number, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GITFLEET_DATA_DIR: dataDir,
    GITFLEET_PUBLIC_URL: 'https://git.example.com',
    LOG_LEVEL: 'silent',
  };
  delete env.NODE_TEST_CONTEXT; // the CLI is not a test file
  return new Promise((resolve) => {
    execFile(process.execPath, [...gitfleetEntry(), ...args], { env }, (error, stdout, stderr) => {
      assert.equal(error?.code ?? 0, code, `gitfleet ${args.join(' ')}: ${stderr}`);
      resolve({ stdout, stderr });
    });
  });
}

test('repo transfer moves a repository to another owner and prints its new clone URL; refusals exit by kind', async () => {
  await expectExit(EXIT.ok, ['user', 'create', 'alice', '--email', 'alice@example.test', '--password', 'alice-password']);
  await expectExit(EXIT.ok, ['org', 'create', 'acme', '--owner', 'alice']);
  await expectExit(EXIT.ok, ['repo', 'create', 'alice/hello', '--description', 'kept']);
  await expectExit(EXIT.ok, ['repo', 'create', 'acme/taken']);

  const refusals = await Promise.all([
    expectExit(EXIT.notFound, ['repo', 'transfer', 'alice/nothing', 'acme']),
    expectExit(EXIT.notFound, ['repo', 'transfer', 'alice/hello', 'ghost']),
    expectExit(EXIT.conflict, ['repo', 'transfer', 'alice/hello', 'acme', '--name', 'TAKEN']),
    expectExit(EXIT.usage, ['repo', 'transfer', 'alice/hello', 'acme', '--name', '../evil']),
    expectExit(EXIT.usage, ['repo', 'transfer', 'noslash', 'acme']),
    expectExit(EXIT.usage, ['repo', 'transfer', 'alice/hello']),
  ]);
  assert.match(refusals[1].stderr, /ghost not found/);
  assert.match(refusals[2].stderr, /acme\/TAKEN already exists/);

  const moved = await expectExit(EXIT.ok, ['repo', 'transfer', 'alice/hello.git', 'ACME', '--name', 'world']);
  assert.equal(moved.stdout, 'https://git.example.com/acme/world.git\n');
  const listed = JSON.parse((await expectExit(EXIT.ok, ['repo', 'list', '--json'])).stdout) as Array<{
    full_name: string;
    description: string;
  }>;
  assert.deepEqual(
    listed.map((repo) => [repo.full_name, repo.description]),
    [
      ['acme/taken', ''],
      ['acme/world', 'kept'],
    ],
  );
  const back = await expectExit(EXIT.ok, ['repo', 'transfer', 'acme/world', 'alice']);
  assert.equal(back.stdout, 'https://git.example.com/alice/world.git\n');
});
