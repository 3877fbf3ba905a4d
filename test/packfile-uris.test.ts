// Packfile URIs seen from outside: real git, opted in with fetch.uriProtocols, clones a fully
// repacked repository by downloading the repacked pack from a URL (presigned object storage on
// S3, the server's own signed URL on the embedded backend) and getting only newer objects
// inline; the result is the repository a plain clone gives. Without the opt-in nothing changes;
// a signed URL altered or expired is refused; a URL whose pack is gone fails the clone cleanly.
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3BlobStore } from '@gitfleet/storage';
import { runCli } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { scrapeMetrics } from '@gitfleet/test-support/metrics';
import { TEST_ADMIN, TEST_ADMIN_TOKEN, serverForFile, serverTest, type TestServer } from '@gitfleet/test-support/server';
import { DELIM, FLUSH, packetLines, pkt } from '@gitfleet/test-support/wire';
import { assertSameRepository } from './helpers/compare.js';
import { buildStandardHistory } from './helpers/history.js';
import { withPacketTrace } from './helpers/trace.js';

const URI_OPT_IN = ['-c', 'fetch.uriProtocols=http'];

/** A clone URL that carries TEST_ADMIN's token: git sends it to the server only, never to a packfile URI. */
function withCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = TEST_ADMIN;
  parsed.password = TEST_ADMIN_TOKEN;
  return parsed.href;
}

/** The checksum of the repository's repacked pack, after `gitfleet maintenance run --full`. */
async function repack(server: TestServer, fullName: string): Promise<string> {
  const result = await runCli(['maintenance', 'run', fullName, '--full', '--json'], { ...server.cliEnv });
  assert.equal(result.code, 0, `full repack failed:\n${result.stderr}`);
  const status = await runCli(['maintenance', 'status', fullName, '--json'], { ...server.cliEnv });
  assert.equal(status.code, 0, status.stderr);
  const packs = (JSON.parse(status.stdout) as { packs: Array<{ checksum: string; kind: string }> }).packs;
  const repacked = packs.filter((pack) => pack.kind === 'repack');
  assert.equal(repacked.length, 1, `expected one repack pack: ${status.stdout}`);
  return repacked[0].checksum;
}

/** The `<hash> <uri>` lines of the packfile-uris section in a packet trace (GIT_TRACE_REDACT=0). */
function tracedUris(trace: string): Array<{ hash: string; uri: string }> {
  return [...trace.matchAll(/< (?:\\1)?([0-9a-f]{40}) (https?:\/\/\S+)/g)].map((match) => ({ hash: match[1], uri: match[2] }));
}

/** The object count of the server's closing "Total N" line (git prints it as `remote: Total N …` with --progress). */
function inlineTotal(stderr: string): number {
  const match = /remote: Total (\d+)/.exec(stderr);
  if (!match) throw new Error(`no "Total" line from the server in:\n${stderr}`);
  return Number(match[1]);
}

/** A v2 fetch of `wants` asking for packfile URIs, by hand: the response's lines before the pack. */
async function fetchSections(server: TestServer, path: string, wants: string[]): Promise<string[]> {
  const body = Buffer.concat([
    pkt('command=fetch\n'),
    pkt('object-format=sha1\n'),
    DELIM,
    pkt('packfile-uris http\n'),
    pkt('ofs-delta\n'),
    pkt('no-progress\n'),
    ...wants.map((want) => pkt(`want ${want}\n`)),
    pkt('done\n'),
    FLUSH,
  ]);
  const response = await fetch(`${server.url}/${path}/git-upload-pack`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
      'content-type': 'application/x-git-upload-pack-request',
      'git-protocol': 'version=2',
    },
    body,
  });
  assert.equal(response.status, 200);
  const bytes = Buffer.from(await response.arrayBuffer());
  const packfileAt = bytes.indexOf('packfile\n');
  return packetLines(bytes.subarray(0, packfileAt + 'packfile\n'.length));
}

