import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { MetricsConfig, ServerConfig } from '../config.js';
import { HttpError } from '../http-errors.js';
import type { Logger } from '../logger.js';
import { machineMetrics } from './cluster.js';

/**
 * GET /metrics, in Prometheus text format, for the whole machine (see cluster.ts). Open to clients
 * on this machine when the server listens on loopback only; otherwise, and for other clients,
 * GITFLEET_METRICS_TOKEN as a bearer token. (Listening beyond loopback, a proxy on this machine
 * that adds no forwarding header would make every client of the internet look local.)
 */
export function metricsRoute(config: MetricsConfig, server: Pick<ServerConfig, 'trustProxy' | 'host'>, logger: Logger): RequestHandler {
  const expected = config.token === undefined ? undefined : digest(config.token);
  const localClientsTrusted = isLoopbackHost(server.host);
  const trustProxy = server.trustProxy;
  return async (req, res) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (bearer !== undefined && expected !== undefined) {
      if (!timingSafeEqual(digest(bearer), expected)) {
        throw new HttpError(401, 'metrics: wrong bearer token', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } });
      }
    } else if (!localClientsTrusted || !isLocal(req, trustProxy !== false)) {
      throw new HttpError(
        403,
        expected !== undefined
          ? 'metrics: send the token of GITFLEET_METRICS_TOKEN as "Authorization: Bearer <token>"'
          : localClientsTrusted
            ? 'metrics are served to clients on this machine only (set GITFLEET_METRICS_TOKEN to let others in with a bearer token)'
            : `metrics need GITFLEET_METRICS_TOKEN when the server listens beyond loopback (HOST=${server.host})`,
      );
    }
    let metrics;
    try {
      metrics = await machineMetrics();
    } catch (error) {
      logger.error({ err: error }, 'metrics could not be gathered');
      throw new HttpError(503, (error as Error).message);
    }
    res.set('Cache-Control', 'no-store').type(metrics.contentType).send(metrics.body);
  };
}

/**
 * The client is on this machine: a loopback address, and no forwarding header unless a trusted
 * proxy set it (then req.ip is the client it names). A proxy on this machine that is not trusted
 * would otherwise make every client of the internet look local.
 */
function isLocal(req: Request, trustsProxy: boolean): boolean {
  if (!trustsProxy && (req.get('x-forwarded-for') !== undefined || req.get('forwarded') !== undefined)) return false;
  const ip = req.ip ?? '';
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Compared as digests: equal lengths for timingSafeEqual, and no timing hint of the token's length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
