import type { Request } from 'express';
import { html, type Html } from './html.js';

export const PAGE_SIZE = 30;

/**
 * The 1-based `?page=` of the request (1 when absent or not a positive integer); with `list`,
 * `?{list}_page=`, for a page showing more than one paged list.
 */
export function pageNumber(req: Request, list?: string): number {
  const raw = req.query[pageParameter(list)];
  return typeof raw === 'string' && /^[1-9]\d{0,6}$/.test(raw) ? Number(raw) : 1;
}

export function pageOf<T>(items: readonly T[], page: number, size = PAGE_SIZE): { items: T[]; hasMore: boolean } {
  return { items: items.slice((page - 1) * size, page * size), hasMore: items.length > page * size };
}

/**
 * "Previous / Next" links keeping the request's other query parameters. `list` as for
 * pageNumber (and a prefix of the links' ids); `path` where the links lead when not the
 * request's own path (a page shown in answer to a form's POST).
 */
export function pager(req: Request, page: number, hasMore: boolean, options: { list?: string; path?: string } = {}): Html {
  if (page === 1 && !hasMore) return html``;
  const { list, path = req.path } = options;
  const link = (target: number) => {
    const query = new URLSearchParams(req.query as Record<string, string>);
    query.set(pageParameter(list), String(target));
    return `${path}?${query}`;
  };
  const id = (name: string) => (list ? `${list}-${name}` : name);
  return html`<nav class="pagination" id="${id('pagination')}">
${page > 1 ? html`<a class="btn" id="${id('previous-page')}" rel="prev" href="${link(page - 1)}">Previous</a>` : ''}
${hasMore ? html`<a class="btn" id="${id('next-page')}" rel="next" href="${link(page + 1)}">Next</a>` : ''}</nav>`;
}

function pageParameter(list: string | undefined): string {
  return list ? `${list}_page` : 'page';
}
