import type { KVStore } from '@gitfleet/storage';
import type { PasswordChecker } from './passwords.js';

/** What every accounts module works with. */
export interface AccountsContext {
  kv: KVStore;
  passwords: PasswordChecker;
  /** The current time (a test may move it forward to expire tokens and sessions). */
  now(): Date;
}
