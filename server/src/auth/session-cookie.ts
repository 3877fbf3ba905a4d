import type { Request } from 'express';
import type { ServerServices } from '../services.js';

/**
 * The session cookie's attributes, the same when it is set and when it is cleared. `Secure`
 * whenever the browser reaches us over https: the request came over TLS (behind a proxy, as
 * GITFLEET_TRUST_PROXY lets X-Forwarded-Proto say) or the public URL is https.
 */
export function sessionCookieOptions(
  services: ServerServices,
  req: Request,
): { httpOnly: true; sameSite: 'lax'; path: '/'; secure: boolean } {
  const secure = req.secure || services.config.publicUrl?.startsWith('https:') === true;
  return { httpOnly: true, sameSite: 'lax', path: '/', secure };
}
