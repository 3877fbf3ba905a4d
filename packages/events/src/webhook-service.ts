import { createHash, randomUUID } from 'node:crypto';
import type { ObjectId } from '@gitfleet/git-format';
import type { AppliedRefUpdate } from '@gitfleet/protocol';
import { LoopPacer, findJournaledTransaction, type Ref, type Repository, type RepositoryInfo } from '@gitfleet/repository';
import type { KVStore } from '@gitfleet/storage';
import { DeadLetters, type DeadLetter, type DeadLetterChange } from './deliveries/dead-letters.js';
import { DeliveryLog, type DeliveryAttempt } from './deliveries/delivery-log.js';
import { deliveryQueueRetry } from './deliveries/delivery-retry.js';
import { sendDelivery } from './deliveries/http-sender.js';
import { signedRequest } from './deliveries/signing.js';
import { HookTargetRefused, type HookTargetPolicy } from './deliveries/target-policy.js';
import {
  HookValidationError,
  hookWants,
  parseHookSettings,
  type DeliveryEvent,
  type Hook,
  type HookLimits,
  type HookSettings,
  type HookTarget,
} from './hooks/hook.js';
import { hookJson, requestPayload } from './hooks/hook-json.js';
import { mayFenceNow, settleRefTransaction, type Settlement } from './outbox/settle-transaction.js';
import { HookStore } from './hooks/hook-store.js';
import { BranchFilterDecisions } from './hooks/branch-filter-decisions.js';
import {
  buildPingPayload,
  buildRefEvents,
  buildStatusPayload,
  repositoryNumericId,
  type CommitStatus,
  type PayloadLimits,
  type StatusPayloadOptions,
} from './payloads/index.js';
import type { Job, JobQueue, QueueDepth, RetryPolicy } from './queue/job-queue.js';

export interface WebhookSettings {
  /**
   * How long a push's recorded events wait for the push to say its ref update is over; only
   * a push whose process died in between waits this long, then its fence decides (settle-transaction.ts).
   */
  recoveryDelayMs: number;
  /**
   * The youngest a push's recorded events may be when its fence is set (at least the recovery
   * delay counts): how long a live push may take before the fence fails it. MIN_FENCE_AGE_MS in
   * a server; tests of the fence lower it (see server/src/config.ts).
   */
  minFenceAgeMs: number;
  /** Per attempt: connect, send and answer (GitHub's is 10 s). */
  timeoutMs: number;
  /** Of one delivery: attempts, and the backoff between them (timeouts, connection errors, 5xx). */
  retry: RetryPolicy;
  /** A hook is deactivated after this many deliveries in a row failed for good; 0 never. */
  disableAfter: number;
  /** Attempts kept in each hook's delivery log. */
  keepAttempts: number;
  /** Dead letters kept per hook; beyond, the oldest are evicted and counted (dead-letters.ts). */
  keepDeadLetters: number;
  /** Response body bytes kept per attempt. */
  maxResponseBytes: number;
  /** What a hook's settings may be (checked when it is saved). */
  hookLimits: HookLimits;
  /**
   * Hooks one repository or owner may have (GitHub's 20): every push's events are expanded,
   * queued and sent once per hook, so their number bounds the work one push can cause.
   */
  maxHooksPerTarget: number;
  /** How much of a push its payloads describe. */
  payloadLimits: PayloadLimits;
  /** Automaton states the branch filters of one push may visit, all hooks and refs together (see BranchFilterDecisions). */
  branchFilterStepsPerPush: number;
}

/** Who pushed, and the base URL the payload's links use. */
export interface RefEventsContext {
  pusher: { name: string; email: string };
  baseUrl: string;
}

/**
 * The outbox record of one ref transaction: written durably before its compare-and-swap,
 * expanded into deliveries once durable state settles which of its updates were applied
 * (settleRefTransaction).
 */
