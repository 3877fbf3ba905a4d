import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gitEnv } from '@gitfleet/test-support/git';
import { adminGit, createRepo, startTestServer, type TestServer } from './helpers.js';

// The HTTP layer as the real git drives it: probe request, chunked push, gzip-encoded
// fetch requests, both protocol versions. (The protocol itself is covered in depth by test/.)

let server: TestServer;
let work: string;
let remote: string;

function gitWithTrace(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return adminGit(cwd, args, env);
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await gitWithTrace(cwd, {}, ...args)).stdout;
}

/** `count` empty commits on main in one git process (one commit per process is slow). */
async function addLocalCommits(cwd: string, count: number): Promise<void> {
  const parent = (await git(cwd, 'rev-parse', 'HEAD')).trim();
  // Newer than anything on the server, so that git's negotiation offers them first.
  const now = Math.floor(Date.now() / 1000);
  const commits = Array.from({ length: count }, (_, i) => {
    const message = `local ${i}\n`;
    const from = i === 0 ? `from ${parent}\n` : '';
    return `commit refs/heads/main\ncommitter Test <test@example.com> ${now + 60 + i} +0000\ndata ${message.length}\n${message}${from}\n`;
  });
  const child = spawn('git', ['fast-import', '--quiet'], { cwd, env: gitEnv(), stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(commits.join(''));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, 'git fast-import failed');
}

before(async () => {
  server = await startTestServer();
  work = path.join(server.dataDir, 'client');
  await mkdir(path.join(work, 'source'), { recursive: true });
  assert.equal((await createRepo(server.url, 'alice', 'hello')).status, 201);
  remote = `${server.url}/alice/hello.git`;

  const source = path.join(work, 'source');
  await git(source, 'init', '-q');
  // Over http.postBuffer (1 MiB), so git probes first, then sends the pack chunked.
  await writeFile(path.join(source, 'random.bin'), randomBytes(3 * 1024 * 1024));
  await git(source, 'add', '-A');
  await git(source, 'commit', '-qm', 'first');
  await git(source, 'tag', '-a', 'v1', '-m', 'v1');
  await git(source, 'push', '-q', remote, 'main', 'v1');
});

after(async () => {
  await server.stop();
});

test('git ls-remote sees what git push sent', async () => {
  const head = (await git(path.join(work, 'source'), 'rev-parse', 'HEAD')).trim();
  const refs = await git(work, 'ls-remote', '--symref', remote);
  assert.match(refs, /^ref: refs\/heads\/main\tHEAD$/m);
  assert.match(refs, new RegExp(`^${head}\\trefs/heads/main$`, 'm'));
  assert.match(refs, /\trefs\/tags\/v1$/m);
});

for (const version of ['0', '2']) {
  test(`git clone over protocol v${version} gets every object back`, async () => {
    const target = path.join(work, `clone-v${version}`);
    await git(work, '-c', `protocol.version=${version}`, 'clone', '-q', remote, target);
    await git(target, 'fsck', '--full');
    assert.equal(await git(target, 'rev-parse', 'HEAD', 'v1'), await git(path.join(work, 'source'), 'rev-parse', 'HEAD', 'v1'));
  });
}

test('a fetch with many local commits (a gzip-encoded request) gets the new commit', async () => {
  const clone = path.join(work, 'fetcher');
  await git(work, '-c', 'protocol.version=0', 'clone', '-q', remote, clone);
  // Enough "have" lines to take a request over the 1 KiB from which git gzips it.
  await addLocalCommits(clone, 100);
  const source = path.join(work, 'source');
  await git(source, 'commit', '-q', '--allow-empty', '-m', 'second');
  await git(source, 'push', '-q', remote, 'main');
  const trace = { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' };
  const { stderr } = await gitWithTrace(clone, trace, '-c', 'protocol.version=0', 'fetch', '-q', 'origin');
  assert.match(stderr, /=> Send header: Content-Encoding: gzip/);
  assert.equal(await git(clone, 'rev-parse', 'origin/main'), await git(source, 'rev-parse', 'HEAD'));
});

test('a client that disconnects in the middle of a pack leaves the server serving', async () => {
  const head = (await git(path.join(work, 'source'), 'rev-parse', 'HEAD')).trim();
  const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
  const body = `${pkt(`want ${head} side-band-64k ofs-delta\n`)}0000${pkt('done\n')}`;
  const { hostname, port } = new URL(server.url);
  const request = http.request({
    host: hostname,
    port,
    path: '/alice/hello.git/git-upload-pack',
    method: 'POST',
    headers: { 'content-type': 'application/x-git-upload-pack-request' },
  });
  request.end(body);
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  assert.equal(response.statusCode, 200);
  await once(response, 'data');
  request.destroy();

  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  const target = path.join(work, 'after-disconnect');
  await git(work, '-c', 'protocol.version=0', 'clone', '-q', remote, target);
  await git(target, 'fsck', '--full');
});
