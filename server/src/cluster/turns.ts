import cluster, { type Worker } from 'node:cluster';

/**
 * Turns at a kind of work that may run only so many at a time, granted first come, first
 * served. `take` resolves once the turn is the caller's; the caller gives it back exactly once.
 */
export interface Turns {
  take(): Promise<GiveBack>;
  /** Turns being waited for (held ones are counted by whoever holds them). */
  waiting(): number;
}

export type GiveBack = () => void;

/** Turns counted in this process: the bound holds for it alone. */
export class LocalTurns implements Turns {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async take(): Promise<GiveBack> {
    if (this.running < this.limit) this.running++;
    // The finishing holder hands its turn over directly (running stays the same).
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    return once(() => {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    });
  }

  waiting(): number {
    return this.queue.length;
  }
}

/** The kinds of work whose turns the primary counts for the machine. */
export const MACHINE_TURN_KINDS = { passwordChecks: 'password-checks' } as const;

const TAKE = 'gitfleet:turn-take';
const GRANTED = 'gitfleet:turn-granted';
const GIVE_BACK = 'gitfleet:turn-give-back';

interface TurnMessage {
  type: typeof TAKE | typeof GRANTED | typeof GIVE_BACK;
  kind: string;
  id: number;
}

/**
 * Turns counted by the cluster's primary for every worker of the machine: a bound meant for the
 * machine's cores (password checks: each argon2 verification takes a core for tens of
 * milliseconds) holds however the requests spread over the workers. A worker asks over its IPC
 * channel; the primary grants turns in the order asked and takes back those of a worker that dies.
 */
export class MachineTurns implements Turns {
  private nextId = 0;
  private readonly pending = new Map<number, () => void>();

  constructor(private readonly kind: string) {
    process.on('message', (message: unknown) => {
      if (!isTurnMessage(message, GRANTED) || message.kind !== kind) return;
      const grant = this.pending.get(message.id);
      this.pending.delete(message.id);
      grant?.();
    });
  }

  async take(): Promise<GiveBack> {
    const id = this.nextId++;
    const granted = new Promise<void>((resolve, reject) => {
      this.pending.set(id, resolve);
      send({ type: TAKE, kind: this.kind, id }, (error) => {
        this.pending.delete(id);
        reject(error);
      });
    });
    await granted;
    // A give-back that cannot be sent has no one to go to: the primary is gone, and with it the count.
    return once(() => send({ type: GIVE_BACK, kind: this.kind, id }, () => undefined));
  }

  waiting(): number {
    return this.pending.size;
  }
}

/**
 * Called once by the cluster's primary: grants the workers' turns of each kind in `limits`
 * (kind → turns at once for the whole machine).
 */
export function grantTurnsInPrimary(limits: Record<string, number>): void {
  if (!cluster.isPrimary) throw new Error('grantTurnsInPrimary: this process is not the cluster primary');
  const ledgers = new Map(Object.entries(limits).map(([kind, limit]) => [kind, new TurnLedger(limit)]));
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isTurnMessage(message, TAKE) && !isTurnMessage(message, GIVE_BACK)) return;
    const ledger = ledgers.get(message.kind);
    if (ledger === undefined) return;
    const holder = { worker, id: message.id };
    if (message.type === TAKE) ledger.take(holder, () => grant(holder, message.kind));
    else ledger.giveBack(holder);
  });
  cluster.on('exit', (worker) => ledgers.forEach((ledger) => ledger.forget(worker)));
}

function grant(holder: Holder, kind: string): void {
  if (holder.worker.isConnected()) holder.worker.send({ type: GRANTED, kind, id: holder.id } satisfies TurnMessage);
}

interface Holder {
  worker: Worker;
  id: number;
}

/** The primary's account of one kind of turn: who holds one, who waits, in order. */
class TurnLedger {
  private readonly holders: Holder[] = [];
  private readonly queue: Array<{ holder: Holder; grant: () => void }> = [];

  constructor(private readonly limit: number) {}

  take(holder: Holder, grant: () => void): void {
    if (this.holders.length < this.limit) {
      this.holders.push(holder);
      grant();
    } else {
      this.queue.push({ holder, grant });
    }
  }

  giveBack(holder: Holder): void {
    const at = this.holders.findIndex((held) => held.worker === holder.worker && held.id === holder.id);
    if (at === -1) return;
    this.holders.splice(at, 1);
    this.grantWaiting();
  }

  /** A worker that died holds nothing and waits for nothing any more. */
  forget(worker: Worker): void {
    remove(this.holders, (held) => held.worker === worker);
    remove(this.queue, (waiting) => waiting.holder.worker === worker);
    this.grantWaiting();
  }

  private grantWaiting(): void {
    while (this.holders.length < this.limit && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.holders.push(next.holder);
      next.grant();
    }
  }
}

function remove<T>(items: T[], doomed: (item: T) => boolean): void {
  for (let at = items.length - 1; at >= 0; at--) if (doomed(items[at])) items.splice(at, 1);
}

/** Sends to the primary; `failed` hears why a message could not go (the channel closed: the primary is gone). */
function send(message: TurnMessage, failed: (error: Error) => void): void {
  if (!process.send) {
    failed(new Error('MachineTurns: this process has no channel to a cluster primary'));
    return;
  }
  process.send(message, undefined, {}, (error: Error | null) => {
    if (error) failed(error);
  });
}

function isTurnMessage(message: unknown, type: TurnMessage['type']): message is TurnMessage {
  const candidate = message as Partial<TurnMessage> | null;
  return candidate?.type === type && typeof candidate.kind === 'string' && typeof candidate.id === 'number';
}

function once(action: () => void): GiveBack {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
