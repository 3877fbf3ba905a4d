import { RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { connectRedis } from '@gitfleet/storage';
import type { ServerConfig } from '../config.js';
import { HttpError } from '../http-errors.js';
import { ownWorkerSlot } from '../cluster/messages.js';
import { redisConnection } from '../stores.js';
import type { LoginThrottle } from './constants.js';

/** How long a worker waits for the primary's count (it answers in well under a millisecond when well). */
const PRIMARY_TIMEOUT_MS = 2000;
/** How long a count waits for Redis: a sign-in is refused (503) rather than held when Redis stops answering. */
const REDIS_COMMAND_TIMEOUT_MS = 5000;
/** Seconds a client is told to wait when the count could not be had. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Login attempts counted over a window: per user and address (guessing one account's password)
 * and per address (trying many accounts). Over the KV's Redis when the fleet has one, so that
 * every server of the fleet counts together; otherwise in the memory of the cluster's primary
 * (every worker of the machine counts together, see cluster/primary.ts), or of this process
 * when it serves alone.
 */
export function createLoginThrottle(config: ServerConfig): LoginThrottle {
  const limits = config.loginThrottle;
  if (config.kv.backend !== 'redis' && ownWorkerSlot() !== undefined) {
    return new RateLimitedLogins(
      new RateLimiterCluster({
        keyPrefix: 'login-failures:user-ip',
        points: limits.perUserAndIp,
        duration: limits.windowSeconds,
        timeoutMs: PRIMARY_TIMEOUT_MS,
      }),
      new RateLimiterCluster({
        keyPrefix: 'login-failures:ip',
        points: limits.perIp,
        duration: limits.windowSeconds,
        timeoutMs: PRIMARY_TIMEOUT_MS,
      }),
      async () => {},
    );
  }
  if (config.kv.backend !== 'redis') {
    return new RateLimitedLogins(
      new RateLimiterMemory({ points: limits.perUserAndIp, duration: limits.windowSeconds }),
      new RateLimiterMemory({ points: limits.perIp, duration: limits.windowSeconds }),
      async () => {},
    );
  }
  const client = connectRedis(redisConnection(config.kv), REDIS_COMMAND_TIMEOUT_MS);
  const prefix = `${config.kv.namespace}:login-failures`;
  return new RateLimitedLogins(
    new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${prefix}:user-ip`,
      points: limits.perUserAndIp,
      duration: limits.windowSeconds,
    }),
    new RateLimiterRedis({ storeClient: client, keyPrefix: `${prefix}:ip`, points: limits.perIp, duration: limits.windowSeconds }),
    async () => {
      await client.quit().catch(() => client.disconnect());
    },
  );
}

class RateLimitedLogins implements LoginThrottle {
  constructor(
    private readonly byUserAndIp: RateLimiterAbstract,
    private readonly byIp: RateLimiterAbstract,
    private readonly release: () => Promise<void>,
  ) {}

  async consume(ip: string, user?: string): Promise<void> {
    // Each consume is one atomic increment in the store: of N concurrent attempts with k points
    // left, exactly k get through, however they interleave.
    const outcomes = await Promise.allSettled([
      this.byIp.consume(ip),
      user === undefined ? undefined : this.byUserAndIp.consume(userKey(ip, user)),
    ]);
    const over: RateLimiterRes[] = [];
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      // Unknown count: the attempt is neither let through unthrottled nor blamed on the server.
      if (!(outcome.reason instanceof RateLimiterRes)) {
        throw new HttpError(503, `sign-in is unavailable for a moment (${String(outcome.reason)}); try again`, {
          retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
        });
      }
      over.push(outcome.reason);
    }
    if (over.length === 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(...over.map((state) => state.msBeforeNext)) / 1000));
    throw new HttpError(
      429,
      `too many failed logins from ${ip}${user === undefined ? '' : ` for ${user}`}: try again in ${retryAfterSeconds} seconds`,
      {
        retryAfterSeconds,
      },
    );
  }

  async recordSuccess(ip: string, user?: string): Promise<void> {
    // The account's owner is back: their earlier typos no longer count. The address only gets
    // this attempt's point back, or one valid account would reset a sweep over all the others.
    await Promise.all([this.byIp.reward(ip, 1), user === undefined ? undefined : this.byUserAndIp.delete(userKey(ip, user))]);
  }

  close(): Promise<void> {
    return this.release();
  }
}

function userKey(ip: string, user: string): string {
  return `${user.toLowerCase()}|${ip}`;
}