export interface RefEventsJob {
  /** Names the transaction: in its reflog message, its ref update's fence, and the ids of its deliveries. */
  transaction: string;
  repository: RepositoryInfo;
  /** The updates the push was about to apply; only those the reflog confirms have events. */
  updates: AppliedRefUpdate[];
  /** Branches and tags just before the push: what was already pushed. */
  refsBefore: Ref[];
  /** The reflog message written with each of the updates. */
  reflogMessage: string;
  /** The account id of the repository's owner when the push happened (null: no such account). */
  ownerId: string | null;
  /** When the pushing process recorded it (ms since the epoch). */
  recordedAt: number;
  /**
   * Set once the compare-and-swap has returned: an update the reflog does not confirm was then
   * refused. Until then (the pusher may have died), the fence tells.
   */
  settled: boolean;
  context: RefEventsContext;
}

/** A push's recorded events, between its two steps (see recordRefEvents). */
export interface PendingRefEvents {
  /** For receive-pack to write with the updates. */
  reflogMessage: string;
  /** For receive-pack to give its ref update (RefUpdateOptions.fence). */
  fence: string;
  job: RefEventsJob;
}

/** One event for one hook: the unit that is sent, retried and logged. */
export interface DeliveryJob {
  /** X-GitHub-Delivery: the same on every attempt, and on manual redeliveries. */
  guid: string;
  target: HookTarget;
  hookId: number;
  event: DeliveryEvent;
  action: string | null;
  repositoryId: number | null;
  /** JSON text, fixed when the delivery was created. */
  payload: string;
  redelivery: boolean;
}

export interface WebhookLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface WebhookServiceOptions {
  kv: KVStore;
  /** Ref transactions waiting to become deliveries. */
  refEvents: JobQueue<RefEventsJob>;
  deliveries: JobQueue<DeliveryJob>;
  /** The repository a ref transaction happened in, from the info recorded with it. */
  repository(info: RepositoryInfo): Repository;
  /** The immutable account id of an owner (user or organisation) by name; undefined when there is none. */
  ownerId(name: string): Promise<string | undefined>;
  /** Where hooks may send deliveries. */
  targets: HookTargetPolicy;
  settings: WebhookSettings;
  logger: WebhookLogger;
  /** Told of every change of the dead-letter lists (for metrics). */
  onDeadLetter?(change: DeadLetterChange, count: number): void;
}

/**
 * Webhooks end to end: hooks and their delivery log in the KV store; a ref transaction
 * recorded durably before it is applied (an outbox), expanded into one delivery per hook and
 * event once the reflog confirms what was applied; commit statuses; deliveries signed, sent,
 * retried with backoff and logged; a hook deactivated after a run of failed deliveries.
 *
 * The expansion is idempotent: the delivery ids (guids) of a transaction are derived from its
 * id, the hook, the event and the ref, so a transaction expanded twice (its worker died
 * half-way) queues each delivery once.
 */
export class WebhookService {
  readonly hooks: HookStore;
  readonly log: DeliveryLog;
  readonly deadLetters: DeadLetters;

  constructor(private readonly options: WebhookServiceOptions) {
    this.hooks = new HookStore(options.kv);
    this.log = new DeliveryLog(options.kv, options.settings.keepAttempts);
    this.deadLetters = new DeadLetters(options.kv, options.settings.keepDeadLetters, options.onDeadLetter);
  }

  /** Starts this process's workers on both queues. */
  start(): void {
    this.options.refEvents.work((job) => this.expand(job));
    this.options.deliveries.work((job) => this.deliver(job));
  }

  async close(): Promise<void> {
    await Promise.all([this.options.refEvents.close(), this.options.deliveries.close()]);
  }

  /** The jobs not finished of both queues, shared by every server process (read by monitoring). */
  async queueDepths(): Promise<{ 'ref-events': QueueDepth; deliveries: QueueDepth }> {
    const [refEvents, deliveries] = await Promise.all([this.options.refEvents.depth(), this.options.deliveries.depth()]);
    return { 'ref-events': refEvents, deliveries };
  }

