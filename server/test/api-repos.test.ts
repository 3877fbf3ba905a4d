/**
 * Repositories and collaborators in the REST API, across every permission boundary: anonymous,
 * a stranger, reader, writer and admin collaborators, the owner, the site administrator, a
 * revoked token, a token lacking a scope, a wrong password.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL_SCOPES, password, startApiServer, token, type ApiClient, type ApiTestServer, type TestUser } from './api-client.js';

describe('repositories API', () => {
  let fixture: ApiTestServer;
  let api: ApiClient;
  let alice: TestUser; // owns the repositories
  let reader: TestUser;
  let writer: TestUser;
  let maintainer: TestUser; // admin collaborator
  let stranger: TestUser;

  before(async () => {
    fixture = await startApiServer();
    api = fixture.api;
    [alice, reader, writer, maintainer, stranger] = await Promise.all(
      ['alice', 'reader', 'writer', 'maintainer', 'stranger'].map((name) => api.createUser(name)),
    );
    await api.expect(201, 'POST', '/user/repos', {
      as: token(alice),
      body: { name: 'secret', private: true, description: 'hidden things' },
    });
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'open' } });
    for (const [user, permission] of [
      [reader, 'read'],
      [writer, 'write'],
      [maintainer, 'admin'],
    ] as const) {
      await api.expect(204, 'PUT', `/repos/alice/secret/collaborators/${user.name}`, { as: token(alice), body: { permission } });
    }
  });
  after(() => fixture?.server.stop());

  test('creating answers 201 with the repository in GitHub’s shape', async () => {
    const created = await api.expect(201, 'POST', '/user/repos', {
      as: token(alice),
      body: { name: 'shaped', description: 'd', default_branch: 'trunk' },
    });
    assert.equal(created.headers.get('location'), '/api/v1/repos/alice/shaped');
    const repo = created.body;
    assert.equal(repo.full_name, 'alice/shaped');
    assert.deepEqual(repo.owner, { login: 'alice', type: 'User' });
    assert.equal(repo.private, false);
    assert.equal(repo.description, 'd');
    assert.equal(repo.default_branch, 'trunk');
    assert.equal(repo.clone_url, `${api.baseUrl}/alice/shaped.git`);
    assert.equal(repo.html_url, `${api.baseUrl}/alice/shaped`);
    assert.deepEqual(repo.permissions, { admin: true, push: true, pull: true });
    await api.expect(409, 'POST', '/user/repos', { as: token(alice), body: { name: 'SHAPED' } });
  });

  test('a private repository is 404 for anonymous callers and strangers, as if it did not exist', async () => {
    const anonymous = await api.expect(404, 'GET', '/repos/alice/secret');
    const missing = await api.expect(404, 'GET', '/repos/alice/no-such-repo');
    assert.equal(anonymous.body.message, 'repository alice/secret not found');
    assert.equal(missing.body.message, 'repository alice/no-such-repo not found');
    await api.expect(404, 'GET', '/repos/alice/secret', { as: token(stranger) });
    await api.expect(404, 'PATCH', '/repos/alice/secret', { as: token(stranger), body: { description: 'x' } });
    await api.expect(404, 'DELETE', '/repos/alice/secret', { as: token(stranger) });
    await api.expect(404, 'GET', '/repos/alice/secret/collaborators', { as: token(stranger) });
    // Anonymous writes ask for credentials instead.
    await api.expect(401, 'PATCH', '/repos/alice/secret', { body: { description: 'x' } });
    await api.expect(401, 'DELETE', '/repos/alice/secret');
  });

  test('each collaborator sees its own permissions and may do only what they allow', async () => {
    const expected = {
      reader: { admin: false, push: false, pull: true },
      writer: { admin: false, push: true, pull: true },
      maintainer: { admin: true, push: true, pull: true },
    };
    for (const user of [reader, writer, maintainer]) {
      const seen = await api.expect(200, 'GET', '/repos/alice/secret', { as: token(user) });
      assert.deepEqual(seen.body.permissions, expected[user.name as keyof typeof expected], user.name);
    }
    // Listing collaborators needs push access (GitHub's rule).
    await api.expect(403, 'GET', '/repos/alice/secret/collaborators', { as: token(reader) });
    const listed = await api.expect(200, 'GET', '/repos/alice/secret/collaborators', { as: token(writer) });
    assert.deepEqual(listed.body.map((c: { login: string; role_name: string }) => [c.login, c.role_name]).sort(), [
      ['maintainer', 'admin'],
      ['reader', 'read'],
      ['writer', 'write'],
    ]);
    // Changing the repository or its collaborators needs admin.
    for (const user of [reader, writer]) {
      await api.expect(403, 'PATCH', '/repos/alice/secret', { as: token(user), body: { description: 'mine now' } });
      await api.expect(403, 'PUT', `/repos/alice/secret/collaborators/${stranger.name}`, { as: token(user), body: { permission: 'read' } });
      await api.expect(403, 'DELETE', '/repos/alice/secret', { as: token(user) });
    }
    const patched = await api.expect(200, 'PATCH', '/repos/alice/secret', {
      as: token(maintainer),
      body: { description: 'kept by the maintainer' },
    });
    assert.equal(patched.body.description, 'kept by the maintainer');
    assert.equal(patched.body.private, true);
  });

  test('the permission endpoint reports a user’s effective level', async () => {
    const levels: Record<string, string> = { alice: 'admin', reader: 'read', writer: 'write', maintainer: 'admin', stranger: 'none' };
    for (const [name, level] of Object.entries(levels)) {
      const answer = await api.expect(200, 'GET', `/repos/alice/secret/collaborators/${name}/permission`, { as: token(reader) });
      assert.equal(answer.body.permission, level, name);
      assert.equal(answer.body.user.login, name);
    }
    await api.expect(404, 'GET', '/repos/alice/secret/collaborators/nobody/permission', { as: token(reader) });
    await api.expect(404, 'GET', '/repos/alice/secret/collaborators/reader/permission', { as: token(stranger) });
  });

  test('lists hide private repositories from those who may not read them, and never count them', async () => {
    const names = (response: { body: Array<{ name: string }> }) => response.body.map((repo) => repo.name).sort();
    const anonymous = await api.expect(200, 'GET', '/users/alice/repos');
    assert.ok(!names(anonymous).includes('secret'));
    assert.ok(names(anonymous).includes('open'));
    assert.equal(anonymous.headers.get('x-total-count'), String(anonymous.body.length));
    const strangers = await api.expect(200, 'GET', '/users/alice/repos', { as: token(stranger) });
    assert.deepEqual(names(strangers), names(anonymous));
    const readers = await api.expect(200, 'GET', '/users/alice/repos', { as: token(reader) });
    assert.deepEqual(names(readers), [...names(anonymous), 'secret'].sort());
    const own = await api.expect(200, 'GET', '/user/repos', { as: token(alice) });
    assert.ok(names(own).includes('secret'));
    const theirs = await api.expect(200, 'GET', '/user/repos', { as: token(stranger) });
    assert.deepEqual(theirs.body, []);
    await api.expect(401, 'GET', '/user/repos');
    await api.expect(404, 'GET', '/users/nobody-here/repos');
  });

  test('lists paginate with page and per_page (limit as an alias) and a Link header', async () => {
    const owner = await api.createUser('pager');
    for (const name of ['r1', 'r2', 'r3', 'r4', 'r5']) await api.expect(201, 'POST', '/user/repos', { as: token(owner), body: { name } });
    await api.expect(201, 'POST', '/user/repos', { as: token(owner), body: { name: 'r6', private: true } });
    const first = await api.expect(200, 'GET', '/users/pager/repos?per_page=2');
    assert.deepEqual(
      first.body.map((r: { name: string }) => r.name),
      ['r1', 'r2'],
    );
    assert.equal(first.headers.get('x-total-count'), '5');
    const link = first.headers.get('link') ?? '';
    assert.match(link, /<[^>]*page=2[^>]*>; rel="next"/);
    assert.match(link, /<[^>]*page=3[^>]*>; rel="last"/);
    const last = await api.expect(200, 'GET', '/users/pager/repos?page=3&limit=2');
    assert.deepEqual(
      last.body.map((r: { name: string }) => r.name),
      ['r5'],
    );
    assert.match(last.headers.get('link') ?? '', /page=2[^>]*>; rel="prev"/);
    assert.doesNotMatch(last.headers.get('link') ?? '', /rel="next"/);
    const invalid = await api.expect(422, 'GET', '/users/pager/repos?per_page=zero');
    assert.equal(invalid.body.errors[0].field, 'per_page');
  });

  test('tokens are capped by their scopes; revoked tokens and wrong passwords are refused', async () => {
    const userOnly = await api.createToken(reader.name, reader.password, 'user-only', ['read:user']);
    const refused = await api.expect(403, 'GET', '/repos/alice/secret', { as: { token: userOnly } });
    assert.match(refused.body.message, /read:repository/);
    await api.expect(403, 'GET', '/users/alice/repos', { as: { token: userOnly } });
    await api.expect(200, 'GET', '/user', { as: { token: userOnly } });

    const readOnly = await api.createToken(maintainer.name, maintainer.password, 'read-only', ['read:repository']);
    await api.expect(200, 'GET', '/repos/alice/secret', { as: { token: readOnly } });
    const noWrite = await api.expect(403, 'PATCH', '/repos/alice/secret', { as: { token: readOnly }, body: { description: 'x' } });
    assert.match(noWrite.body.message, /write:repository/);

    const doomed = await api.createToken(reader.name, reader.password, 'doomed', ALL_SCOPES);
    await api.expect(200, 'GET', '/repos/alice/secret', { as: { token: doomed } });
    const listed = await api.expect(200, 'GET', `/users/${reader.name}/tokens`, { as: password(reader) });
    const id = listed.body.find((t: { name: string }) => t.name === 'doomed').id;
    await api.expect(204, 'DELETE', `/users/${reader.name}/tokens/${id}`, { as: password(reader) });
    await api.expect(401, 'GET', '/repos/alice/secret', { as: { token: doomed } });
    await api.expect(401, 'GET', '/repos/alice/open', { as: { token: doomed } });

    await api.expect(401, 'GET', '/repos/alice/secret', { as: { basic: [reader.name, 'wrong password'] } });
    await api.expect(200, 'GET', '/repos/alice/secret', { as: password(reader) });
  });

  test('PATCH renames, changes visibility and moves the default branch only to an existing branch', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'moving' } });
    // An empty repository may name any branch: its first push creates it.
    const empty = await api.expect(200, 'PATCH', '/repos/alice/moving', { as: token(alice), body: { default_branch: 'develop' } });
    assert.equal(empty.body.default_branch, 'develop');
    const invalid = await api.expect(422, 'PATCH', '/repos/alice/moving', {
      as: token(alice),
      body: { default_branch: 'bad..name', private: 'yes', name: 'a/b' },
    });
    assert.deepEqual(invalid.body.errors.map((e: { field: string }) => e.field).sort(), ['default_branch', 'name', 'private']);

    const renamed = await api.expect(200, 'PATCH', '/repos/alice/moving', { as: token(alice), body: { name: 'moved', private: true } });
    assert.equal(renamed.body.full_name, 'alice/moved');
    assert.equal(renamed.body.private, true);
    assert.equal(renamed.body.default_branch, 'develop');
    await api.expect(404, 'GET', '/repos/alice/moving', { as: token(alice) });
    await api.expect(404, 'GET', '/repos/alice/moved');
    await api.expect(409, 'PATCH', '/repos/alice/moved', { as: token(alice), body: { name: 'open' } });
  });

  test('collaborators are added, changed and removed by repository admins only', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'shared', private: true } });
    await api.expect(404, 'PUT', '/repos/alice/shared/collaborators/nobody', { as: token(alice), body: { permission: 'read' } });
    const bad = await api.expect(422, 'PUT', '/repos/alice/shared/collaborators/stranger', {
      as: token(alice),
      body: { permission: 'owner' },
    });
    assert.equal(bad.body.errors[0].field, 'permission');
    await api.expect(204, 'PUT', '/repos/alice/shared/collaborators/stranger', { as: token(alice), body: { permission: 'pull' } });
    const seen = await api.expect(200, 'GET', '/repos/alice/shared', { as: token(stranger) });
    assert.deepEqual(seen.body.permissions, { admin: false, push: false, pull: true });
    await api.expect(204, 'DELETE', '/repos/alice/shared/collaborators/stranger', { as: token(alice) });
    await api.expect(404, 'GET', '/repos/alice/shared', { as: token(stranger) });
  });

  test('deleting needs admin; the site administrator may; the name is free again and old grants are gone', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'doomed', private: true } });
    await api.expect(204, 'PUT', '/repos/alice/doomed/collaborators/reader', { as: token(alice), body: { permission: 'read' } });
    await api.expect(403, 'DELETE', '/repos/alice/doomed', { as: token(reader) });
    await api.expect(204, 'DELETE', '/repos/alice/doomed', { as: api.admin });
    await api.expect(404, 'GET', '/repos/alice/doomed', { as: api.admin });
    // A new repository of the same name does not inherit the old one's collaborators.
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'doomed', private: true } });
    await api.expect(404, 'GET', '/repos/alice/doomed', { as: token(reader) });
  });

  test('the site administrator reads every private repository', async () => {
    const seen = await api.expect(200, 'GET', '/repos/alice/secret', { as: api.admin });
    assert.deepEqual(seen.body.permissions, { admin: true, push: true, pull: true });
  });

  test('repository creation validates its body', async () => {
    const invalid = await api.expect(422, 'POST', '/user/repos', { as: token(alice), body: { name: '../evil', private: 'no' } });
    assert.equal(invalid.body.message, 'Validation Failed');
    assert.deepEqual(invalid.body.errors.map((e: { field: string }) => e.field).sort(), ['name', 'private']);
    const missing = await api.expect(422, 'POST', '/user/repos', { as: token(alice) });
    assert.equal(missing.body.errors[0].field, 'name');
    await api.expect(401, 'POST', '/user/repos', { body: { name: 'anonymous' } });
    // JSON only, declared as such: what an HTML form can send (urlencoded, as `curl -d` does
    // too, multipart, text/plain) is refused, whatever it holds, and nothing is created.
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', undefined]) {
      const formStyle = await api.call('POST', '/user/repos', { as: token(alice), rawBody: '{"name":"from-a-form"}', contentType });
      assert.equal(formStyle.status, 415, `${contentType}: ${JSON.stringify(formStyle.body)}`);
      assert.match(formStyle.body.message, /application\/json/);
    }
    await api.expect(404, 'GET', '/repos/alice/from-a-form', { as: token(alice) });
    for (const contentType of ['application/json; charset=utf-8', 'application/vnd.github+json']) {
      const name = `typed-${contentType.length}`;
      const typed = await api.call('POST', '/user/repos', { as: token(alice), rawBody: JSON.stringify({ name }), contentType });
      assert.equal(typed.status, 201, `${contentType}: ${JSON.stringify(typed.body)}`);
    }
    const broken = await api.call('POST', '/user/repos', { as: token(alice), rawBody: '{"name":', contentType: 'application/json' });
    assert.equal(broken.status, 400);
    assert.equal(typeof broken.body.message, 'string');
  });
});
