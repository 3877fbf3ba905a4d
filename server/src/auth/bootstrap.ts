import { AccountConflict, TOKEN_SCOPES, type AccountStore } from '@gitfleet/accounts';
import type { BootstrapAdminConfig } from '../config.js';
import type { Logger } from '../logger.js';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap';

/**
 * Creates the administrator of GITFLEET_ADMIN_* (and its token) when no user of that name
 * exists; an existing user is left exactly as it is, whatever the settings say now.
 * Several servers of a fleet starting together race for it: one creates, the others see it taken.
 */
export async function bootstrapAdmin(accounts: AccountStore, admin: BootstrapAdminConfig, logger: Logger): Promise<void> {
  if (await accounts.getUser(admin.name)) return;
  try {
    await accounts.createUser({ name: admin.name, email: admin.email, password: admin.password, isAdmin: true });
  } catch (error) {
    if (error instanceof AccountConflict) return;
    throw new Error(`bootstrap administrator ${admin.name} (GITFLEET_ADMIN_*): ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (admin.token !== undefined) {
    await accounts.createToken(admin.name, { name: BOOTSTRAP_TOKEN_NAME, scopes: TOKEN_SCOPES, secret: admin.token });
  }
  logger.info({ user: admin.name, token: admin.token !== undefined }, 'bootstrap administrator created');
}
