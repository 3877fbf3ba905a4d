/**
 * Organisations, their members, teams and repositories in the REST API: who may create, see,
 * change and delete them, and what access membership and teams give to repositories.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, token, type ApiClient, type ApiTestServer, type TestUser } from './api-client.js';

describe('organisations API', () => {
  let fixture: ApiTestServer;
  let api: ApiClient;
  let owner: TestUser;
  let member: TestUser;
  let outsider: TestUser;

  before(async () => {
    fixture = await startApiServer();
    api = fixture.api;
    [owner, member, outsider] = await Promise.all(['olga', 'mike', 'otto'].map((name) => api.createUser(name)));
    await api.expect(201, 'POST', '/orgs', { as: token(owner), body: { username: 'acme', full_name: 'Acme Inc', description: 'rockets' } });
    await api.expect(200, 'PUT', '/orgs/acme/memberships/mike', { as: token(owner), body: { role: 'member' } });
    await api.expect(201, 'POST', '/orgs/acme/repos', { as: token(owner), body: { name: 'public-site' } });
    await api.expect(201, 'POST', '/orgs/acme/repos', { as: token(owner), body: { name: 'internal', private: true } });
  });
  after(() => fixture?.server.stop());

  test('an organisation is public; its creator owns it', async () => {
    const org = await api.expect(200, 'GET', '/orgs/acme');
    assert.equal(org.body.login, 'acme');
    assert.equal(org.body.full_name, 'Acme Inc');
    assert.equal(org.body.description, 'rockets');
    assert.equal(org.body.type, 'Organization');
    assert.equal((await api.expect(200, 'GET', '/users/acme')).body.type, 'Organization');
    const mine = await api.expect(200, 'GET', '/user/orgs', { as: token(owner) });
    assert.deepEqual(
      mine.body.map((o: { login: string }) => o.login),
      ['acme'],
    );
    const mikes = await api.expect(200, 'GET', '/users/mike/orgs');
    assert.deepEqual(
      mikes.body.map((o: { login: string }) => o.login),
      ['acme'],
    );
    await api.expect(404, 'GET', '/orgs/nope');
    await api.expect(404, 'GET', '/users/nope/orgs');
  });

  test('creating an organisation needs a signed-in user with write:organization; names are shared with users', async () => {
    await api.expect(401, 'POST', '/orgs', { body: { username: 'anon-org' } });
    const readOnly = await api.createToken('otto', outsider.password, 'org-read', ['read:organization']);
    await api.expect(403, 'POST', '/orgs', { as: { token: readOnly }, body: { username: 'otto-org' } });
    await api.expect(422, 'POST', '/orgs', { as: token(outsider), body: { username: 'MIKE' } });
    await api.expect(422, 'POST', '/orgs', { as: token(outsider), body: { username: 'acme' } });
    const invalid = await api.expect(422, 'POST', '/orgs', { as: token(outsider), body: { full_name: 7 } });
    assert.deepEqual(invalid.body.errors.map((e: { field: string }) => e.field).sort(), ['full_name', 'username']);
    const created = await api.expect(201, 'POST', '/orgs', { as: token(outsider), body: { login: 'otto-labs' } });
    assert.equal(created.headers.get('location'), '/api/v1/orgs/otto-labs');
  });

  test('only owners change or delete an organisation, and not while it owns repositories', async () => {
    await api.expect(401, 'PATCH', '/orgs/acme', { body: { description: 'x' } });
    await api.expect(403, 'PATCH', '/orgs/acme', { as: token(member), body: { description: 'taken over' } });
    await api.expect(403, 'PATCH', '/orgs/acme', { as: token(outsider), body: { description: 'taken over' } });
    const patched = await api.expect(200, 'PATCH', '/orgs/acme', { as: token(owner), body: { description: 'rockets and more' } });
    assert.equal(patched.body.description, 'rockets and more');
    await api.expect(403, 'DELETE', '/orgs/acme', { as: token(member) });
    const refused = await api.expect(422, 'DELETE', '/orgs/acme', { as: token(owner) });
    assert.match(refused.body.message, /owns 2 repositories/);

    await api.expect(201, 'POST', '/orgs', { as: token(owner), body: { username: 'short-lived' } });
    await api.expect(204, 'DELETE', '/orgs/short-lived', { as: api.admin });
    await api.expect(404, 'GET', '/orgs/short-lived');
  });

  test('members read private repositories of the organisation; outsiders do not see them at all', async () => {
    const forMember = await api.expect(200, 'GET', '/orgs/acme/repos', { as: token(member) });
    assert.deepEqual(forMember.body.map((r: { name: string }) => r.name).sort(), ['internal', 'public-site']);
    const internal = forMember.body.find((r: { name: string }) => r.name === 'internal');
    assert.deepEqual(internal.permissions, { admin: false, push: false, pull: true });
    assert.deepEqual(internal.owner, { login: 'acme', type: 'Organization' });
    for (const as of [undefined, token(outsider)]) {
      const listed = await api.expect(200, 'GET', '/orgs/acme/repos', { as });
      assert.deepEqual(
        listed.body.map((r: { name: string }) => r.name),
        ['public-site'],
      );
      assert.equal(listed.headers.get('x-total-count'), '1');
      await api.expect(404, 'GET', '/repos/acme/internal', { as });
    }
    const forOwner = await api.expect(200, 'GET', '/repos/acme/internal', { as: token(owner) });
    assert.deepEqual(forOwner.body.permissions, { admin: true, push: true, pull: true });
  });

  test('members of an organisation may create its repositories; outsiders may not', async () => {
    const created = await api.expect(201, 'POST', '/orgs/acme/repos', { as: token(member), body: { name: 'by-member' } });
    assert.equal(created.body.full_name, 'acme/by-member');
    await api.expect(403, 'POST', '/orgs/acme/repos', { as: token(outsider), body: { name: 'by-outsider' } });
    await api.expect(401, 'POST', '/orgs/acme/repos', { body: { name: 'by-nobody' } });
    await api.expect(404, 'POST', '/orgs/nope/repos', { as: token(member), body: { name: 'x' } });
    await api.expect(204, 'DELETE', '/repos/acme/by-member', { as: token(owner) });
  });

  test('members are listed for members; owners add, promote and remove them; a member may leave', async () => {
    await api.expect(401, 'GET', '/orgs/acme/members');
    await api.expect(403, 'GET', '/orgs/acme/members', { as: token(outsider) });
    const listed = await api.expect(200, 'GET', '/orgs/acme/members', { as: token(member) });
    assert.deepEqual(listed.body.map((u: { login: string }) => u.login).sort(), ['mike', 'olga']);

    await api.expect(403, 'PUT', '/orgs/acme/memberships/otto', { as: token(member), body: { role: 'member' } });
    await api.expect(404, 'PUT', '/orgs/acme/memberships/nobody', { as: token(owner), body: { role: 'member' } });
    const badRole = await api.expect(422, 'PUT', '/orgs/acme/memberships/otto', { as: token(owner), body: { role: 'king' } });
    assert.equal(badRole.body.errors[0].field, 'role');
    const promoted = await api.expect(200, 'PUT', '/orgs/acme/memberships/otto', { as: token(owner), body: { role: 'admin' } });
    assert.equal(promoted.body.role, 'admin');
    assert.equal(promoted.body.organization.login, 'acme');
    assert.equal(promoted.body.user.login, 'otto');
    assert.deepEqual((await api.expect(200, 'GET', '/repos/acme/internal', { as: token(outsider) })).body.permissions, {
      admin: true,
      push: true,
      pull: true,
    });
    const role = await api.expect(200, 'GET', '/orgs/acme/memberships/otto', { as: token(member) });
    assert.equal(role.body.role, 'admin');

    await api.expect(403, 'DELETE', '/orgs/acme/members/otto', { as: token(member) });
    await api.expect(204, 'DELETE', '/orgs/acme/members/otto', { as: token(owner) });
    await api.expect(404, 'GET', '/repos/acme/internal', { as: token(outsider) });

    await api.expect(200, 'PUT', '/orgs/acme/memberships/otto', { as: token(owner) });
    await api.expect(204, 'DELETE', '/orgs/acme/members/otto', { as: token(outsider) });
    await api.expect(404, 'GET', '/orgs/acme/memberships/otto', { as: token(member) });
  });

  describe('teams', () => {
    test('owners create teams; members see them; outsiders do not', async () => {
      await api.expect(403, 'POST', '/orgs/acme/teams', { as: token(member), body: { name: 'Rogue' } });
      const invalid = await api.expect(422, 'POST', '/orgs/acme/teams', { as: token(owner), body: { permission: 'everything' } });
      assert.deepEqual(invalid.body.errors.map((e: { field: string }) => e.field).sort(), ['name', 'permission']);
      const created = await api.expect(201, 'POST', '/orgs/acme/teams', {
        as: token(owner),
        body: { name: 'Builders', description: 'they build', permission: 'push' },
      });
      assert.deepEqual(
        { ...created.body, id: undefined },
        {
          id: undefined,
          name: 'Builders',
          slug: 'builders',
          description: 'they build',
          permission: 'write',
          includes_all_repositories: false,
          organization: { login: 'acme' },
        },
      );
      await api.expect(422, 'POST', '/orgs/acme/teams', { as: token(owner), body: { name: 'BUILDERS' } });

      const listed = await api.expect(200, 'GET', '/orgs/acme/teams', { as: token(member) });
      assert.ok(listed.body.some((t: { slug: string }) => t.slug === 'builders'));
      await api.expect(200, 'GET', '/orgs/acme/teams/builders', { as: token(member) });
      await api.expect(403, 'GET', '/orgs/acme/teams', { as: token(outsider) });
      await api.expect(403, 'GET', '/orgs/acme/teams/builders', { as: token(outsider) });
      await api.expect(401, 'GET', '/orgs/acme/teams');
      await api.expect(404, 'GET', '/orgs/acme/teams/nope', { as: token(member) });
    });

    test('a team gives its members its permission on the repositories it covers', async () => {
      await api.expect(201, 'POST', '/orgs/acme/teams', { as: token(owner), body: { name: 'deployers', permission: 'write' } });
      const joined = await api.expect(200, 'PUT', '/orgs/acme/teams/deployers/memberships/otto', { as: token(owner) });
      assert.equal(joined.body.state, 'active');
      await api.expect(403, 'PUT', '/orgs/acme/teams/deployers/memberships/mike', { as: token(member) });
      const members = await api.expect(200, 'GET', '/orgs/acme/teams/deployers/members', { as: token(member) });
      assert.deepEqual(
        members.body.map((u: { login: string }) => u.login),
        ['otto'],
      );

      // Joining the team made otto a member: read access to the organisation's repositories.
      assert.deepEqual((await api.expect(200, 'GET', '/repos/acme/internal', { as: token(outsider) })).body.permissions, {
        admin: false,
        push: false,
        pull: true,
      });
      await api.expect(403, 'PUT', '/orgs/acme/teams/deployers/repos/acme/internal', { as: token(member) });
      await api.expect(204, 'PUT', '/orgs/acme/teams/deployers/repos/acme/internal', { as: token(owner) });
      assert.deepEqual((await api.expect(200, 'GET', '/repos/acme/internal', { as: token(outsider) })).body.permissions, {
        admin: false,
        push: true,
        pull: true,
      });
      const repos = await api.expect(200, 'GET', '/orgs/acme/teams/deployers/repos', { as: token(outsider) });
      assert.deepEqual(
        repos.body.map((r: { full_name: string }) => r.full_name),
        ['acme/internal'],
      );

      // Only the organisation's own repositories can be given to its teams; any other answers
      // as a missing one, so that someone else's private repository is not revealed.
      await api.expect(201, 'POST', '/user/repos', { as: token(owner), body: { name: 'personal' } });
      await api.expect(404, 'PUT', '/orgs/acme/teams/deployers/repos/olga/personal', { as: token(owner) });
      await api.expect(404, 'PUT', '/orgs/acme/teams/deployers/repos/acme/none', { as: token(owner) });
      await api.expect(201, 'POST', '/user/repos', { as: token(outsider), body: { name: 'hidden', private: true } });
      for (const method of ['PUT', 'DELETE']) {
        const hidden = await api.expect(404, method, '/orgs/acme/teams/deployers/repos/otto/hidden', { as: token(owner) });
        const missing = await api.expect(404, method, '/orgs/acme/teams/deployers/repos/otto/absent', { as: token(owner) });
        assert.equal(hidden.body.message.replace('hidden', 'absent'), missing.body.message, method);
      }

      await api.expect(204, 'DELETE', '/orgs/acme/teams/deployers/repos/acme/internal', { as: token(owner) });
      assert.deepEqual((await api.expect(200, 'GET', '/repos/acme/internal', { as: token(outsider) })).body.permissions, {
        admin: false,
        push: false,
        pull: true,
      });
      await api.expect(204, 'DELETE', '/orgs/acme/teams/deployers/memberships/otto', { as: token(owner) });
      assert.deepEqual((await api.expect(200, 'GET', '/orgs/acme/teams/deployers/members', { as: token(member) })).body, []);
    });

    test('a team covering every repository; renaming and deleting a team', async () => {
      await api.expect(201, 'POST', '/orgs/acme/teams', {
        as: token(owner),
        body: { name: 'admins', permission: 'admin', includes_all_repositories: true },
      });
      await api.expect(200, 'PUT', '/orgs/acme/teams/admins/memberships/mike', { as: token(owner) });
      assert.deepEqual((await api.expect(200, 'GET', '/repos/acme/internal', { as: token(member) })).body.permissions, {
        admin: true,
        push: true,
        pull: true,
      });
      const covered = await api.expect(200, 'GET', '/orgs/acme/teams/admins/repos', { as: token(member) });
      assert.deepEqual(covered.body.map((r: { name: string }) => r.name).sort(), ['internal', 'public-site']);

      await api.expect(403, 'PATCH', '/orgs/acme/teams/admins', { as: token(member), body: { name: 'mine' } });
      const renamed = await api.expect(200, 'PATCH', '/orgs/acme/teams/admins', {
        as: token(owner),
        body: { name: 'Stewards', permission: 'read' },
      });
      assert.equal(renamed.body.slug, 'stewards');
      assert.equal(renamed.body.permission, 'read');
      await api.expect(404, 'GET', '/orgs/acme/teams/admins', { as: token(member) });
      await api.expect(403, 'DELETE', '/orgs/acme/teams/stewards', { as: token(member) });
      await api.expect(204, 'DELETE', '/orgs/acme/teams/stewards', { as: token(owner) });
      assert.deepEqual((await api.expect(200, 'GET', '/repos/acme/internal', { as: token(member) })).body.permissions, {
        admin: false,
        push: false,
        pull: true,
      });
    });
  });
});
