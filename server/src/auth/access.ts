import type { Request } from 'express';
import { atLeast, hasScope, type Actor, type Permission, type TokenScope } from '@gitfleet/accounts';
import { checkName, HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { requestActor } from './authenticate.js';
import { unauthorized } from './challenge.js';
import type { AuthorizedRepository } from './constants.js';

/** The actor; 401 (with WWW-Authenticate) when anonymous, 403 when a token lacks `scope`. */
export function requireActor(req: Request, scope?: TokenScope): Actor {
  const actor = requestActor(req);
  if (!actor) throw unauthorized('authentication required: sign in, or send a token (Authorization: Bearer <token>) or Basic credentials');
  if (scope !== undefined) requireScope(actor, scope);
  return actor;
}

/** A site administrator (403 otherwise; 401 when anonymous). */
export function requireSiteAdmin(req: Request, scope?: TokenScope): Actor {
  const actor = requireActor(req, scope);
  if (!actor.user.isAdmin) throw new HttpError(403, `site administrators only: ${actor.user.name} is not one`);
  return actor;
}

function requireScope(actor: Actor, scope: TokenScope): void {
  if (!hasScope(actor, scope)) throw new HttpError(403, `the token lacks the ${scope} scope this request needs`);
}

/**
 * Opens owner/name ("name.git" accepted) for a request that needs `needed`, applying the rules
 * of auth/index.ts. `surface` picks 401-with-challenge (git) or the API's answers for anonymous requests.
 */
export async function authorizeRepository(
  services: ServerServices,
  req: Request,
  owner: string,
  nameInUrl: string,
  needed: Permission,
  surface: 'git' | 'api' | 'web',
): Promise<AuthorizedRepository> {
  const name = nameInUrl.endsWith('.git') ? nameInUrl.slice(0, -'.git'.length) : nameInUrl;
  checkName(owner, name);
  const actor = requestActor(req);
  const repo = await services.registry.open(owner, name);
  const notFound = () => new HttpError(404, `repository ${owner}/${name} not found`);

  if (!actor) {
    if (repo && !repo.info.private && needed === 'read') return { repo, access: 'read' };
    // Missing and private answer alike, so that a stranger learns nothing of what exists.
    if (surface === 'git' || needed !== 'read') throw unauthorized(`authentication required for ${owner}/${name}`);
    throw notFound();
  }
  if (!repo) throw notFound();
  const access = await services.accounts.repositoryAccess(actor.user, {
    id: repo.info.id,
    owner: repo.info.owner,
    private: repo.info.private,
  });
  if (access === 'none') throw notFound();
  requireScope(actor, needed === 'read' ? 'read:repository' : 'write:repository');
  if (!atLeast(access, needed)) {
    throw new HttpError(
      403,
      `permission denied: ${actor.user.name} has ${access} access to ${repo.info.owner}/${repo.info.name}, ${needed} is needed`,
    );
  }
  return { repo, access };
}
