// The wire protocol's own bounds with real git and raw HTTP: refs git cannot store together,
// over-long ref names, too many push options, and a pkt-line bomb to upload-pack.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { gzipSync } from 'node:zlib';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { mapToObject, remoteRefs } from './helpers/compare.js';
import { postService } from './helpers/http.js';

const server = serverForFile({ GITFLEET_MAX_REF_NAME_BYTES: '200' });
const it = serverTest(() => server);

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

    async function seededRepo(): Promise<{ url: string; seed: string }> {
      const url = await server.createRepo('e2e', `wire-v${protocol}-${++repoNumber}`);
      const seed = await git.init('seed');
      await git.commitFiles(seed, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['remote', 'add', 'origin', url], { cwd: seed });
      await git.ok(['push', 'origin', 'main', 'main:refs/heads/df'], { cwd: seed });
      return { url, seed };
    }
    const refsOf = async (url: string) => mapToObject(await remoteRefs(git, url));

    it('refuses a branch beside one whose name is its directory, per ref, and the whole push with --atomic', async () => {
      const { url, seed } = await seededRepo();
      const before = await refsOf(url);
      const atomic = await git.fails(['push', '--atomic', 'origin', 'main:refs/heads/df/sub', 'main:refs/heads/fine'], { cwd: seed });
      assert.match(atomic.stderr, /cannot lock ref 'refs\/heads\/df\/sub': 'refs\/heads\/df' exists; cannot create 'refs\/heads\/df\/sub'/);
      assert.match(atomic.stderr, /\[remote rejected\] main -> df\/sub \(atomic transaction failed\)/);
      assert.deepEqual(await refsOf(url), before);

      const each = await git.fails(['push', 'origin', 'main:refs/heads/df/sub', 'main:refs/heads/fine'], { cwd: seed });
      assert.match(each.stderr, /\[remote rejected\] main -> df\/sub \(failed to update ref\)/);
      assert.deepEqual(await refsOf(url), { ...before, 'refs/heads/fine': before['refs/heads/main'] });

      // The other way round, and two refs of one push.
      const under = await git.fails(['push', 'origin', 'main:refs/heads/fine/x', 'main:refs/heads/q', 'main:refs/heads/q/r'], {
        cwd: seed,
      });
      assert.match(under.stderr, /'refs\/heads\/fine' exists; cannot create 'refs\/heads\/fine\/x'/);
      assert.match(under.stderr, /'refs\/heads\/q' exists; cannot create 'refs\/heads\/q\/r'/);
      const after = await refsOf(url);
      assert.deepEqual(Object.keys(after).sort(), ['HEAD', 'refs/heads/df', 'refs/heads/fine', 'refs/heads/main', 'refs/heads/q']);
      // A clone of what is there works, as it would not if both names existed.
      await git.clone(url, 'df-clone', ['--mirror']);
      // Deleting df and creating df/sub in one push is allowed, as git allows it.
      await git.ok(['push', '--atomic', 'origin', ':refs/heads/df', 'main:refs/heads/df/sub'], { cwd: seed });
      assert.ok('refs/heads/df/sub' in (await refsOf(url)));
    });

    it('refuses a ref name longer than the limit for that ref', async () => {
      const { url, seed } = await seededRepo();
      const long = `refs/heads/${'n'.repeat(200)}`;
      const result = await git.fails(['push', 'origin', `main:${long}`, 'main:refs/heads/short'], { cwd: seed });
      assert.match(result.stderr, /ref name too long/);
      const refs = await refsOf(url);
      assert.ok(!(long in refs));
      assert.ok('refs/heads/short' in refs);
      const atomic = await git.fails(['push', '--atomic', 'origin', `main:${long}`, 'main:refs/heads/short2'], { cwd: seed });
      assert.match(atomic.stderr, /ref name too long/);
      assert.ok(!('refs/heads/short2' in (await refsOf(url))));
    });

    it('refuses more push options than the limit before reading the pack', async () => {
      const { url, seed } = await seededRepo();
      const before = await refsOf(url);
      await git.commitFiles(seed, { 'b.txt': 'b\n' }, 'second');
      const options = Array.from({ length: 101 }, (_, i) => ['-o', `option-${i}`]).flat();
      const result = await git.fails(['push', ...options, 'origin', 'main'], { cwd: seed });
      assert.match(result.stderr, /remote: push refused: more than 100 push options in one push/, result.stderr);
      assert.deepEqual(await refsOf(url), before);
      await git.ok(['push', ...options.slice(0, 200), 'origin', 'main'], { cwd: seed });
    });

    it('answers a gzip bomb of empty packets to upload-pack with 400 at once', async () => {
      const url = await server.createRepo('e2e', `wire-bomb-v${protocol}-${++repoNumber}`);
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, '0004'), { level: 9 });
      assert.ok(bomb.length < 200 * 1024);
      const started = Date.now();
      const responses = await Promise.all(
        [1, 2].map(() =>
          postService(url, 'git-upload-pack', bomb, {
            'content-encoding': 'gzip',
            ...(protocol === 2 ? { 'git-protocol': 'version=2' } : {}),
          }),
        ),
      );
      for (const response of responses) assert.equal(response.status, 400, response.body.toString());
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      assert.ok(server.alive());
    });
  });
}

describe('a push the size of a mirror of git.git', () => {
  it('goes through the default limits: 4,400 refs in one push', async () => {
    const git = await GitClient.create(0);
    try {
      const url = await server.createRepo('e2e', 'mirror-sized');
      const seed = await git.init('mirror');
      const tip = await git.commitFiles(seed, { 'a.txt': 'a\n' }, 'first');
      const names = Array.from({ length: 4400 }, (_, i) =>
        i % 4 === 0 ? `refs/heads/topic/branch-${i}` : `refs/tags/v2.${Math.floor(i / 100)}.${i % 100}-rc${i % 7}`,
      );
      await git.ok(['update-ref', '--stdin'], { cwd: seed, input: names.map((name) => `create ${name} ${tip}\n`).join('') });
      await git.ok(['push', '--mirror', url], { cwd: seed });
      assert.equal(Object.keys(mapToObject(await remoteRefs(git, url))).filter((name) => name !== 'HEAD').length, 4401);
    } finally {
      await git.cleanup();
    }
  });
});
