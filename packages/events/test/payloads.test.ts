import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { buildPingPayload, buildRefEvents, buildStatusPayload, MAX_PUSH_COMMITS, type RefEvent } from '../src/payloads/index.js';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, Client, push, schemaErrors, webhookSchemas, type PushCommand } from './payloads-fixtures.js';

const schemas = webhookSchemas();
const BASE_URL = 'https://git.example.com';
const HTML = `${BASE_URL}/owner/repo`;
const PUSHER = { name: 'ada', email: 'ada@example.com' };
const LIMITS = { maxFilesPerCommit: 3000, maxTreeEntries: 2_000_000, maxPathBytes: 8 << 20 };

interface PushPayload {
  ref: string;
  before: string;
  after: string;
  created: boolean;
  deleted: boolean;
  forced: boolean;
  base_ref: string | null;
  compare: string;
  commits: CommitPayload[];
  head_commit: CommitPayload | null;
  repository: { id: number; full_name: string; default_branch: string; clone_url: string; owner: { login: string } };
  pusher: { name: string; email: string };
  sender: { login: string };
}

interface CommitPayload {
  id: string;
  tree_id: string;
  distinct: boolean;
  message: string;
  timestamp: string;
  url: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
  added: string[];
  removed: string[];
  modified: string[];
}

interface Setup {
  repo: Repository;
  client: Client;
  /** Pushes, builds the events and checks every payload against GitHub's schema. */
  pushEvents(commands: PushCommand[]): Promise<RefEvent[]>;
}

async function setUp(t: TestContext, open: (typeof backends)[number]['open']): Promise<Setup> {
  const dir = tempDir(t, 'payloads');
  const repo = await createRepository(await open(t));
  const client = new Client(path.join(dir, 'client'));
  return {
    repo,
    client,
    async pushEvents(commands) {
      // As the server does: the refs are read before the push, the events built after it.
      const refsBefore = await repo.refs.list();
      const updates = await push(repo, client, path.join(dir, 'spool'), commands);
      assert.equal(updates.length, commands.length, 'every command applied');
      const events = await buildRefEvents(repo, updates, { pusher: PUSHER, baseUrl: BASE_URL, refsBefore, limits: LIMITS });
      for (const { event, payload } of events) {
        const validate = schemas[event];
        assert.ok(validate(payload), `${event} payload matches GitHub's schema: ${schemaErrors(validate)}`);
      }
      return events;
    },
  };
}

function pushPayload(events: RefEvent[], ref: string): PushPayload {
  const matching = events.filter((e) => e.event === 'push' && e.ref === ref);
  assert.equal(matching.length, 1, `one push event for ${ref}`);
  return matching[0].payload as PushPayload;
}

/** Every field of listed commits, as the real git describes those commits. */
function assertCommitsMatchGit(client: Client, commits: CommitPayload[]): void {
  const facts = client.describe(commits.map((commit) => commit.id));
  const changes = client.nameStatus(commits.map((commit) => commit.id));
  for (const commit of commits) {
    const git = facts.get(commit.id)!;
    assert.equal(commit.tree_id, git.tree);
    assert.deepEqual(commit.author, git.author);
    assert.deepEqual(commit.committer, git.committer);
    assert.equal(commit.timestamp, git.authorDate);
    assert.equal(commit.message, git.message);
    assert.equal(commit.url, `${HTML}/commit/${commit.id}`);
    assert.deepEqual(
      { added: commit.added, removed: commit.removed, modified: commit.modified },
      changes.get(commit.id),
      `files of ${commit.id}`,
    );
  }
}

