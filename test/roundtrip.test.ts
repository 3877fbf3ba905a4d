// Push a real history and get it back: advertisement, mirror clone, checkout, incremental
// fetch, fetch by id and tag following, under protocol v0 and v2.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { buildStandardHistory, FastImport, HISTORY_START, textBlob, type StandardHistory } from './helpers/history.js';
import {
  assertFsckClean,
  assertSameRepository,
  expectedAdvertisement,
  localRefs,
  mapToObject,
  reachableObjects,
  remoteRefs,
} from './helpers/compare.js';
import { receivedObjectCount, wantedIds, withPacketTrace } from './helpers/trace.js';

const server = serverForFile();
const it = serverTest(() => server);

const PUSH_ALL = ['refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'];

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    let source: string;
    let history: StandardHistory;
    let url: string;

    before(async () => {
      git = await GitClient.create(protocol);
      source = await git.init('source', { bare: true });
      history = await buildStandardHistory(git, source);
      // A second branch on main's commit: only the symref, not a guess by id, finds HEAD.
      await git.ok(['update-ref', 'refs/heads/aaa', 'refs/heads/main'], { cwd: source });
      url = await server.createRepo('e2e', `roundtrip-v${protocol}`);
    });
    after(async () => {
      await git?.cleanup();
    });

    it('speaks the requested protocol version', async () => {
      const emptyUrl = await server.createRepo('e2e', `negotiate-v${protocol}`);
      const { code, stderr, trace } = await withPacketTrace(git, ['ls-remote', emptyUrl]);
      assert.equal(code, 0, stderr);
      if (protocol === 2) {
        assert.match(trace, /< version 2/, 'server did not answer with protocol v2');
        assert.match(trace, /> command=ls-refs/);
      } else {
        assert.doesNotMatch(trace, /< version 2/);
        assert.doesNotMatch(trace, /command=/);
      }
    });

    it('clones an empty repository, whose unborn HEAD is main', async () => {
      const emptyUrl = await server.createRepo('e2e', `empty-v${protocol}`);
      const dir = await git.clone(emptyUrl, 'empty', ['-c', 'init.defaultBranch=trunk']);
      assert.deepEqual(mapToObject(await localRefs(git, dir)), {});
      if (protocol === 2) {
        // Only v2 can tell an empty repository's default branch (ls-refs unborn).
        assert.equal(await git.ok(['symbolic-ref', 'HEAD'], { cwd: dir }), 'refs/heads/main');
      }
      // The empty clone can push the first commit.
      const commit = await git.commitFiles(dir, { 'first.txt': 'first\n' }, 'first');
      await git.ok(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: dir });
      assert.equal((await remoteRefs(git, emptyUrl)).get('refs/heads/main'), commit);
    });

    it('pushes a multi-branch history with tags; the server advertises exactly it', async () => {
      await git.ok(['push', url, ...PUSH_ALL], { cwd: source });
      assert.deepEqual(mapToObject(await remoteRefs(git, url)), mapToObject(await expectedAdvertisement(git, source)));
      const symref = await git.ok(['ls-remote', '--symref', url, 'HEAD']);
      assert.equal(symref.split('\n')[0], 'ref: refs/heads/main\tHEAD');
    });

    it('lists only the refs asked for (ls-remote --heads / --tags)', async () => {
      const expected = await expectedAdvertisement(git, source);
      const pick = (prefix: string) => mapToObject(new Map([...expected].filter(([name]) => name.startsWith(prefix))));
      assert.deepEqual(mapToObject(await remoteRefs(git, url, ['--heads'])), pick('refs/heads/'));
      assert.deepEqual(mapToObject(await remoteRefs(git, url, ['--tags'])), pick('refs/tags/'));
    });

    it('mirror-clones it back identical', async () => {
      const mirror = await git.clone(url, 'mirror', ['--mirror']);
      await assertSameRepository(git, source, mirror);
      assert.equal(await git.ok(['symbolic-ref', 'HEAD'], { cwd: mirror }), 'refs/heads/main');
    });

    it('clones and checks out main with modes, symlinks and binary content intact', async () => {
      const dir = await git.clone(url, 'checkout', ['-c', 'init.defaultBranch=trunk']);
      assert.equal(await git.ok(['symbolic-ref', 'HEAD'], { cwd: dir }), 'refs/heads/main');
      assert.equal(await git.revParse(dir, 'HEAD'), history.oids['main-11']);
      assert.equal(await git.ok(['status', '--porcelain'], { cwd: dir }), '');
      assert.equal(await readFile(join(dir, 'README.md'), 'utf8'), 'Readme revision 11\n');
      assert.equal(await readlink(join(dir, 'link-to-readme')), 'README.md');
      assert.ok(((await stat(join(dir, 'bin/run.sh'))).mode & 0o111) !== 0, 'bin/run.sh lost its executable bit');
      assert.equal(await git.ok(['hash-object', 'assets/logo.bin'], { cwd: dir }), await git.revParse(source, 'main:assets/logo.bin'));
      await assertFsckClean(git, dir);
    });

    it('fetches only the new objects after new pushes, following the new tag', async () => {
      const clone = await git.clone(url, 'incremental');
      const oldTips = [...(await localRefs(git, source)).values()];

      const fi = new FastImport();
      const next = HISTORY_START + 100 * 86_400;
      fi.commit({
        ref: 'refs/heads/main',
        from: 'refs/heads/main^0',
        message: 'new 1\n',
        time: next,
        files: { 'src/module-1.ts': textBlob(500, 300) },
      });
      const m2 = fi.commit({ ref: 'refs/heads/main', message: 'new 2\n', time: next + 60, files: { 'new/dir/file.txt': 'new file\n' } });
      fi.commit({
        ref: 'refs/heads/topic',
        from: 'refs/heads/feature^0',
        message: 'topic\n',
        time: next + 120,
        files: { 'topic.txt': textBlob(501, 50) },
      });
      fi.annotatedTag('v3.0', m2, 'Version 3.0\n', next + 180);
      await fi.run(git, source);
      await git.ok(['push', url, ...PUSH_ALL], { cwd: source });

      const expectedNew = (await git.ok(['rev-list', '--objects', '--all', '--not', ...oldTips], { cwd: source }))
        .split('\n')
        .filter(Boolean).length;
      // unpackLimit=1 keeps the received pack so index-pack reports what arrived.
      const { stderr } = await git.run(['-c', 'fetch.unpackLimit=1', 'fetch', '--progress', 'origin'], { cwd: clone });
      const remote = await localRefs(git, clone, ['refs/remotes/origin/', 'refs/tags/']);
      const sourceRefs = await localRefs(git, source);
      for (const [name, oid] of sourceRefs) {
        const local = name.replace('refs/heads/', 'refs/remotes/origin/');
        assert.equal(remote.get(local), oid, `${local} after fetch (${stderr})`);
      }
      assert.equal(receivedObjectCount(stderr), expectedNew, `the server must send exactly the ${expectedNew} new objects`);
      assert.deepEqual(await reachableObjects(git, clone), await reachableObjects(git, source));
      await assertFsckClean(git, clone);
    });

    it('fetches a reachable non-tip commit by id', async () => {
      const dir = await git.init('by-id');
      const target = history.oids['main-6'];
      await git.ok(['fetch', url, target], { cwd: dir });
      assert.equal(await git.revParse(dir, 'FETCH_HEAD'), target);
      assert.equal(await git.ok(['rev-list', '--count', target], { cwd: dir }), '7');
      await assertFsckClean(git, dir);
    });

    it('refuses a want of an id the repository does not have', async () => {
      const dir = await git.init('missing-id');
      await git.fails(['fetch', url, 'deadbeef'.repeat(5)], { cwd: dir });
      assert.equal(await git.ok(['count-objects'], { cwd: dir }), '0 objects, 0 kilobytes');
      assert.equal((await git.run(['rev-parse', '--verify', 'FETCH_HEAD'], { cwd: dir })).code, 128);
    });

    it('fetches every tag with --tags, including a tag of a tag', async () => {
      const dir = await git.clone(url, 'tags', ['--no-tags']);
      assert.deepEqual(mapToObject(await localRefs(git, dir, ['refs/tags/'])), {});
      await git.ok(['fetch', '--tags', 'origin'], { cwd: dir });
      assert.deepEqual(mapToObject(await localRefs(git, dir, ['refs/tags/'])), mapToObject(await localRefs(git, source, ['refs/tags/'])));
      await assertFsckClean(git, dir);
    });

    it('sends annotated tags of fetched commits with the pack (include-tag)', async () => {
      const dir = join(await git.tempDir('include-tag'), 'repo');
      const { code, stderr, trace } = await withPacketTrace(git, ['clone', '--single-branch', '--branch', 'release', url, dir]);
      assert.equal(code, 0, stderr);
      // Tags reachable from release are followed; the others are not.
      assert.deepEqual([...(await localRefs(git, dir, ['refs/tags/'])).keys()].sort(), [
        'refs/tags/rel-1',
        'refs/tags/v1.0',
        'refs/tags/v1.0-signed-off',
      ]);
      await assertFsckClean(git, dir);
      const annotated = ['tag-v1.0', 'tag-rel-1', 'tag-v1.0-signed-off'].map((name) => history.oids[name]);
      const wanted = wantedIds(trace);
      for (const tag of annotated) {
        assert.ok(!wanted.includes(tag), `client had to ask for tag ${tag} separately: the server did not include it`);
      }
    });
  });
}
