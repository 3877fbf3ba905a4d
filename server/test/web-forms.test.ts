import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiClient, type TestUser } from './api-client.js';
import type { TestServer } from './helpers.js';
import { LOOPBACK_RECEIVERS_ENV, TEST_ADMIN, TEST_ADMIN_PASSWORD } from '@gitfleet/test-support/server';
import { WebClient, hookPageWithDelivery, startHookReceiver } from './web-fixture.js';

let server: TestServer;
let api: ApiClient;
let alice: TestUser;
let bob: TestUser;
let aliceClient: WebClient;
let adminClient: WebClient;

before(async () => {
  ({ server, api } = await startApiServer(LOOPBACK_RECEIVERS_ENV));
  [alice, bob] = await Promise.all([api.createUser('alice'), api.createUser('bob')]);
  aliceClient = new WebClient(server.url);
  adminClient = new WebClient(server.url);
  await Promise.all([aliceClient.signIn(alice.name, alice.password), adminClient.signIn(TEST_ADMIN, TEST_ADMIN_PASSWORD)]);
});

after(async () => {
  await server?.stop();
});

describe('creating things', () => {
  test('an organization and a private repository in it, from the forms', async () => {
    const org = await aliceClient.submit('/organizations/new', '/organizations/new', {
      name: 'acme',
      full_name: 'Acme <Corp>',
      description: '',
    });
    assert.equal(org.status, 303);
    assert.equal(org.headers.get('location'), '/acme');
    const orgPage = await aliceClient.get('/acme');
    assert.match(orgPage.text, /id="owner-header" data-owner="acme" data-kind="organization"><h1>Acme &lt;Corp&gt;<\/h1>/);
    assert.match(orgPage.text, /<li data-member="alice">/);

    const form = await aliceClient.get('/new?owner=acme');
    assert.match(form.text, /<option value="acme" selected>acme<\/option>/);
    const created = await aliceClient.submit('/new', '/new', {
      owner: 'acme',
      name: 'rocket',
      description: 'Goes up',
      visibility: 'private',
    });
    assert.equal(created.status, 303);
    assert.equal(created.headers.get('location'), '/acme/rocket');
    const repo = await api.expect(200, 'GET', '/repos/acme/rocket', { as: { token: alice.token } });
    assert.equal(repo.body.private, true);
    assert.equal(repo.body.description, 'Goes up');
    const page = await aliceClient.get('/acme/rocket');
    assert.match(page.text, /id="empty-repository"/);
    assert.match(page.text, /git push -u origin main/);
    assert.equal((await new WebClient(server.url).get('/acme/rocket')).status, 404);
    assert.match((await aliceClient.get('/')).text, /data-repo="acme\/rocket"/);
  });

  test('bad input re-renders the form with the reason and creates nothing', async () => {
    const invalid = await aliceClient.submit('/new', '/new', { owner: 'alice', name: '../evil', visibility: 'public' });
    assert.equal(invalid.status, 422);
    assert.match(invalid.text, /id="flash-error"/);
    assert.match(invalid.text, /value="\.\.\/evil"/);
    const foreign = await aliceClient.submit('/new', '/new', { owner: 'bob', name: 'taken-over', visibility: 'public' });
    assert.equal(foreign.status, 422);
    assert.match(foreign.text, /may not create repositories under bob/);
    await api.expect(404, 'GET', '/repos/bob/taken-over', { as: api.admin });
    const anonymous = await new WebClient(server.url).get('/new');
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get('location'), '/login?return_to=%2Fnew');
  });
});

