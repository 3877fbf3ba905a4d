import type { Request } from 'express';
import type { AccountStore } from '@gitfleet/accounts';
import type { RepositoryRegistry } from '@gitfleet/repository';
import type { KVStore } from '@gitfleet/storage';
import type { WebhookService } from '@gitfleet/events';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import type { LoginGuard } from './auth/index.js';

/** What the routers of one server process share; built once at start-up (index.ts). */
export interface ServerServices {
  config: ServerConfig;
  registry: RepositoryRegistry;
  accounts: AccountStore;
  kv: KVStore;
  webhooks: WebhookService;
  /** Every password check: the login throttle and the caps of checks in flight. */
  logins: LoginGuard;
  logger: Logger;
  spoolDir: string;
  /** The base URL of links and clone URLs as this request's client sees the server. */
  baseUrl(req: Request): string;
}
