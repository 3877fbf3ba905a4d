/**
 * Teams of an organisation, their members and the repositories they cover:
 * /orgs/{org}/teams[/{team_slug}[/members|/memberships/{username}|/repos[/{owner}/{repo}]]].
 * Members of the organisation see its teams; its owners change them.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Actor, Team } from '@gitfleet/accounts';
import { requireActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { teamRepositories } from '../operations/team-repositories.js';
import type { ServerServices } from '../services.js';
import { defineRoute } from './define-route.js';
import { creating } from './errors.js';
import { permissionFromJson, permissionSchema, repositorySchema, teamJson, teamSchema, userJson, userSchema } from './json.js';
import { administeredOrganization, organizationSeenByMember } from './orgs.js';
import { pageRequest, paginateList, paginationQuery } from './pagination.js';
import { readableRepositoryPage } from './repository-views.js';

const orgParams = z.object({ org: z.string() });
const teamParams = z.object({ org: z.string(), team_slug: z.string() });
const teamUserParams = teamParams.extend({ username: z.string() });
const teamRepoParams = teamParams.extend({ owner: z.string(), repo: z.string() });
const pageQuery = z.object(paginationQuery);

const teamFields = {
  description: z.string().max(2048).optional(),
  permission: permissionSchema.optional(),
  includes_all_repositories: z.boolean().optional(),
};

export function teamsRouter(services: ServerServices): Router {
  const router = Router();
  const base = (req: Request) => services.baseUrl(req);

  /** The team, for a member of its organisation (`change`: for an owner of it). */
  const teamFor = async (actor: Actor, org: string, slug: string, change: boolean): Promise<Team> => {
    const organization = change
      ? await administeredOrganization(services, actor, org)
      : await organizationSeenByMember(services, actor, org);
    const team = await services.accounts.getTeam(organization.name, slug);
    if (!team) throw new HttpError(404, `team ${slug} not found in organization ${organization.name}`);
    return team;
  };

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/teams',
    tag: 'teams',
    summary: "An organisation's teams (for its members)",
    params: orgParams,
    query: pageQuery,
    response: { status: 200, schema: z.array(teamSchema) },
    async handler({ req, res, params, query }) {
      const actor = requireActor(req, 'read:organization');
      const org = await organizationSeenByMember(services, actor, params.org);
      const teams = await services.accounts.listTeams(org.name);
      return paginateList(req, res, base(req), teams, pageRequest(query)).map(teamJson);
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/orgs/:org/teams',
    tag: 'teams',
    summary: 'Create a team (owners of the organisation)',
    params: orgParams,
    body: z.object({ name: z.string().min(1).max(100), ...teamFields }),
    response: { status: 201, schema: teamSchema },
    async handler({ req, res, params, body }) {
      const actor = requireActor(req, 'write:organization');
      const org = await administeredOrganization(services, actor, params.org);
      const team = await creating(() =>
        services.accounts.createTeam(org.name, {
          name: body.name,
          description: body.description,
          permission: permissionFromJson(body.permission ?? 'read'),
          includesAllRepositories: body.includes_all_repositories,
        }),
      );
      const json = teamJson(team);
      res.location(`/api/v1/orgs/${encodeURIComponent(org.name)}/teams/${encodeURIComponent(json.slug)}`);
      return json;
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/teams/:team_slug',
    tag: 'teams',
    summary: 'A team (for members of the organisation)',
    params: teamParams,
    response: { status: 200, schema: teamSchema },
    async handler({ req, params }) {
      const actor = requireActor(req, 'read:organization');
      return teamJson(await teamFor(actor, params.org, params.team_slug, false));
    },
  });

  defineRoute(router, {
    method: 'patch',
    path: '/orgs/:org/teams/:team_slug',
    tag: 'teams',
    summary: 'Change a team (owners of the organisation)',
    params: teamParams,
    body: z.object({ name: z.string().min(1).max(100).optional(), ...teamFields }),
    response: { status: 200, schema: teamSchema },
    async handler({ req, params, body }) {
      const actor = requireActor(req, 'write:organization');
      const team = await teamFor(actor, params.org, params.team_slug, true);
      const updated = await services.accounts.updateTeam(team.org, team.name, {
        name: body.name,
        description: body.description,
        permission: body.permission === undefined ? undefined : permissionFromJson(body.permission),
        includesAllRepositories: body.includes_all_repositories,
      });
      return teamJson(updated);
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/orgs/:org/teams/:team_slug',
    tag: 'teams',
    summary: 'Delete a team (owners of the organisation)',
    params: teamParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const actor = requireActor(req, 'write:organization');
      const team = await teamFor(actor, params.org, params.team_slug, true);
      await services.accounts.deleteTeam(team.org, team.name);
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/teams/:team_slug/members',
    tag: 'teams',
    summary: "A team's members (for members of the organisation)",
    params: teamParams,
    query: pageQuery,
    response: { status: 200, schema: z.array(userSchema) },
    async handler({ req, res, params, query }) {
      const actor = requireActor(req, 'read:organization');
      const team = await teamFor(actor, params.org, params.team_slug, false);
      const members = await services.accounts.listTeamMembers(team.org, team.name);
      return paginateList(req, res, base(req), members, pageRequest(query)).map((user) => userJson(user, base(req), actor));
    },
  });

  defineRoute(router, {
    method: 'put',
    path: '/orgs/:org/teams/:team_slug/memberships/:username',
    tag: 'teams',
    summary: 'Add a user to a team, and to the organisation if need be (owners of the organisation)',
    params: teamUserParams,
    response: { status: 200, schema: z.object({ state: z.literal('active'), role: z.literal('member') }) },
    async handler({ req, params }) {
      const actor = requireActor(req, 'write:organization');
      const team = await teamFor(actor, params.org, params.team_slug, true);
      const user = await services.accounts.getUser(params.username);
      if (!user) throw new HttpError(404, `user ${params.username} not found`);
      await services.accounts.addTeamMember(team.org, team.name, user.name);
      return { state: 'active', role: 'member' };
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/orgs/:org/teams/:team_slug/memberships/:username',
    tag: 'teams',
    summary: 'Remove a user from a team (owners of the organisation)',
    params: teamUserParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const actor = requireActor(req, 'write:organization');
      const team = await teamFor(actor, params.org, params.team_slug, true);
      await services.accounts.removeTeamMember(team.org, team.name, params.username);
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/orgs/:org/teams/:team_slug/repos',
    tag: 'teams',
    summary: 'The repositories a team covers that the caller may read',
    params: teamParams,
    query: pageQuery,
    response: { status: 200, schema: z.array(repositorySchema) },
    async handler({ req, res, params, query }) {
      const actor = requireActor(req, 'read:organization');
      const team = await teamFor(actor, params.org, params.team_slug, false);
      return readableRepositoryPage(services, req, res, actor, await teamRepositories(services, team), pageRequest(query));
    },
  });

  /** The team and one repository of its organisation, for an owner of the organisation. */
  const teamAndRepository = async (req: Request, params: z.infer<typeof teamRepoParams>) => {
    const actor = requireActor(req, 'write:organization');
    const team = await teamFor(actor, params.org, params.team_slug, true);
    // Only the organisation's own repositories are looked at: one of another owner answers as a
    // missing one does, whether or not it exists (a private repository is never revealed).
    const repo =
      params.owner.toLowerCase() === team.org.toLowerCase() ? await services.registry.open(params.owner, params.repo) : undefined;
    if (!repo) throw new HttpError(404, `repository ${params.owner}/${params.repo} not found in organization ${team.org}`);
    return { team, repo };
  };

  defineRoute(router, {
    method: 'put',
    path: '/orgs/:org/teams/:team_slug/repos/:owner/:repo',
    tag: 'teams',
    summary: "Give a team its permission on one of the organisation's repositories (owners of the organisation)",
    params: teamRepoParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const { team, repo } = await teamAndRepository(req, params);
      await services.accounts.addTeamRepository(team.org, team.name, repo.info.id);
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/orgs/:org/teams/:team_slug/repos/:owner/:repo',
    tag: 'teams',
    summary: 'Take a repository away from a team (owners of the organisation)',
    params: teamRepoParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const { team, repo } = await teamAndRepository(req, params);
      await services.accounts.removeTeamRepository(team.org, team.name, repo.info.id);
    },
  });

  return router;
}