  /**
   * Step one of a push's events, before its compare-and-swap: records durably the updates it is
   * about to make and the refs as they are (an outbox), due after the recovery delay. Throws
   * when it cannot; the push must then fail, since its events could be lost. Undefined when no
   * hook would hear of the push.
   */
  async recordRefEvents(
    repo: Repository,
    updates: readonly AppliedRefUpdate[],
    context: RefEventsContext,
  ): Promise<PendingRefEvents | undefined> {
    if (updates.length === 0) return undefined;
    const ownerId = (await this.options.ownerId(repo.info.owner)) ?? null;
    const hooks = await this.hooksFor(repo.info, ownerId);
    if (!hooks.some((hook) => REF_EVENTS.some((event) => hookWants(hook, event)))) return undefined;
    const transaction = randomUUID();
    const refsBefore = (await repo.refs.list()).filter((ref) => ref.name.startsWith('refs/heads/') || ref.name.startsWith('refs/tags/'));
    const reflogMessage = `push (events ${transaction})`;
    const job: RefEventsJob = {
      transaction,
      repository: repo.info,
      updates: [...updates],
      refsBefore,
      reflogMessage,
      ownerId,
      recordedAt: Date.now(),
      settled: false,
      context,
    };
    await this.options.refEvents.add(transaction, job, { delayMs: this.options.settings.recoveryDelayMs });
    return { reflogMessage, fence: transaction, job };
  }

  /**
   * Step two, once the compare-and-swap has returned (whatever it applied): the recorded
   * events are due now. Missing this step (a crash) only delays them by the recovery delay.
   */
  async refsUpdated(pending: PendingRefEvents): Promise<void> {
    const settled: RefEventsJob = { ...pending.job, settled: true };
    if (await this.options.refEvents.promote(settled.transaction, settled)) return;
    // A worker took the job first (the update outlasted the recovery delay) and may have seen
    // too little of it: a second job expands it again. Its deliveries have the same ids, so
    // none is queued twice.
    await this.options.refEvents.add(`${settled.transaction}.settled`, settled);
  }

  /**
   * Queues the `status` event of a commit status just stored, for every hook that wants it,
   * before the API answers: a status acknowledged to its poster has its deliveries queued.
   */
  async statusCreated(repo: Repository, sha: ObjectId, status: CommitStatus, options: StatusPayloadOptions): Promise<void> {
    const ownerId = (await this.options.ownerId(repo.info.owner)) ?? null;
    const hooks = (await this.hooksFor(repo.info, ownerId)).filter((hook) => hookWants(hook, 'status'));
    if (hooks.length === 0) return;
    const payload = JSON.stringify(await buildStatusPayload(repo, sha, status, options));
    const repositoryId = repositoryNumericId(repo);
    for (const hook of hooks) {
      await this.queueDelivery({
        guid: derivedUuid(`status:${repo.info.id}:${status.id}:${hook.id}`),
        target: hook.target,
        hookId: hook.id,
        event: 'status',
        action: null,
        repositoryId,
        payload,
        redelivery: false,
      });
    }
  }

  /** Creates a hook from a GitHub- or Gitea-shaped request body and queues its ping. */
  async createHook(target: HookTarget, body: unknown, ping: PingContext): Promise<Hook> {
    const settings = await this.checkedSettings(body);
    // Counted before the write, not atomically with it: concurrent creations by the target's
    // admins may pass the cap by as many requests as they make at once, which their own
    // connection limits bound.
    const { maxHooksPerTarget } = this.options.settings;
    if ((await this.hooks.list(target)).length >= maxHooksPerTarget) {
      throw new HookValidationError(
        'hooks',
        `this ${target.kind === 'repository' ? 'repository' : 'owner'} has reached the maximum of ${maxHooksPerTarget} hooks`,
      );
    }
    const hook = await this.hooks.create(target, settings);
    if (hook.active) await this.ping(hook, ping);
    return hook;
  }