/** Deletes the stored bytes of a pack, wherever the server keeps them. */
async function deletePackBlob(server: TestServer, repositoryId: string, checksum: string): Promise<void> {
  const key = `repos/${repositoryId}/packs/pack-${checksum}.pack`;
  if (server.backend === 'embedded') {
    await rm(join(server.dataDir, 'objects', key));
    return;
  }
  const env = server.cliEnv;
  const store = new S3BlobStore({
    endpoint: env.GITFLEET_S3_ENDPOINT,
    region: env.GITFLEET_S3_REGION,
    bucket: env.GITFLEET_S3_BUCKET,
    prefix: env.GITFLEET_S3_PREFIX,
    credentials: { accessKeyId: env.GITFLEET_S3_ACCESS_KEY_ID, secretAccessKey: env.GITFLEET_S3_SECRET_ACCESS_KEY },
  });
  try {
    await store.delete(key);
  } finally {
    await store.close();
  }
}

let git: GitClient;
before(async () => {
  git = await GitClient.create(2, { authorization: null });
});
after(async () => {
  await git?.cleanup();
});

/**
 * A repository holding the standard history, fully repacked, then (unless `pushAfter` is false)
 * one more commit pushed: its clone URL (with credentials), id, repacked pack, and the number of
 * objects pushed since the repack.
 */
async function repackedRepository(server: TestServer, name: string, options: { private?: boolean; pushAfter?: boolean } = {}) {
  const { url, id } = await server.createRepository('uris', name, { private: options.private });
  const authUrl = withCredentials(url);
  const source = await git.init(`source-${name}`, { bare: true });
  await buildStandardHistory(git, source);
  await git.ok(['push', '-q', '--mirror', authUrl], { cwd: source });
  const pack = await repack(server, `uris/${name}`);
  if (options.pushAfter === false) return { url: authUrl, id, pack, pushedSince: 0 };
  const work = await git.clone(authUrl, `work-${name}`);
  const before = await git.revParse(work, 'HEAD');
  await git.commitFiles(work, { 'after-repack.txt': 'pushed after the repack\n' }, 'after the repack');
  await git.ok(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: work });
  const pushedSince = (await git.ok(['rev-list', '--objects', 'HEAD', `^${before}`], { cwd: work })).trim().split('\n').length;
  return { url: authUrl, id, pack, pushedSince };
}

