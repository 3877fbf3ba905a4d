/**
 * POST /repos/{owner}/{repo}/transfer: who may move a repository to another owner, what it
 * answers, and what access survives the move (collaborators do; the old organisation's teams
 * do not).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, token, type ApiClient, type ApiTestServer, type TestUser } from './api-client.js';

describe('transferring a repository through the API', () => {
  let fixture: ApiTestServer;
  let api: ApiClient;
  let alice: TestUser; // owns repositories and the organisation acme
  let bob: TestUser; // owns the organisation elsewhere, where alice is no member
  let carol: TestUser; // a collaborator
  let dave: TestUser; // a member of acme's team devs

  before(async () => {
    fixture = await startApiServer();
    api = fixture.api;
    [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((name) => api.createUser(name)));
    await api.expect(201, 'POST', '/orgs', { as: token(alice), body: { username: 'acme' } });
    await api.expect(201, 'POST', '/orgs', { as: token(bob), body: { username: 'elsewhere' } });
    await api.expect(201, 'POST', '/orgs/acme/teams', { as: token(alice), body: { name: 'devs', permission: 'write' } });
    await api.expect(200, 'PUT', '/orgs/acme/teams/devs/memberships/dave', { as: token(alice) });
  });
  after(() => fixture?.server.stop());

  const transfer = (status: number, from: string, body: object, as: TestUser) =>
    api.expect(status, 'POST', `/repos/${from}/transfer`, { as: token(as), body });
  const permissions = async (fullName: string, as: TestUser) =>
    (await api.expect(200, 'GET', `/repos/${fullName}`, { as: token(as) })).body.permissions;

  test('answers 202 with the repository at its new place; the old place is gone; collaborators stay', async () => {
    await api.expect(201, 'POST', '/user/repos', {
      as: token(alice),
      body: { name: 'project', private: true, description: 'kept', default_branch: 'trunk' },
    });
    await api.expect(204, 'PUT', '/repos/alice/project/collaborators/carol', { as: token(alice), body: { permission: 'write' } });
    const before = await api.expect(200, 'GET', '/repos/alice/project', { as: token(alice) });

    const moved = await transfer(202, 'alice/project', { new_owner: 'ACME', new_name: 'rocket' }, alice);
    assert.equal(moved.body.full_name, 'acme/rocket');
    assert.deepEqual(moved.body.owner, { login: 'acme', type: 'Organization' });
    assert.equal(moved.body.id, before.body.id);
    assert.equal(moved.body.private, true);
    assert.equal(moved.body.description, 'kept');
    assert.equal(moved.body.default_branch, 'trunk');
    assert.equal(moved.body.clone_url, `${api.baseUrl}/acme/rocket.git`);
    assert.deepEqual(moved.body.permissions, { admin: true, push: true, pull: true });

    await api.expect(404, 'GET', '/repos/alice/project', { as: token(alice) });
    assert.deepEqual(await permissions('acme/rocket', carol), { admin: false, push: true, pull: true });
    // Without a new name it keeps its own.
    const back = await transfer(202, 'acme/rocket', { new_owner: 'alice' }, alice);
    assert.equal(back.body.full_name, 'alice/rocket');
  });

  test("the old organisation's team grants are dropped; a transfer to the same owner is a rename and keeps them", async () => {
    await api.expect(201, 'POST', '/orgs/acme/repos', { as: token(alice), body: { name: 'tool', private: true } });
    await api.expect(204, 'PUT', '/orgs/acme/teams/devs/repos/acme/tool', { as: token(alice) });
    assert.deepEqual(await permissions('acme/tool', dave), { admin: false, push: true, pull: true });

    await transfer(202, 'acme/tool', { new_owner: 'acme', new_name: 'tooling' }, alice);
    assert.deepEqual(await permissions('acme/tooling', dave), { admin: false, push: true, pull: true });

    await transfer(202, 'acme/tooling', { new_owner: 'alice' }, alice);
    await api.expect(404, 'GET', '/repos/alice/tooling', { as: token(dave) });
    // Back in acme, the team's old grant does not come back: dave reads it as a member only.
    await transfer(202, 'alice/tooling', { new_owner: 'acme' }, alice);
    assert.deepEqual(await permissions('acme/tooling', dave), { admin: false, push: false, pull: true });
    const teamRepos = await api.expect(200, 'GET', '/orgs/acme/teams/devs/repos', { as: token(alice) });
    assert.deepEqual(teamRepos.body, []);
  });

  test('unknown repositories and owners are 404; strangers see a private repository as missing', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'hidden', private: true } });
    const missing = await transfer(404, 'alice/no-such-repo', { new_owner: 'acme' }, alice);
    assert.equal(missing.body.message, 'repository alice/no-such-repo not found');
    const noOwner = await transfer(404, 'alice/hidden', { new_owner: 'nobody' }, alice);
    assert.equal(noOwner.body.message, 'user or organization nobody not found');
    await transfer(404, 'alice/hidden', { new_owner: 'bob' }, bob);
    await api.expect(401, 'POST', '/repos/alice/hidden/transfer', { body: { new_owner: 'acme' } });
    await api.expect(200, 'GET', '/repos/alice/hidden', { as: token(alice) });
  });

  test('only repository admins may transfer, and only to owners they may create under', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'guarded' } });
    await api.expect(204, 'PUT', '/repos/alice/guarded/collaborators/carol', { as: token(alice), body: { permission: 'write' } });
    await transfer(403, 'alice/guarded', { new_owner: 'carol' }, carol);
    const refused = await transfer(403, 'alice/guarded', { new_owner: 'elsewhere' }, alice);
    assert.equal(refused.body.message, 'alice may not create repositories under elsewhere');
    await transfer(403, 'alice/guarded', { new_owner: 'bob' }, alice);
    await api.expect(200, 'GET', '/repos/alice/guarded', { as: token(alice) });
    // The site administrator may move it anywhere.
    const moved = await api.expect(202, 'POST', '/repos/alice/guarded/transfer', { as: api.admin, body: { new_owner: 'elsewhere' } });
    assert.equal(moved.body.full_name, 'elsewhere/guarded');
  });

  test('a bad body is 422; a name taken under the new owner is 409, as for creating', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'named' } });
    await api.expect(201, 'POST', '/orgs/acme/repos', { as: token(alice), body: { name: 'Named' } });
    const invalid = await transfer(422, 'alice/named', { new_owner: 7, new_name: 'a/b' }, alice);
    assert.deepEqual(invalid.body.errors.map((e: { field: string }) => e.field).sort(), ['new_name', 'new_owner']);
    await transfer(422, 'alice/named', {}, alice);
    await transfer(409, 'alice/named', { new_owner: 'acme' }, alice);
    await transfer(202, 'alice/named', { new_owner: 'acme', new_name: 'named-too' }, alice);
    await transfer(409, 'acme/named-too', { new_owner: 'acme', new_name: 'NAMED' }, alice);
  });

  test('the route is in the OpenAPI document', async () => {
    const { body: doc } = await api.expect(200, 'GET', '/openapi.json');
    const operation = doc.paths['/repos/{owner}/{repo}/transfer']?.post;
    assert.ok(operation, 'POST /repos/{owner}/{repo}/transfer is documented');
    assert.ok('202' in operation.responses);
    assert.deepEqual(operation.requestBody.content['application/json'].schema.required, ['new_owner']);
  });
});
