import type { Request, RequestHandler, Response } from 'express';
import { stringifySetCookie } from 'cookie';
import type { Actor } from '@gitfleet/accounts';
import type { ServerServices } from '../services.js';
import { unauthorized } from './challenge.js';
import { SESSION_COOKIE } from './constants.js';
import { readCredentials, type Credentials } from './credentials.js';
import { checkSameOrigin } from './same-origin.js';
import { sessionCookieOptions } from './session-cookie.js';
import { clientKey } from '../limits/client-key.js';

const actors = new WeakMap<Request, Actor>();

/** Resolves every request's actor (or anonymous) before any router runs. */
export function authenticate(services: ServerServices): RequestHandler {
  return async (req, res, next) => {
    try {
      const credentials = readCredentials(req);
      // Before any credential is checked: a forged request costs no password check.
      checkSameOrigin(services, req, credentials);
      if (credentials) {
        const actor = await actorFor(services, req, res, credentials);
        if (actor) actors.set(req, actor);
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
  const { accounts, logins } = services;
  const ip = clientIp(req);
  switch (credentials.kind) {
    case 'token': {
      // A valid token cannot be guessed, so only failures pay for the throttle's round trips.
      const actor = await accounts.authenticateToken(credentials.token);
      if (actor) return actor;
      await logins.countFailure(ip);
      throw unauthorized('bad credentials: the token is unknown, revoked or expired');
    }
    case 'basic': {
      const { user, password } = credentials;
      const tokenActor = await accounts.authenticateToken(password);
      if (tokenActor && tokenActor.user.name.toLowerCase() === user.toLowerCase()) return tokenActor;
      // A right password must not get through while throttled, or its different answer would
      // give it away: the guard spends the attempt before verifying.
      if (tokenActor) await logins.countFailure(ip, user);
      const found = tokenActor ? undefined : await logins.verify(ip, user, () => accounts.verifyPassword(user, password));
      if (!found) throw unauthorized(`bad credentials for user ${JSON.stringify(user)}: wrong user name, password or token`);
      return { user: found, via: 'password', scopes: 'all' };
    }
    case 'session': {
      const actor = await accounts.authenticateSession(credentials.cookieValue);
      // An expired or signed-out session leaves a browser anonymous (and forgets the cookie):
      // answering 401 would lock it out of every page, the sign-in page included.
      if (!actor)
        res.append(
          'Set-Cookie',
          stringifySetCookie({ name: SESSION_COOKIE, value: '', maxAge: 0, ...sessionCookieOptions(services, req) }),
        );
      return actor;
    }
  }
}

/**
 * The client as the sign-in limits count it (see clientKey: an IPv6 /64 is one client): the
 * connection's address, or X-Forwarded-For's when GITFLEET_TRUST_PROXY believes the proxy.
 */
export function clientIp(req: Request): string {
  return clientKey(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}
