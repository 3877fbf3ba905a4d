// The events of a push are recorded (an outbox) before its refs move, and durable state decides
// which of them happened (the reflog, and the push's fence): a server killed right after the ref
// update still has its events delivered after a restart, however long it stayed down; a push
// stalled past the recovery delay is fenced off, fails and has no events; a push whose events
// cannot be recorded fails with its refs untouched; an update the ref store refused has no
// events, although they were recorded. Real git, a real receiver, a server killed with SIGKILL.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { GitClient } from '@gitfleet/test-support/git-client';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { adminHeaders, ensureUser } from '@gitfleet/test-support/server';
import { api, eventually, LOOPBACK_RECEIVERS_ENV, spawnServer, WebhookReceiver, type ServerProcess } from './helpers/webhooks.js';

const SECRET = 'outbox secret';
const ZERO_OID = '0'.repeat(40);
const HOOK_ENV = {
  ...LOOPBACK_RECEIVERS_ENV,
  GITFLEET_HOOK_BACKOFF_MS: '50',
  GITFLEET_HOOK_MAX_BACKOFF_MS: '400',
  GITFLEET_HOOK_POLL_MS: '50',
  GITFLEET_HOOK_LEASE_MS: '1000',
  // Events of a push whose server died before marking them due wait this long.
  GITFLEET_HOOK_RECOVERY_DELAY_MS: '300',
};

let server: ServerProcess;
let git: GitClient;
let repoNumber = 0;

after(async () => {
  await server?.kill('SIGTERM');
  await git?.cleanup();
});
// After the hook that stops the server: after-hooks run in order, so the server stops before its data goes.
const dataDir = tempDir({ after }, 'outbox');
before(async () => {
  server = await spawnServer(dataDir, HOOK_ENV);
  git = await GitClient.create(0);
});

async function repoWithHook(receiver: WebhookReceiver) {
  const name = `outbox-${++repoNumber}`;
  await ensureUser(server.url, 'ci');
  await api(server.url, 'POST', '/repos', { owner: 'ci', name }, 201);
  await api(
    server.url,
    'POST',
    `/repos/ci/${name}/hooks`,
    { config: { url: receiver.url, secret: SECRET }, events: ['push', 'create', 'delete'] },
    201,
  );
  await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
  const work = await git.init(name);
  await git.ok(['remote', 'add', 'origin', `${server.url}/ci/${name}.git`], { cwd: work });
  return { name, work };
}

