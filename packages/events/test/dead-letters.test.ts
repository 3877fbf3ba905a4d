// Deliveries that fail for good are kept as dead letters and can be replayed, on each pair of
// queue and KV backends (embedded: SQLite; distributed: BullMQ and the KV on real Redis),
// against a real HTTP receiver on 127.0.0.1 that fails until told otherwise.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { CasMode, CasOp, KVStore } from '@gitfleet/storage';
import { kvBackends, redisKvBackends, uniqueName } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  BullmqJobQueue,
  DeadLetters,
  HookStore,
  hookScope,
  HookTargetPolicy,
  parseHookSettings,
  SqliteJobQueue,
  WebhookService,
  deliveryQueueRetry,
  type DeadLetterChange,
  type DeliveryJob,
  type HookTarget,
  type JobQueue,
  type RefEventsJob,
  type RetryPolicy,
} from '../src/index.js';

const RETRY: RetryPolicy = { maxAttempts: 3, backoffMs: 20, maxBackoffMs: 50 };
const TARGET: HookTarget = { kind: 'repository', repositoryId: 'dead-letter-repo', owner: 'o', name: 'r' };
const PING = { baseUrl: 'https://git.example.com' };
const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Answers every request with `status`; remembers each request's X-GitHub-Delivery. */
class Receiver {
  status = 503;
  readonly guids: string[] = [];
  private readonly server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      this.guids.push(String(req.headers['x-github-delivery']));
      res.writeHead(this.status).end();
    });
  });

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((done) => this.server.close(() => done()));
  }
}

interface QueueBackend {
  name: string;
  skip: string | false;
  open(t: TestContext): { kv: KVStore; refEvents: JobQueue<RefEventsJob>; deliveries: JobQueue<DeliveryJob> };
}

const queueDir = tempDir({ after }, 'dead-letter-queues');
const redisUrl = process.env.GITFLEET_TEST_REDIS_URL;

const backends: QueueBackend[] = [
  {
    name: 'SQLite queue, SQLite KV',
    skip: false,
    open(t) {
      const path = join(queueDir, `${uniqueName('queue')}.sqlite`);
      const open = <T>(name: string, retry = RETRY) =>
        new SqliteJobQueue<T>({ path, name, retry, concurrency: 2, leaseMs: 5_000, pollMs: 10, retentionMs: 60_000 });
      return { kv: kvBackends[1].open(t), refEvents: open('ref-events'), deliveries: open('deliveries', deliveryQueueRetry(RETRY)) };
    },
  },
  {
    name: 'BullMQ queue, Redis KV',
    skip: redisKvBackends.length === 0 ? 'GITFLEET_SKIP_REMOTE_STORES=1' : !redisUrl ? 'GITFLEET_TEST_REDIS_URL is not set' : false,
    open(t) {
      const prefix = `{${uniqueName('gf-dead')}}`;
      const open = <T>(name: string, retry = RETRY) =>
        new BullmqJobQueue<T>({ connection: { url: redisUrl! }, prefix, name, retry, concurrency: 2, retentionMs: 60_000 });
      return { kv: redisKvBackends[0].open(t), refEvents: open('ref-events'), deliveries: open('deliveries', deliveryQueueRetry(RETRY)) };
    },
  },
];

/** `check`'s first answer that is not undefined, asked every 20 ms for up to 20 s. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let waited = 0; waited < 20_000; waited += 20) {
    const answer = await check();
    if (answer !== undefined) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The store, with `check` shown each compare-and-swap's ops first; it fails the request by throwing. */
