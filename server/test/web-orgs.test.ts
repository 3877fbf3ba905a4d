import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiClient, type TestUser } from './api-client.js';
import type { TestServer } from './helpers.js';
import { LOOPBACK_RECEIVERS_ENV } from '@gitfleet/test-support/server';
import { WebClient, hookPageWithDelivery, startHookReceiver } from './web-fixture.js';

let server: TestServer;
let api: ApiClient;
/** Owner of organisation "guild"; bob a member; carol outside it. */
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let aliceClient: WebClient;
let bobClient: WebClient;
let carolClient: WebClient;

const names = (text: string, attribute: string) => [...text.matchAll(new RegExp(`${attribute}="([^"]+)"`, 'g'))].map((match) => match[1]);

before(async () => {
  ({ server, api } = await startApiServer(LOOPBACK_RECEIVERS_ENV));
  [alice, bob, carol] = await Promise.all([api.createUser('alice'), api.createUser('bob'), api.createUser('carol')]);
  [aliceClient, bobClient, carolClient] = [new WebClient(server.url), new WebClient(server.url), new WebClient(server.url)];
  await Promise.all([
    aliceClient.signIn(alice.name, alice.password),
    bobClient.signIn(bob.name, bob.password),
    carolClient.signIn(carol.name, carol.password),
  ]);
  await api.expect(201, 'POST', '/orgs', { as: { token: alice.token }, body: { login: 'guild' } });
  await api.expect(200, 'PUT', '/orgs/guild/memberships/bob', { as: { token: alice.token }, body: { role: 'member' } });
  await api.expect(201, 'POST', '/orgs/guild/repos', { as: { token: alice.token }, body: { name: 'vault', private: true } });
  await api.expect(201, 'POST', '/orgs/guild/repos', { as: { token: alice.token }, body: { name: 'square' } });
});

after(async () => {
  await server?.stop();
});

describe('organization people', () => {
  test('members see who belongs with their roles; outsiders are refused, anonymous visitors sent to sign in', async () => {
    const page = await bobClient.get('/orgs/guild/people');
    assert.equal(page.status, 200);
    assert.match(page.text, /<li class="member" data-member="alice" data-role="owner">/);
    assert.match(page.text, /<li class="member" data-member="bob" data-role="member">/);
    assert.doesNotMatch(page.text, /id="add-member-form"/, 'a member may not add members');
    assert.doesNotMatch(page.text, /change-role-form/);
    assert.match(page.text, /id="org-tab-people" class="selected"/);
    assert.doesNotMatch(page.text, /id="org-tab-hooks"/, 'webhooks are for owners');

    assert.equal((await carolClient.get('/orgs/guild/people')).status, 403);
    const anonymous = await new WebClient(server.url).get('/orgs/guild/people');
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get('location'), '/login?return_to=%2Forgs%2Fguild%2Fpeople');
    for (const name of ['nowhere', 'no:where', '%2E%2E', 'a%00b'])
      assert.equal((await aliceClient.get(`/orgs/${name}/people`)).status, 404, name);
    assert.equal((await aliceClient.get('/organizations/no:where/settings/hooks')).status, 404);
  });

  test('owners add members, change roles and remove members; members may only leave', async () => {
    const owner = await aliceClient.get('/orgs/guild/people');
    assert.match(owner.text, /id="add-member-form"/);
    const added = await aliceClient.submit('/orgs/guild/people', '/orgs/guild/people', { user: 'carol', role: 'member' });
    assert.equal(added.status, 200);
    assert.match(added.text, /id="flash-success"/);
    assert.match(added.text, /data-member="carol" data-role="member"/);
    const promoted = await aliceClient.submit('/orgs/guild/people', '/orgs/guild/people', { user: 'carol', role: 'owner' });
    assert.match(promoted.text, /data-member="carol" data-role="owner"/);
    assert.equal((await api.expect(200, 'GET', '/orgs/guild/memberships/carol', { as: { token: alice.token } })).body.role, 'admin');

    const unknown = await aliceClient.submit('/orgs/guild/people', '/orgs/guild/people', { user: 'nobody', role: 'member' });
    assert.equal(unknown.status, 422);
    assert.match(unknown.text, /There is no user named nobody/);
    const badRole = await aliceClient.submit('/orgs/guild/people', '/orgs/guild/people', { user: 'carol', role: 'god' });
    assert.equal(badRole.status, 422);

    // A member's forms are refused, CSRF-less posts too.
    assert.equal((await bobClient.submit('/orgs/guild/people', '/orgs/guild/people', { user: 'bob', role: 'owner' })).status, 403);
    assert.equal((await bobClient.submit('/orgs/guild/people', '/orgs/guild/people/carol/delete', {})).status, 403);
    assert.equal((await aliceClient.post('/orgs/guild/people/carol/delete', {})).status, 403, 'no CSRF token');
    assert.equal((await api.expect(200, 'GET', '/orgs/guild/memberships/carol', { as: { token: alice.token } })).body.role, 'admin');

    const removed = await aliceClient.submit('/orgs/guild/people', '/orgs/guild/people/carol/delete', {});
    assert.equal(removed.status, 303);
    assert.equal(removed.headers.get('location'), '/orgs/guild/people');
    await api.expect(404, 'GET', '/orgs/guild/memberships/carol', { as: { token: alice.token } });

    // Leaving: carol joins, then leaves by herself.
    await api.expect(200, 'PUT', '/orgs/guild/memberships/carol', { as: { token: alice.token }, body: { role: 'member' } });
    const own = await carolClient.get('/orgs/guild/people');
    assert.match(own.text, /data-member="carol" data-role="member">[\s\S]*?Leave<\/button>/);
    const left = await carolClient.submit('/orgs/guild/people', '/orgs/guild/people/carol/delete', {});
    assert.equal(left.status, 303);
    assert.equal(left.headers.get('location'), '/');
    await api.expect(404, 'GET', '/orgs/guild/memberships/carol', { as: { token: alice.token } });
  });

  test('the organization page links to its people, teams and (for owners) webhooks', async () => {
    const member = await bobClient.get('/guild');
    assert.match(member.text, /id="org-people-link" href="\/orgs\/guild\/people"/);
    assert.match(member.text, /id="org-teams-link" href="\/orgs\/guild\/teams"/);
    assert.doesNotMatch(member.text, /id="org-hooks-link"/);
    assert.match((await aliceClient.get('/guild')).text, /id="org-hooks-link" href="\/organizations\/guild\/settings\/hooks"/);
  });
});

