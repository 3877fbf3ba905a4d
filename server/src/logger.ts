import { destination, pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * JSON lines on stdout, one object per event (tests and log shippers parse them). Written
 * asynchronously: a synchronous write per line holds the event loop for every request, and a burst
 * of hostile requests (hundreds of refused sign-ins at once) turned that into /healthz answering
 * late. Lines written meanwhile go out together; pino flushes what is left when the process exits.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { pid: process.pid } }, destination({ dest: 1, sync: false }));
}
