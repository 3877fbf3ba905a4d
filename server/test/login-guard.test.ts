/**
 * The guard of every password check: bursts are cut at the throttle's limit however they
 * interleave, and checks in flight are capped per address (429) and per process (503) before
 * any verification starts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { User } from '@gitfleet/accounts';
import { LoginGuard, createLoginThrottle } from '../src/auth/index.js';
import { loadConfig } from '../src/config.js';
import { HttpError } from '../src/http-errors.js';

/** A verifier that counts its calls and the most running at once, each held until releaseUntil lets it go. */
function heldVerifier() {
  let running = 0;
  let held: Array<() => void> = [];
  const counts = { calls: 0, maxRunning: 0 };
  return {
    counts,
    async verifyPassword(): Promise<User | undefined> {
      counts.calls++;
      running++;
      counts.maxRunning = Math.max(counts.maxRunning, running);
      await new Promise<void>((resolve) => held.push(resolve));
      running--;
      return undefined;
    },
    /** Once every attempt is made (none started later), lets the held checks finish as they come until `done` settles. */
    async releaseUntil(done: Promise<unknown>): Promise<void> {
      let settled = false;
      void done.finally(() => {
        settled = true;
      });
      while (!settled) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const now = held;
        held = [];
        for (const resolve of now) resolve();
      }
    },
  };
}

function guardWith(env: Record<string, string>): LoginGuard {
  const config = loadConfig({ GITFLEET_DATA_DIR: '/unused', ...env });
  return new LoginGuard(createLoginThrottle(config), config.passwordChecks);
}

/** Every outcome of the attempts: "ok" for an answered check, else the refusal's status and Retry-After. */
async function outcomes(attempts: Array<Promise<unknown>>): Promise<string[]> {
  const settled = await Promise.allSettled(attempts);
  return settled.map((outcome) => {
    if (outcome.status === 'fulfilled') return 'checked';
    assert.ok(outcome.reason instanceof HttpError, String(outcome.reason));
    assert.ok((outcome.reason.retryAfterSeconds ?? 0) >= 1, 'a refusal says when to retry');
    return String(outcome.reason.status);
  });
}

const tally = (answers: string[]) =>
  answers.reduce<Record<string, number>>((counts, answer) => ({ ...counts, [answer]: (counts[answer] ?? 0) + 1 }), {});

/** The throttle's stores: process memory, and Redis (the fleet's) when a test server is given. */
const THROTTLE_STORES: Array<{ name: string; env: Record<string, string>; skip?: string }> = [
  { name: 'in memory', env: {} },
  {
    name: 'over Redis',
    env: {
      GITFLEET_KV_BACKEND: 'redis',
      GITFLEET_REDIS_URL: process.env.GITFLEET_TEST_REDIS_URL ?? '',
      GITFLEET_REDIS_NAMESPACE: `login-guard-${process.pid}-${Date.now()}`,
    },
    skip: process.env.GITFLEET_TEST_REDIS_URL ? undefined : 'GITFLEET_TEST_REDIS_URL not set',
  },
];

for (const store of THROTTLE_STORES) {
  test(
    `200 wrong passwords at once, throttle ${store.name}: exactly its limit is verified, the rest are 429`,
    { skip: store.skip },
    async () => {
      const verifier = heldVerifier();
      const guard = guardWith({
        ...store.env,
        GITFLEET_LOGIN_FAILURES_PER_USER: '10',
        GITFLEET_LOGIN_FAILURES_PER_IP: '1000',
        GITFLEET_PASSWORD_CHECKS: '1000',
        GITFLEET_PASSWORD_CHECKS_PER_IP: '1000',
      });
      try {
        const attempts = Array.from({ length: 200 }, () => guard.verify('203.0.113.9', 'bob', verifier.verifyPassword));
        const answers = outcomes(attempts);
        await verifier.releaseUntil(answers);
        assert.deepEqual(tally(await answers), { checked: 10, 429: 190 });
        assert.equal(verifier.counts.calls, 10);
      } finally {
        await guard.close();
      }
    },
  );
}

test('checks in flight are capped per address (429) and per process (503), refused before any verification', async () => {
  const verifier = heldVerifier();
  const guard = guardWith({
    GITFLEET_LOGIN_FAILURES_PER_USER: '1000',
    GITFLEET_LOGIN_FAILURES_PER_IP: '1000',
    GITFLEET_PASSWORD_CHECKS: '2',
    GITFLEET_PASSWORD_CHECK_QUEUE: '3',
    GITFLEET_PASSWORD_CHECKS_PER_IP: '2',
  });
  try {
    const fromOne = Array.from({ length: 50 }, () => guard.verify('203.0.113.1', 'bob', verifier.verifyPassword));
    const fromMany = Array.from({ length: 50 }, (_, index) => guard.verify(`198.51.100.${index}`, 'bob', verifier.verifyPassword));
    const all = Promise.all([outcomes(fromOne), outcomes(fromMany)]);
    await verifier.releaseUntil(all);
    const [one, many] = await all;
    // One address gets its 2; the other addresses share what remains of 2 running + 3 waiting.
    assert.deepEqual(tally(one), { checked: 2, 429: 48 });
    assert.deepEqual(tally(many), { checked: 3, 503: 47 });
    assert.equal(verifier.counts.calls, 5);
    assert.equal(verifier.counts.maxRunning, 2);

    // Once they are done, the places are free again.
    const later = guard.verify('203.0.113.1', 'bob', verifier.verifyPassword);
    await verifier.releaseUntil(later);
    assert.equal(await later, undefined);
  } finally {
    await guard.close();
  }
});

test("a right password gives the address its point back and clears the user's failures", async () => {
  const alice = { name: 'alice' } as User;
  const wrong = async () => undefined;
  const right = async () => alice;
  const guard = new LoginGuard(
    createLoginThrottle(
      loadConfig({ GITFLEET_DATA_DIR: '/unused', GITFLEET_LOGIN_FAILURES_PER_USER: '3', GITFLEET_LOGIN_FAILURES_PER_IP: '4' }),
    ),
    { concurrent: 1, queue: 10, perIp: 10 },
  );
  try {
    for (let attempt = 0; attempt < 2; attempt++) assert.equal(await guard.verify('192.0.2.1', 'alice', wrong), undefined);
    for (let attempt = 0; attempt < 5; attempt++) assert.equal(await guard.verify('192.0.2.1', 'alice', right), alice);
    // 2 failures of the address are left counted: 2 more reach the limit of 4.
    for (let attempt = 0; attempt < 2; attempt++) assert.equal(await guard.verify('192.0.2.1', 'carol', wrong), undefined);
    await assert.rejects(guard.verify('192.0.2.1', 'dave', wrong), (error: unknown) => error instanceof HttpError && error.status === 429);
  } finally {
    await guard.close();
  }
});