describe('organization teams', () => {
  test('owners create a team, give it members and repositories, change and delete it; members only look', async () => {
    const form = await aliceClient.get('/orgs/guild/teams');
    assert.match(form.text, /id="new-team-form"/);
    const created = await aliceClient.submit('/orgs/guild/teams', '/orgs/guild/teams', {
      name: 'Core',
      description: 'The <core>',
      permission: 'write',
    });
    assert.equal(created.status, 303);
    assert.equal(created.headers.get('location'), '/orgs/guild/teams/Core');
    const duplicate = await aliceClient.submit('/orgs/guild/teams', '/orgs/guild/teams', { name: 'core', permission: 'read' });
    assert.equal(duplicate.status, 422);
    assert.match(duplicate.text, /already has a team named/);

    const list = await bobClient.get('/orgs/guild/teams');
    assert.equal(list.status, 200);
    assert.deepEqual(names(list.text, 'data-team'), ['Core']);
    assert.doesNotMatch(list.text, /id="new-team-form"/);
    assert.equal((await carolClient.get('/orgs/guild/teams')).status, 403);
    assert.equal((await carolClient.get('/orgs/guild/teams/core')).status, 403);
    assert.equal((await aliceClient.get('/orgs/guild/teams/nothing')).status, 404);

    // carol is no member: adding her to the team makes her one, as the API does.
    const withMember = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core/members', { user: 'carol' });
    assert.equal(withMember.status, 200);
    assert.deepEqual(names(withMember.text.slice(withMember.text.indexOf('id="team-members"')), 'data-member').slice(0, 1), ['carol']);
    assert.match(withMember.text, /The &lt;core&gt;/);
    const withRepo = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core/repositories', { repository: 'vault' });
    assert.match(withRepo.text, /<li class="repository" data-repo="guild\/vault">/);
    assert.doesNotMatch(withRepo.text, /data-repo="guild\/square"/);
    const foreign = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core/repositories', { repository: '../alice' });
    assert.equal(foreign.status, 422);
    const access = await api.expect(200, 'GET', '/repos/guild/vault', { as: { token: carol.token } });
    assert.equal(access.body.permissions.push, true, 'the team grants write');

    // A member sees the team without its forms and may not change it.
    const seen = await bobClient.get('/orgs/guild/teams/core');
    assert.equal(seen.status, 200);
    assert.doesNotMatch(seen.text, /id="team-settings-form"|id="add-team-member-form"|remove-team-member-form/);
    assert.equal((await bobClient.submit('/orgs/guild/teams/core', '/orgs/guild/teams/core/members', { user: 'bob' })).status, 403);
    assert.equal((await bobClient.submit('/orgs/guild/teams/core', '/orgs/guild/teams/core/delete', {})).status, 403);

    const saved = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core', {
      description: 'Changed',
      permission: 'read',
      includes_all_repositories: '1',
    });
    assert.equal(saved.status, 200);
    assert.match(saved.text, /id="team-permission-badge">read</);
    assert.match(saved.text, /data-repo="guild\/square"/, 'every repository of the organization');

    await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core', { description: 'Changed', permission: 'read' });
    const repoRemoved = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core/repositories/vault/delete', {});
    assert.equal(repoRemoved.status, 303);
    const memberRemoved = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core/members/carol/delete', {});
    assert.equal(memberRemoved.status, 303);
    const after = await aliceClient.get('/orgs/guild/teams/Core');
    assert.doesNotMatch(after.text, /data-repo="guild\/vault"/);
    assert.doesNotMatch(after.text.slice(after.text.indexOf('id="team-members"')), /data-member="carol"/);

    const deleted = await aliceClient.submit('/orgs/guild/teams/Core', '/orgs/guild/teams/Core/delete', {});
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.get('location'), '/orgs/guild/teams');
    await api.expect(404, 'GET', '/orgs/guild/teams/core', { as: { token: alice.token } });
  });
});

