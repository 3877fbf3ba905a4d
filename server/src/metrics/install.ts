import type { Express } from 'express';
import type { ServerServices } from '../services.js';
import { watchCache } from './caches.js';
import { reportMetricsToPrimary } from './cluster.js';
import { httpMetrics } from './http.js';
import { countPackOutput } from './pack-reuse.js';
import { collectProcessMetrics } from './process.js';
import { watchPackIndexing, watchQueue, watchWebhookQueues, watchWorkerPool } from './queues.js';
import { ownWorkerSlot } from '../cluster/messages.js';
import { metricsRoute } from './route.js';

/**
 * Turns metrics on for this app (GITFLEET_METRICS): request timing from here on, the sources read at
 * each scrape, and GET /metrics. The caches of the repository layer are watched where the stores are
 * opened (stores.ts), and push slots where they are made (git-http.ts).
 */
export function installMetrics(app: Express, services: ServerServices): void {
  const { config, browsing, logger } = services;
  reportMetricsToPrimary();
  collectProcessMetrics();
  countPackOutput();
  watchPackIndexing(services.indexPool);
  watchWorkerPool('browse-diff', browsing.diffs);
  watchWorkerPool('browse-render', browsing.render);
  watchQueue('password-checks', services.logins);
  watchQueue('maintenance', services.maintenance);
  // Shared by every process: the other workers would report the same jobs again.
  if ((ownWorkerSlot() ?? 0) === 0) watchWebhookQueues(services.webhooks);
  watchCache('diff', browsing.diffCache);
  for (const [kind, cache] of Object.entries(browsing.render.caches)) watchCache(`render-${kind}`, cache);
  app.use(httpMetrics());
  app.get('/metrics', metricsRoute(config.metrics, config, logger));
}
