// How many requests one small push and one clone make to the stores, through the real server and
// the real git client on the embedded stores, kept as a budget: a change that makes them much
// more numerous fails here (raise a budget only for a reason, in the same commit).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RequestCounter } from '@gitfleet/storage';
import { GitClient } from '@gitfleet/test-support/git-client';
import { startTestServer, type TestServer } from './helpers.js';

/**
 * Requests by operation as measured (protocol v2, git's own client, the server's caches warm
 * from the pushes: a push of one commit onto a repository of one pack, then a clone of its two
 * packs; every HTTP request of each counts, authentication included). A count may grow by MARGIN
 * before the test fails; an operation missing here may not appear at all.
 */
const BUDGETS: Record<string, Record<string, number>> = {
  push: { 'blob.putIfAbsent': 2, 'kv.compareAndSwap': 3, 'kv.get': 7, 'kv.getMany': 1, 'kv.scan': 4 },
  clone: { 'blob.get': 2, 'blob.getStream': 2, 'kv.get': 11, 'kv.scan': 4 },
};
const MARGIN = (measured: number) => Math.max(2, Math.ceil(measured * 0.25));

const counter = new RequestCounter();
let server: TestServer;
let git: GitClient;

before(async () => {
  // No background work: every request counted is one the push or the clone made.
  server = await startTestServer({ GITFLEET_MAINTENANCE: '0', GITFLEET_HOOK_POLL_MS: '3600000' }, { storeInterceptor: counter });
  git = await GitClient.create(2);
});

after(async () => {
  await server?.stop();
  await git?.cleanup();
});

/** The requests `work` makes, by operation. */
async function requestsOf(work: () => Promise<unknown>): Promise<Record<string, number>> {
  counter.reset();
  await work();
  return counter.snapshot();
}

function assertWithinBudget(what: string, measured: Record<string, number>): void {
  const budget = BUDGETS[what];
  const total = Object.values(measured).reduce((sum, count) => sum + count, 0);
  for (const [operation, count] of Object.entries(measured)) {
    const allowed = budget[operation] === undefined ? 0 : budget[operation] + MARGIN(budget[operation]);
    assert.ok(count <= allowed, `${what}: ${count} × ${operation}, budget ${budget[operation] ?? 0} (+ margin: ${allowed})`);
  }
  const budgetTotal = Object.values(budget).reduce((sum, count) => sum + count, 0);
  assert.ok(total <= budgetTotal + MARGIN(budgetTotal), `${what}: ${total} requests in all, budget ${budgetTotal}`);
}

test('one small push and one clone stay within their budgets of store requests', async () => {
  const url = await server.createRepo('budget', 'app');
  const work = await git.init('budget-work');
  await git.commitFiles(work, { 'README.md': '# app\n', 'src/main.c': 'int main(void) { return 0; }\n' }, 'first');
  await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });

  await git.commitFiles(work, { 'src/main.c': 'int main(void) { return 1; }\n' }, 'second');
  const push = await requestsOf(() => git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work }));
  const clone = await requestsOf(() => git.clone(url, 'budget-clone'));
  for (const [what, measured] of Object.entries({ push, clone })) {
    const total = Object.values(measured).reduce((sum, count) => sum + count, 0);
    console.log(`store requests of one ${what}: ${total} ${JSON.stringify(measured)}`);
  }
  assertWithinBudget('push', push);
  assertWithinBudget('clone', clone);
});
