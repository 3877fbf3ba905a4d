import type { ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Histogram } from 'prom-client';
import { metricsRegistry, secondsSince } from './registry.js';

/** What a request is, in a few values: a label of raw paths would grow without bound. */
export type RouteClass = 'git' | 'api' | 'web' | 'healthz' | 'metrics' | 'other';

const requestDuration = new Histogram({
  name: 'gitfleet_http_request_duration_seconds',
  help: 'HTTP requests by route class and status class, from arrival until the response is over (finished or cut off)',
  labelNames: ['route', 'status'] as const,
  // From a health check to a clone of a large repository.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
  registers: [metricsRegistry],
});

/** Git's smart HTTP under /:owner/:repo(.git)/… (see git-http.ts). */
const GIT_PATH = /^\/[^/]+\/[^/]+\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const WEB_METHODS = new Set(['GET', 'HEAD', 'POST']);

export function routeClass(req: Pick<Request, 'method' | 'path'>): RouteClass {
  const { path } = req;
  if (path === '/healthz') return 'healthz';
  if (path === '/metrics') return 'metrics';
  if (path === '/api/v1' || path.startsWith('/api/')) return 'api';
  if (GIT_PATH.test(path)) return 'git';
  // The web UI serves pages and forms; anything else is no route of ours.
  return WEB_METHODS.has(req.method) ? 'web' : 'other';
}

/** Observes a request of class `route`, arrived at `started`, once its response is over. */
export function observeWhenOver(route: RouteClass, res: ServerResponse, started: bigint = process.hrtime.bigint()): void {
  // A response emits 'close' once it is over, finished or cut off; one listener of each request's
  // few (the request log, the stall guard, git's slot and pipeline also listen).
  res.once('close', () => {
    requestDuration.observe({ route, status: `${Math.floor(res.statusCode / 100)}xx` }, secondsSince(started));
  });
}

/** Observes every request once, when its response is over. */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    observeWhenOver(routeClass(req), res);
    next();
  };
}
