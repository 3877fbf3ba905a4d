import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { MAX_TREE_DEPTH } from '@gitfleet/repository';
import { buildRefEvents, type PayloadLimits, type RefEvent } from '../src/payloads/index.js';
import { MAX_LOOP_HOLD_MS, loopLagDuring } from '@gitfleet/test-support/event-loop';
import { git, gitText } from '@gitfleet/test-support/git';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, Client, push, schemaErrors, webhookSchemas } from './payloads-fixtures.js';

const schemas = webhookSchemas();
const PUSHER = { name: 'ada', email: 'ada@example.com' };
const BASE_URL = 'https://git.example.com';
/** The defaults (see server/src/config.ts). */
const LIMITS: PayloadLimits = { maxFilesPerCommit: 3000, maxTreeEntries: 2_000_000, maxPathBytes: 8 << 20 };
const fsBackend = backends.find((backend) => backend.name === 'fs+sqlite')!;

interface FileLists {
  id: string;
  added: string[];
  removed: string[];
  modified: string[];
}

/**
 * A client whose history is made of trees written with `git mktree` (a work tree of
 * hundreds of thousands of files would take minutes): every file holds one of two blobs.
 */
class TreeClient extends Client {
  private readonly blobs: { a: string; b: string };
  private treeClock = 1_700_000_000;

  constructor(dir: string) {
    super(dir);
    const write = (content: string) => gitText(dir, ['hash-object', '-w', '--stdin'], content);
    this.blobs = { a: write('a\n'), b: write('b\n') };
  }

  /** A tree of `count` files f0000000…, the ones `changed` says holding the other blob. */
  tree(count: number, changed: (i: number) => boolean = () => false): string {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(`100644 blob ${changed(i) ? this.blobs.b : this.blobs.a}\t${fileName(i)}`);
    return gitText(this.dir, ['mktree'], lines.join('\n') + '\n');
  }

  /** A tree of directories d0000…, the i-th one the tree `subtree(i)`. */
  directories(count: number, subtree: (i: number) => string): string {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(`040000 tree ${subtree(i)}\td${String(i).padStart(4, '0')}`);
    return gitText(this.dir, ['mktree'], lines.join('\n') + '\n');
  }

  /** A commit of `tree` on main, after the current one when there is one. */
  commitTree(tree: string, parent?: string): string {
    this.treeClock += 60;
    const date = `${this.treeClock} +0000`;
    const commit = this.git(['commit-tree', tree, '-m', `tree ${tree}`, ...(parent ? ['-p', parent] : [])], {
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    });
    this.git(['update-ref', 'refs/heads/main', commit]);
    return commit;
  }
}

function fileName(i: number): string {
  return `f${String(i).padStart(7, '0')}`;
}

/**
 * Pushes the main branch `history` makes into a new repository, then builds the push's events
 * within `limits` while measuring the event loop, and checks every payload against GitHub's schema.
 */
async function pushMain(
  t: TestContext,
  limits: PayloadLimits,
  history: (client: TreeClient) => string,
): Promise<{ client: TreeClient; events: RefEvent[]; maxLagMs: number }> {
  const dir = tempDir(t, 'payload-bounds');
  // Files and SQLite, as the embedded server keeps them: large trees stream from the pack file.
  const repo = await createRepository(await fsBackend.open(t));
  const client = new TreeClient(path.join(dir, 'client'));
  const head = history(client);
  const refsBefore = await repo.refs.list();
  const updates = await push(repo, client, path.join(dir, 'spool'), [{ ref: 'refs/heads/main', newOid: head }]);

  const { value: events, maxLagMs } = await loopLagDuring(() =>
    buildRefEvents(repo, updates, { pusher: PUSHER, baseUrl: BASE_URL, refsBefore, limits }),
  );
  for (const { event, payload } of events) {
    const validate = schemas[event];
    assert.ok(validate(payload), `${event} payload matches GitHub's schema: ${schemaErrors(validate)}`);
  }
  return { client, events, maxLagMs };
}

function listedCommits(events: RefEvent[]): FileLists[] {
  const push = events.find((event) => event.event === 'push');
  assert.ok(push, 'a push event');
  return (push.payload as { commits: FileLists[] }).commits;
}

describe('push payloads of huge trees', () => {
  it('list the first files of each commit up to the cap, and keep the event loop turning', async (t) => {
    const files = 300_000;
    const { events, maxLagMs } = await pushMain(t, LIMITS, (client) => {
      const root = client.commitTree(client.tree(files));
      // Every 50th file changes: 6,000 changes spread over the whole tree.
      return client.commitTree(
        client.tree(files, (i) => i % 50 === 0),
        root,
      );
    });
    const [importing, editing] = listedCommits(events);
    assert.deepEqual(
      importing.added,
      Array.from({ length: 3000 }, (_, i) => fileName(i)),
      'the first 3,000 files of the import',
    );
    assert.deepEqual([importing.removed, importing.modified], [[], []]);
    assert.deepEqual(
      editing.modified,
      Array.from({ length: 3000 }, (_, i) => fileName(i * 50)),
      'the first 3,000 changed files',
    );
    assert.deepEqual([editing.added, editing.removed], [[], []]);
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms while the payload was built`);
  });

  it('keep the event loop turning through many small trees', async (t) => {
    // 1,000 directories of 300 files, one file changed in each: 600,000 entries read in
    // 2,000 trees, none of them large enough to pause on its own.
    const { client, events, maxLagMs } = await pushMain(t, LIMITS, (client) => {
      const unchanged = client.tree(300);
      const root = client.commitTree(client.directories(1000, () => unchanged));
      const variants = Array.from({ length: 300 }, (_, changed) => client.tree(300, (i) => i === changed));
      return client.commitTree(
        client.directories(1000, (i) => variants[i % 300]),
        root,
      );
    });
    const editing = listedCommits(events)[1];
    assert.equal(editing.modified.length, 1000);
    assert.deepEqual(editing.modified, client.nameStatus([editing.id]).get(editing.id)!.modified);
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms while the payload was built`);
  });
});

