/**
 * Organisations, their members and their repositories: /orgs, /orgs/{org}, /user/orgs,
 * /users/{username}/orgs, /orgs/{org}/repos, /orgs/{org}/members, /orgs/{org}/memberships/{username}.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Actor, Organization } from '@gitfleet/accounts';
import { requireActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { CreationRefused } from '../operations/errors.js';
import { deleteOrganization } from '../operations/owners.js';
import type { ServerServices } from '../services.js';
import { optionalActor } from './caller.js';
import { defineRoute } from './define-route.js';
import { creating } from './errors.js';
import {
  membershipRoleSchema,
  organizationJson,
  organizationSchema,
  orgMembershipJson,
  orgMembershipSchema,
  orgRoleFromJson,
  repositorySchema,
  userJson,
  userSchema,
} from './json.js';
import { pageRequest, paginateList, paginationQuery } from './pagination.js';
import { requiringOneOf } from './schema-helpers.js';
import { createFromBody, createRepositoryBody, readableRepositoryPage } from './repository-views.js';

const orgParams = z.object({ org: z.string() });
const orgUserParams = z.object({ org: z.string(), username: z.string() });
const pageQuery = z.object(paginationQuery);

const fullName = z.string().max(255);
const description = z.string().max(2048);

export async function existingOrganization(services: ServerServices, name: string): Promise<Organization> {
  const org = await services.accounts.getOrganization(name);
  if (!org) throw new HttpError(404, `organization ${name} not found`);
  return org;
}

/** The organisation, when `actor` may administer it (its owners and site administrators); 403 otherwise. */
export async function administeredOrganization(services: ServerServices, actor: Actor, name: string): Promise<Organization> {
  const org = await existingOrganization(services, name);
  if (!(await services.accounts.mayAdministerOrganization(actor.user, org.name))) {
    throw new HttpError(403, `only owners of organization ${org.name} may do this`);
  }
  return org;
}

/** The organisation, when `actor` is one of its members or a site administrator; 403 otherwise. */
export async function organizationSeenByMember(services: ServerServices, actor: Actor, name: string): Promise<Organization> {
  const org = await existingOrganization(services, name);
  if (!(await services.accounts.maySeeOrganizationMembers(actor.user, org.name))) {
    throw new HttpError(403, `only members of organization ${org.name} may see this`);
  }
  return org;
}

