/**
 * Users, site administration of users, and personal access tokens in the REST API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  TEST_ADMIN,
  TEST_ADMIN_PASSWORD,
  password,
  startApiServer,
  token,
  type ApiClient,
  type ApiTestServer,
  type TestUser,
} from './api-client.js';

describe('accounts API', () => {
  let fixture: ApiTestServer;
  let api: ApiClient;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    fixture = await startApiServer();
    api = fixture.api;
    [alice, bob] = await Promise.all([api.createUser('alice'), api.createUser('bob')]);
  });
  after(() => fixture?.server.stop());

  test('GET /user answers who the credential belongs to, in GitHub’s shape', async () => {
    for (const as of [token(alice), password(alice)]) {
      const me = await api.expect(200, 'GET', '/user', { as });
      assert.equal(me.body.login, 'alice');
      assert.equal(me.body.email, 'alice@example.com');
      assert.equal(me.body.type, 'User');
      assert.equal(me.body.is_admin, false);
      assert.equal(me.body.html_url, `${api.baseUrl}/alice`);
    }
    const admin = await api.expect(200, 'GET', '/user', { as: api.admin });
    assert.equal(admin.body.login, TEST_ADMIN);
    assert.equal(admin.body.is_admin, true);
    await api.expect(401, 'GET', '/user');
    await api.expect(401, 'GET', '/user', { as: { basic: ['alice', 'not her password'] } });
    await api.expect(401, 'GET', '/user', { as: { token: 'gf_0000000000000000000000000000000000000000' } });
  });

  test('GET /users/{username} shows a user; its email only to itself and site administrators', async () => {
    const anonymous = await api.expect(200, 'GET', '/users/alice');
    assert.equal(anonymous.body.login, 'alice');
    assert.equal(anonymous.body.email, '');
    assert.equal((await api.expect(200, 'GET', '/users/ALICE', { as: token(bob) })).body.email, '');
    assert.equal((await api.expect(200, 'GET', '/users/alice', { as: api.admin })).body.email, 'alice@example.com');
    await api.expect(404, 'GET', '/users/nobody');
  });

  test('site administration of users is for site administrators only', async () => {
    await api.expect(401, 'GET', '/admin/users');
    await api.expect(403, 'GET', '/admin/users', { as: token(alice) });
    await api.expect(403, 'POST', '/admin/users', {
      as: token(alice),
      body: { login: 'mallory', email: 'm@example.com', password: 'secret-pass' },
    });
    const readAdminOnly = await api.createToken(TEST_ADMIN, TEST_ADMIN_PASSWORD, 'read-admin', ['read:admin']);
    const listed = await api.expect(200, 'GET', '/admin/users', { as: { token: readAdminOnly } });
    assert.deepEqual(listed.body.map((u: { login: string }) => u.login).sort(), ['alice', 'bob', TEST_ADMIN].sort());
    const refused = await api.expect(403, 'POST', '/admin/users', {
      as: { token: readAdminOnly },
      body: { login: 'x1', email: 'x1@example.com', password: 'secret-pass' },
    });
    assert.match(refused.body.message, /write:admin/);
  });

  test('creating a user validates the body and refuses a taken name with 422', async () => {
    const invalid = await api.expect(422, 'POST', '/admin/users', { as: api.admin, body: { email: 42 } });
    assert.equal(invalid.body.message, 'Validation Failed');
    assert.deepEqual(invalid.body.errors.map((e: { field: string }) => e.field).sort(), ['email', 'login', 'password']);
    const taken = await api.expect(422, 'POST', '/admin/users', {
      as: api.admin,
      body: { username: 'ALICE', email: 'other@example.com', password: 'secret-pass' },
    });
    assert.match(taken.body.message, /alice/i);
    const reserved = await api.expect(422, 'POST', '/admin/users', {
      as: api.admin,
      body: { login: 'api', email: 'api@example.com', password: 'secret-pass' },
    });
    assert.equal(typeof reserved.body.message, 'string');
    const created = await api.expect(201, 'POST', '/admin/users', {
      as: api.admin,
      body: { username: 'carol', email: 'carol@example.com', password: 'carol-secret', full_name: 'Carol C', admin: true },
    });
    assert.equal(created.body.full_name, 'Carol C');
    assert.equal(created.body.is_admin, true);
    assert.equal((await api.expect(200, 'GET', '/user', { as: { basic: ['carol', 'carol-secret'] } })).body.login, 'carol');
  });

  test('PATCH /admin/users changes a user, its password included', async () => {
    const dave = await api.createUser('dave');
    const patched = await api.expect(200, 'PATCH', '/admin/users/dave', {
      as: api.admin,
      body: { full_name: 'Dave D', password: 'new-dave-pass' },
    });
    assert.equal(patched.body.full_name, 'Dave D');
    await api.expect(401, 'GET', '/user', { as: password(dave) });
    await api.expect(200, 'GET', '/user', { as: { basic: ['dave', 'new-dave-pass'] } });
    await api.expect(404, 'PATCH', '/admin/users/nobody', { as: api.admin, body: { full_name: 'x' } });
    await api.expect(403, 'PATCH', '/admin/users/dave', { as: token(alice), body: { admin: true } });
  });

  test('a user who still owns repositories cannot be deleted; once they are gone it can', async () => {
    const erin = await api.createUser('erin');
    await api.expect(201, 'POST', '/user/repos', { as: token(erin), body: { name: 'keep' } });
    const refused = await api.expect(422, 'DELETE', '/admin/users/erin', { as: api.admin });
    assert.match(refused.body.message, /owns 1 repository/);
    await api.expect(403, 'DELETE', '/admin/users/erin', { as: token(alice) });
    await api.expect(204, 'DELETE', '/repos/erin/keep', { as: token(erin) });
    await api.expect(204, 'DELETE', '/admin/users/erin', { as: api.admin });
    await api.expect(404, 'GET', '/users/erin');
    // Its token died with it.
    await api.expect(401, 'GET', '/user', { as: token(erin) });
    await api.expect(404, 'DELETE', '/admin/users/erin', { as: api.admin });
  });

  describe('tokens', () => {
    test('are created with a password, shown once, listed without the secret, and work as Bearer, token and Basic', async () => {
      const created = await api.expect(201, 'POST', '/users/bob/tokens', {
        as: password(bob),
        body: { name: 'ci', scopes: ['read:repository', 'read:user'] },
      });
      const secret: string = created.body.sha1;
      assert.match(secret, /^gf_[A-Za-z0-9]{40}$/);
      assert.equal(created.body.token_last_eight, secret.slice(-8));
      assert.deepEqual(created.body.scopes, ['read:repository', 'read:user']);
      assert.equal(created.body.expires_at, null);

      const listed = await api.expect(200, 'GET', '/users/bob/tokens', { as: password(bob) });
      const ci = listed.body.find((t: { name: string }) => t.name === 'ci');
      assert.equal(ci.sha1, undefined);
      assert.equal(ci.token_last_eight, secret.slice(-8));
      assert.ok(!JSON.stringify(listed.body).includes(secret));

      const bearer = await fetch(`${api.baseUrl}/api/v1/user`, { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(bearer.status, 200);
      assert.equal((await api.expect(200, 'GET', '/user', { as: { basic: ['bob', secret] } })).body.login, 'bob');
      // A read-only token cannot write.
      await api.expect(403, 'POST', '/user/repos', { as: { token: secret }, body: { name: 'nope' } });
    });

    test('cannot be managed with a token, nor by another user; a site administrator may', async () => {
      const byToken = await api.expect(403, 'POST', '/users/bob/tokens', {
        as: token(bob),
        body: { name: 'minted', scopes: ['read:user'] },
      });
      assert.match(byToken.body.message, /password/);
      await api.expect(403, 'GET', '/users/bob/tokens', { as: token(bob) });
      await api.expect(403, 'GET', '/users/bob/tokens', { as: password(alice) });
      await api.expect(403, 'POST', '/users/bob/tokens', { as: password(alice), body: { name: 'stolen', scopes: ['read:user'] } });
      await api.expect(401, 'GET', '/users/bob/tokens');
      await api.expect(401, 'GET', '/users/bob/tokens', { as: { basic: ['bob', 'wrong'] } });
      const byAdmin = await api.expect(201, 'POST', '/users/bob/tokens', {
        as: { basic: [TEST_ADMIN, TEST_ADMIN_PASSWORD] },
        body: { name: 'issued-by-admin', scopes: ['read:user'] },
      });
      assert.equal((await api.expect(200, 'GET', '/user', { as: { token: byAdmin.body.sha1 } })).body.login, 'bob');
      await api.expect(404, 'GET', '/users/nobody/tokens', { as: { basic: [TEST_ADMIN, TEST_ADMIN_PASSWORD] } });
    });

    test('validate name, scopes and expiry', async () => {
      const invalid = await api.expect(422, 'POST', '/users/bob/tokens', {
        as: password(bob),
        body: { name: '', scopes: ['write:everything'], expires_at: 'tomorrow' },
      });
      const fields = invalid.body.errors.map((e: { field: string }) => e.field).sort();
      assert.deepEqual(fields, ['expires_at', 'name', 'scopes.0']);
      const past = await api.expect(422, 'POST', '/users/bob/tokens', {
        as: password(bob),
        body: { name: 'old', scopes: ['read:user'], expires_at: '2000-01-01T00:00:00Z' },
      });
      assert.equal(past.body.errors[0].field, 'expires_at');
      await api.expect(422, 'POST', '/users/bob/tokens', { as: password(bob), body: { name: 'none', scopes: [] } });
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const expiring = await api.expect(201, 'POST', '/users/bob/tokens', {
        as: password(bob),
        body: { name: 'expiring', scopes: ['read:user'], expires_at: future },
      });
      assert.equal(expiring.body.expires_at, future);
    });

    test('revoking by id stops the token at once; revoking another user’s token is refused', async () => {
      const secret = await api.createToken('alice', alice.password, 'short-lived', ['read:user']);
      const listed = await api.expect(200, 'GET', '/users/alice/tokens', { as: password(alice) });
      const id = listed.body.find((t: { name: string }) => t.name === 'short-lived').id;
      await api.expect(403, 'DELETE', `/users/alice/tokens/${id}`, { as: password(bob) });
      await api.expect(200, 'GET', '/user', { as: { token: secret } });
      await api.expect(204, 'DELETE', `/users/alice/tokens/${id}`, { as: password(alice) });
      await api.expect(401, 'GET', '/user', { as: { token: secret } });
      await api.expect(404, 'DELETE', `/users/alice/tokens/${id}`, { as: password(alice) });
    });
  });
});