function eventsOf(receiver: WebhookReceiver, ref: string): string[] {
  const short = ref.replace(/^refs\/(heads|tags)\//, '');
  return receiver.accepted.filter((d) => d.payload.ref === ref || d.payload.ref === short).map((d) => d.event);
}

/** The server's embedded queue, read as an operator would. */
function queueRows(queue: string): Array<{ id: string; state: string; data: string }> {
  const db = new Database(join(dataDir, 'webhook-queue.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], { id: string; state: string; data: string }>('SELECT id, state, data FROM jobs WHERE queue = ?').all(queue);
  } finally {
    db.close();
  }
}

/** Replaces a job's data, as if it had been recorded so (the server is down meanwhile). */
function rewriteQueueRow(queue: string, id: string, data: object): void {
  const db = new Database(join(dataDir, 'webhook-queue.sqlite'), { fileMustExist: true });
  try {
    db.prepare('UPDATE jobs SET data = ? WHERE queue = ? AND id = ?').run(JSON.stringify(data), queue, id);
  } finally {
    db.close();
  }
}

/** Deletes the reflog entries a push's transaction wrote in the server's embedded KV store (the server is down meanwhile). */
function deleteReflogEntriesOf(transaction: string): number {
  const db = new Database(join(dataDir, 'kv.sqlite'), { fileMustExist: true });
  try {
    return db.prepare("DELETE FROM kv_logs WHERE log LIKE 'reflog:%' AND entry LIKE ?").run(`%(events ${transaction})%`).changes;
  } finally {
    db.close();
  }
}

/** A push to a new repository whose server kills itself right after the push's ref update; the server is left down. */
async function pushThatCrashesTheServer(receiver: WebhookReceiver, file: string) {
  await server.kill('SIGKILL');
  server = await spawnServer(dataDir, { ...HOOK_ENV, GITFLEET_TEST_CRASH_AFTER_REF_UPDATE: '1' });
  const { name, work } = await repoWithHook(receiver);
  const tip = await git.commitFiles(work, { [file]: `${file}\n` }, `add ${file}`);
  const crashed = server;
  const push = await git.fails(['push', 'origin', 'main'], { cwd: work });
  assert.doesNotMatch(push.stderr, /\[new branch\]/, 'git never heard the push succeeded');
  await crashed.exited;
  return { name, work, tip };
}

function pkt(text: string): Buffer {
  return Buffer.from((text.length + 4).toString(16).padStart(4, '0') + text);
}

describe('webhook outbox', () => {
  test('a server killed right after moving the refs delivers the push once restarted', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, work, tip } = await pushThatCrashesTheServer(receiver, 'a.txt');
      assert.deepEqual(eventsOf(receiver, 'refs/heads/main'), [], 'nothing was delivered before the crash');

      server = await spawnServer(dataDir, HOOK_ENV);
      const remote = await git.ok(['ls-remote', `${server.url}/ci/${name}.git`, 'refs/heads/main'], { cwd: work });
      assert.equal(remote.split('\t')[0], tip, 'the ref update was durable when the server died');
      await receiver.waitFor('create and push of main after the restart', () => eventsOf(receiver, 'refs/heads/main').length === 2);
      assert.deepEqual(eventsOf(receiver, 'refs/heads/main').sort(), ['create', 'push']);
      const pushEvent = receiver.accepted.find((d) => d.event === 'push')!;
      assert.equal(pushEvent.payload.after, tip);
      assert.equal(pushEvent.payload.created, true);
      assert.deepEqual(receiver.rejected, []);
    } finally {
      await receiver.stop();
    }
  });

  // An entry its reflog confirms is delivered whatever its age, by any code: what an age limit
  // would drop is an entry nothing in the KV store confirms. So the push's reflog entries go too,
  // as in a KV store rebuilt from the journal (`gitfleet journal recover` writes no reflogs):
  // only the journal, asked however old the entry is, then says the push committed.
  test('a committed push is delivered however long its server stayed down (longer than any grace period), even with its reflog gone', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, work, tip } = await pushThatCrashesTheServer(receiver, 'late.txt');

      // The server stays down for an hour, as far as the recorded entry can tell: it was
      // recorded an hour ago and never marked due.
      const entry = queueRows('ref-events').find((row) => row.data.includes(tip));
      assert.ok(entry, 'the push was recorded');
      const recorded = JSON.parse(entry.data) as { settled: boolean; transaction: string };
      assert.equal(recorded.settled, false, 'the server died before saying its ref update was over');
      rewriteQueueRow('ref-events', entry.id, { ...recorded, recordedAt: Date.now() - 60 * 60_000 });
      assert.ok(deleteReflogEntriesOf(recorded.transaction) > 0, 'the push was in the reflog');

      server = await spawnServer(dataDir, HOOK_ENV);
      await receiver.waitFor('create and push of main', () => eventsOf(receiver, 'refs/heads/main').length === 2);
      assert.equal(receiver.accepted.find((d) => d.event === 'push')!.payload.after, tip);
      const remote = await git.ok(['ls-remote', `${server.url}/ci/${name}.git`, 'refs/heads/main'], { cwd: work });
      assert.equal(remote.split('\t')[0], tip);
    } finally {
      await receiver.stop();
    }
  });

  test('a push stalled past the recovery delay is settled as not applied: it fails, its refs stay, no events', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      await server.kill('SIGTERM');
      // The fence waits for a record 3 s old (60 s outside tests) and a retry: the expansion runs
      // about 0.3, 1.3, 3.3 and 7.3 s after the push recorded its events, so the fence is set by
      // 7.3 s, and a push stalled 12 s between recording its events and moving its refs is fenced
      // off. Every other push of these tests keeps the 60 s.
      server = await spawnServer(dataDir, {
        ...HOOK_ENV,
        GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS: '3000',
        GITFLEET_TEST_STALL_BEFORE_REF_UPDATE_MS: '12000',
      });
      const { name, work } = await repoWithHook(receiver);
      const tip = await git.commitFiles(work, { 'slow.txt': 'slow\n' }, 'slow');
      const refused = await git.fails(['push', 'origin', 'main'], { cwd: work });
      assert.match(
        refused.stderr,
        /cannot lock ref 'refs\/heads\/main': the push took too long: its webhook events were settled as not applied/,
      );
      const remote = await git.ok(['ls-remote', `${server.url}/ci/${name}.git`], { cwd: work });
      assert.doesNotMatch(remote, /refs\/heads\/main/, 'main was not created');
      await eventually('the recorded entry, settled', async () => {
        const rows = queueRows('ref-events').filter((row) => row.data.includes(tip));
        return rows.length > 0 && rows.every((row) => row.state === 'done') ? rows : undefined;
      });
      assert.deepEqual(
        queueRows('deliveries').filter((row) => row.data.includes(tip)),
        [],
        'no delivery was queued',
      );
      assert.deepEqual(eventsOf(receiver, 'refs/heads/main'), []);
    } finally {
      await receiver.stop();
      await server.kill('SIGTERM');
      server = await spawnServer(dataDir, HOOK_ENV);
    }
  });

  test('a push whose events cannot be recorded fails before any ref moves', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    const lock = new Database(join(dataDir, 'webhook-queue.sqlite'), { fileMustExist: true });
    try {
      const { name, work } = await repoWithHook(receiver);
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      // Another writer holds the queue past the server's busy timeout: recording fails.
      lock.exec('BEGIN EXCLUSIVE');
      const refused = await git.fails(['push', 'origin', 'main'], { cwd: work });
      lock.exec('ROLLBACK');
      assert.match(
        refused.stderr,
        /\[remote rejected\] main -> main \(webhook events could not be recorded, no ref was changed; try again\)/,
      );
      const remote = await git.ok(['ls-remote', `${server.url}/ci/${name}.git`], { cwd: work });
      assert.doesNotMatch(remote, /refs\/heads\/main/, 'main was not created');

      // Once the queue is writable again, the same push goes through with its events.
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      await receiver.waitFor('create and push of main', () => eventsOf(receiver, 'refs/heads/main').length === 2);
    } finally {
      if (lock.inTransaction) lock.exec('ROLLBACK');
      lock.close();
      await receiver.stop();
    }
  });

  test('an update the ref store refuses has no events, although they were recorded', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, work } = await repoWithHook(receiver);
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main', 'main:feature'], { cwd: work });
      await receiver.waitFor('the first push', () => eventsOf(receiver, 'refs/heads/feature').length === 2);

      // A deletion of feature claiming it is somewhere it is not: it passes every check but
      // the compare-and-swap (as a push racing another would), so its events were recorded.
      const stale = 'e'.repeat(40);
      const response = await fetch(`${server.url}/ci/${name}.git/git-receive-pack`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/x-git-receive-pack-request' }),
        body: Buffer.concat([pkt(`${stale} ${ZERO_OID} refs/heads/feature\0report-status\n`), Buffer.from('0000')]),
      });
      const report = Buffer.from(await response.arrayBuffer()).toString('latin1');
      assert.match(report, /ng refs\/heads\/feature failed to update ref/);

      const recorded = await eventually('the refused deletion, recorded and done with', async () => {
        const rows = queueRows('ref-events').filter((row) => row.data.includes(stale));
        return rows.length > 0 && rows.every((row) => row.state === 'done') ? rows : undefined;
      });
      assert.ok(
        recorded.some((row) => JSON.parse(row.data).settled === true),
        'the push marked it settled after the compare-and-swap',
      );
      const deliveries = queueRows('deliveries').filter((row) => row.data.includes(stale));
      assert.deepEqual(deliveries, [], 'no delivery was queued for the refused deletion');
      const remote = await git.ok(['ls-remote', `${server.url}/ci/${name}.git`, 'refs/heads/feature'], { cwd: work });
      assert.notEqual(remote, '', 'feature still exists');
      assert.deepEqual(eventsOf(receiver, 'refs/heads/feature').sort(), ['create', 'push'], 'nothing more about feature');
    } finally {
      await receiver.stop();
    }
  });
});
