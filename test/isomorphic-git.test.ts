// isomorphic-git as a second, independent client: clone, commit, push, fetch, delete.
// isomorphic-git speaks protocol v1 only; the real git that checks its work runs under
// protocol v0 and v2.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import * as fs from 'node:fs';
import { join } from 'node:path';
import * as iso from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverForFile, serverTest } from '@gitfleet/test-support/server';
import { buildStandardHistory, type StandardHistory } from './helpers/history.js';
import { assertFsckClean, remoteRefs } from './helpers/compare.js';

const server = serverForFile();
const it = serverTest(() => server);

const author = { name: 'Iso Client', email: 'iso@example.test', timestamp: 1_700_000_000, timezoneOffset: 0 };

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    let source: string;
    let history: StandardHistory;
    let url: string;
    let isoDir: string;

    before(async () => {
      git = await GitClient.create(protocol);
      source = await git.init('source', { bare: true });
      history = await buildStandardHistory(git, source);
      url = await server.createRepo('e2e', `iso-v${protocol}`);
      await git.ok(['push', url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], { cwd: source });
      isoDir = await git.tempDir('iso');
    });
    after(async () => {
      await git?.cleanup();
    });

    it('isomorphic-git clones the repository', async () => {
      await iso.clone({ fs, http, dir: isoDir, url });
      assert.equal(await iso.resolveRef({ fs, dir: isoDir, ref: 'HEAD' }), history.oids['main-11']);
      assert.equal(await iso.currentBranch({ fs, dir: isoDir }), 'main');
      assert.equal(fs.readFileSync(join(isoDir, 'README.md'), 'utf8'), 'Readme revision 11\n');
      assert.equal(await iso.resolveRef({ fs, dir: isoDir, ref: 'refs/remotes/origin/release' }), history.oids['release-1']);
      const log = await iso.log({ fs, dir: isoDir, ref: 'HEAD' });
      assert.equal(log.length, Number(await git.ok(['rev-list', '--count', 'main'], { cwd: source })));
    });

    it('isomorphic-git commits and pushes; the real git sees it', async () => {
      fs.writeFileSync(join(isoDir, 'from-iso.txt'), 'written by isomorphic-git\n');
      await iso.add({ fs, dir: isoDir, filepath: 'from-iso.txt' });
      const commit = await iso.commit({ fs, dir: isoDir, message: 'commit from isomorphic-git', author });
      const pushed = await iso.push({ fs, http, headers: adminHeaders(), dir: isoDir, remote: 'origin', ref: 'main' });
      assert.equal(pushed.ok, true, JSON.stringify(pushed));
      assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), commit);

      const clone = await git.clone(url, 'after-iso-push');
      assert.equal(await git.revParse(clone, 'HEAD'), commit);
      assert.equal(await git.revParse(clone, 'HEAD~1'), history.oids['main-11']);
      assert.equal(fs.readFileSync(join(clone, 'from-iso.txt'), 'utf8'), 'written by isomorphic-git\n');
      await assertFsckClean(git, clone);
    });

    it('isomorphic-git fetches what the real git pushed', async () => {
      const clone = await git.clone(url, 'real-pusher');
      const commit = await git.commitFiles(clone, { 'from-git.txt': 'written by git\n' }, 'commit from git');
      await git.ok(['push', 'origin', 'main'], { cwd: clone });

      await iso.fetch({ fs, http, dir: isoDir, ref: 'main' });
      assert.equal(await iso.resolveRef({ fs, dir: isoDir, ref: 'refs/remotes/origin/main' }), commit);
      const { blob } = await iso.readBlob({ fs, dir: isoDir, oid: commit, filepath: 'from-git.txt' });
      assert.equal(Buffer.from(blob).toString('utf8'), 'written by git\n');
    });

    it('isomorphic-git creates and deletes a branch', async () => {
      await iso.branch({ fs, dir: isoDir, ref: 'iso-branch' });
      await iso.push({ fs, http, headers: adminHeaders(), dir: isoDir, remote: 'origin', ref: 'iso-branch' });
      assert.equal((await remoteRefs(git, url)).get('refs/heads/iso-branch'), await iso.resolveRef({ fs, dir: isoDir, ref: 'iso-branch' }));
      const deleted = await iso.push({ fs, http, headers: adminHeaders(), dir: isoDir, remote: 'origin', ref: 'iso-branch', delete: true });
      assert.equal(deleted.ok, true, JSON.stringify(deleted));
      assert.ok(!(await remoteRefs(git, url)).has('refs/heads/iso-branch'));
    });

    it('isomorphic-git makes a shallow clone', async () => {
      const dir = await git.tempDir('iso-shallow');
      await iso.clone({ fs, http, dir, url, depth: 1, singleBranch: true, ref: 'release' });
      const log = await iso.log({ fs, dir, ref: 'HEAD' });
      assert.equal(log.length, 1);
      assert.equal(log[0].oid, history.oids['release-1']);
      assert.equal(fs.readFileSync(join(dir, 'VERSION'), 'utf8'), '1.1\n');
    });
  });
}