describe('organization webhooks', () => {
  test('owners list, create, ping, see deliveries and delete the hooks of the organization', async () => {
    const receiver = await startHookReceiver({ body: 'ok' });
    try {
      const list = await aliceClient.get('/organizations/guild/settings/hooks');
      assert.equal(list.status, 200);
      assert.match(list.text, /id="org-tab-hooks" class="selected"/);
      assert.match(list.text, /in any repository of the organization/);
      const created = await aliceClient.submit('/organizations/guild/settings/hooks/new', '/organizations/guild/settings/hooks/new', {
        url: `${receiver.url}/org-hook`,
        content_type: 'json',
        event_choice: 'some',
        events: ['push'],
        active: '1',
      });
      assert.equal(created.status, 303);
      const hookPage = created.headers.get('location')!;
      assert.match(hookPage, /^\/organizations\/guild\/settings\/hooks\/\d+$/);
      const hooks = await api.expect(200, 'GET', '/orgs/guild/hooks', { as: { token: alice.token } });
      assert.equal(hooks.body.length, 1);
      assert.equal(hooks.body[0].config.url, `${receiver.url}/org-hook`);
      assert.deepEqual(
        (await api.expect(200, 'GET', '/repos/guild/square/hooks', { as: { token: alice.token } })).body,
        [],
        'not a repository hook',
      );

      const page = await hookPageWithDelivery(aliceClient, hookPage);
      assert.deepEqual(receiver.events, ['ping']);
      assert.match(page.text, /<li class="delivery" data-delivery-id="1" data-guid="[^"]+" data-status="200">/);
      const pinged = await aliceClient.submit(hookPage, `${hookPage}/ping`, {});
      assert.equal(pinged.status, 303);
      assert.equal(pinged.headers.get('location'), `${hookPage}?pinged=1`);

      assert.match((await aliceClient.get('/organizations/guild/settings/hooks')).text, /<li class="hook" data-hook-id="\d+">/);
      // Members and outsiders: refused; anonymous visitors: sent to sign in.
      assert.equal((await bobClient.get('/organizations/guild/settings/hooks')).status, 403);
      assert.equal((await bobClient.get(hookPage)).status, 403);
      assert.equal((await carolClient.submit('/guild', `${hookPage}/delete`, {})).status, 403);
      assert.equal((await new WebClient(server.url).get(hookPage)).status, 303);

      const deleted = await aliceClient.submit(hookPage, `${hookPage}/delete`, {});
      assert.equal(deleted.status, 303);
      assert.equal(deleted.headers.get('location'), '/organizations/guild/settings/hooks');
      assert.deepEqual((await api.expect(200, 'GET', '/orgs/guild/hooks', { as: { token: alice.token } })).body, []);
    } finally {
      receiver.close();
    }
  });
});

