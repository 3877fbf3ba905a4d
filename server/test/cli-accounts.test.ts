/**
 * The admin CLI as an operator uses it: real `gitfleet` processes on one temporary data
 * directory, then a real server on the same data accepting what the CLI made (a token, for a
 * push with the real git) while the CLI keeps working beside it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { childEnv, gitfleetEntry, runCli, type CliResult } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { tempDir } from '@gitfleet/test-support/temp-dir';

const EXIT = { ok: 0, usage: 2, notFound: 3, conflict: 4 };

const dataDir = tempDir({ after }, 'cli-accounts');
let git: GitClient;
/** Made by `token create` below, used by git against the server after it. */
let aliceToken = '';

before(async () => {
  git = await GitClient.create(2, { authorization: null }); // credentials go in the URLs below
});

after(async () => {
  await git?.cleanup();
});

function cliEnv(): Record<string, string> {
  return { GITFLEET_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' };
}

/** Runs `gitfleet <args>` to completion; `stdin` is piped in (so stdin is never a terminal). */
function gitfleet(args: string[], stdin = ''): Promise<CliResult> {
  return runCli(args, cliEnv(), stdin);
}

/** Runs it and insists on `expected` as the exit code, showing its output otherwise. */
async function expectExit(expected: number, args: string[], stdin = ''): Promise<CliResult> {
  const result = await gitfleet(args, stdin);
  assert.equal(
    result.code,
    expected,
    `gitfleet ${args.join(' ')} exited ${result.code}, expected ${expected}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
  if (expected !== EXIT.ok) assert.match(result.stderr, /^gitfleet: /m, `errors are "gitfleet: <message>" (${args.join(' ')})`);
  return result;
}

/** The cells of an aligned table's rows, cut at the columns where its headers start. */
function tableCells(table: string, headers: string[]): string[][] {
  const [head, ...rows] = table.trimEnd().split('\n');
  const starts = headers.map((header) => head.indexOf(header));
  assert.deepEqual(
    starts.map((start) => start >= 0),
    headers.map(() => true),
    `headers ${headers.join(', ')} in ${JSON.stringify(head)}`,
  );
  return rows.map((row) => {
    for (const start of starts.slice(1)) assert.equal(row[start - 1], ' ', `a column starts at ${start} in ${JSON.stringify(row)}`);
    return starts.map((start, index) => row.slice(start, starts[index + 1]).trim());
  });
}

const usersJson = async () =>
  JSON.parse((await expectExit(EXIT.ok, ['user', 'list', '--json'])).stdout) as Array<{
    login: string;
    is_admin: boolean;
    full_name: string;
    email: string;
  }>;

test('user create: the first administrator, from --password-stdin; duplicates, bad names and missing passwords refused', async () => {
  const created = await expectExit(
    EXIT.ok,
    ['user', 'create', 'root', '--email', 'root@example.test', '--admin', '--full-name', 'Site Admin', '--password-stdin'],
    'correct horse battery\n',
  );
  assert.equal(created.stdout, 'root\n');
  await expectExit(EXIT.ok, ['user', 'create', 'alice', '--email', 'alice@example.test', '--password', 'alice-password-1']);

  const [duplicate, otherCase, badName, noEmail, noPassword, both] = await Promise.all([
    gitfleet(['user', 'create', 'root', '--email', 'x@example.test', '--password', 'whatever-123']),
    gitfleet(['user', 'create', 'ALICE', '--email', 'y@example.test', '--password', 'whatever-123']),
    gitfleet(['user', 'create', '../etc', '--email', 'z@example.test', '--password', 'whatever-123']),
    gitfleet(['user', 'create', 'bob', '--password', 'whatever-123']),
    gitfleet(['user', 'create', 'bob', '--email', 'bob@example.test']),
    gitfleet(['user', 'create', 'bob', '--email', 'bob@example.test', '--password', 'x', '--password-stdin'], 'y\n'),
  ]);
  assert.equal(duplicate.code, EXIT.conflict, duplicate.stderr);
  assert.match(duplicate.stderr, /^gitfleet: .*root.*taken/);
  assert.equal(otherCase.code, EXIT.conflict, `names ignore case: ${otherCase.stderr}`);
  assert.equal(badName.code, EXIT.usage, badName.stderr);
  assert.match(badName.stderr, /^gitfleet: /);
  assert.equal(noEmail.code, EXIT.usage, noEmail.stderr);
  assert.match(noEmail.stderr, /^gitfleet: .*--email/);
  assert.equal(noPassword.code, EXIT.usage, noPassword.stderr);
  assert.match(noPassword.stderr, /--password-stdin/);
  assert.equal(both.code, EXIT.usage, both.stderr);

  const listed = await usersJson();
  assert.deepEqual(
    listed.map(({ login, is_admin, full_name, email }) => ({ login, is_admin, full_name, email })),
    [
      { login: 'alice', is_admin: false, full_name: '', email: 'alice@example.test' },
      { login: 'root', is_admin: true, full_name: 'Site Admin', email: 'root@example.test' },
    ],
  );
  assert.equal(JSON.stringify(listed).includes('correct horse'), false, 'no password is listed');

  const table = tableCells((await expectExit(EXIT.ok, ['user', 'list'])).stdout, ['NAME', 'EMAIL', 'ADMIN', 'FULL NAME', 'CREATED']);
  assert.deepEqual(
    table.map((cells) => cells.slice(0, 4)),
    [
      ['alice', 'alice@example.test', 'no', ''],
      ['root', 'root@example.test', 'yes', 'Site Admin'],
    ],
  );
});

test('user set-admin and set-password change the account; unknown users and bad values refused', async () => {
  await expectExit(EXIT.ok, ['user', 'set-admin', 'alice', 'true']);
  assert.equal((await usersJson()).find((user) => user.login === 'alice')?.is_admin, true);
  await expectExit(EXIT.ok, ['user', 'set-admin', 'alice', 'false']);
  assert.equal((await usersJson()).find((user) => user.login === 'alice')?.is_admin, false);

  await Promise.all([
    expectExit(EXIT.usage, ['user', 'set-admin', 'alice', 'yes']),
    expectExit(EXIT.notFound, ['user', 'set-admin', 'ghost', 'true']),
    expectExit(EXIT.notFound, ['user', 'set-password', 'ghost', '--password', 'whatever-123']),
    expectExit(EXIT.usage, ['user', 'frobnicate']),
  ]);
  // The server below checks that the new password works and the old one does not.
  await expectExit(EXIT.ok, ['user', 'set-password', 'alice', '--password-stdin'], 'alice-password-2\n');
});

test('org create, add-member and list; duplicates, unknown owners and bad roles refused', async () => {
  const created = await expectExit(EXIT.ok, [
    'org',
    'create',
    'acme',
    '--owner',
    'alice',
    '--full-name',
    'Acme Corp',
    '--description',
    'Makes things',
  ]);
  assert.equal(created.stdout, 'acme\n');
  await Promise.all([
    expectExit(EXIT.conflict, ['org', 'create', 'acme', '--owner', 'alice']),
    expectExit(EXIT.conflict, ['org', 'create', 'root', '--owner', 'alice']), // one namespace with users
    expectExit(EXIT.notFound, ['org', 'create', 'widgets', '--owner', 'ghost']),
    expectExit(EXIT.usage, ['org', 'create', 'widgets']),
    expectExit(EXIT.usage, ['org', 'add-member', 'acme', 'root', '--role', 'boss']),
    expectExit(EXIT.notFound, ['org', 'add-member', 'nowhere', 'root']),
    expectExit(EXIT.notFound, ['org', 'add-member', 'acme', 'ghost']),
  ]);
  await expectExit(EXIT.ok, ['org', 'add-member', 'acme', 'root', '--role', 'owner']);

  const orgs = JSON.parse((await expectExit(EXIT.ok, ['org', 'list', '--json'])).stdout) as Array<{
    login: string;
    full_name: string;
    description: string;
    type: string;
  }>;
  assert.deepEqual(
    orgs.map(({ login, full_name, description, type }) => ({ login, full_name, description, type })),
    [{ login: 'acme', full_name: 'Acme Corp', description: 'Makes things', type: 'Organization' }],
  );
  const table = tableCells((await expectExit(EXIT.ok, ['org', 'list'])).stdout, ['NAME', 'FULL NAME', 'DESCRIPTION', 'CREATED']);
  assert.deepEqual(
    table.map((cells) => cells.slice(0, 3)),
    [['acme', 'Acme Corp', 'Makes things']],
  );
});

test('repo create under an existing owner, private with a description; list; duplicates and unknown owners refused', async () => {
  const created = await expectExit(EXIT.ok, ['repo', 'create', 'acme/site', '--private', '--description', 'The web site']);
  assert.equal(created.stdout, 'http://127.0.0.1:0/acme/site.git\n');
  await expectExit(EXIT.ok, ['repo', 'create', 'alice/notes.git']);

  await Promise.all([
    expectExit(EXIT.conflict, ['repo', 'create', 'acme/site']),
    expectExit(EXIT.conflict, ['repo', 'create', 'ACME/Site']),
    expectExit(EXIT.notFound, ['repo', 'create', 'ghost/site']),
    expectExit(EXIT.usage, ['repo', 'create', 'noslash']),
    expectExit(EXIT.usage, ['repo', 'create', 'acme/..']),
    expectExit(EXIT.notFound, ['repo', 'list', '--owner', 'ghost']),
  ]);

  const all = JSON.parse((await expectExit(EXIT.ok, ['repo', 'list', '--json'])).stdout) as Array<{
    full_name: string;
    private: boolean;
    description: string;
    default_branch: string;
  }>;
  assert.deepEqual(
    all.map(({ full_name, private: isPrivate, description, default_branch }) => ({
      full_name,
      private: isPrivate,
      description,
      default_branch,
    })),
    [
      { full_name: 'acme/site', private: true, description: 'The web site', default_branch: 'main' },
      { full_name: 'alice/notes', private: false, description: '', default_branch: 'main' },
    ],
  );
  const table = tableCells((await expectExit(EXIT.ok, ['repo', 'list', '--owner', 'acme'])).stdout, [
    'REPOSITORY',
    'VISIBILITY',
    'DEFAULT BRANCH',
    'DESCRIPTION',
  ]);
  assert.deepEqual(table, [['acme/site', 'private', 'main', 'The web site']]);
});

test('token create prints the secret once; list shows it without the secret; bad scopes, dates and users refused', async () => {
  const created = await expectExit(EXIT.ok, [
    'token',
    'create',
    'alice',
    '--name',
    'laptop',
    '--scopes',
    'read:repository,write:repository',
    '--expires',
    '30d',
  ]);
  assert.match(created.stdout, /^gf_[0-9A-Za-z]{40}\n$/);
  assert.match(created.stderr, /laptop/);
  assert.match(created.stderr, /cannot be shown again/);
  aliceToken = created.stdout.trim();

  await Promise.all([
    expectExit(EXIT.conflict, ['token', 'create', 'alice', '--name', 'laptop']),
    expectExit(EXIT.usage, ['token', 'create', 'alice', '--name', 'x', '--scopes', 'read:everything']),
    expectExit(EXIT.usage, ['token', 'create', 'alice', '--name', 'x', '--expires', 'soon']),
    expectExit(EXIT.usage, ['token', 'create', 'alice', '--name', 'x', '--expires', '2001-01-01']),
    expectExit(EXIT.usage, ['token', 'create', 'alice']),
    expectExit(EXIT.notFound, ['token', 'create', 'ghost', '--name', 'x']),
    expectExit(EXIT.notFound, ['token', 'list', 'ghost']),
    expectExit(EXIT.notFound, ['token', 'revoke', 'alice', 'no-such-token']),
  ]);

  const tokens = JSON.parse((await expectExit(EXIT.ok, ['token', 'list', 'alice', '--json'])).stdout) as Array<{
    id: string;
    name: string;
    scopes: string[];
    expires_at: string | null;
  }>;
  assert.equal(tokens.length, 1);
  assert.equal(tokens[0].name, 'laptop');
  assert.deepEqual([...tokens[0].scopes].sort(), ['read:repository', 'write:repository']);
  const daysLeft = (Date.parse(tokens[0].expires_at ?? '') - Date.now()) / 86_400_000;
  assert.ok(daysLeft > 29 && daysLeft <= 30, `expires in about 30 days, got ${tokens[0].expires_at}`);
  assert.equal(JSON.stringify(tokens).includes(aliceToken), false, 'the secret is never listed');

  const table = tableCells((await expectExit(EXIT.ok, ['token', 'list', 'alice'])).stdout, ['ID', 'NAME', 'SCOPES', 'CREATED', 'EXPIRES']);
  assert.deepEqual(
    table.map((cells) => cells[1]),
    ['laptop'],
  );
});

test('a server on the same data accepts the CLI-made token for a push with git, and sees the CLI revoke it while running', async () => {
  const server = await startServe();
  try {
    const work = await git.tempDir('work');
    await git.ok(['init', '-q', '-b', 'main', work]);
    await writeFile(path.join(work, 'README.md'), '# Site\n');
    await git.ok(['add', 'README.md'], { cwd: work });
    await git.ok(['commit', '-q', '-m', 'first'], { cwd: work });
    const head = await git.ok(['rev-parse', 'HEAD'], { cwd: work });

    const withToken = `http://alice:${aliceToken}@${server.host}/acme/site.git`;
    await git.ok(['push', withToken, 'main'], { cwd: work });
    assert.equal((await git.ok(['ls-remote', withToken, 'refs/heads/main'])).split('\t')[0], head);

    const anonymous = await git.run(['ls-remote', `http://${server.host}/acme/site.git`]);
    assert.notEqual(anonymous.code, 0, 'the private repository is not readable anonymously');
    const oldPassword = await git.run(['ls-remote', `http://alice:alice-password-1@${server.host}/acme/site.git`]);
    assert.notEqual(oldPassword.code, 0, 'the password replaced by set-password no longer works');
    const newPassword = await git.ok(['ls-remote', `http://alice:alice-password-2@${server.host}/acme/site.git`, 'refs/heads/main']);
    assert.equal(newPassword.split('\t')[0], head);

    // Revoked by the CLI while the server runs: refused from the next request on.
    await expectExit(EXIT.ok, ['token', 'revoke', 'alice', 'laptop']);
    const revoked = await git.run(['ls-remote', withToken]);
    assert.notEqual(revoked.code, 0, 'a revoked token no longer authenticates');
    assert.deepEqual(JSON.parse((await expectExit(EXIT.ok, ['token', 'list', 'alice', '--json'])).stdout), []);

    // Created by the CLI while the server runs: served at once (empty, public).
    const missing = await git.run(['ls-remote', `http://${server.host}/alice/later.git`]);
    assert.notEqual(missing.code, 0, 'not there yet');
    await expectExit(EXIT.ok, ['repo', 'create', 'alice/later']);
    assert.equal(await git.ok(['ls-remote', `http://${server.host}/alice/later.git`]), '');

    // A password set by the CLI while the server runs signs alice out of the web.
    const site = `http://${server.host}`;
    const signedIn = await fetch(`${site}/login`, {
      method: 'POST',
      headers: { origin: site, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'alice-password-2' }),
      redirect: 'manual',
    });
    assert.equal(signedIn.status, 303);
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0];
    const whoAmI = async () => (await fetch(`${site}/api/v1/user`, { headers: { cookie } })).status;
    assert.equal(await whoAmI(), 200);
    await expectExit(EXIT.ok, ['user', 'set-password', 'alice', '--password-stdin'], 'alice-password-3\n');
    assert.equal(await whoAmI(), 401, 'the session ended with the old password');
  } finally {
    await server.stop();
  }
});