  async updateHook(target: HookTarget, id: number, body: unknown): Promise<Hook | undefined> {
    const current = await this.hooks.get(target, id);
    if (!current) return undefined;
    // Checked against the hook as it is now; the settings a concurrent update wrote are re-read below.
    await this.checkedSettings(body, current);
    return this.hooks.update(target, id, (hook) => {
      const settings = parseHookSettings(body, this.options.settings.hookLimits, hook);
      const reactivated = settings.active && !hook.active;
      return {
        ...hook,
        ...settings,
        updatedAt: new Date().toISOString(),
        // Turning a hook back on gives it a clean slate.
        ...(reactivated ? { consecutiveFailures: 0, disabledReason: undefined } : {}),
      };
    });
  }

  /** The settings of a request, its URL included: refused (HookValidationError) when it aims at an address hooks may not reach. */
  private async checkedSettings(body: unknown, current?: HookSettings): Promise<HookSettings> {
    const settings = parseHookSettings(body, this.options.settings.hookLimits, current);
    try {
      await this.options.targets.checkUrl(settings.config.url);
    } catch (error) {
      if (error instanceof HookTargetRefused) throw new HookValidationError('config.url', error.message);
      throw error;
    }
    return settings;
  }

  async deleteHook(target: HookTarget, id: number): Promise<boolean> {
    const deleted = await this.hooks.delete(target, id);
    if (deleted) await Promise.all([this.log.clear(target, id), this.deadLetters.clear(target, id)]);
    return deleted;
  }

  /** Queues a ping to the hook (on creation, and through the API). */
  async ping(hook: Hook, context: PingContext): Promise<void> {
    const payload =
      hook.target.kind === 'repository' && context.repository
        ? buildPingPayload(pingHook(hook, context.baseUrl), context.repository, context.baseUrl, {
            defaultBranch: await defaultBranch(context.repository),
          })
        : organizationPing(hook, context.baseUrl);
    await this.queueDelivery({
      guid: randomUUID(),
      target: hook.target,
      hookId: hook.id,
      event: 'ping',
      action: null,
      repositoryId: context.repository ? repositoryNumericId(context.repository) : null,
      payload: JSON.stringify(payload),
      redelivery: false,
    });
  }

  /**
   * Queues a new attempt of a logged delivery, with its guid and payload (GitHub's redelivery).
   * Like every delivery it is retried, becomes a dead letter if it fails for good, and once it
   * succeeds, the dead letter of its guid (if any) is gone.
   */
  async redeliver(attempt: DeliveryAttempt, target: HookTarget): Promise<void> {
    await this.queueRedelivery({ ...attempt, payload: requestPayload(attempt) }, target);
  }

  /** Queues a new attempt of a dead letter (see redeliver); false when the hook has no such dead letter. */
  async replay(target: HookTarget, hookId: number, guid: string): Promise<boolean> {
    const letter = await this.deadLetters.get(target, hookId, guid);
    if (!letter) return false;
    await this.queueRedelivery(letter, target);
    return true;
  }

  private async queueRedelivery(
    delivery: Pick<DeliveryJob, 'guid' | 'hookId' | 'event' | 'action' | 'repositoryId' | 'payload'>,
    target: HookTarget,
  ): Promise<void> {
    const { guid, hookId, event, action, repositoryId, payload } = delivery;
    await this.options.deliveries.add(`${guid}:redelivery:${randomUUID()}`, {
      guid,
      target,
      hookId,
      event,
      action,
      repositoryId,
      payload,
      redelivery: true,
    });
  }

  private async hooksFor(repository: RepositoryInfo, ownerId: string | null): Promise<Hook[]> {
    const [own, organization] = await Promise.all([
      this.hooks.list(repositoryTarget(repository)),
      ownerId === null ? [] : this.hooks.list({ kind: 'organization', ownerId, owner: repository.owner }),
    ]);
    return [...own, ...organization].filter((hook) => hook.active);
  }

