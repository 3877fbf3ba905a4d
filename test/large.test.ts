// Size: a 50 MiB incompressible file and 20,000 small files in one commit, each pushed and
// cloned back under every protocol version on the embedded backend, under the newest only
// on the distributed one (see sizeCaseProtocols).
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GitClient, PROTOCOLS, type WireProtocol } from '@gitfleet/test-support/git-client';
import { selectedBackend } from '@gitfleet/test-support/server-storage';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { FastImport, HISTORY_START } from './helpers/history.js';
import { assertFsckClean, remoteRefs } from './helpers/compare.js';

/**
 * Protocol versions of the size cases (a 50 MiB file, 20,000 files): all of them on the
 * embedded backend, only the newest on distributed. What those cases add there is storage
 * traffic, which no protocol version changes, and they are the suite's slowest.
 */
function sizeCaseProtocols(): readonly WireProtocol[] {
  return selectedBackend() === 'embedded' ? PROTOCOLS : PROTOCOLS.slice(-1);
}

const server = serverForFile();
const it = serverTest(() => server);

const BIG_FILE_BYTES = 50 * 1024 * 1024;
const SMALL_FILES = 20_000;

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

for (const protocol of sizeCaseProtocols()) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;

    before(async () => {
      git = await GitClient.create(protocol);
    });
    after(async () => {
      await git?.cleanup();
    });

    it(
      'pushes and clones back a 50 MiB random file byte for byte',
      async () => {
        const content = randomBytes(BIG_FILE_BYTES);
        const source = await git.init('big-source', { bare: true });
        const fi = new FastImport();
        fi.commit({
          ref: 'refs/heads/main',
          message: 'big file\n',
          time: HISTORY_START,
          files: { 'big.bin': content, 'small.txt': 'small\n' },
        });
        await fi.run(git, source);
        const url = await server.createRepo('e2e', `big-file-v${protocol}`);
        await git.ok(['push', url, 'main'], { cwd: source });
        const commit = await git.revParse(source, 'main');
        assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), commit);

        const clone = await git.clone(url, 'big-clone');
        assert.equal(await git.revParse(clone, 'HEAD'), commit);
        assert.equal(await sha256OfFile(join(clone, 'big.bin')), createHash('sha256').update(content).digest('hex'));
        await assertFsckClean(git, clone);
      },
      { timeout: 300_000 },
    );

    it(
      'pushes and clones back 20,000 small files in one commit',
      async () => {
        const files: Record<string, string> = {};
        for (let i = 0; i < SMALL_FILES; i++) files[`dir-${i % 200}/sub-${i % 7}/file-${i}.txt`] = `file ${i}\n`;
        const source = await git.init('many-source', { bare: true });
        const fi = new FastImport();
        fi.commit({ ref: 'refs/heads/main', message: '20k files\n', time: HISTORY_START, files });
        await fi.run(git, source);
        const url = await server.createRepo('e2e', `many-files-v${protocol}`);
        await git.ok(['push', url, 'main'], { cwd: source });

        const clone = await git.clone(url, 'many-clone');
        assert.equal(await git.revParse(clone, 'HEAD^{tree}'), await git.revParse(source, 'main^{tree}'));
        const tracked = (await git.ok(['ls-files'], { cwd: clone })).split('\n');
        assert.equal(tracked.length, SMALL_FILES);
        assert.equal(await git.ok(['status', '--porcelain'], { cwd: clone }), '');
        assert.equal((await readdir(join(clone, 'dir-0'))).length, 7);
        await assertFsckClean(git, clone);
      },
      { timeout: 300_000 },
    );
  });
}
