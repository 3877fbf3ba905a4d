import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { answerHttpError, type HttpError } from '../http-errors.js';
import { clientKey } from '../limits/client-key.js';
import { observeWhenOver, routeClass, type RouteClass } from '../metrics/http.js';
import { logRequestWhenOver, noteRefusal } from '../request-log.js';
import type { ServerServices } from '../services.js';
import { parseAuthorization } from './credentials.js';

/**
 * Password guesses refused before the application sees them. While an address has as many
 * password checks in flight as it may (or the process is at its own cap), the login guard
 * refuses its next Basic credentials anyway. Through express, its middlewares and the error
 * handler, saying so cost about 400 µs of event loop per request, where node's HTTP server
 * alone answers in about 150: a burst of 200 guesses held /healthz behind it for over 100 ms.
 *
 * Only git's and the API's requests from clients that are not browsers take this path (a
 * browser's cross-site request gets the application's 403), and they get what the application
 * would answer: the same status, message and Retry-After, one log line, the request metrics. A
 * password that is a token goes on to the application, as authenticate() lets the token's user
 * through whatever the password checks in flight (and counts another user's name as a failure).
 */
export function refusingGuessesEarly(services: ServerServices, app: RequestListener): RequestListener {
  // Behind a trusted proxy the client is X-Forwarded-For's address, which express works out.
  if (services.config.trustProxy !== false) return app;
  const { logins, accounts, logger } = services;
  const metrics = services.config.metrics.enabled;

  const refuse = (req: IncomingMessage, res: ServerResponse, route: RouteClass, refusal: HttpError, started: bigint) => {
    if (metrics) observeWhenOver(route, res, started);
    logRequestWhenOver(logger, req, res, req.url ?? '/', started);
    noteRefusal(res, refusal.message);
    // A request body left unread would otherwise be drained first, as in the error handler.
    answerHttpError(res, refusal, { json: route === 'api', close: !req.complete });
  };

  return (req, res) => {
    const { authorization, origin, referer } = req.headers;
    if (authorization === undefined || origin !== undefined || referer !== undefined || req.headers['sec-fetch-site'] !== undefined) {
      return app(req, res);
    }
    const ip = clientKey(req.socket.remoteAddress ?? 'unknown');
    if (logins.refusalNow(ip) === undefined) return app(req, res);
    const route = routeClass({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?', 1)[0] });
    if (route !== 'git' && route !== 'api') return app(req, res);
    let credentials;
    try {
      credentials = parseAuthorization(authorization);
    } catch {
      return app(req, res);
    }
    if (credentials.kind !== 'basic') return app(req, res);
    const started = process.hrtime.bigint();
    accounts
      .authenticateToken(credentials.password)
      .then(
        (actor) => {
          const refusal = logins.refusalNow(ip);
          if (refusal === undefined || actor) app(req, res);
          else refuse(req, res, route, refusal, started);
        },
        () => app(req, res),
      )
      .catch((error: unknown) => {
        logger.error({ err: error, method: req.method }, 'request failed');
        res.destroy();
      });
  };
}
