import { AccountStore } from '@gitfleet/accounts';
import { RepositoryRegistry } from '@gitfleet/repository';
import { configuredBaseUrl } from '../app.js';
import { ConfigError, loadConfig, type ServerConfig } from '../config.js';
import { openStores, type OpenStores } from '../stores.js';
import { CliError } from './errors.js';

/** What the account and repository commands work on: the server's own stores, opened directly. */
export interface CliContext {
  config: ServerConfig;
  stores: OpenStores;
  accounts: AccountStore;
  registry: RepositoryRegistry;
  /** The URL clients reach the server at, as well as the CLI can tell without the server. */
  baseUrl: string;
}

export function configFromEnvironment(): ServerConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

export function cliBaseUrl(config: ServerConfig): string {
  return configuredBaseUrl(config, config.port);
}

/**
 * Opens the stores from the same configuration as the server (environment variables), runs
 * `action`, closes them. A running server on the same data is fine: SQLite is in WAL mode with
 * a busy timeout, Redis serves many clients, and every change is a compare-and-swap.
 */
export async function withStores<T>(action: (context: CliContext) => Promise<T>): Promise<T> {
  const config = configFromEnvironment();
  const stores = await openStores(config);
  try {
    return await action({
      config,
      stores,
      accounts: new AccountStore(stores.kv),
      registry: new RepositoryRegistry(stores),
      baseUrl: cliBaseUrl(config),
    });
  } finally {
    await stores.close();
  }
}
