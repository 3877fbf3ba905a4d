/**
 * Pagination of API lists as GitHub and Gitea do it: `page` (1-based) and `per_page` (Gitea's
 * `limit` is an alias), default 30 and at most 100 per page, and a `Link` header pointing at the
 * neighbouring pages.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

const positiveInteger = z.coerce.number().int().min(1);

/** Spread into a route's query schema: `query: z.object({ ...paginationQuery, sha: … })`. */
export const paginationQuery = {
  page: positiveInteger.optional().meta({ description: 'Page number, from 1' }),
  per_page: positiveInteger.optional().meta({ description: `Items per page (default ${DEFAULT_PER_PAGE}, at most ${MAX_PER_PAGE})` }),
  limit: positiveInteger.optional().meta({ description: 'Alias of per_page (Gitea)' }),
};

export interface PageRequest {
  page: number;
  perPage: number;
  /** How many items come before this page. */
  offset: number;
}

/** The page a validated query asks for; a `per_page` above the maximum is lowered to it, as GitHub does. */
export function pageRequest(query: { page?: number; per_page?: number; limit?: number }): PageRequest {
  const page = query.page ?? 1;
  const perPage = Math.min(query.per_page ?? query.limit ?? DEFAULT_PER_PAGE, MAX_PER_PAGE);
  return { page, perPage, offset: (page - 1) * perPage };
}

/**
 * Sets the `Link` header of a page: rel="prev" and rel="first" after the first page,
 * rel="next" when `hasNext`, and rel="last" when the total is known. `baseUrl` is the server's
 * URL as its client sees it (ServerServices.baseUrl).
 */
export function setLinkHeader(
  req: Request,
  res: Response,
  baseUrl: string,
  page: PageRequest,
  more: { hasNext: boolean; total?: number },
): void {
  const link = (pageNumber: number, rel: string) => {
    const url = new URL(req.originalUrl, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    url.searchParams.delete('limit');
    url.searchParams.set('page', String(pageNumber));
    url.searchParams.set('per_page', String(page.perPage));
    return `<${url.href}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (more.hasNext) links.push(link(page.page + 1, 'next'));
  if (more.total !== undefined) links.push(link(Math.max(1, Math.ceil(more.total / page.perPage)), 'last'));
  if (page.page > 1) links.push(link(1, 'first'), link(page.page - 1, 'prev'));
  if (links.length > 0) res.set('Link', links.join(', '));
}

/** The slice of an in-memory list for this page, with its Link header (and X-Total-Count, as Gitea). */
export function paginateList<T>(req: Request, res: Response, baseUrl: string, items: readonly T[], page: PageRequest): T[] {
  setLinkHeader(req, res, baseUrl, page, { hasNext: page.offset + page.perPage < items.length, total: items.length });
  res.set('X-Total-Count', String(items.length));
  return items.slice(page.offset, page.offset + page.perPage);
}
