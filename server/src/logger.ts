import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** JSON lines on stdout, one object per event (tests and log shippers parse them). */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { pid: process.pid } });
}