describe('repositories reached through organizations, teams and collaborations', () => {
  test('the dashboard and GET /user/repos list them, and nothing a user may not read', async () => {
    // dave collaborates on erin's private repository; frank is no one's.
    const [dave, erin, frank] = await Promise.all([api.createUser('dave'), api.createUser('erin'), api.createUser('frank')]);
    await api.expect(201, 'POST', '/user/repos', { as: { token: erin.token }, body: { name: 'diary', private: true } });
    await api.expect(201, 'POST', '/user/repos', { as: { token: erin.token }, body: { name: 'secrets', private: true } });
    await api.expect(201, 'POST', '/user/repos', { as: { token: dave.token }, body: { name: 'own' } });
    await api.expect(201, 'POST', '/user/repos', { as: { token: alice.token }, body: { name: 'alone', private: true } });
    await api.expect(204, 'PUT', '/repos/erin/diary/collaborators/dave', { as: { token: erin.token }, body: { permission: 'read' } });
    // A team of guild (dave becomes a member through it).
    await api.expect(201, 'POST', '/orgs/guild/teams', { as: { token: alice.token }, body: { name: 'readers' } });
    await api.expect(200, 'PUT', '/orgs/guild/teams/readers/memberships/dave', { as: { token: alice.token } });

    const all = ['dave/own', 'guild/square', 'guild/vault', 'erin/diary'];
    const listed = async (query = '') =>
      (await api.expect(200, 'GET', `/user/repos${query}`, { as: { token: dave.token } })).body.map(
        (repo: { full_name: string }) => repo.full_name,
      );
    assert.deepEqual(await listed(), all);
    assert.deepEqual(await listed('?affiliation=owner'), ['dave/own']);
    assert.deepEqual(await listed('?affiliation=collaborator'), ['erin/diary']);
    assert.deepEqual(await listed('?affiliation=organization_member,collaborator'), ['guild/square', 'guild/vault', 'erin/diary']);
    assert.deepEqual(await listed('?affiliation=owner,collaborator,organization_member&per_page=2&page=2'), ['guild/vault', 'erin/diary']);
    await api.expect(422, 'GET', '/user/repos?affiliation=everything', { as: { token: dave.token } });
    await api.expect(401, 'GET', '/user/repos');

    const dashboard = async (user: TestUser) => {
      const client = new WebClient(server.url);
      await client.signIn(user.name, user.password);
      const page = await client.get('/');
      return names(page.text, 'data-repo');
    };
    assert.deepEqual(await dashboard(dave), all);
    assert.deepEqual(await dashboard(frank), [], 'nothing of anyone else, private or not');
    assert.deepEqual(await dashboard(erin), ['erin/diary', 'erin/secrets']);

    // A revoked grant takes the repository off the list.
    await api.expect(204, 'DELETE', '/repos/erin/diary/collaborators/dave', { as: { token: erin.token } });
    assert.deepEqual(await listed(), ['dave/own', 'guild/square', 'guild/vault']);
    assert.deepEqual(await dashboard(dave), ['dave/own', 'guild/square', 'guild/vault']);
  });
});

