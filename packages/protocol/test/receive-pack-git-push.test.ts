/**
 * The real `git push` against receive-pack, through a minimal smart-HTTP shim (the server
 * package has the real routes): checks that git reads our advertisement and report-status
 * as it reads git's own, prints the reasons, and that what it pushed is stored.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { ProtocolError, advertiseReceivePack, receivePack, type AppliedRefUpdate } from '../src/index.js';
import { git, gitEnv, gitText } from '@gitfleet/test-support/git';
import { catFile } from '@gitfleet/test-support/packs';
import { pkt, FLUSH } from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, listObjects, TEST_LIMITS } from './receive-pack-fixtures.js';

interface Shim {
  url: string;
  pushes: Array<{ updates: AppliedRefUpdate[]; options: string[] }>;
}

async function serve(t: { after(fn: () => void | Promise<void>): void }, repo: Repository, spoolDir: string): Promise<Shim> {
  const pushes: Shim['pushes'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/repo.git/info/refs' && url.searchParams.get('service') === 'git-receive-pack') {
      res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-advertisement', 'cache-control': 'no-cache' });
      res.end(Buffer.concat([pkt('# service=git-receive-pack\n'), FLUSH, ...(await advertiseReceivePack(repo))]));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/repo.git/git-receive-pack') {
      const body = req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req;
      try {
        const response = await receivePack(repo, body, {
          limits: TEST_LIMITS,
          spoolDir,
          onRefsUpdated: async (updates, options) => {
            pushes.push({ updates, options });
          },
        });
        res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result', 'cache-control': 'no-cache' });
        await pipeline(response, res);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        res.writeHead(error.status, { 'content-type': 'text/plain' }).end(error.message);
      }
      return;
    }
    res.writeHead(404).end();
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`, pushes };
}

interface PushResult {
  status: number;
  stderr: string;
}

/** Runs `git push --porcelain` without blocking the event loop the shim serves on. */
function gitPush(cwd: string, args: string[]): Promise<PushResult> {
  const child = spawn('git', ['push', '--porcelain', ...args], {
    cwd,
    env: gitEnv({ GIT_TERMINAL_PROMPT: '0', LANG: 'C' }),
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stderr: output }));
  });
}

/** An empty work tree on branch main; commits are made by git itself. */
function clientRepository(dir: string): string {
  const work = path.join(dir, 'client');
  git(dir, ['init', '--quiet', '-b', 'main', work]);
  return work;
}

function commit(work: string, file: string, content: string): string {
  writeFileSync(path.join(work, file), content);
  git(work, ['add', file]);
  git(work, ['commit', '--quiet', '-m', `edit ${file}`]);
  return gitText(work, ['rev-parse', 'HEAD']);
}

async function assertStored(repo: Repository, work: string, revs: string[]): Promise<void> {
  const oids = listObjects(work, revs);
  const expected = catFile(work, oids);
  for (const oid of oids) {
    const object = await repo.objects.read(oid);
    assert.ok(object, `${oid} stored`);
    assert.ok(object.data.equals(expected.get(oid)!.data), `${oid} content`);
  }
}