describe('packfile URIs', () => {
  const server = serverForFile({ GITFLEET_MAINTENANCE: '0' });
  const it = serverTest(() => server);

  for (const visibility of ['public', 'private'] as const) {
    it(`a ${visibility} repacked repository clones from its pack's URI, with only newer objects inline`, async () => {
      const repo = await repackedRepository(server, `history-${visibility}`, { private: visibility === 'private' });
      const plain = await git.clone(repo.url, `plain-${visibility}`, ['--mirror']);

      const kind = server.backend === 'embedded' ? 'server' : 'store';
      const before = await scrapeMetrics(server.url);
      const dir = join(await git.tempDir(`uri-${visibility}`), 'clone.git');
      const cloned = await withPacketTrace(git, [...URI_OPT_IN, 'clone', '--mirror', '--progress', repo.url, dir], {
        env: { GIT_TRACE_REDACT: '0' },
      });
      assert.equal(cloned.code, 0, cloned.stderr);
      await assertSameRepository(git, plain, dir);

      const offered = tracedUris(cloned.trace);
      assert.equal(offered.length, 1, `one packfile URI expected in:\n${cloned.trace}`);
      assert.equal(offered[0].hash, repo.pack);
      const expectedHost = server.backend === 'embedded' ? new URL(server.url).host : new URL(server.cliEnv.GITFLEET_S3_ENDPOINT).host;
      assert.equal(new URL(offered[0].uri).host, expectedHost, offered[0].uri);
      assert.equal(
        (await scrapeMetrics(server.url)).since(before, 'gitfleet_packfile_uris_total', { kind }),
        1,
        `gitfleet_packfile_uris_total{kind="${kind}"} counts the URI`,
      );
      // The repacked pack arrived as it is stored, under its own name; the server sent only what was pushed since.
      assert.ok((await readdir(join(dir, 'objects', 'pack'))).includes(`pack-${repo.pack}.pack`));
      assert.equal(inlineTotal(cloned.stderr), repo.pushedSince);
    });
  }

  it('right after the repack, the inline pack is empty and the clone whole', async () => {
    const repo = await repackedRepository(server, 'just-repacked', { pushAfter: false });
    const plain = await git.clone(repo.url, 'plain-just-repacked', ['--mirror']);
    const dir = join(await git.tempDir('just-repacked'), 'clone.git');
    const cloned = await git.run([...URI_OPT_IN, 'clone', '--mirror', '--progress', repo.url, dir]);
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.equal(inlineTotal(cloned.stderr), 0);
    await assertSameRepository(git, plain, dir);
  });

  it('clones that would not take the whole pack get no URI: shallow, filtered, one branch of several, after a branch was deleted', async () => {
    const repo = await repackedRepository(server, 'partial', { pushAfter: false });
    const cloneWithoutUri = async (label: string, args: string[]) => {
      const dir = join(await git.tempDir(label), 'clone.git');
      const cloned = await withPacketTrace(git, [...URI_OPT_IN, 'clone', '--bare', ...args, repo.url, dir], {
        env: { GIT_TRACE_REDACT: '0' },
      });
      assert.equal(cloned.code, 0, cloned.stderr);
      assert.match(cloned.trace, /> packfile-uris http/, label);
      assert.deepEqual(tracedUris(cloned.trace), [], label);
      await git.ok(['fsck', '--connectivity-only'], { cwd: dir });
    };
    await cloneWithoutUri('shallow', ['--depth', '1']);
    await cloneWithoutUri('filtered', ['--filter=blob:none']);
    await cloneWithoutUri('one-branch', ['--single-branch', '--branch', 'release', '--no-tags']);
    // The release branch's own commits are in the pack, and now in no ref: a clone must not get them.
    await git.ok(['push', '-q', repo.url, ':refs/heads/release', ':refs/tags/rel-1'], { cwd: await git.init('deleter') });
    await cloneWithoutUri('after-deletion', []);
  });

  it('with pull-request refs, a clone of the branches and tags takes the clone pack whole; a mirror clone gets the pull requests inline', async () => {
    const { url } = await server.createRepository('uris', 'pulls');
    const authUrl = withCredentials(url);
    const source = await git.init('source-pulls', { bare: true });
    await buildStandardHistory(git, source);
    const contributor = await git.clone(source, 'contributor-pulls');
    await git.commitFiles(contributor, { 'proposal.txt': 'a change under review\n' }, 'proposed change');
    await git.ok(['push', '-q', 'origin', 'HEAD:refs/pull/1/head'], { cwd: contributor });
    await git.ok(['push', '-q', '--mirror', authUrl], { cwd: source });
    const pack = await repack(server, 'uris/pulls');
    const status = await runCli(['maintenance', 'status', 'uris/pulls', '--json'], { ...server.cliEnv });
    const kinds = (JSON.parse(status.stdout) as { packs: Array<{ kind: string }> }).packs.map((p) => p.kind).sort();
    assert.deepEqual(kinds, ['repack', 'repack-rest'], status.stdout);
    const pullOnly = (await git.ok(['rev-list', '--objects', 'refs/pull/1/head', '--not', '--branches', '--tags'], { cwd: source }))
      .trim()
      .split('\n').length;

    for (const [layout, inline] of [
      ['--bare', 0],
      ['--mirror', pullOnly],
    ] as const) {
      const plain = await git.clone(authUrl, `plain-pulls${layout}`, [layout]);
      const dir = join(await git.tempDir(`pulls${layout}`), 'clone.git');
      const cloned = await withPacketTrace(git, [...URI_OPT_IN, 'clone', layout, '--progress', authUrl, dir], {
        env: { GIT_TRACE_REDACT: '0' },
      });
      assert.equal(cloned.code, 0, cloned.stderr);
      assert.deepEqual(
        tracedUris(cloned.trace).map((offer) => offer.hash),
        [pack],
        `${layout}: the clone pack's URI expected in:\n${cloned.trace}`,
      );
      assert.equal(inlineTotal(cloned.stderr), inline, layout);
      await assertSameRepository(git, plain, dir);
      await git.ok(['fsck', '--strict', '--no-dangling'], { cwd: dir });
    }

    // Refs that moved since the repack: a mirror clone holds what the refs reach now, no more, no less.
    const exactMirror = async (label: string) => {
      const dir = join(await git.tempDir(`pulls-${label}`), 'clone.git');
      await git.ok(['clone', '-q', '--mirror', authUrl, dir]);
      await git.ok(['fsck', '--strict', '--no-dangling'], { cwd: dir });
      const stored = (await git.ok(['cat-file', '--batch-all-objects', '--batch-check'], { cwd: dir })).trim().split('\n').length;
      const reachable = (await git.ok(['rev-list', '--objects', '--all'], { cwd: dir })).trim().split('\n').length;
      assert.equal(stored, reachable, `${label}: every object the clone got is one its refs reach`);
      assert.deepEqual(await git.ok(['ls-remote', dir]), await git.ok(['ls-remote', authUrl]), label);
      return reachable;
    };
    await git.commitFiles(contributor, { 'second.txt': 'a second proposal\n' }, 'second proposal');
    await git.ok(['push', '-q', authUrl, 'HEAD:refs/pull/2/head'], { cwd: contributor });
    const withSecond = await exactMirror('new-pull');
    await git.ok(['push', '-q', authUrl, ':refs/pull/2/head', ':refs/pull/1/head'], { cwd: contributor });
    assert.equal(await exactMirror('pulls-closed'), withSecond - pullOnly - 3, 'neither pull request: its commits, trees and files gone');
  });

  it('a fetch that names what it has (haves) gets no URI: only what it lacks comes, inline', async () => {
    const repo = await repackedRepository(server, 'incremental', { pushAfter: false });
    const mirror = await git.clone(repo.url, 'incremental-mirror', ['--mirror']);
    const work = await git.clone(repo.url, 'incremental-work');
    await git.commitFiles(work, { 'later.txt': 'later\n' }, 'later');
    await git.ok(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: work });
    const fetched = await withPacketTrace(git, [...URI_OPT_IN, 'fetch', '--progress', 'origin'], {
      cwd: mirror,
      env: { GIT_TRACE_REDACT: '0' },
    });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(fetched.trace, /> have [0-9a-f]{40}/);
    assert.deepEqual(tracedUris(fetched.trace), []);
    assert.equal(inlineTotal(fetched.stderr), 3, 'the new commit, its tree and its file');
    assert.equal(await git.revParse(mirror, 'refs/heads/main'), await git.revParse(work, 'HEAD'));
  });

  it('without the opt-in, nothing changes: no URI is asked for, all objects come inline', async () => {
    const repo = await repackedRepository(server, 'no-opt-in');
    const dir = join(await git.tempDir('no-opt-in'), 'clone.git');
    const cloned = await withPacketTrace(git, ['clone', '--mirror', '--progress', repo.url, dir]);
    assert.equal(cloned.code, 0, cloned.stderr);
    // The server advertises the feature; the client neither asks for URIs nor gets a section of them.
    assert.doesNotMatch(cloned.trace, /> packfile-uris|< (?:\\1)?packfile-uris$/m);
    const all = (await git.ok(['rev-list', '--all', '--objects'], { cwd: dir })).trim().split('\n').length;
    assert.equal(inlineTotal(cloned.stderr), all);
  });

  it('a URI whose pack is gone fails the clone cleanly', async () => {
    const repo = await repackedRepository(server, 'pack-gone');
    await deletePackBlob(server, repo.id, repo.pack);
    const dir = join(await git.tempDir('pack-gone'), 'clone.git');
    const cloned = await git.run([...URI_OPT_IN, 'clone', '--mirror', repo.url, dir]);
    assert.notEqual(cloned.code, 0, 'the clone must fail');
    assert.match(cloned.stderr, /http-fetch|unable to get pack file|failed to get/, cloned.stderr);
  });
});