  private async expand(job: Job<RefEventsJob>): Promise<void> {
    const { transaction, repository: info, updates, refsBefore, context } = job.data;
    // Jobs queued before owner ids were recorded name only the owner.
    const ownerId = job.data.ownerId !== undefined ? job.data.ownerId : ((await this.options.ownerId(info.owner)) ?? null);
    const hooks = await this.hooksFor(info, ownerId);
    if (hooks.length === 0) return;
    const repo = this.options.repository(info);
    const fenceAgeMs = Math.max(this.options.settings.recoveryDelayMs, this.options.settings.minFenceAgeMs);
    let settlement: Settlement | undefined;
    try {
      const journal = (message: string, notBefore: number) => findJournaledTransaction(repo.stores, info.id, message, notBefore);
      const mayFence = mayFenceNow(job.data, job.attempt, fenceAgeMs, Date.now());
      settlement = await settleRefTransaction(repo.refs, journal, { ...job.data, fence: transaction }, mayFence);
    } catch (error) {
      // Unknown until the stores answer: the entry is tried again with backoff, never dropped for its age.
      this.options.logger.warn(
        { transaction, repo: info.id, pending_ms: Date.now() - job.data.recordedAt, attempt: job.attempt, err: error },
        'push events pending: whether the ref update committed cannot be read yet',
      );
      throw error;
    }
    if (!settlement)
      throw new Error(
        `push ${transaction} to ${info.owner}/${info.name}: its ref update is not in the reflog yet; its fence is set at the first try once it is ${fenceAgeMs} ms old`,
      );
    const { applied } = settlement;
    if (applied.length < updates.length) {
      const refused = updates.filter((update) => !applied.includes(update)).map((update) => update.name);
      this.options.logger.info({ transaction, repo: info.id, refused, by: settlement.by }, 'ref updates not applied: no events for them');
    }
    const events = await buildRefEvents(repo, applied, { ...context, refsBefore, limits: this.options.settings.payloadLimits });
    const repositoryId = repositoryNumericId(repo);
    const pacer = new LoopPacer(EXPANSION_TURN_MS);
    const filters = await BranchFilterDecisions.decide(
      hooks.map((hook) => hook.branchFilter),
      events.map((event) => event.ref),
      { maxSteps: this.options.settings.branchFilterStepsPerPush, pacer },
    );
    if (filters.stats.undecided > 0) {
      this.options.logger.warn(
        { transaction, repo: info.id, ...filters.stats },
        'branch filters too costly for this push: the matches left undecided count as not matching',
      );
    }
    for (const hook of hooks) {
      for (const { event, ref, payload } of events) {
        // Queueing may resolve without a real wait, and most pairs are skipped without one.
        await pacer.step();
        if (!hookWants(hook, event) || !filters.selects(hook.branchFilter, ref)) continue;
        await this.queueDelivery({
          // One event per ref and kind in a transaction: the same id however often it is expanded.
          guid: derivedUuid(`${transaction}:${hook.id}:${event}:${ref}`),
          target: hook.target,
          hookId: hook.id,
          event,
          action: null,
          repositoryId,
          payload: JSON.stringify(payload),
          redelivery: false,
        });
      }
    }
  }

