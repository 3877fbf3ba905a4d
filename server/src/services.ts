import type { Request } from 'express';
import type { AccountStore } from '@gitfleet/accounts';
import type { RepositoryRegistry } from '@gitfleet/repository';
import type { BlobStore, KVStore } from '@gitfleet/storage';
import type { WebhookService } from '@gitfleet/events';
import type { PackIndexPool } from '@gitfleet/protocol';
import type { Browsing } from './browsing.js';
import type { StorageQuotas } from './operations/storage-quotas.js';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import type { LoginGuard } from './auth/login-guard.js';
import type { MaintenanceScheduler } from './maintenance/scheduler.js';

/** What the routers of one server process share; built once at start-up (index.ts). */
export interface ServerServices {
  config: ServerConfig;
  registry: RepositoryRegistry;
  accounts: AccountStore;
  kv: KVStore;
  /** The blob store itself, for what lives beside repositories' packs (Git LFS objects). */
  blobs: BlobStore;
  /** Storage usage and quotas per owner, asked before a push or an LFS upload stores anything. */
  quotas: StorageQuotas;
  webhooks: WebhookService;
  /** Every password check: the login throttle and the caps of checks in flight. */
  logins: LoginGuard;
  logger: Logger;
  /** This process's receive spool (receive-spool.ts), emptied as it started. */
  spoolDir: string;
  /** Where pushed packs are indexed, off the event loop. */
  indexPool: PackIndexPool;
  /** Background maintenance of repositories; told of every push. */
  maintenance: MaintenanceScheduler;
  /** Worker pools and caches of the web pages and API routes that read repositories. */
  browsing: Browsing;
  /** The base URL of links and clone URLs as this request's client sees the server (for its own responses). */
  baseUrl(req: Request): string;
  /** The base URL of links in webhook payloads: configuration only, never the request's Host. */
  publicBaseUrl(): string;
}