// Payloads only read objects and refs, whichever store holds them: the in-memory stores suffice.
const backend = backends[0];
describe(`webhook payloads on ${backend.name}`, () => {
  it('describes the first push of a branch: create, then push listing every commit', async (t) => {
    const { client, pushEvents } = await setUp(t, backend.open);
    client.commit('initial import\n\nwith a body line', { 'README.md': 'hello\n', 'src/a.ts': 'a\n', 'src/deep/b.ts': 'b\n' }, '+0530');
    client.commit('edit and remove', { 'README.md': 'hello again\n', 'src/a.ts': null, 'src/deep/c.ts': 'c\n' }, '-0700');
    client.commit('a file becomes a directory', { 'src/deep/b.ts': null, docs: 'file\n' });
    const head = client.commit('and back', { docs: null, 'docs/index.md': '# docs\n', 'README.md': 'hello again\n' });

    const events = await pushEvents([{ ref: 'refs/heads/main', newOid: head }]);
    assert.deepEqual(
      events.map((e) => e.event),
      ['create', 'push'],
    );
    assert.deepEqual(
      { ...events[0].payload, repository: undefined, sender: undefined },
      {
        ref: 'main',
        ref_type: 'branch',
        master_branch: 'main',
        description: null,
        pusher_type: 'user',
        repository: undefined,
        sender: undefined,
      },
    );

    const payload = pushPayload(events, 'refs/heads/main');
    assert.equal(payload.before, ZERO_OID);
    assert.equal(payload.after, head);
    assert.deepEqual([payload.created, payload.deleted, payload.forced, payload.base_ref], [true, false, false, null]);
    assert.equal(payload.compare, `${HTML}/compare/main`);
    assert.deepEqual(
      payload.commits.map((c) => c.id),
      client.revList([head]),
    );
    assertCommitsMatchGit(client, payload.commits);
    assert.ok(payload.commits.every((commit) => commit.distinct));
    assert.deepEqual(payload.head_commit, payload.commits.at(-1));
    assert.deepEqual(payload.pusher, PUSHER);
    assert.equal(payload.sender.login, 'ada');
    assert.equal(payload.repository.full_name, 'owner/repo');
    assert.equal(payload.repository.owner.login, 'owner');
    assert.equal(payload.repository.default_branch, 'main');
    assert.equal(payload.repository.clone_url, `${HTML}.git`);
    assert.ok(Number.isSafeInteger(payload.repository.id));
  });

  it('describes a fast-forward, a new branch, a force push and a deletion', async (t) => {
    const { client, pushEvents } = await setUp(t, backend.open);
    const first = client.commit('one', { 'a.txt': '1\n' });
    await pushEvents([{ ref: 'refs/heads/main', newOid: first }]);

    client.commit('two', { 'a.txt': '2\n' });
    const third = client.commit('three', { 'b.txt': '3\n' });
    const fastForward = pushPayload(await pushEvents([{ ref: 'refs/heads/main', newOid: third }]), 'refs/heads/main');
    assert.deepEqual([fastForward.created, fastForward.deleted, fastForward.forced], [false, false, false]);
    assert.equal(fastForward.before, first);
    assert.equal(fastForward.compare, `${HTML}/compare/${first.slice(0, 12)}...${third.slice(0, 12)}`);
    assert.deepEqual(
      fastForward.commits.map((c) => c.id),
      client.revList([`${first}..${third}`]),
    );
    assertCommitsMatchGit(client, fastForward.commits);

    // A branch with one commit of its own lists only that commit, not main's history.
    client.git(['checkout', '--quiet', '-b', 'feature']);
    const featureOne = client.commit('feature work', { 'f.txt': 'f\n' });
    const created = await pushEvents([{ ref: 'refs/heads/feature', newOid: featureOne }]);
    assert.deepEqual(
      created.map((e) => e.event),
      ['create', 'push'],
    );
    const newBranch = pushPayload(created, 'refs/heads/feature');
    assert.deepEqual(
      newBranch.commits.map((c) => c.id),
      [featureOne],
    );
    assert.equal(newBranch.base_ref, null);

    // Rewriting the branch's commit is a force push; the rewritten commit is listed.
    const rewritten = client.commitWith(['commit', '--quiet', '--amend', '-m', 'feature work, rewritten']);
    const forced = pushPayload(await pushEvents([{ ref: 'refs/heads/feature', newOid: rewritten }]), 'refs/heads/feature');
    assert.deepEqual([forced.created, forced.deleted, forced.forced], [false, false, true]);
    assert.deepEqual(
      forced.commits.map((c) => c.id),
      client.revList([`${featureOne}..${rewritten}`]),
    );
    assert.equal(forced.head_commit?.id, rewritten);
    assertCommitsMatchGit(client, [forced.head_commit]);

    // Moving the branch back onto main is forced too, and lists nothing new.
    const rewind = pushPayload(await pushEvents([{ ref: 'refs/heads/feature', newOid: third }]), 'refs/heads/feature');
    assert.equal(rewind.forced, true);
    assert.deepEqual(rewind.commits, []);
    assert.equal(rewind.head_commit?.id, third);
    assert.equal(rewind.head_commit?.distinct, false);

    const deletion = await pushEvents([{ ref: 'refs/heads/feature', newOid: ZERO_OID }]);
    assert.deepEqual(
      deletion.map((e) => e.event),
      ['push', 'delete'],
    );
    const deleted = pushPayload(deletion, 'refs/heads/feature');
    assert.deepEqual([deleted.created, deleted.deleted, deleted.forced], [false, true, false]);
    assert.deepEqual([deleted.before, deleted.after], [third, ZERO_OID]);
    assert.deepEqual(deleted.commits, []);
    assert.equal(deleted.head_commit, null);
    assert.equal(deleted.compare, `${HTML}/compare/${third.slice(0, 12)}...000000000000`);
    assert.deepEqual(
      { ...deletion[1].payload, repository: undefined, sender: undefined },
      {
        ref: 'feature',
        ref_type: 'branch',
        pusher_type: 'user',
        repository: undefined,
        sender: undefined,
      },
    );
  });

  it('describes lightweight and annotated tags, and their deletion', async (t) => {
    const { client, pushEvents } = await setUp(t, backend.open);
    const head = client.commit('release me', { 'a.txt': '1\n' });
    await pushEvents([{ ref: 'refs/heads/main', newOid: head }]);

    client.git(['tag', 'v1']);
    const lightweight = await pushEvents([{ ref: 'refs/tags/v1', newOid: head }]);
    assert.deepEqual(
      lightweight.map((e) => e.event),
      ['create', 'push'],
    );
    assert.equal((lightweight[0].payload as { ref_type: string }).ref_type, 'tag');
    assert.equal((lightweight[0].payload as { ref: string }).ref, 'v1');
    const v1 = pushPayload(lightweight, 'refs/tags/v1');
    assert.deepEqual(v1.commits, []);
    assert.equal(v1.head_commit?.id, head);
    assert.equal(v1.head_commit?.distinct, false);
    assert.equal(v1.base_ref, 'refs/heads/main');
    assert.equal(v1.compare, `${HTML}/compare/v1`);

    client.git(['tag', '-a', 'v2', '-m', 'release 2'], { GIT_COMMITTER_DATE: '1700000000 +0000' });
    const tagObject = client.rev('v2');
    assert.notEqual(tagObject, head);
    const v2 = pushPayload(await pushEvents([{ ref: 'refs/tags/v2', newOid: tagObject }]), 'refs/tags/v2');
    assert.equal(v2.after, tagObject);
    assert.equal(v2.head_commit?.id, head, 'head_commit is the commit the tag points at');
    assertCommitsMatchGit(client, [v2.head_commit]);

    const deletion = await pushEvents([{ ref: 'refs/tags/v2', newOid: ZERO_OID }]);
    assert.deepEqual(
      deletion.map((e) => e.event),
      ['push', 'delete'],
    );
    assert.equal((deletion[1].payload as { ref_type: string }).ref_type, 'tag');
    assert.equal(pushPayload(deletion, 'refs/tags/v2').before, tagObject);
  });

  it(`lists the newest ${MAX_PUSH_COMMITS} commits of a longer push, and merges against their first parent`, async (t) => {
    const { client, pushEvents } = await setUp(t, backend.open);
    const base = client.commit('base', { 'n.txt': '0\n' });
    await pushEvents([{ ref: 'refs/heads/main', newOid: base }]);
    client.commitMany(24, (i) => ({ 'n.txt': `${i}\n`, [`f${i}.txt`]: 'x\n' }));
    client.git(['checkout', '--quiet', '-b', 'side']);
    client.commit('side work', { 'side.txt': 'side\n', 'n.txt': 'side\n' });
    client.git(['checkout', '--quiet', 'main']);
    client.commit('main work', { 'main.txt': 'main\n' });
    const merge = client.commitWith(['merge', '--quiet', '--no-ff', '-X', 'ours', '-m', 'merge side', 'side']);

    const payload = pushPayload(await pushEvents([{ ref: 'refs/heads/main', newOid: merge }]), 'refs/heads/main');
    const all = client.revList([`${base}..${merge}`]);
    assert.equal(all.length, 27);
    assert.equal(payload.commits.length, MAX_PUSH_COMMITS);
    assert.deepEqual(
      payload.commits.map((c) => c.id),
      all.slice(-MAX_PUSH_COMMITS),
    );
    assert.equal(payload.head_commit?.id, merge);
    assertCommitsMatchGit(client, payload.commits);
    assert.ok(payload.commits.at(-1)!.added.includes('side.txt'), 'the merge adds what the side branch brought');
  });

  it('marks commits already pushed to another ref, in this push or before, as not distinct', async (t) => {
    const { client, pushEvents } = await setUp(t, backend.open);
    const base = client.commit('base', { 'a.txt': '0\n' });
    await pushEvents([{ ref: 'refs/heads/main', newOid: base }]);
    const shared = client.commit('shared', { 'a.txt': '1\n' });
    const events = await pushEvents([
      { ref: 'refs/heads/main', newOid: shared },
      { ref: 'refs/heads/copy', newOid: shared },
    ]);
    assert.deepEqual(
      events.map((e) => `${e.event} ${e.ref}`),
      ['push refs/heads/main', 'create refs/heads/copy', 'push refs/heads/copy'],
    );
    assert.deepEqual(
      pushPayload(events, 'refs/heads/main').commits.map((c) => [c.id, c.distinct]),
      [[shared, true]],
    );
    const copy = pushPayload(events, 'refs/heads/copy');
    assert.deepEqual(
      copy.commits.map((c) => [c.id, c.distinct]),
      [[shared, false]],
      'listed again, as main already brought it',
    );
    assert.equal(copy.head_commit?.distinct, false);
    assert.equal(copy.base_ref, 'refs/heads/main');

    // A branch made later at an existing tip lists nothing.
    const later = await pushEvents([{ ref: 'refs/heads/other', newOid: shared }]);
    assert.deepEqual(pushPayload(later, 'refs/heads/other').commits, []);

    // A commit already on `copy` arriving on main later is listed but not distinct.
    client.git(['checkout', '--quiet', '-b', 'copy']);
    const onCopy = client.commit('first on copy', { 'c.txt': 'c\n' });
    await pushEvents([{ ref: 'refs/heads/copy', newOid: onCopy }]);
    const onMain = pushPayload(await pushEvents([{ ref: 'refs/heads/main', newOid: onCopy }]), 'refs/heads/main');
    assert.deepEqual(
      onMain.commits.map((c) => [c.id, c.distinct]),
      [[onCopy, false]],
    );
  });
});

