import type { Request } from 'express';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import type { Credentials } from './credentials.js';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Sec-Fetch-Site values of requests no other site started ("none": typed, bookmarked). */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

/**
 * Refuses (403) a change that another site's page made a browser send (CSRF), whatever
 * credential the browser attached on its own: a session cookie, or Basic credentials it cached
 * after answering a prompt.
 *
 * The rule, for every POST, PUT, PATCH and DELETE:
 * - `Authorization: Bearer`/`token` is exempt: a browser never attaches it by itself, and a page
 *   of another site cannot set it without a CORS preflight this server never grants.
 * - Every origin signal the request carries must name this server: `Sec-Fetch-Site` must be
 *   same-origin (or none), `Origin` our origin, and, when neither is there, `Referer` our origin.
 *   Browsers send Origin with every cross-origin POST, PUT, PATCH and DELETE (and current ones
 *   Sec-Fetch-Site with every request), so a request carrying none of them was not sent by a
 *   browser for another site: git (whose pushes are POSTs with Basic credentials), curl and API
 *   libraries send none, and keep working.
 * - With the session cookie, which only browsers hold, one of them must be there and name this
 *   server: a browser's own pages always send Origin or Referer with a form.
 */
export function checkSameOrigin(services: ServerServices, req: Request, credentials: Credentials | undefined): void {
  if (!UNSAFE_METHODS.has(req.method) || credentials?.kind === 'token') return;
  const fetchSite = req.get('sec-fetch-site');
  const origin = req.get('origin');
  const referer = fetchSite === undefined && origin === undefined ? req.get('referer') || undefined : undefined;
  const refuse = (from: string) =>
    new HttpError(
      403,
      `cross-origin request refused: ${req.method} ${req.path} from ${from}; changes are only accepted from this server's own pages`,
    );

  if (fetchSite !== undefined && !OWN_FETCH_SITES.has(fetchSite.trim().toLowerCase()))
    throw refuse(`a ${JSON.stringify(fetchSite)} page (Sec-Fetch-Site)`);
  const own = ownOrigins(services, req);
  if (origin !== undefined && !own.has(origin.trim())) throw refuse(JSON.stringify(origin));
  if (referer !== undefined && !own.has(originOf(referer) ?? 'null')) throw refuse(`${JSON.stringify(originOf(referer))} (Referer)`);
  if (credentials?.kind === 'session' && fetchSite === undefined && origin === undefined && referer === undefined) {
    throw new HttpError(
      403,
      `cross-origin request refused: ${req.method} ${req.path} with the session cookie but neither Origin nor Referer`,
    );
  }
}

/** This server's origin as the public URL names it and as the client reached it. */
function ownOrigins(services: ServerServices, req: Request): Set<string> {
  return new Set(
    [originOf(services.baseUrl(req)), originOf(`${req.protocol}://${req.get('host') ?? ''}`)].filter((origin) => origin !== undefined),
  );
}

/** The URL's origin; undefined for no URL, one that does not parse, or an opaque origin ("null"), which is never ours. */
function originOf(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
