import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StatusStore, StatusesBusy } from '@gitfleet/events';
import { adminFetch, adminGit, createRepo, startTestServer, type TestServer } from './helpers.js';

// Commit statuses over HTTP against a started server, on commits the real git pushed.

let server: TestServer;
let api: string;
let first: string;
let second: string;
let annotatedTag: string;
/** A commit nobody reported on. */
let quiet: string;

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await adminGit(cwd, args)).stdout.trim();
}

before(async () => {
  server = await startTestServer();
  assert.equal((await createRepo(server.url, 'alice', 'ci')).status, 201);
  api = `${server.url}/api/v1/repos/alice/ci`;
  const work = path.join(server.dataDir, 'client');
  await mkdir(work, { recursive: true });
  await git(work, 'init', '-q');
  await git(work, 'commit', '-q', '--allow-empty', '-m', 'first');
  first = await git(work, 'rev-parse', 'HEAD');
  await git(work, 'commit', '-q', '--allow-empty', '-m', 'second');
  second = await git(work, 'rev-parse', 'HEAD');
  await git(work, 'branch', 'feature/x', first);
  await git(work, 'tag', '-a', 'v1', '-m', 'release', first);
  annotatedTag = await git(work, 'rev-parse', 'v1');
  await git(work, 'checkout', '-q', '-b', 'quiet');
  await git(work, 'commit', '-q', '--allow-empty', '-m', 'quiet');
  quiet = await git(work, 'rev-parse', 'HEAD');
  await git(work, 'push', '-q', `${server.url}/alice/ci.git`, 'main', 'feature/x', 'v1', 'quiet');
});

after(async () => {
  await server.stop();
});