describe('events built after later pushes', () => {
  it('describe the push as it was: against the refs before it, not the refs now', async (t) => {
    const dir = tempDir(t, 'payloads-later');
    const repo = await createRepository(await backend.open(t));
    const client = new Client(path.join(dir, 'client'));
    const spool = path.join(dir, 'spool');
    const base = client.commit('base', { 'a.txt': '0\n' });
    await push(repo, client, spool, [{ ref: 'refs/heads/main', newOid: base }]);
    client.git(['checkout', '--quiet', '-b', 'feature']);
    const work = client.commit('feature work', { 'f.txt': 'f\n' });

    const refsBefore = await repo.refs.list();
    const updates = await push(repo, client, spool, [{ ref: 'refs/heads/feature', newOid: work }]);
    // Before its events are built, main is fast-forwarded to the same commit.
    await push(repo, client, spool, [{ ref: 'refs/heads/main', newOid: work }]);

    const events = await buildRefEvents(repo, updates, { pusher: PUSHER, baseUrl: BASE_URL, refsBefore, limits: LIMITS });
    const payload = pushPayload(events, 'refs/heads/feature');
    assert.deepEqual(
      payload.commits.map((c) => [c.id, c.distinct]),
      [[work, true]],
      'new when feature brought it',
    );
    assert.equal(payload.base_ref, null, 'no branch was at that commit then');
  });
});

