/** The site administrator of every test server; this module imports nothing, so that every helper can use it. */

/**
 * The site administrator every test server starts with (GITFLEET_ADMIN_*), and its token (every
 * scope), known in advance so that no test needs a round trip to get it. "admin" itself is a
 * reserved owner name (it would shadow a web path).
 */
export const TEST_ADMIN = 'root';
export const TEST_ADMIN_PASSWORD = 'test-admin-password';
export const TEST_ADMIN_EMAIL = 'root@gitfleet.test';
export const TEST_ADMIN_TOKEN = 'gf_testadmintoken0123456789abcdefghijklmnopq';

/** The environment that makes a server create TEST_ADMIN at start-up. */
export const TEST_ADMIN_ENV: Readonly<Record<string, string>> = {
  GITFLEET_ADMIN_USER: TEST_ADMIN,
  GITFLEET_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
  GITFLEET_ADMIN_EMAIL: TEST_ADMIN_EMAIL,
  GITFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
};

/** Headers that authenticate a fetch() as TEST_ADMIN. */
export function adminHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...extra };
}

/** `git -c …` arguments that make git send TEST_ADMIN's token with every HTTP request. */
export const ADMIN_GIT_CONFIG: readonly string[] = ['-c', `http.extraHeader=Authorization: Bearer ${TEST_ADMIN_TOKEN}`];
