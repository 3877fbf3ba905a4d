import { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisConnection } from '@gitfleet/storage';
import type { LoginThrottleConfig, ServerConfig } from '../config.js';
import { HttpError } from '../http-errors.js';
import { redisConnection } from '../stores.js';
import type { LoginThrottle } from './constants.js';

/**
 * Failed logins counted over a sliding window: per user and address (guessing one account's
 * password) and per address (trying many accounts). Over the KV's Redis when the fleet has one,
 * so that every server of the fleet counts together; in process memory otherwise.
 */
export function createLoginThrottle(config: ServerConfig): LoginThrottle {
  const limits = config.loginThrottle;
  if (config.kv.backend !== 'redis') {
    return new RateLimitedLogins(
      new RateLimiterMemory({ points: limits.perUserAndIp, duration: limits.windowSeconds }),
      new RateLimiterMemory({ points: limits.perIp, duration: limits.windowSeconds }),
      limits,
      async () => {},
    );
  }
  const client = connect(redisConnection(config.kv));
  const prefix = `${config.kv.namespace}:login-failures`;
  return new RateLimitedLogins(
    new RateLimiterRedis({ storeClient: client, keyPrefix: `${prefix}:user-ip`, points: limits.perUserAndIp, duration: limits.windowSeconds }),
    new RateLimiterRedis({ storeClient: client, keyPrefix: `${prefix}:ip`, points: limits.perIp, duration: limits.windowSeconds }),
    limits,
    async () => {
      await client.quit().catch(() => client.disconnect());
    },
  );
}

class RateLimitedLogins implements LoginThrottle {
  constructor(
    private readonly byUserAndIp: RateLimiterAbstract,
    private readonly byIp: RateLimiterAbstract,
    private readonly limits: LoginThrottleConfig,
    private readonly release: () => Promise<void>,
  ) {}

  async check(ip: string, user?: string): Promise<void> {
    const [ipState, userState] = await Promise.all([this.byIp.get(ip), user === undefined ? null : this.byUserAndIp.get(userKey(ip, user))]);
    const over = [
      exhausted(userState, this.limits.perUserAndIp) ? userState : undefined,
      exhausted(ipState, this.limits.perIp) ? ipState : undefined,
    ].filter((state): state is RateLimiterRes => state !== undefined);
    if (over.length === 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(...over.map((state) => state.msBeforeNext)) / 1000));
    throw new HttpError(429, `too many failed logins from ${ip}${user === undefined ? '' : ` for ${user}`}: try again in ${retryAfterSeconds} seconds`, {
      retryAfterSeconds,
    });
  }

  async recordFailure(ip: string, user?: string): Promise<void> {
    await Promise.all([this.byIp.penalty(ip), user === undefined ? undefined : this.byUserAndIp.penalty(userKey(ip, user))]);
  }

  async recordSuccess(ip: string, user?: string): Promise<void> {
    // The account's owner is back: their earlier typos no longer count. The address's count
    // stays, or one valid account would reset a sweep over all the others.
    if (user !== undefined) await this.byUserAndIp.delete(userKey(ip, user));
  }

  close(): Promise<void> {
    return this.release();
  }
}

function exhausted(state: RateLimiterRes | null, limit: number): state is RateLimiterRes {
  return state !== null && state.consumedPoints >= limit;
}

function userKey(ip: string, user: string): string {
  return `${user.toLowerCase()}|${ip}`;
}

function connect(connection: RedisConnection): Redis | Cluster {
  if ('cluster' in connection) return new Cluster(connection.cluster, connection.options);
  if ('sentinels' in connection) return new Redis({ ...connection.options, sentinels: connection.sentinels, name: connection.masterName });
  return new Redis(connection.url, connection.options ?? {});
}