export function orgsRouter(services: ServerServices): Router {
  const router = Router();
  const base = (req: Request) => services.baseUrl(req);

  defineRoute(router, {
    method: 'post',
    path: '/orgs',
    tag: 'orgs',
    summary: 'Create an organisation; the caller becomes its owner',
    body: requiringOneOf(
      z.object({
        username: z.string().optional(),
        login: z.string().optional(),
        full_name: fullName.optional(),
        description: description.optional(),
      }),
      'username',
      'login',
    ),
    response: { status: 201, schema: organizationSchema },
    async handler({ req, res, body }) {
      const actor = requireActor(req, 'write:organization');
      const org = await creating(() =>
        services.accounts.createOrganization({
          name: (body.username ?? body.login)!,
          creator: actor.user.name,
          fullName: body.full_name,
          description: body.description,
        }),
      );
      res.location(`/api/v1/orgs/${encodeURIComponent(org.name)}`);
      return organizationJson(org, base(req));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org',
    tag: 'orgs',
    summary: 'An organisation',
    params: orgParams,
    response: { status: 200, schema: organizationSchema },
    async handler({ req, params }) {
      optionalActor(req, 'read:organization');
      return organizationJson(await existingOrganization(services, params.org), base(req));
    },
  });

  defineRoute(router, {
    method: 'patch',
    path: '/orgs/:org',
    tag: 'orgs',
    summary: "Change an organisation's full name or description (its owners)",
    params: orgParams,
    body: z.object({ full_name: fullName.optional(), description: description.optional() }),
    response: { status: 200, schema: organizationSchema },
    async handler({ req, params, body }) {
      const actor = requireActor(req, 'write:organization');
      const org = await administeredOrganization(services, actor, params.org);
      const updated = await services.accounts.updateOrganization(org.name, { fullName: body.full_name, description: body.description });
      return organizationJson(updated, base(req));
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/orgs/:org',
    tag: 'orgs',
    summary: 'Delete an organisation that owns no repository (its owners)',
    params: orgParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const actor = requireActor(req, 'write:organization');
      const org = await administeredOrganization(services, actor, params.org);
      await deleteOrganization(services, org);
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/user/orgs',
    tag: 'orgs',
    summary: 'The organisations of the authenticated user',
    query: pageQuery,
    response: { status: 200, schema: z.array(organizationSchema) },
    async handler({ req, res, query }) {
      const actor = requireActor(req, 'read:organization');
      const orgs = await services.accounts.listUserOrganizations(actor.user.name);
      return paginateList(req, res, base(req), orgs, pageRequest(query)).map(({ org }) => organizationJson(org, base(req)));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/users/:username/orgs',
    tag: 'orgs',
    summary: 'The organisations a user belongs to',
    params: z.object({ username: z.string() }),
    query: pageQuery,
    response: { status: 200, schema: z.array(organizationSchema) },
    async handler({ req, res, params, query }) {
      optionalActor(req, 'read:organization');
      const user = await services.accounts.getUser(params.username);
      if (!user) throw new HttpError(404, `user ${params.username} not found`);
      const orgs = await services.accounts.listUserOrganizations(user.name);
      return paginateList(req, res, base(req), orgs, pageRequest(query)).map(({ org }) => organizationJson(org, base(req)));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/repos',
    tag: 'repos',
    summary: "An organisation's repositories that the caller may read",
    params: orgParams,
    query: pageQuery,
    response: { status: 200, schema: z.array(repositorySchema) },
    async handler({ req, res, params, query }) {
      const viewer = optionalActor(req, 'read:repository');
      const org = await existingOrganization(services, params.org);
      const infos = await services.registry.listOwnedBy(org.name);
      return readableRepositoryPage(services, req, res, viewer, infos, pageRequest(query));
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/orgs/:org/repos',
    tag: 'repos',
    summary: 'Create a repository owned by an organisation (its members)',
    params: orgParams,
    body: createRepositoryBody,
    response: { status: 201, schema: repositorySchema },
    async handler({ req, res, params, body }) {
      const actor = requireActor(req, 'write:repository');
      const org = await existingOrganization(services, params.org);
      try {
        return await createFromBody(services, req, res, actor, org.name, body);
      } catch (error) {
        if (error instanceof CreationRefused)
          throw new HttpError(403, `only members of organization ${org.name} may create its repositories`);
        throw error;
      }
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/members',
    tag: 'orgs',
    summary: "An organisation's members (for its members)",
    params: orgParams,
    query: pageQuery,
    response: { status: 200, schema: z.array(userSchema) },
    async handler({ req, res, params, query }) {
      const actor = requireActor(req, 'read:organization');
      const org = await organizationSeenByMember(services, actor, params.org);
      const members = await services.accounts.listMembers(org.name);
      return paginateList(req, res, base(req), members, pageRequest(query)).map(({ user }) => userJson(user, base(req), actor));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/memberships/:username',
    tag: 'orgs',
    summary: "A member's role (for members of the organisation)",
    params: orgUserParams,
    response: { status: 200, schema: orgMembershipSchema },
    async handler({ req, params }) {
      const actor = requireActor(req, 'read:organization');
      const org = await organizationSeenByMember(services, actor, params.org);
      const user = await services.accounts.getUser(params.username);
      const role = user && (await services.accounts.memberRole(org.name, user.name));
      if (!user || !role) throw new HttpError(404, `${params.username} is not a member of organization ${org.name}`);
      return orgMembershipJson(org, user, role, base(req), actor);
    },
  });

  defineRoute(router, {
    method: 'put',
    path: '/orgs/:org/memberships/:username',
    tag: 'orgs',
    summary: "Add a member or change a member's role (owners of the organisation)",
    params: orgUserParams,
    body: z.object({ role: membershipRoleSchema.default('member') }),
    response: { status: 200, schema: orgMembershipSchema },
    async handler({ req, params, body }) {
      const actor = requireActor(req, 'write:organization');
      const org = await administeredOrganization(services, actor, params.org);
      const user = await services.accounts.getUser(params.username);
      if (!user) throw new HttpError(404, `user ${params.username} not found`);
      const role = orgRoleFromJson(body.role);
      await services.accounts.setMember(org.name, user.name, role);
      return orgMembershipJson(org, user, role, base(req), actor);
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/orgs/:org/members/:username',
    tag: 'orgs',
    summary: 'Remove a member (owners of the organisation, or the member leaving)',
    params: orgUserParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const actor = requireActor(req, 'write:organization');
      const leaving = actor.user.name.toLowerCase() === params.username.toLowerCase();
      const org = leaving ? await existingOrganization(services, params.org) : await administeredOrganization(services, actor, params.org);
      await services.accounts.removeMember(org.name, params.username);
    },
  });

  return router;
}
