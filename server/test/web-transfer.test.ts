/** The transfer form in a repository's danger zone: confirmation, refusals shown on the page, the move. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiClient, type TestUser } from './api-client.js';
import type { TestServer } from './helpers.js';
import { WebClient, csrfOf } from './web-fixture.js';

let server: TestServer;
let api: ApiClient;
let alice: TestUser;
let bob: TestUser;
let aliceClient: WebClient;

before(async () => {
  ({ server, api } = await startApiServer());
  [alice, bob] = await Promise.all([api.createUser('alice'), api.createUser('bob')]);
  await api.expect(201, 'POST', '/orgs', { as: { token: alice.token }, body: { username: 'acme' } });
  aliceClient = new WebClient(server.url);
  await aliceClient.signIn(alice.name, alice.password);
});

after(async () => {
  await server?.stop();
});

describe('transferring a repository from its settings page', () => {
  const settings = '/alice/gadget/settings';
  const action = '/alice/gadget/settings/transfer';

  test('refusals re-render the settings page with the reason and move nothing; a confirmed transfer moves it', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: { token: alice.token }, body: { name: 'gadget', private: true } });
    const form = await aliceClient.get(settings);
    assert.match(
      form.text,
      /<form id="transfer-repository-form" class="stacked" method="post" action="\/alice\/gadget\/settings\/transfer">/,
    );

    for (const [fields, reason] of [
      [{ new_owner: 'acme', confirm: 'alice/other' }, /Type alice\/gadget exactly to transfer the repository/],
      [{ new_owner: 'nobody', confirm: 'alice/gadget' }, /There is no user or organization named nobody/],
      [{ new_owner: 'bob', confirm: 'alice/gadget' }, /You may not create repositories under bob/],
      [{ new_owner: 'acme', new_name: '../evil', confirm: 'alice/gadget' }, /invalid repository name/],
    ] as const) {
      const refused = await aliceClient.submit(settings, action, fields);
      assert.equal(refused.status, 422, JSON.stringify(fields));
      assert.match(refused.text, /id="flash-error"/);
      assert.match(refused.text, reason);
    }
    await api.expect(201, 'POST', '/orgs/acme/repos', { as: { token: alice.token }, body: { name: 'taken' } });
    const taken = await aliceClient.submit(settings, action, { new_owner: 'acme', new_name: 'taken', confirm: 'alice/gadget' });
    assert.equal(taken.status, 422);
    assert.match(taken.text, /repository acme\/taken already exists/);
    await api.expect(200, 'GET', '/repos/alice/gadget', { as: { token: alice.token } });

    const moved = await aliceClient.submit(settings, action, { new_owner: 'ACME', new_name: 'widget', confirm: 'alice/gadget' });
    assert.equal(moved.status, 303);
    assert.equal(moved.headers.get('location'), '/acme/widget');
    assert.equal((await aliceClient.get('/acme/widget')).status, 200);
    assert.equal((await aliceClient.get('/alice/gadget')).status, 404);
    await api.expect(200, 'GET', '/repos/acme/widget', { as: { token: alice.token } });
  });

  test('only admins reach the form; a post without the CSRF token or from another site is refused', async () => {
    await api.expect(201, 'POST', '/user/repos', { as: { token: alice.token }, body: { name: 'gadget' } });
    await api.expect(204, 'PUT', '/repos/alice/gadget/collaborators/bob', { as: { token: alice.token }, body: { permission: 'write' } });
    const bobClient = new WebClient(server.url);
    await bobClient.signIn(bob.name, bob.password);
    assert.equal(
      (
        await bobClient.post(action, {
          _csrf: csrfOf((await bobClient.get('/alice/gadget')).text),
          new_owner: 'bob',
          confirm: 'alice/gadget',
        })
      ).status,
      403,
    );

    const withoutToken = await aliceClient.post(action, { new_owner: 'acme', confirm: 'alice/gadget' });
    assert.equal(withoutToken.status, 403);
    const page = await aliceClient.get(settings);
    const crossSite = await fetch(`${server.url}${action}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'https://evil.example', cookie: aliceClient.cookie! },
      body: new URLSearchParams({ _csrf: csrfOf(page.text), new_owner: 'acme', confirm: 'alice/gadget' }),
    });
    assert.equal(crossSite.status, 403);
    await api.expect(200, 'GET', '/repos/alice/gadget', { as: { token: alice.token } });
  });
});
