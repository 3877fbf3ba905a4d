import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';

/** The longest pause between the tries of a call that met another process's lock. */
const MAX_BUSY_PAUSE_MS = 8;

/**
 * Runs `call` (statements of `db`, whose busy_timeout is 0), again after a pause for as long as
 * it meets another connection's lock, up to `busyTimeoutMs` after it first met it; then fails
 * naming `what()`. Nothing beyond the call itself runs unless the lock is met: this wraps every
 * KV read. SQLite's own busy handler would sleep the whole process, a millisecond or more each
 * time; these pauses let the event loop serve other requests. The first pause is one turn of the loop (a transaction
 * holds the lock for well under a millisecond), then they double up to MAX_BUSY_PAUSE_MS. A call
 * that met the lock changed nothing: a write takes the lock before it changes anything.
 */
export async function whenUnlocked<T>(db: Database.Database, busyTimeoutMs: number, what: () => string, call: () => T): Promise<T> {
  let deadline: number | undefined;
  for (let pause = 0; ; pause = Math.min(MAX_BUSY_PAUSE_MS, Math.max(1, 2 * pause))) {
    try {
      return call();
    } catch (error) {
      if (!isBusy(error)) throw error;
      deadline ??= Date.now() + busyTimeoutMs;
      if (Date.now() >= deadline) {
        throw new Error(`SQLite ${db.name}: ${what()}: another process held the database for ${busyTimeoutMs} ms`, { cause: error });
      }
    }
    await (pause === 0 ? nextTurn() : sleep(pause));
  }
}

/**
 * SQLITE_BUSY and its extended codes: another connection holds a lock the call needs. By its code,
 * not its class: the job queue's better-sqlite3 may be another copy than this package's.
 */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
