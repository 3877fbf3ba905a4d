import type { Request } from 'express';
import { requestActor } from './auth/index.js';

/**
 * Who made a request, for event payloads (the pusher, the sender of a status): the
 * authenticated user, else "anonymous".
 */
export function requestUser(req: Request): { name: string; email: string } {
  const user = requestActor(req)?.user;
  if (!user) return { name: 'anonymous', email: 'anonymous@users.noreply.gitfleet.invalid' };
  return { name: user.name, email: user.email };
}
