import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { PktLineError } from '@gitfleet/git-format';
import { ProtocolError } from '@gitfleet/protocol';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import { HttpError } from './http-errors.js';
import { httpStatusOf, refusalMessage, retryAfterHeader } from './operations/errors.js';
import { lingerThenClose } from './lingering-close.js';
import { apiRouter } from './api/index.js';
import { authenticate } from './auth/index.js';
import { gitHttpRouter } from './git-http.js';
import { lfsRouter } from './lfs/index.js';
import { slowBodyGuard } from './limits/slow-body.js';
import { stalledReaderGuard } from './limits/stalled-reader.js';
import { installMetrics } from './metrics/install.js';
import type { ServerServices } from './services.js';
import { webRouter } from './web/index.js';
import { withoutSecrets } from './logged-url.js';
import { noteRefusal, requestLog } from './request-log.js';

/**
 * The application, mounted in this order: metrics (when on), health, who the request is, the
 * REST API, Git LFS, git's smart HTTP, the web UI, then 404 and the error handler.
 */
export function createApp(services: ServerServices): Express {
  const { kv, logger } = services;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // req.ip and req.secure come from X-Forwarded-* only for the proxies configured as trusted.
  app.set('trust proxy', services.config.trustProxy);
  app.use(requestLog(logger));
  if (services.config.metrics.enabled) installMetrics(app, services);
  app.use(slowBodyGuard(services.config.connections));
  app.use(stalledReaderGuard(services.config.timeouts.sendStallMs));

  app.get('/healthz', async (_req, res) => {
    // One KV round trip: a server whose ref store is gone is not healthy.
    try {
      await kv.get('gitfleet', 'healthz');
    } catch (error) {
      logger.error({ err: error }, 'health check: KV store unavailable');
      res.status(503).json({ status: 'unavailable', error: 'KV store unavailable' });
      return;
    }
    res.json({ status: 'ok' });
  });
  app.use(authenticate(services));
  app.use('/api/v1', apiRouter(services));
  app.use(lfsRouter(services));
  app.use(gitHttpRouter(services));
  app.use(webRouter(services));

  app.use((req) => {
    throw new HttpError(404, `no route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(logger));
  return app;
}

/**
 * The base URL of links that leave the request (webhook payloads, the CLI's output): from
 * configuration only — GITFLEET_PUBLIC_URL, else the address the server listens on — so that no
 * client can choose the host that others (CI cloning from a payload's clone_url) are sent to.
 */
export function configuredBaseUrl(config: Pick<ServerConfig, 'publicUrl' | 'host'>, port: number): string {
  if (config.publicUrl) return config.publicUrl;
  const host =
    config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

/** The base URL of links and clone URLs in a response: GITFLEET_PUBLIC_URL, else the URL the client reached us by. */
export function baseUrlFor(publicUrl: string | undefined): (req: Request) => string {
  return (req) => publicUrl ?? requestBaseUrl(req);
}

function requestBaseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** The status and client-facing message of a failed request (git's and other plain-text answers); undefined for a server fault. */
function classify(error: unknown): { status: number; message: string } | undefined {
  if (error instanceof ProtocolError) return { status: error.status, message: error.message };
  if (error instanceof PktLineError) return { status: 400, message: `malformed pkt-line: ${error.message}` };
  const status = httpStatusOf(error);
  return status === undefined ? undefined : { status, message: refusalMessage(error) };
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = classify(error);
    if (known) {
      // The log line keeps the whole story, which the client's message may leave out (a store's internals).
      noteRefusal(res, error);
    } else {
      logger.error({ err: error, method: req.method, path: withoutSecrets(req.originalUrl) }, 'request failed');
    }
    if (res.headersSent) {
      // Part of a response is out; cutting the connection is the only way to say it failed.
      res.destroy();
      return;
    }
    const status = known?.status ?? 500;
    const message = known?.message ?? 'internal server error';
    // A request body left unread (perhaps gigabytes) is drained for a few seconds at most.
    if (!req.complete) lingerThenClose(req);
    if (error instanceof HttpError) res.set(error.headers);
    res.set(retryAfterHeader(error));
    res.status(status);
    if (req.path.startsWith('/api/')) res.json({ message });
    else res.type('text/plain; charset=utf-8').send(`${message}\n`);
  };
}
