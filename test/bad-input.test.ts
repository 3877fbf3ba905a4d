// Hostile and broken input over raw HTTP: every request is refused cleanly (4xx, or an
// unpack error in report-status), the repository is unchanged, nothing of a refused push
// becomes visible, and the server keeps serving clones. The server runs with small limits
// so that oversized input is cheap to produce.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverForFile, serverTest } from '@gitfleet/test-support/server';
import { buildStandardHistory } from './helpers/history.js';
import { assertSameRepository, mapToObject, remoteRefs } from './helpers/compare.js';
import { postService, rawRequest, type RawResponse } from './helpers/http.js';
import {
  buildPack,
  DELIM,
  expandingDelta,
  FLUSH,
  objectId,
  packetLines,
  pkt,
  receivePackRequest,
  withTrailer,
} from '@gitfleet/test-support/wire';

const MIB = 1024 * 1024;
const server = serverForFile({
  GITFLEET_MAX_PACK_BYTES: '8MiB',
  GITFLEET_MAX_OBJECT_BYTES: '16MiB',
  GITFLEET_MAX_REQUEST_BYTES: '1MiB',
});
const it = serverTest(() => server);

const V2 = { 'git-protocol': 'version=2' };
const MISSING_ID = 'deadbeef'.repeat(5);

function assertClientError(response: RawResponse, what: string): void {
  assert.ok(
    response.status >= 400 && response.status < 500,
    `${what}: expected a 4xx answer, got ${response.status}: ${response.body.toString('latin1').slice(0, 300)}`,
  );
}

/**
 * A push is refused: 4xx, or report-status with a failed unpack or the ref marked `ng`, or
 * (for oversized bodies) the connection cut before the upload finished.
 */
