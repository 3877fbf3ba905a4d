import argon2 from 'argon2';

/** Password hashing (argon2id); a test may pass cheaper parameters. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/**
 * argon2id with the library's memory and time costs (or the given ones, for tests) and one lane:
 * a verification then keeps to one thread, so the server can bound the cores that password
 * checks take (GITFLEET_PASSWORD_CHECKS) and leave the event loop its own. (With the library's
 * four lanes, each check runs four threads and two at once starve the event loop on two cores.)
 */
export function argon2Hasher(options: { memoryCost?: number; timeCost?: number; parallelism?: number } = {}): PasswordHasher {
  return {
    hash: (password) => argon2.hash(password, { type: argon2.argon2id, parallelism: 1, ...options }),
    async verify(hash, password) {
      try {
        return await argon2.verify(hash, password);
      } catch {
        // A malformed stored hash matches no password.
        return false;
      }
    },
  };
}

/**
 * Verifies passwords, spending one verification even for unknown users, so that the time
 * taken does not tell whether a user exists.
 */
export class PasswordChecker {
  private dummyHash: Promise<string> | undefined;

  constructor(readonly hasher: PasswordHasher) {}

  hash(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      // Made with the same hasher (same costs) as real hashes, once per process.
      this.dummyHash ??= this.hasher.hash('gitfleet-dummy-password-for-unknown-users');
      await this.hasher.verify(await this.dummyHash, password);
      return false;
    }
    return this.hasher.verify(hash, password);
  }
}