for (const backend of backends) {
  describe(`git push to receive-pack on ${backend.name}`, () => {
    it('pushes branches and tags, then an incremental thin pack, force pushes and deletes', async (t) => {
      const dir = tempDir(t, 'push');
      const repo = await createRepository(await backend.open(t));
      const shim = await serve(t, repo, path.join(dir, 'spool'));
      const work = clientRepository(dir);
      const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
      commit(work, 'big.txt', lines.join('\n'));
      lines[10] = 'changed';
      const second = commit(work, 'big.txt', lines.join('\n'));
      git(work, ['tag', '-a', '-m', 'release', 'v1']);
      git(work, ['branch', 'topic']);

      const first = await gitPush(work, [shim.url, 'main', 'topic', 'v1']);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stderr, /\*\trefs\/heads\/main:refs\/heads\/main\t\[new branch\]/);
      assert.deepEqual(Object.fromEntries((await repo.refs.list()).map((r) => [r.name, r.oid])), {
        'refs/heads/main': second,
        'refs/heads/topic': second,
        'refs/tags/v1': gitText(work, ['rev-parse', 'v1']),
      });

      lines[200] = 'changed again';
      const third = commit(work, 'big.txt', lines.join('\n'));
      const incremental = await gitPush(work, ['--progress', shim.url, 'main']);
      assert.equal(incremental.status, 0, incremental.stderr);
      assert.match(incremental.stderr, /remote: Resolving deltas: 100% \(1\/1\), completed with \d+ local objects?\./);
      assert.equal(await repo.refs.get('refs/heads/main'), third);
      await assertStored(repo, work, ['--all']);

      git(work, ['reset', '--quiet', '--hard', 'HEAD~2']);
      const rewritten = commit(work, 'other.txt', 'rewritten history\n');
      const refused = await gitPush(work, [shim.url, 'main']);
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /\[rejected\] \(non-fast-forward\)/);
      const forced = await gitPush(work, ['--force', shim.url, 'main']);
      assert.equal(forced.status, 0, forced.stderr);
      assert.equal(await repo.refs.get('refs/heads/main'), rewritten);

      const deleted = await gitPush(work, [shim.url, ':topic']);
      assert.equal(deleted.status, 0, deleted.stderr);
      assert.match(deleted.stderr, /-\t:refs\/heads\/topic\t\[deleted\]/);
      const current = await gitPush(work, [shim.url, ':main']);
      assert.notEqual(current.status, 0);
      assert.match(current.stderr, /!\t:refs\/heads\/main\t\[remote rejected\] \(deletion of the current branch prohibited\)/);
      assert.equal(await repo.refs.get('refs/heads/topic'), undefined);
      assert.equal(await repo.refs.get('refs/heads/main'), rewritten);
    });

    it('refuses a whole --atomic push when one ref fails, and passes push options along', async (t) => {
      const dir = tempDir(t, 'atomic');
      const repo = await createRepository(await backend.open(t));
      const shim = await serve(t, repo, path.join(dir, 'spool'));
      const work = clientRepository(dir);
      const head = commit(work, 'a.txt', 'a\n');
      const blob = gitText(work, ['rev-parse', 'HEAD:a.txt']);

      const atomic = await gitPush(work, ['--atomic', shim.url, 'main', `${blob}:refs/heads/not-a-commit`]);
      assert.notEqual(atomic.status, 0);
      assert.match(atomic.stderr, /\[remote rejected\] \(atomic transaction failed\)/);
      assert.match(atomic.stderr, /remote: error: trying to write non-commit object/);
      assert.deepEqual(await repo.refs.list(), []);

      const withOptions = await gitPush(work, ['-o', 'ci.skip', '-o', 'note=hello world', shim.url, 'main']);
      assert.equal(withOptions.status, 0, withOptions.stderr);
      assert.deepEqual(shim.pushes, [
        { updates: [{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: head }], options: ['ci.skip', 'note=hello world'] },
      ]);
    });

    it('refuses a .gitmodules that git fsck refuses, with its message id, and stores nothing', async (t) => {
      const dir = tempDir(t, 'gitmodules');
      const repo = await createRepository(await backend.open(t));
      const shim = await serve(t, repo, path.join(dir, 'spool'));
      const work = clientRepository(dir);
      commit(work, 'README', 'hello\n');
      assert.equal((await gitPush(work, [shim.url, 'main'])).status, 0);
      const base = gitText(work, ['rev-parse', 'HEAD']);
      const packs = (await repo.packs.list()).length;

      const evil: Array<[string, string, RegExp]> = [
        [
          'name',
          '[submodule "../../modules/evil"]\n\tpath = evil\n\turl = ./evil\n',
          /gitmodulesName: disallowed submodule name: \.\.\/\.\.\/modules\/evil/,
        ],
        [
          'url',
          '[submodule "x"]\n\tpath = x\n\turl = --upload-pack=touch${IFS}pwned\n',
          /gitmodulesUrl: disallowed submodule url: --upload-pack=/,
        ],
        ['path', '[submodule "x"]\n\tpath = -x\n\turl = ./x\n', /gitmodulesPath: disallowed submodule path: -x/],
      ];
      for (const [what, content, reason] of evil) {
        git(work, ['reset', '--quiet', '--hard', base]);
        commit(work, '.gitmodules', content);
        const pushed = await gitPush(work, [shim.url, 'main']);
        assert.notEqual(pushed.status, 0, `a submodule ${what} git refuses`);
        assert.match(pushed.stderr, reason);
        assert.match(pushed.stderr, /remote: error: fsck error in packed object [0-9a-f]{40}: /);
        assert.match(pushed.stderr, /!\trefs\/heads\/main:refs\/heads\/main\t\[remote rejected\] \(unpacker error\)/);
      }

      // The blob arrives under another name first, then a tree names it .gitmodules: it is read back from the repository.
      git(work, ['reset', '--quiet', '--hard', base]);
      commit(work, 'notes.txt', evil[0][1]);
      assert.equal((await gitPush(work, [shim.url, 'main'])).status, 0);
      git(work, ['mv', 'notes.txt', '.gitmodules']);
      git(work, ['commit', '--quiet', '-m', 'rename']);
      const renamed = await gitPush(work, [shim.url, 'main']);
      assert.notEqual(renamed.status, 0);
      assert.match(renamed.stderr, evil[0][2]);

      assert.equal(await repo.refs.get('refs/heads/main'), gitText(work, ['rev-parse', 'HEAD~1']));
      assert.equal((await repo.packs.list()).length, packs + 1, 'only the accepted push stored a pack');
    });
  });
}
