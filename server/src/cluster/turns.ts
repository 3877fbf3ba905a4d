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
const REFUSED = 'gitfleet:turn-refused';
const GIVE_BACK = 'gitfleet:turn-give-back';

interface TurnMessage {
  type: typeof TAKE | typeof GRANTED | typeof REFUSED | typeof GIVE_BACK;
  kind: string;
  id: number;
}

/** How many of a kind of work run at once on the machine, and how many more may wait for a turn. */
export interface TurnLimits {
  turns: number;
  waiting: number;
}

/** The machine has as many waiting as it allows: the work is refused rather than queued. */
export class TurnsRefused extends Error {
  override name = 'TurnsRefused';
}

/** Unique in the process, whichever MachineTurns asks: every one of them hears every answer. */
let nextTurnId = 0;

/**
 * Turns counted by the cluster's primary for every worker of the machine: a bound meant for the
 * machine's cores (password checks: each argon2 verification takes a core for tens of
 * milliseconds) holds however the requests spread over the workers. A worker asks over its IPC
 * channel; the primary grants turns in the order asked and takes back those of a worker that dies.
 */
export class MachineTurns implements Turns {
  private readonly pending = new Map<number, { grant: () => void; refuse: (error: Error) => void }>();

  constructor(private readonly kind: string) {
    process.on('message', (message: unknown) => {
      const answer = isTurnMessage(message, GRANTED) || isTurnMessage(message, REFUSED) ? message : undefined;
      if (answer?.kind !== kind) return;
      const asked = this.pending.get(answer.id);
      if (asked === undefined) return;
      this.pending.delete(answer.id);
      if (answer.type === GRANTED) asked.grant();
      else asked.refuse(new TurnsRefused(`the machine has as many ${kind} waiting as it allows`));
    });
  }

  async take(): Promise<GiveBack> {
    const id = nextTurnId++;
    const granted = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { grant: resolve, refuse: reject });
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
 * (kind → turns at once and waiting for the whole machine), refusing a turn beyond those.
 */
export function grantTurnsInPrimary(limits: Record<string, TurnLimits>): void {
  if (!cluster.isPrimary) throw new Error('grantTurnsInPrimary: this process is not the cluster primary');
  const ledgers = new Map(Object.entries(limits).map(([kind, limit]) => [kind, new TurnLedger(limit)]));
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isTurnMessage(message, TAKE) && !isTurnMessage(message, GIVE_BACK)) return;
    const ledger = ledgers.get(message.kind);
    if (ledger === undefined) return;
    const holder = { worker, id: message.id };
    if (message.type === GIVE_BACK) ledger.giveBack(holder);
    else if (!ledger.take(holder, () => answer(holder, message.kind, GRANTED))) answer(holder, message.kind, REFUSED);
  });
  cluster.on('exit', (worker) => ledgers.forEach((ledger) => ledger.forget(worker)));
}

function answer(holder: Holder, kind: string, type: typeof GRANTED | typeof REFUSED): void {
  if (holder.worker.isConnected()) holder.worker.send({ type, kind, id: holder.id } satisfies TurnMessage);
}

interface Holder {
  worker: Worker;
  id: number;
}

/** The primary's account of one kind of turn: who holds one, who waits, in order. */
class TurnLedger {
  private readonly holders: Holder[] = [];
  private readonly queue: Array<{ holder: Holder; grant: () => void }> = [];

  constructor(private readonly limits: TurnLimits) {}

  /** False when the turn is refused: every turn is held and as many wait as may. */
  take(holder: Holder, grant: () => void): boolean {
    if (this.holders.length < this.limits.turns) {
      this.holders.push(holder);
      grant();
    } else if (this.queue.length < this.limits.waiting) {
      this.queue.push({ holder, grant });
    } else {
      return false;
    }
    return true;
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
    while (this.holders.length < this.limits.turns && this.queue.length > 0) {
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
