import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { Cluster, Redis, ReplyError, type ChainableCommander, type ClusterOptions, type RedisOptions } from 'ioredis';
import { StoreUnavailable, WriteOutcomeUnknown } from '../errors.js';
import { casApplied, type CasMode, type CasOp, type CasResult, type KVEntry, type KVStore } from '../kv-store.js';
import { validateCasOps, validateKvName, validateKvPrefix, validateLogLimit } from '../validation.js';
import { CAS_SCRIPT, SCAN_SCRIPT } from './redis-scripts.js';

/** Where Redis is: one instance, a Sentinel-managed master, or a Cluster. */
export type RedisConnection =
  | { url: string; options?: RedisOptions }
  | { sentinels: Array<{ host: string; port: number }>; masterName: string; options?: RedisOptions }
  | { cluster: Array<{ host: string; port: number }>; options?: ClusterOptions };

export interface RedisKVStoreOptions {
  connection: RedisConnection;
  /** First part of every Redis key, so that several deployments (or tests) share a server. Default 'gf'. */
  namespace?: string;
  /**
   * Replicas that must acknowledge each write (Redis WAIT) before it reports success.
   * 0 (the default) returns as soon as the master has it (fsynced, with appendfsync always).
   */
  waitReplicas?: number;
  /** How long WAIT waits for those acknowledgements. Default 1 000 ms. */
  waitTimeoutMs?: number;
  /**
   * How long a command may wait for its reply: what bounds a call to a Redis that stops
   * answering (a stopped process keeps its connections open, and nothing else fails them).
   * A write without a reply is sent again, then reported as of unknown outcome. Default
   * 10 000 ms more than waitTimeoutMs.
   */
  commandTimeoutMs?: number;
}

/** No answer came for a write: the connection failed while it was sent or answered. */
class NoReply extends StoreUnavailable {
  override name = 'NoReply';
}

/** Sends of one compare-and-swap whose connection failed before the answer (see compareAndSwap). */
const CAS_SENDS = 3;
const RESEND_DELAY_MS = 200;

/**
 * A write that the master applied but fewer replicas than required acknowledged in time.
 * The write is NOT undone (Redis cannot): it is visible now and stays unless the master
 * fails before a replica has it, in which case a promoted replica will not have it. A
 * caller must therefore treat the outcome as unknown — report the push as failed, and
 * expect that a retry may find the ref already moved.
 */
export class ReplicaAckError extends WriteOutcomeUnknown {
  override name = 'ReplicaAckError';
  constructor(
    what: string,
    readonly acknowledged: number,
    readonly required: number,
  ) {
    super(
      `${what}: applied on the Redis master but acknowledged by ${acknowledged} of ${required} required replicas in time; it may be lost if the master fails now`,
    );
  }
}

interface ScriptCommands {
  gitfleetCas(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  gitfleetScan(numKeys: number, ...args: string[]): Promise<string[]>;
}
type Client = (Redis | Cluster) & ScriptCommands;
type Pipeline = ChainableCommander & {
  gitfleetCas(numKeys: number, ...args: Array<string | number>): Pipeline;
};

/**
 * The KV store on Redis (single instance, Sentinel or Cluster).
 *
 * Layout, for namespace `gf` and scope `s` (the scope is the hash tag, so that a scope is
 * one slot on one shard and every multi-key operation of it is a single script there):
 *   gf:{s}:k:<key>     the value of <key> (string)
 *   gf:{s}:index       every key of the scope (sorted set, all scores 0, ordered by bytes)
 *   gf:{s}:log:<name>  a log (list, oldest first)
 * The index lets scan be one ZRANGEBYLEX (no SCAN over the keyspace); the CAS script keeps
 * it in step with the values.
 */
export class RedisKVStore implements KVStore {
  private readonly client: Client;
  private readonly namespace: string;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private closed = false;

  constructor(options: RedisKVStoreOptions) {
    this.namespace = options.namespace ?? 'gf';
    this.waitReplicas = options.waitReplicas ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 1_000;
    this.client = connectRedis(options.connection, options.commandTimeoutMs ?? this.waitTimeoutMs + 10_000) as Client;
    this.client.defineCommand('gitfleetCas', { lua: CAS_SCRIPT });
    this.client.defineCommand('gitfleetScan', { lua: SCAN_SCRIPT });
  }

