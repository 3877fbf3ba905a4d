// A store that cannot serve (connections refused, 5xx, timeouts) makes requests fail as the
// server being unavailable for a moment, not as a fault of the request or a bug: 503 with
// Retry-After on every surface (API, web, git), a message that names no internals, and the
// details in the request's log line. Through the real server and git's own client on the
// embedded stores, every KV request failing while the outage lasts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FaultInjector } from '@gitfleet/storage';
import { GitClient } from '@gitfleet/test-support/git-client';
import { STORE_RETRY_AFTER_SECONDS } from '../src/operations/errors.js';
import { adminHeaders, startTestServer, type TestServer } from './helpers.js';

const outage = new FaultInjector({ seed: 1, rate: 1, kinds: ['error'], faultable: (call) => call.store === 'kv' });
outage.enabled = false;
let server: TestServer;
let git: GitClient;

before(async () => {
  server = await startTestServer({ GITFLEET_MAINTENANCE: '0' }, { storeInterceptor: outage });
  git = await GitClient.create(2);
});

after(async () => {
  await server?.stop();
  await git?.cleanup();
});

function assertUnavailable(what: string, response: Response, body: string): void {
  assert.equal(response.status, 503, `${what}: ${response.status} ${body}`);
  assert.equal(response.headers.get('retry-after'), String(STORE_RETRY_AFTER_SECONDS), `${what}: Retry-After`);
  assert.match(body, /the storage is not answering for the moment/, what);
  assert.doesNotMatch(body, /injected|kv\.|scope|Redis|S3/, `${what}: the message names no internals`);
}

test('a store that cannot serve makes requests 503 with Retry-After, and they succeed once it serves again', async () => {
  const url = await server.createRepo('outage', 'app');
  const work = await git.init('outage-work');
  const first = await git.commitFiles(work, { 'README.md': '# app\n' }, 'first');
  await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
  const branches = `${server.url}/api/v1/repos/outage/app/branches`;

  outage.enabled = true;
  try {
    const api = await fetch(branches, { headers: adminHeaders() });
    assertUnavailable('API', api, await api.text());
    assert.match(api.headers.get('content-type') ?? '', /application\/json/);

    const page = await fetch(`${server.url}/outage/app`, { headers: adminHeaders() });
    assertUnavailable('web page', page, await page.text());

    const refs = await fetch(`${server.url}/outage/app.git/info/refs?service=git-upload-pack`, { headers: adminHeaders() });
    assertUnavailable('git ref advertisement', refs, await refs.text());

    const fetched = await git.run(['ls-remote', url]);
    assert.notEqual(fetched.code, 0, 'ls-remote fails during the outage');
    assert.match(fetched.stderr, /503/, `git says the server is unavailable: ${fetched.stderr}`);
    assert.ok(outage.injected.length > 0, 'the outage was met');
  } finally {
    outage.enabled = false;
  }

  const api = await fetch(branches, { headers: adminHeaders() });
  assert.equal(api.status, 200, await api.text());
  assert.equal((await git.ok(['ls-remote', url, 'refs/heads/main'])).slice(0, 40), first);
});