describe('status payload', () => {
  it("matches GitHub's status schema, with the commit as git describes it and the branches containing it", async (t) => {
    const dir = tempDir(t, 'payloads-status');
    const repo = await createRepository(await backend.open(t));
    const client = new Client(path.join(dir, 'client'));
    const spool = path.join(dir, 'spool');
    const first = client.commit('first\n\nbody', { 'a.txt': '1\n' }, '+0530');
    const second = client.commit('second', { 'a.txt': '2\n' });
    client.git(['branch', 'old', first]);
    client.git(['checkout', '--quiet', '-b', 'other', first]);
    const elsewhere = client.commit('elsewhere', { 'b.txt': 'b\n' });
    await push(repo, client, spool, [
      { ref: 'refs/heads/main', newOid: second },
      { ref: 'refs/heads/old', newOid: first },
      { ref: 'refs/heads/other', newOid: elsewhere },
    ]);

    const status = {
      id: 7,
      state: 'success' as const,
      description: 'Build #12 passed',
      target_url: 'https://ci.example.com/12',
      context: 'ci/build',
      created_at: '2024-05-01T10:00:00Z',
    };
    const payload = (await buildStatusPayload(repo, second, status, { baseUrl: BASE_URL, sender: 'ci-bot' })) as {
      id: number;
      sha: string;
      name: string;
      state: string;
      context: string;
      commit: {
        sha: string;
        commit: { message: string; author: { name: string; email: string; date: string }; tree: { sha: string } };
        parents: Array<{ sha: string }>;
      };
      branches: Array<{ name: string; commit: { sha: string } }>;
      sender: { login: string };
    };
    assert.ok(schemas.status(payload), `status payload matches GitHub's schema: ${schemaErrors(schemas.status)}`);
    assert.deepEqual(
      [payload.id, payload.sha, payload.name, payload.state, payload.context],
      [7, second, 'owner/repo', 'success', 'ci/build'],
    );
    assert.deepEqual(
      payload.branches.map((b) => [b.name, b.commit.sha]),
      [['main', second]],
      'only main contains the second commit',
    );
    assert.deepEqual(
      payload.commit.parents.map((p) => p.sha),
      [first],
    );
    const git = client.describe([second]).get(second)!;
    assert.equal(payload.commit.commit.tree.sha, git.tree);
    assert.equal(payload.commit.commit.message, git.message);
    assert.deepEqual({ name: payload.commit.commit.author.name, email: payload.commit.commit.author.email }, git.author);
    assert.equal(Date.parse(payload.commit.commit.author.date), Date.parse(git.authorDate));
    assert.equal(payload.sender.login, 'ci-bot');

    const ofFirst = (await buildStatusPayload(repo, first, { ...status, state: 'pending' }, { baseUrl: BASE_URL, sender: 'ci-bot' })) as {
      branches: Array<{ name: string }>;
    };
    assert.ok(schemas.status(ofFirst), schemaErrors(schemas.status));
    assert.deepEqual(
      ofFirst.branches.map((b) => b.name),
      ['main', 'old', 'other'],
      'the default branch first',
    );
    assert.equal(schemas.status({ ...payload, state: 'done' }), false, 'the validator is strict enough to catch a wrong state');
  });
});

