/**
 * Personal access tokens: GET/POST /users/{username}/tokens and DELETE …/tokens/{id}. As on
 * Gitea, only a password (Basic) or a web session may manage them — a token cannot mint or list
 * tokens — and only for the user itself or by a site administrator.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { TOKEN_SCOPES, type User } from '@gitfleet/accounts';
import { requireActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { defineRoute } from './define-route.js';
import { creating } from './errors.js';
import { tokenJson, tokenSchema } from './json.js';

const userParams = z.object({ username: z.string() });

export function tokensRouter(services: ServerServices): Router {
  const router = Router();

  /** The user whose tokens the caller manages; refuses tokens, strangers and unknown users. */
  const tokenOwner = async (req: Request, username: string): Promise<User> => {
    const actor = requireActor(req);
    if (actor.via === 'token') {
      throw new HttpError(403, 'access tokens are managed with a password (Basic auth) or a web session, not with a token');
    }
    if (!actor.user.isAdmin && actor.user.name.toLowerCase() !== username.toLowerCase()) {
      throw new HttpError(403, `only ${username} or a site administrator may manage the tokens of ${username}`);
    }
    const user = await services.accounts.getUser(username);
    if (!user) throw new HttpError(404, `user ${username} not found`);
    return user;
  };

  defineRoute(router, {
    method: 'get',
    path: '/users/:username/tokens',
    tag: 'tokens',
    summary: "A user's access tokens (without their secrets)",
    params: userParams,
    response: { status: 200, schema: z.array(tokenSchema) },
    async handler({ req, params }) {
      const user = await tokenOwner(req, params.username);
      return (await services.accounts.listTokens(user.name)).map((info) => tokenJson(info));
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/users/:username/tokens',
    tag: 'tokens',
    summary: 'Create an access token; its secret (sha1) is shown only in this answer',
    params: userParams,
    body: z.object({
      name: z.string().min(1).max(255),
      scopes: z.array(z.enum(TOKEN_SCOPES)).min(1),
      expires_at: z.iso
        .datetime({ offset: true, abort: true })
        .refine((value) => Date.parse(value) > Date.now(), { message: 'must be in the future' })
        .optional(),
    }),
    response: { status: 201, schema: tokenSchema },
    async handler({ req, params, body }) {
      const user = await tokenOwner(req, params.username);
      const { token, info } = await creating(() =>
        services.accounts.createToken(user.name, {
          name: body.name,
          scopes: body.scopes,
          expiresAt: body.expires_at === undefined ? undefined : new Date(body.expires_at).toISOString(),
        }),
      );
      return tokenJson(info, token);
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/users/:username/tokens/:id',
    tag: 'tokens',
    summary: 'Revoke an access token (by id or name)',
    params: userParams.extend({ id: z.string() }),
    response: { status: 204 },
    async handler({ req, params }) {
      const user = await tokenOwner(req, params.username);
      await services.accounts.revokeToken(user.name, params.id);
    },
  });

  return router;
}