function checkedWrites(kv: KVStore, check: (ops: readonly CasOp[]) => void): KVStore {
  return new Proxy(kv, {
    get(target, property) {
      if (property !== 'compareAndSwap') {
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (scope: string, ops: readonly CasOp[], mode: CasMode) => {
        check(ops);
        return target.compareAndSwap(scope, ops, mode);
      };
    },
  });
}

/**
 * The store, but its next `failures` writes of a dead letter fail before reaching it, as a
 * short outage of the KV store would (the fault interceptors see only a request's scope, not
 * which keys it writes).
 */
function failingDeadLetterWrites(kv: KVStore, failures: number): KVStore {
  let left = failures;
  return checkedWrites(kv, (ops) => {
    if (left > 0 && ops.some((op) => op.key.startsWith('dead:'))) {
      left--;
      throw new Error('injected: a dead-letter write failed');
    }
  });
}

const receiver = new Receiver();
before(() => receiver.start());
after(() => receiver.stop());

for (const backend of backends) {
  describe(`dead letters (${backend.name})`, { skip: backend.skip }, () => {
    function service(t: TestContext, keepDeadLetters = 100, deadLetterWriteFailures = 0) {
      const { kv: store, refEvents, deliveries } = backend.open(t);
      const kv = failingDeadLetterWrites(store, deadLetterWriteFailures);
      const changes: Array<[DeadLetterChange, number]> = [];
      const errors: object[] = [];
      const webhooks = new WebhookService({
        kv,
        refEvents,
        deliveries,
        repository: () => {
          throw new Error('no pushes in these tests');
        },
        ownerId: async () => undefined,
        targets: new HookTargetPolicy({ allowed: ['127.0.0.1'] }),
        settings: {
          recoveryDelayMs: 1_000,
          minFenceAgeMs: 60_000,
          timeoutMs: 5_000,
          retry: RETRY,
          disableAfter: 0,
          keepAttempts: 100,
          keepDeadLetters,
          maxResponseBytes: 1024,
          hookLimits: { branchFilter: { maxLength: 256, maxWildcards: 32 } },
          maxHooksPerTarget: 20,
          payloadLimits: { maxFilesPerCommit: 10, maxTreeEntries: 1000, maxPathBytes: 1 << 20 },
          branchFilterStepsPerPush: 100_000,
        },
        logger: { ...SILENT, error: (details) => errors.push(details) },
        onDeadLetter: (change, count) => changes.push([change, count]),
      });
      webhooks.start();
      t.after(() => webhooks.close());
      return { webhooks, changes, errors };
    }

    const createHook = (webhooks: WebhookService) =>
      webhooks.createHook(TARGET, { config: { url: receiver.url, content_type: 'json', secret: 's' }, events: ['push'] }, PING);

    it('a delivery whose attempts are exhausted is kept, replayed with its guid, and leaves the list once it arrives', async (t) => {
      receiver.status = 503;
      const { webhooks, changes } = service(t);
      // Its ping is the delivery that fails.
      const hook = await createHook(webhooks);
      const page = await waitFor('the dead letter', async () => {
        const listed = await webhooks.deadLetters.list(TARGET, hook.id, 0, 10);
        return listed.total > 0 ? listed : undefined;
      });
      assert.equal(page.total, 1);
      assert.equal(page.evicted, 0);
      const [letter] = page.letters;
      assert.equal(letter.event, 'ping');
      assert.equal(letter.attempts, RETRY.maxAttempts);
      assert.equal(letter.reason, '503 Service Unavailable');
      const attempts = await webhooks.log.list(TARGET, hook.id);
      assert.deepEqual(
        attempts.map((attempt) => [attempt.guid, attempt.attempt, attempt.ok]),
        [3, 2, 1].map((n) => [letter.guid, n, false]),
      );
      assert.equal(letter.lastAttemptId, attempts[0].id);
      assert.equal(JSON.parse(letter.payload).hook_id, hook.id);

      // Replayed while the receiver still fails: it runs its attempts and is a dead letter again, once.
      assert.equal(await webhooks.replay(TARGET, hook.id, letter.guid), true);
      const again = await waitFor('the failed replay', async () => {
        const current = await webhooks.deadLetters.get(TARGET, hook.id, letter.guid);
        return current && current.seq > letter.seq ? current : undefined;
      });
      assert.equal(again.lastAttemptId, (await webhooks.log.list(TARGET, hook.id))[0].id);
      assert.equal((await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).total, 1);

      receiver.status = 200;
      const sent = receiver.guids.length;
      assert.equal(await webhooks.replay(TARGET, hook.id, letter.guid), true);
      await waitFor('the replay to arrive and the list to empty', async () =>
        (await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).total === 0 ? true : undefined,
      );
      assert.deepEqual(receiver.guids.slice(sent), [letter.guid], 'the same X-GitHub-Delivery, once');
      const [arrived] = await webhooks.log.list(TARGET, hook.id);
      assert.equal(arrived.guid, letter.guid);
      assert.equal(arrived.ok, true);
      assert.equal(arrived.redelivery, true);
      assert.deepEqual(changes, [
        ['added', 1],
        ['replayed', 1],
      ]);
      assert.equal(await webhooks.replay(TARGET, hook.id, letter.guid), false, 'nothing left to replay');
    });

    it('a dead letter whose write fails on the last attempt is written by a later one, without sending again', async (t) => {
      receiver.status = 503;
      const { webhooks, errors } = service(t, 100, 1);
      const hook = await createHook(webhooks);
      const letter = await waitFor('the dead letter', async () => (await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).letters[0]);
      assert.equal(letter.attempts, RETRY.maxAttempts);
      assert.equal(letter.reason, '503 Service Unavailable');
      const attempts = await webhooks.log.list(TARGET, hook.id);
      assert.deepEqual(
        attempts.map((attempt) => attempt.attempt),
        [3, 2, 1],
        'the bookkeeping attempt sent nothing',
      );
      assert.equal(letter.lastAttemptId, attempts[0].id);
      assert.equal(receiver.guids.filter((guid) => guid === letter.guid).length, RETRY.maxAttempts);
      assert.deepEqual(errors, []);
    });

    it('a dead letter that cannot be written at all is logged as an error with the delivery', async (t) => {
      receiver.status = 503;
      const { webhooks, errors } = service(t, 100, Infinity);
      const hook = await createHook(webhooks);
      const [lost] = await waitFor('the error', async () => (errors.length > 0 ? errors : undefined));
      const { guid, payload } = lost as { guid: string; payload: string };
      assert.equal(JSON.parse(payload).hook_id, hook.id);
      assert.equal(receiver.guids.filter((sent) => sent === guid).length, RETRY.maxAttempts);
      assert.equal((await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).total, 0);
    });

    it('a refusal (4xx) is final at once, and a delivery due while its hook is inactive is kept too', async (t) => {
      receiver.status = 410;
      const { webhooks } = service(t);
      const hook = await createHook(webhooks);
      const refused = await waitFor('the refused ping', async () => (await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).letters[0]);
      assert.equal(refused.attempts, 1);
      assert.equal(refused.reason, '410 Gone');

      await webhooks.updateHook(TARGET, hook.id, { active: false });
      await webhooks.ping((await webhooks.hooks.get(TARGET, hook.id))!, PING);
      const inactive = await waitFor('the ping to the inactive hook', async () => {
        const { letters } = await webhooks.deadLetters.list(TARGET, hook.id, 0, 10);
        return letters.length === 2 ? letters[0] : undefined;
      });
      assert.equal(inactive.attempts, 0);
      assert.equal(inactive.lastAttemptId, null);
      assert.equal(inactive.reason, 'the webhook was inactive');

      // Discarding is explicit; deleting the hook takes its dead letters with it.
      assert.equal(await webhooks.deadLetters.remove(TARGET, hook.id, refused.guid, 'discarded'), true);
      assert.equal((await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).total, 1);
      assert.equal(await webhooks.deleteHook(TARGET, hook.id), true);
      assert.equal((await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).total, 0);
    });

    it('beyond its bound, the oldest dead letters are evicted and counted', async (t) => {
      receiver.status = 410;
      const { webhooks, changes } = service(t, 2);
      const hook = await createHook(webhooks);
      await waitFor('the first dead letter', async () =>
        (await webhooks.deadLetters.list(TARGET, hook.id, 0, 10)).total === 1 ? true : undefined,
      );
      for (let n = 0; n < 3; n++) {
        await webhooks.ping(hook, PING);
        // An addition and the eviction it makes are two writes: wait for both.
        await waitFor(`dead letter ${n + 2}`, async () => {
          const { total, evicted } = await webhooks.deadLetters.list(TARGET, hook.id, 0, 10);
          return total + evicted === n + 2 && total <= 2 ? true : undefined;
        });
      }
      const page = await webhooks.deadLetters.list(TARGET, hook.id, 0, 10);
      assert.equal(page.total, 2);
      assert.equal(page.evicted, 2);
      assert.ok(page.letters[0].seq > page.letters[1].seq, 'newest first');
      const second = await webhooks.deadLetters.list(TARGET, hook.id, 1, 10);
      assert.deepEqual(
        second.letters.map((letter) => letter.guid),
        [page.letters[1].guid],
        'paged',
      );
      assert.deepEqual(
        changes.filter(([change]) => change === 'evicted'),
        [
          ['evicted', 1],
          ['evicted', 1],
        ],
      );
    });
  });
}

for (const backend of kvBackends) {
  describe(`clearing a hook's dead letters (${backend.name} KV)`, () => {
    it('removes every letter and counter, a bounded batch per write', async (t) => {
      let largestWrite = 0;
      const kv = checkedWrites(backend.open(t), (ops) => {
        largestWrite = Math.max(largestWrite, ops.length);
      });
      const hook = await new HookStore(kv).create(
        TARGET,
        parseHookSettings(
          { config: { url: 'https://hooks.example.com/' }, events: ['push'] },
          { branchFilter: { maxLength: 256, maxWildcards: 32 } },
        ),
      );
      const letters = new DeadLetters(kv, 10_000);
      const count = 1_200;
      for (let n = 0; n < count; n++) {
        const guid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
        const failure = { reason: '410 Gone', lastAttemptId: null, attempts: 1, failedAt: new Date(0).toISOString() };
        await letters.add(TARGET, { guid, hookId: hook.id, event: 'push', action: null, repositoryId: null, payload: '{}', ...failure });
      }
      assert.equal((await letters.list(TARGET, hook.id, 0, 1)).total, count);
      largestWrite = 0;
      await letters.clear(TARGET, hook.id);
      assert.ok(largestWrite > 0 && largestWrite <= 1_000, `one write removed ${largestWrite} keys`);
      const emptied = await letters.list(TARGET, hook.id, 0, 10);
      assert.deepEqual([emptied.total, emptied.evicted, emptied.letters], [0, 0, []]);
      assert.deepEqual(await kv.scan(hookScope(TARGET), 'dead'), [], 'no key of the letters is left');
    });
  });
}