  private queueDelivery(delivery: DeliveryJob): Promise<void> {
    return this.options.deliveries.add(delivery.guid, delivery);
  }

  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const { retry } = this.options.settings;
    try {
      if (job.attempt > retry.maxAttempts) await this.deadLetterExhausted(job);
      else await this.attemptDelivery(job);
    } catch (error) {
      if (job.attempt >= deliveryQueueRetry(retry).maxAttempts) {
        // The queue gives up on the job: this line is all that is left of the event.
        const { guid, target, hookId, event, action, repositoryId, redelivery, payload } = job.data;
        this.options.logger.error(
          { hook: hookId, target, guid, event, action, repositoryId, redelivery, attempt: job.attempt, payload, err: error },
          'webhook delivery lost: it failed for good and its dead letter could not be written',
        );
      }
      throw error;
    }
  }

  /**
   * A queue attempt beyond the delivery's retry policy (deliveryQueueRetry): its last attempt was
   * made, but something in its bookkeeping threw. Nothing is sent again; the dead letter is written
   * from the attempt the log shows last. The hook's failure run is not counted again, since the
   * last attempt may have counted it already.
   */
  private async deadLetterExhausted(job: Job<DeliveryJob>): Promise<void> {
    const { settings, logger } = this.options;
    const delivery = job.data;
    const details = { hook: delivery.hookId, guid: delivery.guid, event: delivery.event, attempt: job.attempt };
    if (!(await this.hooks.get(delivery.target, delivery.hookId))) {
      logger.info(details, 'webhook deleted: delivery dropped');
      return;
    }
    const logged = (await this.log.list(delivery.target, delivery.hookId)).find(
      (attempt) => attempt.guid === delivery.guid && attempt.redelivery === delivery.redelivery,
    );
    if (logged?.ok) {
      if (delivery.redelivery) await this.deadLetters.remove(delivery.target, delivery.hookId, delivery.guid, 'replayed');
      return;
    }
    const reason = logged ? statusLine(logged.statusCode, logged.status) : 'its attempts failed, and the last could not be logged';
    await this.deadLetter(delivery, { reason, lastAttemptId: logged?.id ?? null, attempts: settings.retry.maxAttempts });
    logger.warn(
      { ...details, delivery: logged?.id },
      'webhook delivery failed for good: kept as a dead letter once its bookkeeping was retried',
    );
  }

  private async attemptDelivery(job: Job<DeliveryJob>): Promise<void> {
    const { settings, logger } = this.options;
    const delivery = job.data;
    const hook = await this.hooks.get(delivery.target, delivery.hookId);
    if (!hook) {
      // Its owner deleted the hook, and with it the hook's log and dead letters: there is no one left to tell.
      logger.info({ hook: delivery.hookId, guid: delivery.guid, event: delivery.event }, 'webhook deleted: delivery dropped');
      return;
    }
    if (!hook.active) {
      await this.deadLetter(delivery, { reason: 'the webhook was inactive', lastAttemptId: null, attempts: 0 });
      logger.info({ hook: hook.id, guid: delivery.guid, event: delivery.event }, 'webhook inactive: delivery kept as a dead letter');
      return;
    }
    const request = signedRequest({
      event: delivery.event,
      guid: delivery.guid,
      hookId: hook.id,
      payload: delivery.payload,
      contentType: hook.config.contentType,
      secret: hook.config.secret,
    });
    const deliveredAt = new Date().toISOString();
    const result = await sendDelivery({
      url: hook.config.url,
      headers: request.headers,
      body: request.body,
      timeoutMs: settings.timeoutMs,
      insecureSsl: hook.config.insecureSsl,
      maxResponseBytes: settings.maxResponseBytes,
      policy: this.options.targets,
    });
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const attempt = await this.log.record(delivery.target, {
      guid: delivery.guid,
      hookId: hook.id,
      event: delivery.event,
      action: delivery.action,
      repositoryId: delivery.repositoryId,
      redelivery: delivery.redelivery,
      attempt: job.attempt,
      url: hook.config.url,
      deliveredAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      status: result.status,
      ok,
      request,
      response: { headers: result.headers, body: result.body, truncated: result.truncated },
    });
    if (!attempt) {
      logger.info({ hook: hook.id, guid: delivery.guid, event: delivery.event }, 'webhook deleted during its delivery: attempt not logged');
      return;
    }
    const final = ok || !result.retryable || job.attempt >= settings.retry.maxAttempts;
    const updated = await this.hooks.update(delivery.target, hook.id, (current) =>
      afterAttempt(current, result.statusCode, result.status, ok, final, settings.disableAfter),
    );
    const details = {
      hook: hook.id,
      guid: delivery.guid,
      event: delivery.event,
      attempt: job.attempt,
      status: result.statusCode ?? result.status,
      delivery: attempt.id,
    };
    if (ok) {
      logger.info(details, 'webhook delivered');
      // Only a redelivery can have a dead letter: automatic attempts stop when one is made.
      if (delivery.redelivery && (await this.deadLetters.remove(delivery.target, hook.id, delivery.guid, 'replayed')))
        logger.info(details, 'dead letter replayed: removed from the list');
      return;
    }
    if (updated && !updated.active && hook.active) logger.warn({ ...details, reason: updated.disabledReason }, 'webhook deactivated');
    if (final) {
      const reason = statusLine(result.statusCode, result.status);
      await this.deadLetter(delivery, { reason, lastAttemptId: attempt.id, attempts: job.attempt });
      logger.warn(details, 'webhook delivery failed for good: kept as a dead letter');
      return;
    }
    // The queue schedules the next attempt with backoff.
    throw new Error(`delivery ${delivery.guid} to hook ${hook.id} (${hook.config.url}): ${result.status}`);
  }

  private async deadLetter(delivery: DeliveryJob, failure: Pick<DeadLetter, 'reason' | 'lastAttemptId' | 'attempts'>): Promise<void> {
    const { guid, hookId, event, action, repositoryId, payload } = delivery;
    await this.deadLetters.add(delivery.target, {
      guid,
      hookId,
      event,
      action,
      repositoryId,
      payload,
      failedAt: new Date().toISOString(),
      ...failure,
    });
  }
}

