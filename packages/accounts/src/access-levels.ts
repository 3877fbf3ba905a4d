import type { AccessLevel, Actor, Permission, TokenScope } from './types.js';

const RANK: Record<AccessLevel, number> = { none: 0, read: 1, write: 2, admin: 3 };

/** max('none','read') === 'read' … */
export function atLeast(level: AccessLevel, needed: Permission): boolean {
  return RANK[level] >= RANK[needed];
}

export function highest(...levels: AccessLevel[]): AccessLevel {
  return levels.reduce((best, level) => (RANK[level] > RANK[best] ? level : best), 'none');
}

/** Whether an actor's credential carries `scope` (a write scope implies its read scope; 'all' carries everything). */
export function hasScope(actor: Actor, scope: TokenScope): boolean {
  if (actor.scopes === 'all') return true;
  if (actor.scopes.includes(scope)) return true;
  return scope.startsWith('read:') && actor.scopes.includes(`write:${scope.slice('read:'.length)}` as TokenScope);
}
