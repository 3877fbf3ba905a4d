/**
 * Site administration of users: GET/POST /admin/users, PATCH/DELETE /admin/users/{username}
 * (Gitea's paths and fields). Site administrators only.
 */
import { Router } from 'express';
import { z } from 'zod';
import { requireSiteAdmin } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { deleteUser } from '../operations/owners.js';
import type { ServerServices } from '../services.js';
import { defineRoute } from './define-route.js';
import { creating } from './errors.js';
import { userJson, userSchema } from './json.js';
import { requiringOneOf } from './schema-helpers.js';
import { pageRequest, paginateList, paginationQuery } from './pagination.js';

const userParams = z.object({ username: z.string() });
const email = z.string().max(254);
const password = z.string().min(1).max(1024);
const fullName = z.string().max(255);

export function adminRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/admin/users',
    tag: 'admin',
    summary: 'Every user',
    query: z.object(paginationQuery),
    response: { status: 200, schema: z.array(userSchema) },
    async handler({ req, res, query }) {
      const actor = requireSiteAdmin(req, 'read:admin');
      const users = await services.accounts.listUsers();
      return paginateList(req, res, services.baseUrl(req), users, pageRequest(query)).map((user) =>
        userJson(user, services.baseUrl(req), actor),
      );
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/admin/users',
    tag: 'admin',
    summary: 'Create a user',
    body: requiringOneOf(
      z.object({
        login: z.string().optional(),
        username: z.string().optional(),
        email,
        password,
        full_name: fullName.optional(),
        admin: z.boolean().optional(),
      }),
      'login',
      'username',
    ),
    response: { status: 201, schema: userSchema },
    async handler({ req, res, body }) {
      const actor = requireSiteAdmin(req, 'write:admin');
      const user = await creating(() =>
        services.accounts.createUser({
          name: (body.login ?? body.username)!,
          email: body.email,
          password: body.password,
          fullName: body.full_name,
          isAdmin: body.admin,
        }),
      );
      res.location(`/api/v1/users/${encodeURIComponent(user.name)}`);
      return userJson(user, services.baseUrl(req), actor);
    },
  });

  defineRoute(router, {
    method: 'patch',
    path: '/admin/users/:username',
    tag: 'admin',
    summary: "Change a user's email, full name, password or administrator flag",
    params: userParams,
    body: z.object({
      email: email.optional(),
      full_name: fullName.optional(),
      password: password.optional(),
      admin: z.boolean().optional(),
    }),
    response: { status: 200, schema: userSchema },
    async handler({ req, params, body }) {
      const actor = requireSiteAdmin(req, 'write:admin');
      const user = await services.accounts.updateUser(params.username, {
        email: body.email,
        fullName: body.full_name,
        password: body.password,
        isAdmin: body.admin,
      });
      return userJson(user, services.baseUrl(req), actor);
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/admin/users/:username',
    tag: 'admin',
    summary: 'Delete a user that owns no repository',
    params: userParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const actor = requireSiteAdmin(req, 'write:admin');
      const user = await services.accounts.getUser(params.username);
      if (!user) throw new HttpError(404, `user ${params.username} not found`);
      if (user.id === actor.user.id) throw new HttpError(422, 'a site administrator cannot delete their own account');
      await deleteUser(services, user);
    },
  });

  return router;
}
