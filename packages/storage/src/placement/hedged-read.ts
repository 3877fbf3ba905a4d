import { placementFailure, type StoreFailure } from './placement-error.js';
import { StoreTimeoutError } from './timeout.js';

export interface HedgedReadOptions<M, T> {
  /** What is being read, for errors, e.g. "read of blob k". */
  what: string;
  /** How long a store has before the next one is asked as well; 0 = no limit. */
  hedgeAfterMs: number;
  /**
   * How long, counted from when it was asked, a silent store keeps its chance once every
   * other store has answered without the blob. Default 5 × hedgeAfterMs.
   */
  giveUpAfterMs?: number;
  answered(member: M): void;
  failed(member: M): void;
  /** Receives results that arrive after another store already answered (e.g. to close a stream). */
  discard?(late: T): void;
}

type AttemptState = 'waiting' | 'slow' | 'absent' | 'failed';

/**
 * The first defined result of `read` over `members`, asked in order. The next member is asked
 * as soon as the previous one answers "absent" or fails, or once it has been silent for
 * `hedgeAfterMs`; a slow member keeps its chance — whichever holder answers first wins — so a
 * store under load delays a read rather than failing it.
 *
 * Undefined only when every member answered "absent". When none has the blob but some failed
 * or stayed silent past `giveUpAfterMs`, the read rejects: such a store may hold the only copy.
 */
export function hedgedRead<M extends { name: string }, T>(
  members: readonly M[],
  read: (member: M) => Promise<T | undefined>,
  options: HedgedReadOptions<M, T>,
): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const states: AttemptState[] = [];
    const askedAt: number[] = [];
    const failures: StoreFailure[] = [];
    const giveUpAfterMs = options.giveUpAfterMs ?? 5 * options.hedgeAfterMs;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;

    const settle = () => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(giveUpTimer);
    };
    const finishIfAllAnswered = () => {
      if (settled || states.length < members.length || states.includes('waiting')) return;
      const silent = states.flatMap((state, index) => (state === 'slow' ? [index] : []));
      clearTimeout(giveUpTimer);
      const wait = Math.max(0, ...silent.map((index) => askedAt[index] + giveUpAfterMs - Date.now()));
      if (silent.length > 0 && wait > 0) {
        giveUpTimer = setTimeout(finishIfAllAnswered, wait);
        return;
      }
      settle();
      const problems = [
        ...failures,
        ...silent.map((index) => ({ store: members[index].name, error: new StoreTimeoutError(`no answer within ${giveUpAfterMs} ms`) })),
      ];
      if (problems.length === 0) resolve(undefined);
      else reject(placementFailure(`${options.what}: not on any store that answered, and ${problems.length} did not`, problems));
    };

    const askNext = () => {
      clearTimeout(timer);
      if (settled) return;
      if (states.length === members.length) return finishIfAllAnswered();
      const index = states.length;
      const member = members[index];
      states.push('waiting');
      askedAt.push(Date.now());
      if (options.hedgeAfterMs > 0 && Number.isFinite(options.hedgeAfterMs)) {
        timer = setTimeout(() => {
          states[index] = 'slow';
          options.failed(member);
          askNext();
        }, options.hedgeAfterMs);
      }
      // Only the newest attempt moves on to the next member; an overtaken one just reports.
      const done = (state: 'absent' | 'failed') => {
        const newest = states[index] === 'waiting';
        states[index] = state;
        if (newest) askNext();
        else finishIfAllAnswered();
      };
      read(member).then(
        (result) => {
          if (settled) {
            if (result !== undefined) options.discard?.(result);
            return;
          }
          options.answered(member);
          if (result === undefined) return done('absent');
          settle();
          resolve(result);
        },
        (error: unknown) => {
          if (settled) return;
          options.failed(member);
          failures.push({ store: member.name, error });
          done('failed');
        },
      );
    };
    askNext();
  });
}
