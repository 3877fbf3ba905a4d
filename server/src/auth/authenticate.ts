import type { Request, RequestHandler, Response } from 'express';
import { stringifySetCookie } from 'cookie';
import type { Actor } from '@gitfleet/accounts';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { unauthorized } from './challenge.js';
import { SESSION_COOKIE } from './constants.js';
import { readCredentials, type Credentials } from './credentials.js';

const actors = new WeakMap<Request, Actor>();

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Resolves every request's actor (or anonymous) before any router runs. */
export function authenticate(services: ServerServices): RequestHandler {
  return async (req, res, next) => {
    try {
      const credentials = readCredentials(req);
      if (credentials) {
        const actor = await actorFor(services, req, res, credentials);
        if (actor) {
          if (actor.via === 'session' && UNSAFE_METHODS.has(req.method)) checkSameOrigin(services, req);
          actors.set(req, actor);
        }
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The request's actor, undefined when anonymous. */
export function requestActor(req: Request): Actor | undefined {
  return actors.get(req);
}

async function actorFor(services: ServerServices, req: Request, res: Response, credentials: Credentials): Promise<Actor | undefined> {
  const { accounts, throttle } = services;
  const ip = clientIp(req);
  switch (credentials.kind) {
    case 'token': {
      // A valid token cannot be guessed, so only failures pay for the throttle's round trips.
      const actor = await accounts.authenticateToken(credentials.token);
      if (actor) return actor;
      await throttle.check(ip);
      await throttle.recordFailure(ip);
      throw unauthorized('bad credentials: the token is unknown, revoked or expired');
    }
    case 'basic': {
      const { user, password } = credentials;
      const tokenActor = await accounts.authenticateToken(password);
      if (tokenActor && tokenActor.user.name.toLowerCase() === user.toLowerCase()) return tokenActor;
      // Checked before the password is: a right password must not get through while throttled,
      // or its different answer would give it away.
      await throttle.check(ip, user);
      const found = tokenActor ? undefined : await accounts.verifyPassword(user, password);
      if (!found) {
        await throttle.recordFailure(ip, user);
        throw unauthorized(`bad credentials for user ${JSON.stringify(user)}: wrong user name, password or token`);
      }
      await throttle.recordSuccess(ip, user);
      return { user: found, via: 'password', scopes: 'all' };
    }
    case 'session': {
      const actor = await accounts.authenticateSession(credentials.cookieValue);
      // An expired or signed-out session leaves a browser anonymous (and forgets the cookie):
      // answering 401 would lock it out of every page, the sign-in page included.
      if (!actor) res.append('Set-Cookie', stringifySetCookie({ name: SESSION_COOKIE, value: '', path: '/', maxAge: 0, httpOnly: true, sameSite: 'lax' }));
      return actor;
    }
  }
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * A session-authenticated change must come from our own pages (CSRF): the Origin header, else
 * the Referer's origin, must be this server's. Browsers send one of them with every such
 * request; a request with neither is left to the web forms' CSRF token.
 */
function checkSameOrigin(services: ServerServices, req: Request): void {
  const origin = req.get('origin') ?? originOf(req.get('referer'));
  if (origin === undefined) return;
  const own = new Set([originOf(services.baseUrl(req)), originOf(`${req.protocol}://${req.get('host') ?? ''}`)]);
  if (!own.has(origin)) {
    throw new HttpError(403, `cross-origin request refused: ${req.method} from ${JSON.stringify(origin)} with a session cookie`);
  }
}

function originOf(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}