  async get(scope: string, key: string): Promise<string | undefined> {
    validateKvName('scope', scope);
    validateKvName('key', key);
    return (await this.read(`get of key ${key} in scope ${scope}`, () => this.client.get(this.valueKey(scope, key)))) ?? undefined;
  }

  async getMany(scope: string, keys: readonly string[]): Promise<Map<string, string>> {
    validateKvName('scope', scope);
    for (const key of keys) validateKvName('key', key);
    if (keys.length === 0) return new Map();
    // One MGET: the keys share the scope's hash tag, hence one slot.
    const values = await this.read(`get of ${keys.length} key(s) in scope ${scope}`, () =>
      this.client.mget(keys.map((key) => this.valueKey(scope, key))),
    );
    const found = new Map<string, string>();
    keys.forEach((key, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) found.set(key, value);
    });
    return found;
  }

  async scan(scope: string, prefix: string): Promise<KVEntry[]> {
    validateKvName('scope', scope);
    validateKvPrefix(prefix);
    // Keys are printable ASCII (below 0x7f), so [prefix, prefix + 0x7f) is exactly the
    // keys that start with prefix.
    const [min, max] = prefix === '' ? ['-', '+'] : [`[${prefix}`, `(${prefix}\x7f`];
    const flat = await this.read(`scan of scope ${scope}`, () =>
      this.client.gitfleetScan(1, this.indexKey(scope), min, max, this.valueKey(scope, '')),
    );
    const entries: KVEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ key: flat[i], value: flat[i + 1] });
    return entries;
  }

  async compareAndSwap(scope: string, ops: readonly CasOp[], mode: CasMode): Promise<CasResult> {
    validateCasOps(scope, ops, mode);
    if (ops.length === 0) return { conflicts: [] };
    const keys = [this.indexKey(scope), ...ops.map((op) => this.valueKey(scope, op.key))];
    const args: Array<string | number> = [mode, ops.length];
    for (const op of ops) {
      let logIndex = 0;
      if (op.log) {
        keys.push(this.logKey(scope, op.log.name));
        logIndex = keys.length;
      }
      const absentKeys = op.requireAbsent?.keys ?? [];
      const absentPrefixes = op.requireAbsent?.prefixes ?? [];
      args.push(
        op.expect === null ? '0' : '1',
        op.expect ?? '',
        op.value === null ? '0' : '1',
        op.value ?? '',
        op.key,
        logIndex,
        op.log?.entry ?? '',
        absentKeys.length,
        absentPrefixes.length,
        ...absentKeys,
        ...absentPrefixes,
      );
    }
    // A key of this call's own: see CAS_SCRIPT on answers kept for a resent call.
    keys.push(this.answerKey(scope, randomUUID()));
    const what = `compareAndSwap of ${ops.length} key(s) in scope ${scope}`;
    // A call whose connection failed may or may not have run. Sent again with the same answer
    // key, it answers as the run that took effect did, or runs now: either way the answer is
    // known. Only when Redis stays out of reach is the outcome unknown.
    for (let attempt = 1; ; attempt++) {
      try {
        const conflicts = await this.writeAndWait<number[]>(
          what,
          (pipeline) => pipeline.gitfleetCas(keys.length, ...keys, ...args),
          (result) => casApplied(mode, ops.length, result),
        );
        return { conflicts: conflicts.map(Number) };
      } catch (error) {
        if (!(error instanceof NoReply)) throw error;
        if (attempt >= CAS_SENDS) {
          throw new WriteOutcomeUnknown(
            `${what}: no answer from Redis after ${attempt} sends, so it may have been applied: ${error.message}`,
            {
              cause: error,
            },
          );
        }
        await setTimeout(RESEND_DELAY_MS * attempt);
      }
    }
  }

  async append(scope: string, log: string, entry: string): Promise<void> {
    validateKvName('scope', scope);
    validateKvName('log name', log);
    await this.writeAndWait(
      `append to log ${log} of scope ${scope}`,
      (pipeline) => pipeline.rpush(this.logKey(scope, log), entry) as Pipeline,
      () => true,
    );
  }

  async readLog(scope: string, log: string, options: { limit?: number } = {}): Promise<string[]> {
    validateKvName('scope', scope);
    validateKvName('log name', log);
    validateLogLimit(options.limit);
    if (options.limit === 0) return [];
    return this.read(`read of log ${log} of scope ${scope}`, () =>
      this.client.lrange(this.logKey(scope, log), options.limit === undefined ? 0 : -options.limit, -1),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // QUIT lets pending replies arrive; without a live connection it would wait for one.
    if (this.client.status === 'ready') await this.client.quit();
    else this.client.disconnect();
  }

  /**
   * Runs one read: an error Redis answered is a fault (a script error); any other (a command
   * timed out, the connection closed, ioredis gave up reconnecting) says Redis is out of reach.
   */
  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ReplyError) throw new Error(`Redis ${what} failed: ${(error as Error).message}`, { cause: error });
      throw new StoreUnavailable(`Redis ${what}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Runs one write; with waitReplicas, follows it with WAIT in the same pipeline — a
   * keyless command in a pipeline goes to the node of the pipeline's keys, i.e. the master
   * that applied the write — and fails when too few replicas acknowledged a write that
   * `applied` says took effect.
   */
  private async writeAndWait<T>(what: string, write: (pipeline: Pipeline) => Pipeline, applied: (result: T) => boolean): Promise<T> {
    const pipeline = write(this.client.pipeline() as Pipeline);
    if (this.waitReplicas > 0) pipeline.wait(this.waitReplicas, this.waitTimeoutMs);
    const replies = await pipeline.exec().catch((error: unknown) => {
      throw new NoReply(`${what}: ${(error as Error).message}`, { cause: error });
    });
    if (!replies) throw new NoReply(`${what}: the Redis connection closed before the reply`);
    const [writeError, result] = replies[0];
    if (writeError) {
      // An error Redis answered (a script error, READONLY) means the write did not run; any other
      // (the connection closed, ioredis gave up reconnecting) leaves it unknown.
      if (writeError instanceof ReplyError) throw new Error(`${what} failed: ${writeError.message}`, { cause: writeError });
      throw new NoReply(`${what}: ${writeError.message}`, { cause: writeError });
    }
    if (this.waitReplicas > 0 && applied(result as T)) {
      const [waitError, acknowledged] = replies[1];
      if (waitError)
        throw new WriteOutcomeUnknown(`${what}: applied on the Redis master, but WAIT for replicas failed: ${waitError.message}`, {
          cause: waitError,
        });
      if ((acknowledged as number) < this.waitReplicas) throw new ReplicaAckError(what, acknowledged as number, this.waitReplicas);
    }
    return result as T;
  }

  private scopePrefix(scope: string): string {
    // Braces would end or nest the hash tag; escaping them (and the escape character)
    // keeps the tag exactly the scope, and distinct scopes distinct.
    return `${this.namespace}:{${scope.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}}:`;
  }

  private valueKey(scope: string, key: string): string {
    return `${this.scopePrefix(scope)}k:${key}`;
  }

  private indexKey(scope: string): string {
    return `${this.scopePrefix(scope)}index`;
  }

  private answerKey(scope: string, token: string): string {
    return `${this.scopePrefix(scope)}answer:${token}`;
  }

  private logKey(scope: string, log: string): string {
    return `${this.scopePrefix(scope)}log:${log}`;
  }
}

/**
 * A client of the Redis `connection` names, whose commands fail after `commandTimeout` ms
 * without a reply. Errors of the connection itself are left to ioredis, which reconnects, and
 * to the commands, which report their own.
 */
export function connectRedis(connection: RedisConnection, commandTimeout: number): Redis | Cluster {
  const client =
    'cluster' in connection
      ? new Cluster(connection.cluster, {
          ...connection.options,
          redisOptions: { ...connection.options?.redisOptions, commandTimeout },
        })
      : 'sentinels' in connection
        ? new Redis({ ...connection.options, commandTimeout, sentinels: connection.sentinels, name: connection.masterName })
        : new Redis(connection.url, { ...connection.options, commandTimeout });
  // Unheard, the error event is printed as "Unhandled error event" for every reconnection.
  client.on('error', () => undefined);
  return client;
}