test('deletes: refused while in use or unconfirmed, then done; unknown names are 3', async () => {
  await Promise.all([
    expectExit(EXIT.conflict, ['org', 'delete', 'acme', '--yes']), // still owns acme/site
    expectExit(EXIT.conflict, ['user', 'delete', 'alice', '--yes']), // still owns alice/notes
    expectExit(EXIT.usage, ['repo', 'delete', 'acme/site']), // no --yes and no terminal to confirm on
    expectExit(EXIT.notFound, ['repo', 'delete', 'acme/nothing', '--yes']),
    expectExit(EXIT.notFound, ['org', 'delete', 'nowhere', '--yes']),
    expectExit(EXIT.notFound, ['user', 'delete', 'ghost', '--yes']),
  ]);
  for (const name of ['acme/site', 'alice/notes', 'alice/later']) await expectExit(EXIT.ok, ['repo', 'delete', name, '--yes']);
  await expectExit(EXIT.notFound, ['repo', 'delete', 'acme/site', '--yes']);
  assert.deepEqual(JSON.parse((await expectExit(EXIT.ok, ['repo', 'list', '--json'])).stdout), []);
  assert.equal((await expectExit(EXIT.ok, ['repo', 'list'])).stdout, '', 'an empty table prints nothing on stdout');

  await expectExit(EXIT.ok, ['org', 'delete', 'acme', '--yes']);
  assert.deepEqual(JSON.parse((await expectExit(EXIT.ok, ['org', 'list', '--json'])).stdout), []);
  await expectExit(EXIT.ok, ['user', 'delete', 'alice', '--yes']);
  await expectExit(EXIT.notFound, ['token', 'list', 'alice']);
  assert.deepEqual(
    (await usersJson()).map((user) => user.login),
    ['root'],
  );
  // The name is free again, for either kind of owner.
  await expectExit(EXIT.ok, ['org', 'create', 'alice', '--owner', 'root']);
});

/** `gitfleet serve` on the same data directory; `host` is "127.0.0.1:<port>". */
async function startServe(): Promise<{ host: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...gitfleetEntry(), 'serve'], {
    env: childEnv({ ...cliEnv(), LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  // Every line is read, not only up to "listening": a full pipe would block the server's logging.
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      if (!line.includes('"listening"')) return;
      const { url } = JSON.parse(line) as { url: string };
      resolve({ host: new URL(url).host, stop });
    });
    child.once('exit', (code) => reject(new Error(`gitfleet serve exited (code ${code}) before listening`)));
  });
}
