/**
 * Transferring a repository end to end with the real git CLI: a pushed history moves to an
 * organisation under a new name, clones from its new URL give the same history, its old URL
 * serves nothing, and its webhooks keep firing from the new place.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { LOOPBACK_RECEIVERS_ENV, serverTest, startServer, type TestServer } from '@gitfleet/test-support/server';
import { api, WebhookReceiver } from './helpers/webhooks.js';

const SECRET = 'transfer-secret';
/** Deliveries go out within the test's patience. */
const HOOK_ENV = { ...LOOPBACK_RECEIVERS_ENV, GITFLEET_HOOK_BACKOFF_MS: '50', GITFLEET_HOOK_POLL_MS: '50' };

interface PushPayload {
  ref: string;
  after: string;
  repository: { full_name: string; clone_url: string };
}

describe('transferring a repository', () => {
  let server: TestServer;
  let git: GitClient;
  let receiver: WebhookReceiver;
  const test = serverTest(() => server);

  before(async () => {
    server = await startServer(HOOK_ENV);
    git = await GitClient.create(2);
    receiver = new WebhookReceiver(SECRET);
    await receiver.start();
  });
  after(async () => {
    await receiver?.stop();
    await git?.cleanup();
    await server?.stop();
  });

  test('the history moves with it: cloned from the new URL, gone from the old, its hooks still fire', async () => {
    const oldUrl = await server.createRepo('alice', 'project');
    await api(server.url, 'POST', '/orgs', { username: 'acme' }, 201);
    await api(
      server.url,
      'POST',
      '/repos/alice/project/hooks',
      { name: 'web', config: { url: receiver.url, content_type: 'json', secret: SECRET }, events: ['push'], active: true },
      201,
    );

    const work = await git.init('project');
    await git.commitFiles(work, { 'README.md': '# project\n' }, 'first');
    const pushed = await git.commitFiles(work, { 'src/main.c': 'int main(void) { return 0; }\n' }, 'second');
    await git.ok(['push', '-q', oldUrl, 'HEAD:refs/heads/main'], { cwd: work });
    await git.ok(['tag', 'v1'], { cwd: work });
    await git.ok(['push', '-q', oldUrl, 'refs/tags/v1'], { cwd: work });
    await receiver.waitFor('the push before the transfer', (accepted) =>
      accepted.some((d) => (d.payload as unknown as PushPayload).after === pushed),
    );

    const moved = await api<{ full_name: string; clone_url: string }>(
      server.url,
      'POST',
      '/repos/alice/project/transfer',
      { new_owner: 'acme', new_name: 'rocket' },
      202,
    );
    assert.equal(moved.body.full_name, 'acme/rocket');
    const newUrl = `${server.url}/acme/rocket.git`;
    assert.equal(moved.body.clone_url, newUrl);

    const clone = await git.clone(newUrl, 'moved');
    assert.equal(await git.revParse(clone, 'HEAD'), pushed);
    assert.equal(
      await git.ok(['log', '--format=%H %s', 'HEAD'], { cwd: clone }),
      await git.ok(['log', '--format=%H %s', 'HEAD'], { cwd: work }),
    );
    assert.equal(
      await git.ok(['ls-remote', newUrl]),
      [`${pushed}\tHEAD`, `${pushed}\trefs/heads/main`, `${pushed}\trefs/tags/v1`].join('\n'),
    );
    const gone = await git.fails(['ls-remote', oldUrl]);
    assert.match(gone.stderr, /not found|404/i);
    await git.fails(['clone', '-q', oldUrl, `${git.root}/old-clone`]);

    const later = await git.commitFiles(clone, { 'NEWS.md': 'moved to acme\n' }, 'third');
    await git.ok(['push', '-q', 'origin', 'main'], { cwd: clone });
    await receiver.waitFor('the push after the transfer', (accepted) =>
      accepted.some((d) => (d.payload as unknown as PushPayload).after === later),
    );
    const delivery = receiver.accepted.find((d) => (d.payload as unknown as PushPayload).after === later)!
      .payload as unknown as PushPayload;
    assert.equal(delivery.repository.full_name, 'acme/rocket');
    assert.equal(delivery.repository.clone_url, newUrl);
  });
});
