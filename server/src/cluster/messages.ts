/** What the cluster's primary and its workers say to each other over node:cluster's IPC channel. */

/** The environment variable that gives a worker its slot (0 … workers - 1). */
export const WORKER_SLOT_VARIABLE = 'GITFLEET_WORKER_SLOT';

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