describe('ping payload', () => {
  it("matches GitHub's ping schema and never echoes the secret", async (t) => {
    const repo = await createRepository(await backends[0].open(t));
    const hook = {
      id: '42',
      events: ['push', 'create'],
      active: true,
      config: { url: 'https://ci.example.com/github-webhook/', content_type: 'json', secret: 's3cret' },
    };
    const payload = buildPingPayload(hook, repo, BASE_URL) as {
      hook_id: number;
      hook: { id: number; config: Record<string, string>; url: string; type: string };
      zen: string;
    };
    assert.ok(schemas.ping(payload), schemaErrors(schemas.ping));
    assert.equal(payload.hook_id, 42);
    assert.equal(payload.hook.id, 42);
    assert.equal(payload.hook.type, 'Repository');
    assert.deepEqual(payload.hook.config, { content_type: 'json', insecure_ssl: '0', url: hook.config.url, secret: '********' });
    assert.equal(payload.hook.url, `${HTML.replace(BASE_URL, `${BASE_URL}/api/v1/repos`)}/hooks/42`);
    assert.ok(!JSON.stringify(payload).includes('s3cret'));
    // The validator is strict enough to catch a wrong shape.
    assert.equal(schemas.ping({ ...payload, hook_id: 'x' }), false);
    assert.equal(schemas.ping({ ...payload, unknown_field: 1 }), false);
  });
});