describe("the server's own signed packfile URLs", () => {
  // Always the server's own URL, on S3 too; short-lived, so that the test can see one expire.
  const server = serverForFile({ GITFLEET_MAINTENANCE: '0', GITFLEET_PACKFILE_URIS: 'server', GITFLEET_PACKFILE_URI_EXPIRY_SECONDS: '2' });
  const it = serverTest(() => server);

  it('serve the pack whole or by range to anyone holding them, and refuse them altered or expired', async () => {
    const repo = await repackedRepository(server, 'signed', { private: true });
    // What a clone wants: every ref (the URI is offered only when the wants reach the whole pack).
    const refs = (await git.ok(['ls-remote', repo.url])).trim().split('\n');
    const tips = new Set(refs.filter((line) => !line.endsWith('^{}')).map((line) => line.slice(0, 40)));
    const lines = await fetchSections(server, 'uris/signed.git', [...tips]);
    const at = lines.indexOf('packfile-uris');
    assert.ok(at >= 0, `no packfile-uris section in ${JSON.stringify(lines)}`);
    const [hash, uri] = lines[at + 1].split(' ');
    assert.equal(hash, repo.pack);
    assert.ok(uri.startsWith(`${server.url}/uris/signed.git/packfile-uris/pack-${repo.pack}.pack?`), uri);

    // No credential: the URL is its own authorization.
    const whole = await fetch(uri);
    assert.equal(whole.status, 200, await whole.clone().text());
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PACK');
    assert.equal(bytes.subarray(bytes.length - 20).toString('hex'), repo.pack);
    const part = await fetch(uri, { headers: { range: 'bytes=12-' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 12-${bytes.length - 1}/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(12));

    const parsed = new URL(uri);
    const signature = parsed.searchParams.get('signature')!;
    // Usable by anyone until it expires: the request log names the URL without it.
    assert.match(server.logTail(), /packfile-uris\/pack-[0-9a-f]{40}\.pack\?[^"]*signature=\(redacted\)/);
    assert.ok(!server.logTail().includes(signature), 'the signature is not logged');
    const altered = [
      uri.replace(`signature=${signature}`, `signature=${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`),
      uri.replace(/expires=(\d+)/, (_, expires: string) => `expires=${Number(expires) + 3600}`),
      uri.replace(`pack-${repo.pack}`, `pack-${'0'.repeat(40)}`),
      uri.replace('/uris/signed.git/', '/uris/no-opt-in.git/'),
    ];
    for (const bad of altered) {
      const refused = await fetch(bad);
      assert.equal(refused.status, 403, bad);
      assert.match(await refused.text(), /signature does not match/);
    }

    const expiresAt = Number(parsed.searchParams.get('expires')) * 1000;
    await sleep(Math.max(0, expiresAt - Date.now()) + 1100);
    const expired = await fetch(uri);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /expired/);
    // Nothing changed: the repository still clones, URI or not.
    const cloned = await git.run([...URI_OPT_IN, 'clone', '--mirror', repo.url, join(await git.tempDir('after-refusals'), 'c.git')]);
    assert.equal(cloned.code, 0, cloned.stderr);
  });
});