async function postStatus(sha: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await adminFetch(`${api}/statuses/${sha}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function getJson(url: string): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await adminFetch(url);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe('commit statuses API', () => {
  test('creates a status in GitHub shape, context "default" when none is given', async () => {
    const created = await postStatus(first, {
      state: 'pending',
      target_url: 'https://ci.example.com/build/1',
      description: 'Build queued',
    });
    assert.equal(created.status, 201);
    const status = created.body;
    assert.equal(created.headers.get('location'), `${api}/statuses/${first}`);
    assert.deepEqual(
      { ...status, id: undefined, node_id: undefined, created_at: undefined, updated_at: undefined },
      {
        url: `${api}/statuses/${first}`,
        avatar_url: null,
        id: undefined,
        node_id: undefined,
        state: 'pending',
        description: 'Build queued',
        target_url: 'https://ci.example.com/build/1',
        context: 'default',
        created_at: undefined,
        updated_at: undefined,
        creator: null,
      },
    );
    assert.ok(Number.isSafeInteger(status.id) && status.id > 0);
    assert.equal(typeof status.node_id, 'string');
    assert.match(status.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(status.updated_at, status.created_at);
  });

  test('lists every status of a commit newest first, by sha, branch, tag and full ref', async () => {
    const ci = await postStatus(second, { state: 'pending', context: 'ci/build' });
    const lint = await postStatus(second, { state: 'success', context: 'ci/lint' });
    const done = await postStatus(second.toUpperCase(), { state: 'failure', context: 'ci/build', description: 'tests failed' });
    assert.deepEqual([ci.status, lint.status, done.status], [201, 201, 201]);
    assert.ok(ci.body.id < lint.body.id && lint.body.id < done.body.id, 'ids grow');

    const expected = [done.body, lint.body, ci.body];
    for (const ref of [second, 'main', 'heads/main', 'refs/heads/main']) {
      const listed = await getJson(`${api}/commits/${ref}/statuses`);
      assert.equal(listed.status, 200, ref);
      assert.deepEqual(listed.body, expected, ref);
    }
    // Branch names with slashes, and an annotated tag peeled to its commit.
    await postStatus(first, { state: 'success', context: 'on-first' });
    const byBranch = await getJson(`${api}/commits/feature/x/statuses`);
    const byTag = await getJson(`${api}/commits/v1/statuses`);
    const bySha = await getJson(`${api}/commits/${first}/statuses`);
    assert.equal(bySha.body.length, 2);
    assert.deepEqual(byBranch.body, bySha.body);
    assert.deepEqual(byTag.body, bySha.body);
    assert.equal((await getJson(`${api}/commits/${annotatedTag}/statuses`)).status, 422, 'a tag object is not a commit');
  });

  test('paginates the list with per_page and page, and a Link header', async () => {
    const all = (await getJson(`${api}/commits/main/statuses`)).body;
    const pageOne = await getJson(`${api}/commits/main/statuses?per_page=2`);
    assert.deepEqual(pageOne.body, all.slice(0, 2));
    assert.match(pageOne.headers.get('link') ?? '', /page=2>; rel="next"/);
    const pageTwo = await getJson(`${api}/commits/main/statuses?per_page=2&page=2`);
    assert.deepEqual(pageTwo.body, all.slice(2, 4));
    assert.equal((await getJson(`${api}/commits/main/statuses?per_page=0`)).status, 400);
  });

  test('combines the latest status of each context', async () => {
    const combined = await getJson(`${api}/commits/main/status`);
    assert.equal(combined.status, 200);
    const body = combined.body;
    assert.equal(body.state, 'failure', 'ci/build failed last');
    assert.equal(body.sha, second);
    assert.equal(body.total_count, 2);
    assert.deepEqual(
      body.statuses.map((s: { context: string; state: string }) => [s.context, s.state]),
      [
        ['ci/build', 'failure'],
        ['ci/lint', 'success'],
      ],
    );
    assert.ok(!('creator' in body.statuses[0]));
    assert.equal(body.repository.full_name, 'alice/ci');
    assert.equal(body.repository.owner.login, 'alice');
    assert.equal(body.url, `${api}/commits/${second}/status`);
    assert.equal(body.commit_url, `${api}/commits/${second}`);

    // Fixing the build makes the combined state success; a new pending context makes it pending.
    await postStatus(second, { state: 'success', context: 'ci/build' });
    assert.equal((await getJson(`${api}/commits/${second}/status`)).body.state, 'success');
    await postStatus(second, { state: 'pending', context: 'deploy' });
    const pending = (await getJson(`${api}/commits/${second}/status`)).body;
    assert.deepEqual([pending.state, pending.total_count], ['pending', 3]);
    await postStatus(second, { state: 'error', context: 'deploy' });
    assert.equal((await getJson(`${api}/commits/${second}/status`)).body.state, 'failure', 'error counts as failure');
  });

  test('a commit without statuses is pending with none listed', async () => {
    const combined = (await getJson(`${api}/commits/quiet/status`)).body;
    assert.deepEqual([combined.state, combined.total_count, combined.statuses, combined.sha], ['pending', 0, [], quiet]);
    assert.deepEqual((await getJson(`${api}/commits/quiet/statuses`)).body, []);
  });

  test('refuses bad requests with GitHub-style errors and stores nothing', async () => {
    const before = (await getJson(`${api}/commits/${second}/statuses?per_page=100`)).body.length;
    const invalid: Array<[unknown, string]> = [
      [{}, 'state'],
      [{ state: 'done' }, 'state'],
      [{ state: 'success', target_url: 'javascript:alert(1)' }, 'target_url'],
      [{ state: 'success', target_url: 42 }, 'target_url'],
      [{ state: 'success', description: 'x'.repeat(141) }, 'description'],
      [{ state: 'success', context: '' }, 'context'],
      [{ state: 'success', context: 'x'.repeat(256) }, 'context'],
      [{ state: 'success', context: '\ud800' }, 'context'],
      [{ state: 'success', description: 'half a pair \udc00' }, 'description'],
      [{ state: 'success', target_url: 'https://ci.example/\ud83d' }, 'target_url'],
    ];
    for (const [body, field] of invalid) {
      const refused = await postStatus(second, body);
      assert.equal(refused.status, 422, JSON.stringify(body));
      assert.match(refused.body.message, /^Validation Failed/);
      assert.equal(refused.body.errors[0].field, field);
      assert.equal(refused.body.errors[0].resource, 'Status');
    }
    const notJson = await postStatus(second, '{"state": ');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.message, 'Problems parsing JSON');
    assert.equal((await postStatus(second, '[1]')).status, 400);

    for (const sha of ['0'.repeat(40), 'abc', first.slice(0, 12), annotatedTag]) {
      const unknown = await postStatus(sha, { state: 'success' });
      assert.equal(unknown.status, 422, sha);
      assert.equal(unknown.body.message, `No commit found for SHA: ${sha}`);
    }
    assert.equal((await getJson(`${api}/commits/no-such-branch/status`)).status, 422);
    assert.equal((await getJson(`${server.url}/api/v1/repos/alice/nope/commits/main/status`)).status, 404);
    assert.equal((await postStatus(second, { state: 'success' })).status, 201);
    const afterCount = (await getJson(`${api}/commits/${second}/statuses?per_page=100`)).body.length;
    assert.equal(afterCount, before + 1, 'only the one valid status was stored');
  });

  test('a status that keeps losing the race for an id is a 503 to retry shortly', async () => {
    const append = StatusStore.prototype.append;
    StatusStore.prototype.append = async () => {
      throw new StatusesBusy('statuses of repository x: gave up after 100 lost races for a status id; try again shortly');
    };
    try {
      const busy = await postStatus(second, { state: 'success' });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '1');
      assert.match(busy.body.message, /try again shortly/);
    } finally {
      StatusStore.prototype.append = append;
    }
  });

  test('concurrent posts get distinct ids and all are kept', async () => {
    const posted = await Promise.all(
      Array.from({ length: 12 }, (_, i) => postStatus(first, { state: 'success', context: `parallel/${i % 3}` })),
    );
    assert.ok(posted.every((p) => p.status === 201));
    const ids = posted.map((p) => p.body.id);
    assert.equal(new Set(ids).size, ids.length);
    const listed = (await getJson(`${api}/commits/${first}/statuses?per_page=100`)).body.map((s: { id: number }) => s.id);
    for (const id of ids) assert.ok(listed.includes(id));
    const combined = (await getJson(`${api}/commits/${first}/status`)).body;
    const latestParallel = combined.statuses.filter((s: { context: string }) => s.context.startsWith('parallel/'));
    assert.equal(latestParallel.length, 3);
  });
});

describe('statuses per commit', () => {
  test('a commit takes GITFLEET_STATUSES_PER_COMMIT statuses, all contexts together; the next is a 422 that stores nothing', async () => {
    const capped = await startTestServer({ GITFLEET_STATUSES_PER_COMMIT: '3' });
    try {
      assert.equal((await createRepo(capped.url, 'alice', 'capped')).status, 201);
      const work = path.join(capped.dataDir, 'client');
      await mkdir(work, { recursive: true });
      await git(work, 'init', '-q');
      await git(work, 'commit', '-q', '--allow-empty', '-m', 'only');
      const sha = await git(work, 'rev-parse', 'HEAD');
      await git(work, 'push', '-q', `${capped.url}/alice/capped.git`, 'main');
      const statuses = `${capped.url}/api/v1/repos/alice/capped/statuses/${sha}`;
      const post = async (context: string) => {
        const response = await adminFetch(statuses, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ state: 'success', context }),
        });
        return { status: response.status, body: await response.json() };
      };
      for (const context of ['a', 'b', 'c']) assert.equal((await post(context)).status, 201);
      const refused = await post('d');
      assert.equal(refused.status, 422);
      assert.match(refused.body.message, /This SHA has reached the maximum number of statuses \(3, all contexts together\)/);
      assert.equal(refused.body.errors[0].field, 'sha');
      assert.equal((await post('a')).status, 422, 'a known context is refused too');
      const listed = await (await adminFetch(`${capped.url}/api/v1/repos/alice/capped/commits/${sha}/statuses`)).json();
      assert.deepEqual(
        listed.map((status: { context: string }) => status.context),
        ['c', 'b', 'a'],
      );
    } finally {
      await capped.stop();
    }
  });
});
