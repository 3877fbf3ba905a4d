// Ref updates through push: force, delete, atomic pushes that must change nothing, push
// options, and thin packs both ways, under protocol v0 and v2.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { textBlob } from './helpers/history.js';
import { assertFsckClean, mapToObject, remoteRefs } from './helpers/compare.js';
import { interceptReceivePack } from './helpers/proxy.js';
import { withPacketTrace } from './helpers/trace.js';

const server = serverForFile();
const it = serverTest(() => server);

/** Bytes git's push progress says it wrote ("Writing objects: 100% (3/3), 1.21 KiB | …"). */
function bytesWritten(stderr: string): number {
  const match = /Writing objects: 100% \(\d+\/\d+\), ([\d.]+) (bytes|KiB|MiB|GiB)/.exec(stderr);
  if (!match) throw new Error(`no "Writing objects" summary in push output:\n${stderr}`);
  const unit = { bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[match[2] as 'bytes' | 'KiB' | 'MiB' | 'GiB'];
  return Number(match[1]) * unit;
}

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    let repoNumber = 0;

    before(async () => {
      git = await GitClient.create(protocol);
    });
    after(async () => {
      await git?.cleanup();
    });

    /** A new repository on the server with main (2 commits) and topic; returns its URL and a clone. */
    async function seededRepo(): Promise<{ url: string; seed: string }> {
      const url = await server.createRepo('e2e', `push-v${protocol}-${++repoNumber}`);
      const seed = await git.init('seed');
      await git.commitFiles(seed, { 'a.txt': 'a\n' }, 'first');
      await git.commitFiles(seed, { 'b.txt': 'b\n' }, 'second');
      await git.ok(['branch', 'topic'], { cwd: seed });
      await git.ok(['remote', 'add', 'origin', url], { cwd: seed });
      await git.ok(['push', 'origin', 'main', 'topic'], { cwd: seed });
      await git.ok(['fetch', 'origin'], { cwd: seed });
      return { url, seed };
    }

    it('rejects a non-fast-forward push without --force and accepts it with --force', async () => {
      const { url, seed } = await seededRepo();
      const before = await remoteRefs(git, url);
      await git.ok(['commit', '-q', '--amend', '-m', 'rewritten second'], { cwd: seed });
      const rewritten = await git.revParse(seed, 'HEAD');

      const refused = await git.fails(['push', 'origin', 'main'], { cwd: seed });
      assert.match(refused.stderr, /\[rejected\].*main.*non-fast-forward/);
      assert.deepEqual(mapToObject(await remoteRefs(git, url)), mapToObject(before));

      await git.ok(['push', '--force', 'origin', 'main'], { cwd: seed });
      assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), rewritten);
      const clone = await git.clone(url, 'after-force');
      assert.equal(await git.revParse(clone, 'HEAD'), rewritten);
      assert.equal(await git.ok(['log', '--format=%s', '-1'], { cwd: clone }), 'rewritten second');
      await assertFsckClean(git, clone);
    });

    it('deletes branches and tags', async () => {
      const { url, seed } = await seededRepo();
      await git.ok(['tag', '-a', '-m', 'doomed tag', 'doomed-tag'], { cwd: seed });
      await git.ok(['push', 'origin', 'main:doomed', 'main:doomed-too', 'doomed-tag'], { cwd: seed });
      assert.ok((await remoteRefs(git, url)).has('refs/heads/doomed'));

      await git.ok(['push', 'origin', ':doomed'], { cwd: seed });
      await git.ok(['push', 'origin', '--delete', 'doomed-too', 'refs/tags/doomed-tag'], { cwd: seed });
      const after = await remoteRefs(git, url);
      for (const gone of ['refs/heads/doomed', 'refs/heads/doomed-too', 'refs/tags/doomed-tag', 'refs/tags/doomed-tag^{}']) {
        assert.ok(!after.has(gone), `${gone} still advertised after its deletion`);
      }
      assert.ok(after.has('refs/heads/main') && after.has('refs/heads/topic'));
      await assertFsckClean(git, await git.clone(url, 'after-delete', ['--mirror']));
    });

    it('an atomic push with a non-fast-forward ref changes nothing', async () => {
      const { url, seed } = await seededRepo();
      const before = await remoteRefs(git, url);
      await git.commitFiles(seed, { 'c.txt': 'c\n' }, 'third');
      await git.ok(['branch', '-f', 'topic', 'HEAD~2'], { cwd: seed });
      const result = await git.fails(['push', '--atomic', 'origin', 'main', 'topic'], { cwd: seed });
      assert.match(result.stderr, /topic/);
      assert.deepEqual(mapToObject(await remoteRefs(git, url)), mapToObject(before));
    });

    /** Pushes main and topic from `seed` while, through the proxy, another client moves topic first. */
    async function pushWhileTopicMoves(url: string, seed: string, pushArgs: string[]) {
      const racer = await git.clone(url, 'racer', ['--branch', 'topic']);
      const racerCommit = await git.commitFiles(racer, { 'racer.txt': 'racer\n' }, 'racer wins topic');
      let raced = false;
      const proxy = await interceptReceivePack(server.url, async () => {
        if (raced) return;
        raced = true;
        await git.ok(['push', 'origin', 'topic'], { cwd: racer });
      });
      try {
        await git.ok(['checkout', '-q', 'topic'], { cwd: seed });
        const topicCommit = await git.commitFiles(seed, { 'topic.txt': 'mine\n' }, 'my topic');
        await git.ok(['checkout', '-q', 'main'], { cwd: seed });
        const mainCommit = await git.commitFiles(seed, { 'main.txt': 'mine\n' }, 'my main');
        const proxied = url.replace(server.url, proxy.url);
        const result = await git.run(['push', ...pushArgs, proxied, 'main', 'topic'], { cwd: seed });
        assert.ok(raced, 'the racing push did not run');
        return { result, racerCommit, topicCommit, mainCommit };
      } finally {
        await proxy.close();
      }
    }

    it('an atomic push whose ref moved on the server meanwhile changes nothing', async () => {
      const { url, seed } = await seededRepo();
      const before = await remoteRefs(git, url);
      const { result, racerCommit } = await pushWhileTopicMoves(url, seed, ['--atomic']);
      assert.notEqual(result.code, 0, `the push must fail:\n${result.stderr}`);
      const after = await remoteRefs(git, url);
      assert.equal(after.get('refs/heads/topic'), racerCommit, 'the racing push must stand');
      assert.equal(after.get('refs/heads/main'), before.get('refs/heads/main'), 'main moved in a failed atomic push');
    });

    it('a non-atomic push whose ref moved meanwhile updates only the other refs', async () => {
      const { url, seed } = await seededRepo();
      const { result, racerCommit, mainCommit } = await pushWhileTopicMoves(url, seed, []);
      assert.notEqual(result.code, 0, `the push must report the rejected ref:\n${result.stderr}`);
      assert.match(result.stderr, /topic/);
      const after = await remoteRefs(git, url);
      assert.equal(after.get('refs/heads/topic'), racerCommit, 'a stale update overwrote a newer ref');
      assert.equal(after.get('refs/heads/main'), mainCommit, 'the valid update of main was not applied');
      await assertFsckClean(git, await git.clone(url, 'after-partial-push', ['--mirror']));
    });

    it('accepts push options', async () => {
      const { url, seed } = await seededRepo();
      const commit = await git.commitFiles(seed, { 'opt.txt': 'options\n' }, 'with options');
      const { code, stderr, trace } = await withPacketTrace(git, ['push', '-o', 'ci.skip', '-o', 'x=y', 'origin', 'main'], { cwd: seed });
      assert.equal(code, 0, stderr);
      assert.match(trace, /> x=y/, 'push options were not sent: the server did not advertise push-options');
      assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), commit);
    });

    it('completes a thin pack on push and sends a thin pack on fetch', async () => {
      const url = await server.createRepo('e2e', `thin-v${protocol}`);
      const writer = await git.init('thin-writer');
      await git.ok(['remote', 'add', 'origin', url], { cwd: writer });
      const big = textBlob(7, 40_000); // about 2 MB of text
      await git.commitFiles(writer, { 'big.txt': big }, 'big base');
      await git.ok(['push', 'origin', 'main'], { cwd: writer });
      const reader = await git.clone(url, 'thin-reader');

      const lines = big.split('\n');
      lines[20_000] = 'one changed line';
      const changed = lines.join('\n');
      const commit = await git.commitFiles(writer, { 'big.txt': changed }, 'small change');
      const push = await git.run(['push', '--progress', 'origin', 'main'], { cwd: writer });
      assert.equal(push.code, 0, push.stderr);
      assert.ok(bytesWritten(push.stderr) < 64 * 1024, `push was not thin:\n${push.stderr}`);
      assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), commit);

      const fetch = await git.run(['-c', 'fetch.unpackLimit=1', 'fetch', '--progress', 'origin'], { cwd: reader });
      assert.equal(fetch.code, 0, fetch.stderr);
      assert.match(fetch.stderr, /completed with \d+ local objects?/, `the fetched pack was not thin:\n${fetch.stderr}`);
      await git.ok(['merge', '-q', '--ff-only', 'origin/main'], { cwd: reader });
      assert.equal(await readFile(join(reader, 'big.txt'), 'utf8'), changed);
      await assertFsckClean(git, reader);
      const fresh = await git.clone(url, 'thin-fresh');
      assert.equal(await git.revParse(fresh, 'HEAD:big.txt'), await git.revParse(writer, 'HEAD:big.txt'));
      await assertFsckClean(git, fresh);
    });
  });
}