function assertPushRefused(response: RawResponse, ref: string, what: string): void {
  if (response.resetBeforeAnswer) return;
  assert.ok(response.status < 500, `${what}: server error ${response.status}: ${response.body.toString('latin1').slice(0, 300)}`);
  if (response.status >= 400) return;
  assert.equal(response.status, 200, what);
  const lines = packetLines(response.body);
  assert.ok(!lines.includes(`ok ${ref}`), `${what}: the server accepted the update of ${ref}: ${lines.join(' | ')}`);
  const unpack = lines.find((line) => line.startsWith('unpack '));
  const refStatus = lines.find((line) => line.startsWith(`ng ${ref}`));
  assert.ok(
    (unpack !== undefined && unpack !== 'unpack ok') || refStatus !== undefined,
    `${what}: no refusal reported: ${lines.join(' | ')}`,
  );
}

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;
    let source: string;
    let url: string;
    let mainTip: string;

    before(async () => {
      git = await GitClient.create(protocol);
      source = await git.init('source', { bare: true });
      await buildStandardHistory(git, source);
      url = await server.createRepo('e2e', `bad-input-v${protocol}`);
      await git.ok(['push', url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], { cwd: source });
      mainTip = await git.revParse(source, 'refs/heads/main');
    });
    after(async () => {
      await git?.cleanup();
    });

    const refsNow = async () => mapToObject(await remoteRefs(git, url));

    /** The size object-info (protocol v2) reports for an id, or undefined if it has none. */
    async function objectInfoSize(oid: string): Promise<number | undefined> {
      const body = Buffer.concat([pkt('command=object-info\n'), DELIM, pkt('size\n'), pkt(`oid ${oid}\n`), FLUSH]);
      const response = await postService(url, 'git-upload-pack', body, V2);
      if (response.status !== 200) return undefined;
      const line = packetLines(response.body).find((l) => l.startsWith(oid));
      const size = line?.slice(oid.length).trim();
      return size ? Number(size) : undefined;
    }

    /** None of the objects can be read or fetched. */
    async function assertInvisible(oids: string[], commit?: string): Promise<void> {
      for (const oid of oids) assert.equal(await objectInfoSize(oid), undefined, `object ${oid} of a refused push is visible`);
      if (commit) {
        const scratch = await git.init('probe');
        await git.fails(['fetch', url, commit], { cwd: scratch });
      }
    }

    /** A real pack of one new commit on main (from git pack-objects), its commit and its objects. */
    async function realPushPack(): Promise<{ pack: Buffer; commit: string; objects: string[] }> {
      const work = await git.clone(url, 'pack-source');
      const commit = await git.commitFiles(work, { 'new/file.txt': `new content ${Math.random()}\n` }, 'new commit');
      const pack = await git.bytes(['pack-objects', '--stdout', '--revs', '-q'], { cwd: work, input: `${commit}\n^${mainTip}\n` });
      const objects = (await git.ok(['rev-list', '--objects', commit, '--not', mainTip], { cwd: work }))
        .split('\n')
        .map((l) => l.slice(0, 40));
      return { pack, commit, objects };
    }

    async function pushRaw(pack: Buffer, newId: string, ref = 'refs/heads/main', old = mainTip): Promise<RawResponse> {
      return postService(
        url,
        'git-receive-pack',
        receivePackRequest([{ old, new: newId, ref }], ['report-status', 'agent=gitfleet-e2e'], pack),
      );
    }

    it('object-info reports stored objects and nothing for unknown ids', async () => {
      const readme = await git.revParse(source, 'main:README.md');
      assert.equal(await objectInfoSize(readme), 'Readme revision 11\n'.length);
      assert.equal(await objectInfoSize(MISSING_ID), undefined);
    });

    it('refuses garbage sent to upload-pack with 4xx', async () => {
      const before = await refsNow();
      const headers = protocol === 2 ? V2 : {};
      const bodies: Record<string, Buffer> = {
        'not pkt-lines': Buffer.from('this is not a pkt-line stream at all'),
        'a length past the end': Buffer.from('ffffwant'),
        'a want of a malformed id': Buffer.concat([pkt('want not-an-object-id\n'), FLUSH, pkt('done\n')]),
        'an unknown v2 command': Buffer.concat([pkt('command=frobnicate\n'), DELIM, FLUSH]),
        'binary noise': randomBytes(4096),
      };
      for (const [what, body] of Object.entries(bodies)) {
        assertClientError(await postService(url, 'git-upload-pack', body, headers), what);
      }
      assert.deepEqual(await refsNow(), before);
    });

    it('refuses garbage sent to receive-pack with 4xx', async () => {
      const before = await refsNow();
      const bodies: Record<string, Buffer> = {
        'not pkt-lines': Buffer.from('this is not a pkt-line stream at all'),
        'malformed ids': Buffer.concat([pkt('zz yy refs/heads/main\0report-status\n'), FLUSH]),
        'a command without a ref': Buffer.concat([pkt(`${mainTip} ${mainTip}\0report-status\n`), FLUSH]),
        'binary noise': randomBytes(4096),
      };
      for (const [what, body] of Object.entries(bodies)) {
        assertClientError(await postService(url, 'git-receive-pack', body), what);
      }
      const { pack, commit } = await realPushPack();
      for (const ref of ['refs/heads/../evil', 'refs/heads/a..b', 'refs/heads/x\u0001y', 'HEAD', 'main']) {
        assertPushRefused(await pushRaw(pack, commit, ref, '0'.repeat(40)), ref, `an invalid ref name ${JSON.stringify(ref)}`);
      }
      assert.deepEqual(await refsNow(), before);
    });

    it('refuses a pack with a corrupt object (valid trailer)', async () => {
      const before = await refsNow();
      const { pack, commit, objects } = await realPushPack();
      const body = Buffer.from(pack.subarray(0, pack.length - 20));
      body[Math.floor(body.length / 2)] ^= 0xff;
      assertPushRefused(await pushRaw(withTrailer(body), commit), 'refs/heads/main', 'corrupt pack');
      assert.deepEqual(await refsNow(), before);
      await assertInvisible(objects, commit);
    });

    it('refuses a pack with a wrong trailer checksum', async () => {
      const before = await refsNow();
      const { pack, commit, objects } = await realPushPack();
      const broken = Buffer.from(pack);
      broken[broken.length - 1] ^= 0xff;
      assertPushRefused(await pushRaw(broken, commit), 'refs/heads/main', 'bad trailer');
      assert.deepEqual(await refsNow(), before);
      await assertInvisible(objects, commit);
    });

    it('refuses a truncated pack', async () => {
      const before = await refsNow();
      const { pack, commit, objects } = await realPushPack();
      for (const length of [8, Math.floor(pack.length / 2), pack.length - 1]) {
        assertPushRefused(await pushRaw(pack.subarray(0, length), commit), 'refs/heads/main', `pack cut at ${length} of ${pack.length}`);
      }
      assert.deepEqual(await refsNow(), before);
      await assertInvisible(objects, commit);
    });

    it('refuses malformed objects (fsck) and unconnected history', async () => {
      const before = await refsNow();
      const badCommit = Buffer.from('tree not-a-tree-id\nauthor nobody\n\nbroken\n');
      const missingTree = Buffer.from(
        `tree ${MISSING_ID}\nparent ${mainTip}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nno tree\n`,
      );
      const badTree = Buffer.concat([Buffer.from('100644 ../escape\0'), Buffer.alloc(20, 1)]);
      const cases: [string, Buffer, 'commit' | 'tree'][] = [
        ['malformed commit', badCommit, 'commit'],
        ['commit whose tree is missing', missingTree, 'commit'],
        ['tree with a hostile entry name', badTree, 'tree'],
      ];
      for (const [what, body, type] of cases) {
        const oid = objectId(type, body);
        assertPushRefused(await pushRaw(buildPack([{ type, body }]), oid), 'refs/heads/main', what);
        await assertInvisible([oid]);
      }
      assert.deepEqual(await refsNow(), before);
    });

    it('refuses bomb-like packs within the limits and stays healthy', async () => {
      const before = await refsNow();
      const zeros = Buffer.alloc(64 * MIB);
      const bombs: [string, Buffer, string][] = [
        ['an object over the size limit (64 MiB of zeros)', buildPack([{ type: 'blob', body: zeros }]), objectId('blob', zeros)],
        ['an object claiming to be 1 TiB', buildPack([{ type: 'blob', body: Buffer.from('tiny'), declaredSize: 2 ** 40 }]), MISSING_ID],
        [
          'a delta expanding 1 MiB to 1 TiB',
          buildPack([
            { type: 'blob', body: Buffer.alloc(MIB) },
            { ofsDeltaOf: 0, delta: expandingDelta(MIB, MIB, 2 ** 20) },
          ]),
          MISSING_ID,
        ],
        ['a pack over the pack size limit', buildPack([{ type: 'blob', body: randomBytes(10 * MIB) }]), MISSING_ID],
      ];
      for (const [what, pack, oid] of bombs) {
        assertPushRefused(await pushRaw(pack, oid, 'refs/heads/bomb', '0'.repeat(40)), 'refs/heads/bomb', what);
        assert.ok(server.alive(), `the server died on ${what}`);
      }
      assert.deepEqual(await refsNow(), before);
      await assertInvisible([objectId('blob', zeros), objectId('blob', Buffer.alloc(MIB))]);
    });

    it('answers a want of a missing id with an error, not a pack', async () => {
      const body =
        protocol === 2
          ? Buffer.concat([pkt('command=fetch\n'), DELIM, pkt(`want ${MISSING_ID}\n`), pkt('done\n'), FLUSH])
          : Buffer.concat([pkt(`want ${MISSING_ID} multi_ack_detailed side-band-64k ofs-delta\n`), FLUSH, pkt('done\n')]);
      const response = await postService(url, 'git-upload-pack', body, protocol === 2 ? V2 : {});
      assert.ok(response.status < 500, `server error ${response.status}`);
      if (response.status === 200) {
        assert.match(response.body.toString('latin1'), /ERR /, 'a 200 answer must carry an ERR packet');
      }
      assert.ok(!response.body.includes('PACK'), 'a pack was sent for a missing want');
    });

    it('accepts gzip-compressed requests', async () => {
      if (protocol === 2) {
        const body = gzipSync(Buffer.concat([pkt('command=ls-refs\n'), DELIM, pkt('ref-prefix refs/heads/main\n'), FLUSH]));
        const response = await postService(url, 'git-upload-pack', body, { ...V2, 'content-encoding': 'gzip' });
        assert.equal(response.status, 200);
        assert.deepEqual(packetLines(response.body), [`${mainTip} refs/heads/main`]);
      } else {
        const body = gzipSync(Buffer.concat([pkt(`want ${mainTip} ofs-delta\n`), FLUSH, pkt('done\n')]));
        const response = await postService(url, 'git-upload-pack', body, { 'content-encoding': 'gzip' });
        assert.equal(response.status, 200);
        assert.ok(response.body.includes('PACK'), 'no pack in the answer');
      }
    });

    it('refuses hostile repository names with 400 or 404, creating nothing outside the data directory', async () => {
      const marker = `escape-${process.pid}-${protocol}`;
      const service = '/info/refs?service=git-upload-pack';
      const paths = [
        `/../../${marker}.git${service}`,
        `/e2e/../../${marker}.git${service}`,
        `/%2e%2e/%2e%2e/${marker}.git${service}`,
        `/e2e/%2e%2e%2f%2e%2e%2f${marker}.git${service}`,
        `/%2Ftmp/${marker}.git${service}`,
        `//tmp/${marker}.git${service}`,
        `/e2e/bad%00name.git${service}`,
        `/e2e/bad%0aname.git${service}`,
        `/e2e/bad%01name.git${service}`,
        `/e2e/%2e%2e.git${service}`,
        `/e2e/no-such-repository.git${service}`,
      ];
      for (const path of paths) {
        const response = await rawRequest(server.url, 'GET', path);
        assert.ok([400, 404].includes(response.status), `GET ${path}: ${response.status}`);
        const post = await rawRequest(server.url, 'POST', path.replace(service, '/git-receive-pack'), {
          headers: { 'content-type': 'application/x-git-receive-pack-request' },
          body: Buffer.concat([pkt(`${'0'.repeat(40)} ${mainTip} refs/heads/x\0report-status\n`), FLUSH]),
        });
        assert.ok([400, 404].includes(post.status), `POST ${path}: ${post.status}`);
      }
      const hostileNames: [unknown, unknown][] = [
        ['..', marker],
        ['e2e', '..'],
        ['.', marker],
        ['%2e%2e', marker],
        ['/tmp', marker],
        ['e2e', `../${marker}`],
        ['e2e', `/tmp/${marker}`],
        ['e2e', `${marker}\u0000x`],
        ['e2e', `${marker}\nx`],
        ['e2e', `${marker}\u0001x`],
        ['', marker],
        ['e2e', ''],
        ['e2e', 42],
      ];
      for (const [owner, name] of hostileNames) {
        const response = await fetch(`${server.url}/api/v1/repos`, {
          method: 'POST',
          headers: adminHeaders({ 'content-type': 'application/json' }),
          body: JSON.stringify({ owner, name }),
        });
        assert.equal(response.status, 400, `creating ${JSON.stringify({ owner, name })}: ${response.status}`);
      }
      const malformed = await fetch(`${server.url}/api/v1/repos`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: '{"owner":',
      });
      assert.equal(malformed.status, 400);
      const duplicate = await fetch(`${server.url}/api/v1/repos`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ owner: 'e2e', name: `bad-input-v${protocol}` }),
      });
      assert.equal(duplicate.status, 409);
      for (const dir of [dirname(server.dataDir), '/tmp', '/']) {
        for (const name of [marker, `${marker}.git`]) assert.ok(!existsSync(join(dir, name)), `${join(dir, name)} was created`);
      }
    });

    it('still serves an identical clone after all that', async () => {
      assert.ok(server.alive());
      const mirror = await git.clone(url, 'after-abuse', ['--mirror']);
      await assertSameRepository(git, source, mirror);
    });
  });
}
