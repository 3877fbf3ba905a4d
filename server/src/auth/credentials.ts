import type { Request } from 'express';
import { parseCookie } from 'cookie';
import { SESSION_COOKIE } from './constants.js';
import { unauthorized } from './challenge.js';

/** What a request presents to prove who it is. */
export type Credentials =
  /** `Authorization: Basic`: the password may be a personal access token. */
  | { kind: 'basic'; user: string; password: string }
  /** `Authorization: Bearer …` or GitHub's `Authorization: token …`. */
  | { kind: 'token'; token: string }
  | { kind: 'session'; cookieValue: string };

/**
 * The request's credentials; undefined when it has none. The Authorization header wins over
 * the session cookie (a script's token is what it means, whatever cookies it carries). An
 * Authorization header that cannot be read is a 401, never anonymous.
 */
export function readCredentials(req: Request): Credentials | undefined {
  const header = req.get('authorization');
  if (header !== undefined) return parseAuthorization(header);
  const cookieHeader = req.get('cookie');
  if (!cookieHeader) return undefined;
  const cookieValue = parseCookie(cookieHeader)[SESSION_COOKIE];
  return cookieValue ? { kind: 'session', cookieValue } : undefined;
}

export function parseAuthorization(header: string): Credentials {
  const match = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(header);
  if (!match) throw unauthorized('malformed Authorization header: expected "Basic <base64>", "Bearer <token>" or "token <token>"');
  const [, scheme, value] = match;
  switch (scheme.toLowerCase()) {
    case 'basic':
      return parseBasic(value);
    case 'bearer':
    case 'token':
      return { kind: 'token', token: value };
    default:
      throw unauthorized(`unsupported Authorization scheme ${JSON.stringify(scheme)}: use Basic, Bearer or token`);
  }
}

function parseBasic(encoded: string): Credentials {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw unauthorized('malformed Basic credentials: not base64');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw unauthorized('malformed Basic credentials: expected "user:password"');
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (user === '' || password === '') throw unauthorized('Basic credentials need both a user name and a password or token');
  return { kind: 'basic', user, password };
}