export interface PingContext {
  baseUrl: string;
  /** The hook's repository; absent for an organisation's hook. */
  repository?: Repository;
}

export function repositoryTarget(info: RepositoryInfo): HookTarget {
  return { kind: 'repository', repositoryId: info.id, owner: info.owner, name: info.name };
}

/** The hook after an attempt: GitHub's last_response, and the failure run that deactivates it. */
function afterAttempt(hook: Hook, code: number | null, status: string, ok: boolean, final: boolean, disableAfter: number): Hook {
  const next: Hook = { ...hook, lastResponse: { code, status: ok ? 'active' : 'failed', message: status } };
  if (ok) return { ...next, consecutiveFailures: 0 };
  if (!final) return next;
  const failures = hook.consecutiveFailures + 1;
  if (disableAfter > 0 && failures >= disableAfter && hook.active) {
    return {
      ...next,
      consecutiveFailures: failures,
      active: false,
      disabledReason: `${failures} deliveries in a row failed (last: ${status})`,
      updatedAt: new Date().toISOString(),
    };
  }
  return { ...next, consecutiveFailures: failures };
}

/** An attempt's outcome as a dead letter's reason: "503 Service Unavailable", or what went wrong when no response came. */
function statusLine(code: number | null, status: string): string {
  return code === null ? status : `${code} ${status}`;
}

function pingHook(hook: Hook, baseUrl: string) {
  const json = hookJson(hook, baseUrl);
  return {
    ...json,
    config: {
      url: hook.config.url,
      content_type: hook.config.contentType,
      insecure_ssl: json.config.insecure_ssl,
      secret: hook.config.secret,
    },
  };
}

/** GitHub's ping for an organisation's hook carries the organisation instead of a repository. */
function organizationPing(hook: Hook, baseUrl: string): object {
  const login = hook.target.owner;
  return {
    zen: 'Design for failure.',
    hook_id: hook.id,
    hook: hookJson(hook, baseUrl),
    organization: { login, url: `${baseUrl.replace(/\/+$/, '')}/api/v1/orgs/${encodeURIComponent(login)}` },
    sender: { login },
  };
}

async function defaultBranch(repo: Repository): Promise<string> {
  return (await repo.refs.head()).replace(/^refs\/heads\//, '');
}

/** The events a ref transaction can have. */
const REF_EVENTS = ['push', 'create', 'delete'] as const;

/** Longest stretch a push's expansion keeps the event loop between turns (plus one match, a few ms at most). */
const EXPANSION_TURN_MS = 5;

/** A name-based UUID (version 5 layout, SHA-1 of the name): the same name always gives the same id. */
export function derivedUuid(name: string): string {
  const bytes = createHash('sha1').update(`gitfleet-delivery:${name}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