describe('organization changes the accounts refuse', () => {
  test('the last owner may neither leave nor become a plain member: the page says so (409)', async () => {
    await api.expect(201, 'POST', '/orgs', { as: { token: alice.token }, body: { login: 'solo' } });
    const left = await aliceClient.submit('/orgs/solo/people', '/orgs/solo/people/alice/delete', {});
    assert.equal(left.status, 409);
    assert.match(left.text, /id="flash-error"[\s\S]*?alice is the last owner of organization solo/);
    assert.match(left.text, /data-member="alice" data-role="owner"/);
    const demoted = await aliceClient.submit('/orgs/solo/people', '/orgs/solo/people', { user: 'alice', role: 'member' });
    assert.equal(demoted.status, 409);
    assert.match(demoted.text, /alice is the last owner of organization solo/);
    assert.equal((await api.expect(200, 'GET', '/orgs/solo/memberships/alice', { as: { token: alice.token } })).body.role, 'admin');
  });

  test('a team description over its bound is refused in the team settings form (422), which bounds it too', async () => {
    await api.expect(201, 'POST', '/orgs/guild/teams', { as: { token: alice.token }, body: { name: 'bounded', description: 'short' } });
    const page = await aliceClient.get('/orgs/guild/teams/bounded');
    assert.match(page.text, /id="team-settings-description" name="description" value="short" maxlength="1000"/);
    assert.match((await aliceClient.get('/orgs/guild/teams')).text, /id="team-description" name="description" value="" maxlength="1000"/);
    const refused = await aliceClient.submit('/orgs/guild/teams/bounded', '/orgs/guild/teams/bounded', {
      description: 'x'.repeat(1001),
      permission: 'read',
    });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /id="flash-error"/);
    assert.equal((await api.expect(200, 'GET', '/orgs/guild/teams/bounded', { as: { token: alice.token } })).body.description, 'short');
  });
});

describe('a large team', () => {
  test('its members and repositories are shown a page at a time, each list paged by itself', async () => {
    await api.expect(201, 'POST', '/orgs', { as: { token: alice.token }, body: { login: 'fleet' } });
    await api.expect(200, 'PUT', '/orgs/fleet/memberships/bob', { as: { token: alice.token }, body: { role: 'member' } });
    await api.expect(201, 'POST', '/orgs/fleet/teams', {
      as: { token: alice.token },
      body: { name: 'everyone', includes_all_repositories: true },
    });
    const repositories = Array.from({ length: 32 }, (_, index) => `r${String(index).padStart(2, '0')}`);
    const sailors = Array.from({ length: 31 }, (_, index) => `sailor${String(index).padStart(2, '0')}`);
    for (const name of repositories)
      await api.expect(201, 'POST', '/orgs/fleet/repos', { as: { token: alice.token }, body: { name, private: name === 'r31' } });
    for (const name of sailors) {
      await api.expect(201, 'POST', '/admin/users', {
        as: api.admin,
        body: { login: name, email: `${name}@example.com`, password: `pw-${name}-correct-horse` },
      });
      await api.expect(200, 'PUT', `/orgs/fleet/teams/everyone/memberships/${name}`, { as: { token: alice.token } });
    }
    const listed = (text: string, list: string, attribute: string) =>
      names(text.slice(text.indexOf(`id="${list}"`), text.indexOf('</ul>', text.indexOf(`id="${list}"`))), attribute);

    for (const client of [aliceClient, bobClient]) {
      const first = await client.get('/orgs/fleet/teams/everyone');
      assert.equal(first.status, 200);
      assert.deepEqual(listed(first.text, 'team-members', 'data-member'), sailors.slice(0, 30));
      assert.deepEqual(
        listed(first.text, 'team-repositories', 'data-repo'),
        repositories.slice(0, 30).map((name) => `fleet/${name}`),
      );
      assert.match(first.text, /id="members-next-page" rel="next" href="\/orgs\/fleet\/teams\/everyone\?members_page=2"/);
      assert.match(first.text, /id="repositories-next-page" rel="next" href="\/orgs\/fleet\/teams\/everyone\?repositories_page=2"/);

      const second = await client.get('/orgs/fleet/teams/everyone?members_page=2&repositories_page=2');
      assert.deepEqual(listed(second.text, 'team-members', 'data-member'), sailors.slice(30));
      assert.deepEqual(
        listed(second.text, 'team-repositories', 'data-repo'),
        ['fleet/r30', 'fleet/r31'],
        'a private repository for those who may read it',
      );
      assert.doesNotMatch(second.text, /id="(members|repositories)-next-page"/);
      assert.match(
        second.text,
        /id="members-previous-page" rel="prev" href="\/orgs\/fleet\/teams\/everyone\?members_page=1&amp;repositories_page=2"/,
      );
    }
    // Shown in answer to a form, the page's links lead to the team's page, not to the form's target.
    const answer = await aliceClient.submit('/orgs/fleet/teams/everyone', '/orgs/fleet/teams/everyone/members', { user: 'sailor00' });
    assert.equal(answer.status, 200);
    assert.match(answer.text, /id="members-next-page" rel="next" href="\/orgs\/fleet\/teams\/everyone\?members_page=2"/);
  });
});