describe('push payload bounds', () => {
  /** Three commits: import 2,000 files, change the last one, change the tenth. */
  const history = (client: TreeClient): string => {
    const root = client.commitTree(client.tree(2000));
    const last = client.commitTree(
      client.tree(2000, (i) => i === 1999),
      root,
    );
    return client.commitTree(
      client.tree(2000, (i) => i === 1999 || i === 9),
      last,
    );
  };

  it('within the bounds, list every file as git does', async (t) => {
    const { client, events } = await pushMain(t, { ...LIMITS, maxTreeEntries: 100_000 }, history);
    const commits = listedCommits(events);
    const git = client.nameStatus(commits.map((commit) => commit.id));
    for (const commit of commits)
      assert.deepEqual({ added: commit.added, removed: commit.removed, modified: commit.modified }, git.get(commit.id));
  });

  it("order paths as git does, bytes beyond ASCII too (UTF-16's order is not git's)", async (t) => {
    const { client, events } = await pushMain(t, { ...LIMITS, maxTreeEntries: 100_000 }, (client) => {
      client.commit('one name', { '\u{1F600}.txt': '1\n', 'a.txt': '1\n' });
      // U+E000 sorts after U+1F600 in UTF-16, before it in UTF-8: an added file, nothing removed.
      return client.commit('a name between', { '\uE000.txt': '1\n', 'a/b.txt': '1\n', 'a-b': '1\n', '\u00E9.txt': '1\n' });
    });
    const commits = listedCommits(events);
    const git = client.nameStatus(commits.map((commit) => commit.id));
    assert.deepEqual(git.get(commits[1].id)!.added, ['a-b', 'a/b.txt', '\u00E9.txt', '\uE000.txt']);
    for (const commit of commits)
      assert.deepEqual({ added: commit.added, removed: commit.removed, modified: commit.modified }, git.get(commit.id));
  });

  it('stop at directories nested deeper than git walks', async (t) => {
    const deep = `${'d/'.repeat(MAX_TREE_DEPTH + 10)}deep.txt`;
    const { events, maxLagMs } = await pushMain(t, { ...LIMITS, maxTreeEntries: 100_000 }, (client) => {
      // fast-import: no work tree could hold a path this long.
      const commit = (i: number) => [
        'commit refs/heads/main',
        `committer Ada Lovelace <ada@example.com> ${1_700_000_000 + i} +0000`,
        'data 2',
        `${i}`,
        ...['a.txt', deep].map((file) => `M 100644 inline ${file}\ndata 2\n${i}`),
        '',
      ];
      git(client.dir, ['fast-import', '--quiet'], [...commit(1), ...commit(2)].join('\n') + '\n');
      return client.rev('main');
    });
    const [, editing] = listedCommits(events);
    assert.deepEqual([editing.added, editing.removed, editing.modified], [[], [], ['a.txt']], 'the file above the deep directories');
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms while the payload was built`);
  });

  it('cut each commit at the file cap, and the commits after the entry budget is spent', async (t) => {
    const { client, events } = await pushMain(t, { ...LIMITS, maxFilesPerCommit: 10, maxTreeEntries: 3000 }, history);
    const [importing, lastChanged, tenthChanged] = listedCommits(events);
    assert.deepEqual(
      importing.added,
      client.nameStatus([importing.id]).get(importing.id)!.added.slice(0, 10),
      "the first 10 files in git's order",
    );
    // Finding the change to the last file means reading both trees whole: 4,000 entries.
    assert.deepEqual([lastChanged.added, lastChanged.removed, lastChanged.modified], [[], [], []]);
    // Cheap as it would be to diff, nothing is left of the push's budget.
    assert.deepEqual([tenthChanged.added, tenthChanged.removed, tenthChanged.modified], [[], [], []]);
  });

  it('stop listing once the paths listed in the push reach their byte bound', async (t) => {
    const { events } = await pushMain(t, { ...LIMITS, maxPathBytes: 100 }, history);
    const [importing, lastChanged, tenthChanged] = listedCommits(events);
    // Names of 8 bytes: 12 fit in 100 bytes.
    assert.deepEqual(
      importing.added,
      Array.from({ length: 12 }, (_, i) => fileName(i)),
    );
    for (const commit of [lastChanged, tenthChanged]) assert.deepEqual([commit.added, commit.removed, commit.modified], [[], [], []]);
  });
});
