import type { Request } from 'express';
import type { Actor, TokenScope } from '@gitfleet/accounts';
import { requestActor, requireActor } from '../auth/index.js';

/**
 * The caller of a route anonymous callers may use too: undefined when anonymous, and a token
 * lacking `scope` is refused (403) rather than treated as anonymous.
 */
export function optionalActor(req: Request, scope: TokenScope): Actor | undefined {
  return requestActor(req) === undefined ? undefined : requireActor(req, scope);
}
