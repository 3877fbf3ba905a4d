/** What the cluster's primary and its workers say to each other over node:cluster's IPC channel. */

import cluster from 'node:cluster';
import type { RepositoryInfo } from '@gitfleet/repository';

/** The environment variable that gives a worker its slot (0 … workers - 1). */
export const WORKER_SLOT_VARIABLE = 'GITFLEET_WORKER_SLOT';

/**
 * This process's slot when it is a worker forked by Gitfleet's own primary; undefined otherwise,
 * also under another node:cluster supervisor (PM2's cluster mode), whose primary answers none of
 * our messages.
 */
export function ownWorkerSlot(): number | undefined {
  const slot = process.env[WORKER_SLOT_VARIABLE];
  return cluster.isWorker && slot !== undefined && /^\d+$/.test(slot) ? Number(slot) : undefined;
}

/** Primary to worker: stop as on SIGTERM (finish running requests, then exit). */
export const SHUTDOWN_MESSAGE = { type: 'gitfleet:shutdown' } as const;

/** Worker to primary: started and listening at `url`. */
export interface ReadyMessage {
  type: 'gitfleet:ready';
  url: string;
}

export function isShutdownMessage(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === SHUTDOWN_MESSAGE.type;
}

export function isReadyMessage(message: unknown): message is ReadyMessage {
  const candidate = message as Partial<ReadyMessage> | null;
  return candidate?.type === 'gitfleet:ready' && typeof candidate.url === 'string';
}

/**
 * Worker to primary, and primary to every other worker: a full repack of `repository` was
 * published; load its new sidecars before a clone asks for them (maintenance/warm-sidecars.ts).
 */
export interface WarmMessage {
  type: 'gitfleet:warm';
  repository: RepositoryInfo;
}

export function isWarmMessage(message: unknown): message is WarmMessage {
  const candidate = message as Partial<WarmMessage> | null;
  return candidate?.type === 'gitfleet:warm' && typeof candidate.repository?.id === 'string';
}
