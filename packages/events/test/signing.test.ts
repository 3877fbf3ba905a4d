// Delivery headers and signatures, checked with @octokit/webhooks as a receiver would.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhooks } from '@octokit/webhooks';
import { branchFilterMatches, parseHookSettings, signedRequest } from '../src/index.js';

const verify = (secret: string, body: string, signature: string) => new Webhooks({ secret }).verify(body, signature);

describe('signedRequest', () => {
  const payload = JSON.stringify({ ref: 'refs/heads/main', text: 'ünïcødé & spaces' });

  it('signs the exact JSON body in GitHub and Gitea form', async () => {
    const { headers, body } = signedRequest({ event: 'push', guid: 'g', hookId: 7, payload, contentType: 'json', secret: 's3cret' });
    assert.equal(body, payload);
    assert.equal(await verify('s3cret', body, headers['X-Hub-Signature-256']), true);
    assert.equal(await verify('other', body, headers['X-Hub-Signature-256']), false);
    assert.equal(headers['X-Hub-Signature'], `sha1=${createHmac('sha1', 's3cret').update(body).digest('hex')}`);
    assert.equal(headers['X-Gitea-Signature'], headers['X-Hub-Signature-256'].slice('sha256='.length));
    assert.equal(headers['X-GitHub-Hook-ID'], '7');
  });

  it('signs a form body as sent, and leaves an unsigned hook unsigned', async () => {
    const form = signedRequest({ event: 'push', guid: 'g', hookId: 7, payload, contentType: 'form', secret: 'k' });
    assert.equal(new URLSearchParams(form.body).get('payload'), payload);
    assert.equal(await verify('k', form.body, form.headers['X-Hub-Signature-256']), true);
    const unsigned = signedRequest({ event: 'ping', guid: 'g', hookId: 1, payload, contentType: 'json', secret: '' });
    assert.equal(unsigned.headers['X-Hub-Signature-256'], undefined);
  });
});

const LIMITS = { branchFilter: { maxLength: 256, maxWildcards: 32 } };

describe('hook settings', () => {
  it('takes GitHub and Gitea bodies, refuses bad ones, and patches', () => {
    const created = parseHookSettings(
      {
        type: 'gitea',
        config: { url: 'https://ci.example/hook', content_type: 'json' },
        events: ['push', 'create'],
        branch_filter: 'main',
      },
      LIMITS,
    );
    assert.deepEqual(created.events, ['push', 'create']);
    assert.equal(created.branchFilter, 'main');
    assert.throws(() => parseHookSettings({ config: { url: 'file:///etc/passwd' } }, LIMITS), /config.url/);
    assert.throws(() => parseHookSettings({ config: { url: 'http://x/' }, events: ['pull_request'] }, LIMITS), /unsupported event/);
    const patched = parseHookSettings({ remove_events: ['create'], active: false }, LIMITS, created);
    assert.deepEqual(patched.events, ['push']);
    assert.equal(patched.active, false);
    assert.equal(patched.config.url, 'https://ci.example/hook');
  });

  it('filters branches with a glob and lets tags through', () => {
    assert.equal(branchFilterMatches('{main,release/*}', 'refs/heads/release/1'), true);
    assert.equal(branchFilterMatches('{main,release/*}', 'refs/heads/feature'), false);
    assert.equal(branchFilterMatches('main', 'refs/tags/v1'), true);
    assert.equal(branchFilterMatches('', 'refs/heads/anything'), true);
  });
});