describe('repository settings', () => {
  test('description, visibility, collaborators and deletion', async () => {
    await aliceClient.submit('/new', '/new', { owner: 'alice', name: 'tools', visibility: 'public' });
    const saved = await aliceClient.submit('/alice/tools/settings', '/alice/tools/settings', {
      description: 'Handy <tools>',
      visibility: 'private',
      default_branch: 'main',
    });
    assert.equal(saved.status, 200);
    assert.match(saved.text, /id="flash-success"/);
    assert.match(saved.text, /value="Handy &lt;tools&gt;"/);
    const bobClient = new WebClient(server.url);
    await bobClient.signIn(bob.name, bob.password);
    assert.equal((await bobClient.get('/alice/tools')).status, 404, 'private now');

    const added = await aliceClient.submit('/alice/tools/settings', '/alice/tools/settings/collaborators', {
      user: 'bob',
      permission: 'read',
    });
    assert.equal(added.status, 200);
    assert.match(added.text, /<li class="collaborator" data-user="bob">/);
    assert.equal((await bobClient.get('/alice/tools')).status, 200, 'a reader sees it');
    assert.equal((await bobClient.get('/alice/tools/settings')).status, 403, 'a reader may not administer it');
    const unknown = await aliceClient.submit('/alice/tools/settings', '/alice/tools/settings/collaborators', {
      user: 'nobody',
      permission: 'read',
    });
    assert.equal(unknown.status, 422);

    const removed = await aliceClient.submit('/alice/tools/settings', '/alice/tools/settings/collaborators/bob/delete', {});
    assert.equal(removed.status, 303);
    assert.equal((await bobClient.get('/alice/tools')).status, 404);

    const wrongName = await aliceClient.submit('/alice/tools/settings', '/alice/tools/settings/delete', { confirm: 'alice/other' });
    assert.equal(wrongName.status, 422);
    await api.expect(200, 'GET', '/repos/alice/tools', { as: { token: alice.token } });
    const deleted = await aliceClient.submit('/alice/tools/settings', '/alice/tools/settings/delete', { confirm: 'alice/tools' });
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.get('location'), '/alice');
    await api.expect(404, 'GET', '/repos/alice/tools', { as: { token: alice.token } });
  });
});

describe('access tokens', () => {
  test('created (shown once), used, listed without the secret, revoked', async () => {
    const created = await aliceClient.submit('/settings/tokens', '/settings/tokens', {
      name: 'laptop',
      scopes: ['read:repository', 'read:user'],
    });
    assert.equal(created.status, 201);
    const secret = /id="new-token-value">([^<]+)</.exec(created.text)?.[1] ?? '';
    assert.match(secret, /^gf_/, 'the secret is shown');
    const me = await api.expect(200, 'GET', '/user', { as: { token: secret } });
    assert.equal(me.body.login, 'alice');

    const list = await aliceClient.get('/settings/tokens');
    assert.ok(!list.text.includes(secret), 'never shown again');
    const id = /<li class="token" data-token-id="([^"]+)" data-token-name="laptop">/.exec(list.text)?.[1];
    assert.ok(id);
    const revoked = await aliceClient.submit('/settings/tokens', `/settings/tokens/${encodeURIComponent(id)}/delete`, {});
    assert.equal(revoked.status, 303);
    await api.expect(401, 'GET', '/user', { as: { token: secret } });
  });

  test('a token cannot manage tokens through the web pages', async () => {
    const response = await fetch(`${server.url}/settings/tokens`, { headers: { authorization: `token ${alice.token}` } });
    assert.equal(response.status, 403);
  });
});

describe('webhooks', () => {
  test('created from the form, pinged, delivery logged with request and response, deleted', async () => {
    const receiver = await startHookReceiver({ headers: { 'x-receiver': 'yes' }, body: 'thanks <b>' });
    try {
      await aliceClient.submit('/new', '/new', { owner: 'alice', name: 'hooked', visibility: 'public' });
      const created = await aliceClient.submit('/alice/hooked/settings/hooks/new', '/alice/hooked/settings/hooks/new', {
        url: `${receiver.url}/hook`,
        content_type: 'json',
        secret: 's3cret',
        event_choice: 'some',
        events: ['push', 'create'],
        active: '1',
      });
      assert.equal(created.status, 303);
      const hookPage = created.headers.get('location')!;
      assert.match(hookPage, /^\/alice\/hooked\/settings\/hooks\/\d+$/);
      const hooks = await api.expect(200, 'GET', '/repos/alice/hooked/hooks', { as: { token: alice.token } });
      assert.deepEqual(hooks.body[0].events, ['push', 'create']);

      // The creation's ping arrives and is logged.
      const page = await hookPageWithDelivery(aliceClient, hookPage);
      assert.deepEqual(receiver.events, ['ping']);
      assert.match(page.text, /<li class="delivery" data-delivery-id="1" data-guid="[^"]+" data-status="200">/);
      assert.match(page.text, /x-receiver: yes/);
      assert.match(page.text, /thanks &lt;b&gt;/);
      assert.match(page.text, /X-Hub-Signature-256: sha256=/);

      const bad = await aliceClient.submit(hookPage, hookPage, { url: 'ftp://nowhere', event_choice: 'all', active: '1' });
      assert.equal(bad.status, 422);
      assert.match(bad.text, /config.url/);

      const deleted = await aliceClient.submit(hookPage, `${hookPage}/delete`, {});
      assert.equal(deleted.status, 303);
      await api
        .expect(200, 'GET', '/repos/alice/hooked/hooks', { as: { token: alice.token } })
        .then((response) => assert.deepEqual(response.body, []));
    } finally {
      receiver.close();
    }
  });
});
