import type { Request } from 'express';

/**
 * Who made a request, for event payloads (the pusher, the sender of a status). There are no
 * accounts yet: the user name a client sent with Basic authentication (unverified), else
 * "anonymous".
 */
export function requestUser(req: Request): { name: string; email: string } {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.get('authorization') ?? '');
  const user = match ? Buffer.from(match[1], 'base64').toString('utf8').split(':')[0] : '';
  const name = user === '' ? 'anonymous' : user;
  return { name, email: `${name}@users.noreply.gitfleet.invalid` };
}
