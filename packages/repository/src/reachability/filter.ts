import type { ObjectType } from '@gitfleet/git-format';

/** A partial-clone object filter (git's --filter=<spec>, gitprotocol-v2 "filter"). */
export type ObjectFilter =
  | { kind: 'blob:none' }
  | { kind: 'blob:limit'; limit: number }
  | { kind: 'tree'; depth: number }
  | { kind: 'object:type'; type: ObjectType }
  | { kind: 'combine'; filters: ObjectFilter[] };

export class FilterSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterSpecError';
  }
}

const OBJECT_TYPES: readonly ObjectType[] = ['commit', 'tree', 'blob', 'tag'];
const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses a filter spec as git writes it; FilterSpecError for anything not supported. */
export function parseFilterSpec(spec: string): ObjectFilter {
  if (spec === 'blob:none') return { kind: 'blob:none' };
  let m = /^blob:limit=(\d+)([kmg]?)$/i.exec(spec);
  if (m) return { kind: 'blob:limit', limit: Number(m[1]) * UNIT[m[2].toLowerCase()] };
  m = /^tree:(\d+)$/.exec(spec);
  if (m) return { kind: 'tree', depth: Number(m[1]) };
  m = /^object:type=(\w+)$/.exec(spec);
  if (m) {
    const type = m[1] as ObjectType;
    if (!OBJECT_TYPES.includes(type)) throw new FilterSpecError(`invalid object type in filter '${spec}'`);
    return { kind: 'object:type', type };
  }
  if (spec.startsWith('combine:')) {
    const parts = spec.slice('combine:'.length).split('+');
    if (parts.length < 2 || parts.some((p) => p === '')) throw new FilterSpecError(`invalid combine filter '${spec}'`);
    let filters: ObjectFilter[];
    try {
      filters = parts.map((part) => parseFilterSpec(decodeURIComponent(part)));
    } catch (error) {
      if (error instanceof URIError) throw new FilterSpecError(`invalid combine filter '${spec}'`);
      throw error;
    }
    return { kind: 'combine', filters };
  }
  if (spec.startsWith('sparse:')) throw new FilterSpecError(`filter '${spec.split('=')[0]}' not supported`);
  throw new FilterSpecError(`invalid filter-spec '${spec}'`);
}

/**
 * The questions the object walk asks of a filter. Depth is counted from a root tree
 * (depth 0); a blob in a root tree is at depth 1. A combined filter keeps an object only
 * when every part keeps it.
 */
export interface FilterPolicy {
  includeCommitOrTag(type: 'commit' | 'tag'): boolean;
  includeTree(depth: number): boolean;
  /** Whether anything below a tree at `depth` can be kept (else its entries are not read). */
  descend(depth: number): boolean;
  /** `size` is given only when `needsBlobSize`. */
  includeBlob(depth: number, size: number): boolean;
  readonly needsBlobSize: boolean;
}

export function filterPolicy(filter: ObjectFilter | undefined): FilterPolicy {
  if (!filter) return KEEP_ALL;
  switch (filter.kind) {
    case 'blob:none':
      return { ...KEEP_ALL, includeBlob: () => false };
    case 'blob:limit':
      return { ...KEEP_ALL, includeBlob: (_depth, size) => size < filter.limit, needsBlobSize: true };
    case 'tree':
      return {
        ...KEEP_ALL,
        includeTree: (depth) => depth < filter.depth,
        descend: (depth) => depth + 1 < filter.depth,
        includeBlob: (depth) => depth < filter.depth,
      };
    case 'object:type':
      return {
        includeCommitOrTag: (type) => type === filter.type,
        includeTree: () => filter.type === 'tree',
        descend: () => filter.type === 'tree' || filter.type === 'blob',
        includeBlob: () => filter.type === 'blob',
        needsBlobSize: false,
      };
    case 'combine': {
      const parts = filter.filters.map(filterPolicy);
      return {
        includeCommitOrTag: (type) => parts.every((p) => p.includeCommitOrTag(type)),
        includeTree: (depth) => parts.every((p) => p.includeTree(depth)),
        descend: (depth) => parts.every((p) => p.descend(depth)),
        includeBlob: (depth, size) => parts.every((p) => p.includeBlob(depth, size)),
        needsBlobSize: parts.some((p) => p.needsBlobSize),
      };
    }
  }
}

const KEEP_ALL: FilterPolicy = {
  includeCommitOrTag: () => true,
  includeTree: () => true,
  descend: () => true,
  includeBlob: () => true,
  needsBlobSize: false,
};
