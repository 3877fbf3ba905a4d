import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { adminFetch, createRepo, ensureUser, rawRequest, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;

function encodePkt(payload: string): Buffer {
  return Buffer.from((payload.length + 4).toString(16).padStart(4, '0') + payload);
}

before(async () => {
  // Small limits so that the over-limit cases stay fast.
  server = await startTestServer({ GITFLEET_MAX_REQUEST_BYTES: '1MiB', GITFLEET_MAX_PACK_BYTES: '2MiB' });
  assert.equal((await createRepo(server.url, 'alice', 'hello')).status, 201);
});

after(async () => {
  await server.stop();
});

async function assertHealthy(): Promise<void> {
  const response = await fetch(`${server.url}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
}

describe('repository API', () => {
  test('creates a repository with default branch main and describes it', async () => {
    const created = await createRepo(server.url, 'bob', 'project.one');
    assert.equal(created.status, 201);
    assert.match(created.headers.get('content-type') ?? '', /^application\/json/);
    const body = await created.json();
    assert.deepEqual(body.owner, { login: 'bob', type: 'User' });
    assert.equal(body.name, 'project.one');
    assert.equal(body.default_branch, 'main');
    assert.equal(body.clone_url, `${server.url}/bob/project.one.git`);
    assert.equal(typeof body.id, 'string');

    const fetched = await adminFetch(`${server.url}/api/v1/repos/bob/project.one`);
    assert.equal(fetched.status, 200);
    // The one repository's GET adds the size of its Git LFS objects (none yet).
    assert.deepEqual(await fetched.json(), { ...body, lfs_size: 0 });
  });

  test('refuses a body without a JSON content type (what an HTML form, or curl -d, sends): 415, nothing created', async () => {
    await ensureUser(server.url, 'carol');
    const response = await adminFetch(`${server.url}/api/v1/repos`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ owner: 'carol', name: 'notes' }),
    });
    assert.equal(response.status, 415);
    assert.match((await response.json()).message, /application\/json/);
    assert.equal((await adminFetch(`${server.url}/api/v1/repos/carol/notes`)).status, 404);
  });

  test('refuses an existing repository with 409', async () => {
    const response = await createRepo(server.url, 'alice', 'hello');
    assert.equal(response.status, 409);
    assert.match((await response.json()).message, /already exists/);
  });

  const hostileNames: Array<[string, string]> = [
    ['alice', '..'],
    ['alice', '.'],
    ['..', 'repo'],
    ['alice', '%2e%2e'],
    ['alice', 'a/b'],
    ['a/b', 'repo'],
    ['alice', 'a\u0000b'],
    ['alice', 'a\nb'],
    ['alice', '/etc/passwd'],
    ['/tmp', 'x'],
    ['alice', '.hidden'],
    ['alice', '-option'],
    ['alice', 'repo.git'],
    ['alice', ''],
    ['', 'repo'],
    ['alice', 'x'.repeat(101)],
    ['alice', 'a b'],
    ['alice', 'a\\b'],
  ];
  for (const [owner, name] of hostileNames) {
    test(`refuses the name ${JSON.stringify(`${owner}/${name}`)} with 400`, async () => {
      const response = await createRepo(server.url, owner, name);
      assert.equal(response.status, 400);
      assert.equal(typeof (await response.json()).message, 'string');
    });
  }

  test('refuses malformed and incomplete bodies with 400 and oversized ones with 413', async () => {
    const post = (body: string) =>
      adminFetch(`${server.url}/api/v1/repos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal((await post('{"owner": "x",')).status, 400);
    assert.equal((await post('["x", "y"]')).status, 400);
    assert.equal((await post('{"owner": "x"}')).status, 400);
    assert.equal((await post('{"owner": "x", "name": 7}')).status, 400);
    assert.equal((await adminFetch(`${server.url}/api/v1/repos`, { method: 'POST' })).status, 400);
    assert.equal((await post(JSON.stringify({ owner: 'x', name: 'y', padding: 'p'.repeat(100_000) }))).status, 413);
    // Its own bound, far under the API's 64 kB: the body is four fields.
    assert.equal((await post(JSON.stringify({ owner: 'x', name: 'y', padding: 'p'.repeat(5_000) }))).status, 413);
  });

  test('answers 404 for an unknown repository and 400 for an invalid one', async () => {
    assert.equal((await adminFetch(`${server.url}/api/v1/repos/alice/nothing`)).status, 404);
    assert.equal((await rawRequest(server.url, '/api/v1/repos/alice/%2e%2e')).status, 400);
  });
});

describe('info/refs', () => {
  for (const suffix of ['.git', '']) {
    test(`advertises upload-pack (v0) at alice/hello${suffix}`, async () => {
      const response = await adminFetch(`${server.url}/alice/hello${suffix}/info/refs?service=git-upload-pack`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/x-git-upload-pack-advertisement');
      assert.match(response.headers.get('cache-control') ?? '', /no-cache/);
      const body = Buffer.from(await response.arrayBuffer()).toString('latin1');
      assert.ok(body.startsWith('001e# service=git-upload-pack\n0000'), body.slice(0, 60));
      // An empty repository advertises no refs: git's "capabilities^{}" line.
      assert.match(body, /capabilities\^\{\}\0/);
      assert.ok(body.endsWith('0000'));
    });
  }

  test('advertises v2 capabilities without a service line when asked for version 2', async () => {
    const response = await adminFetch(`${server.url}/alice/hello.git/info/refs?service=git-upload-pack`, {
      headers: { 'git-protocol': 'version=2' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-git-upload-pack-advertisement');
    const body = Buffer.from(await response.arrayBuffer()).toString('latin1');
    assert.ok(body.startsWith('000eversion 2\n'), body.slice(0, 60));
    assert.match(body, /ls-refs/);
    assert.match(body, /fetch/);
  });

  test('keeps the service line for version 1, followed by "version 1"', async () => {
    const response = await adminFetch(`${server.url}/alice/hello.git/info/refs?service=git-upload-pack`, {
      headers: { 'git-protocol': 'version=1' },
    });
    assert.equal(response.status, 200);
    const body = Buffer.from(await response.arrayBuffer()).toString('latin1');
    assert.ok(body.startsWith('001e# service=git-upload-pack\n0000000eversion 1\n'), body.slice(0, 60));
  });

  test('advertises receive-pack with a service line', async () => {
    const response = await adminFetch(`${server.url}/alice/hello.git/info/refs?service=git-receive-pack`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-git-receive-pack-advertisement');
    const body = Buffer.from(await response.arrayBuffer()).toString('latin1');
    assert.ok(body.startsWith('001f# service=git-receive-pack\n0000'), body.slice(0, 60));
    assert.match(body, /report-status/);
  });

  test('refuses the dumb protocol and unknown services with 403', async () => {
    const dumb = await adminFetch(`${server.url}/alice/hello.git/info/refs`);
    assert.equal(dumb.status, 403);
    assert.match(await dumb.text(), /dumb HTTP/);
    assert.equal((await adminFetch(`${server.url}/alice/hello.git/info/refs?service=git-upload-archive`)).status, 403);
  });

  test('answers 404 for an unknown repository', async () => {
    const response = await adminFetch(`${server.url}/alice/missing.git/info/refs?service=git-upload-pack`);
    assert.equal(response.status, 404);
    assert.match(await response.text(), /alice\/missing not found/);
  });

  const hostilePaths = [
    '/%2e%2e/hello.git/info/refs',
    '/alice/%2e%2e/info/refs',
    '/alice/%2E%2E.git/info/refs',
    '/alice/..%2fhello/info/refs',
    '/alice/..%5c..%5chello/info/refs',
    '/alice/a%00b/info/refs',
    '/alice/a%0ab/info/refs',
    '/%2fetc/passwd/info/refs',
    '/alice/%zz/info/refs',
    '/alice/.git/info/refs',
  ];
  for (const hostile of hostilePaths) {
    test(`refuses ${hostile} with 400`, async () => {
      const response = await rawRequest(server.url, `${hostile}?service=git-upload-pack`);
      assert.equal(response.status, 400, response.body.toString());
    });
  }
});

describe('RPC requests', () => {
  const uploadPackUrl = () => `${server.url}/alice/hello.git/git-upload-pack`;
  const uploadPackHeaders = { 'content-type': 'application/x-git-upload-pack-request' };

  test('refuses a wrong content type with 415', async () => {
    const response = await adminFetch(uploadPackUrl(), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '0000' });
    assert.equal(response.status, 415);
    assert.match(await response.text(), /application\/x-git-upload-pack-request/);
    const receive = await adminFetch(`${server.url}/alice/hello.git/git-receive-pack`, {
      method: 'POST',
      headers: uploadPackHeaders,
      body: '0000',
    });
    assert.equal(receive.status, 415);
  });

  test('refuses an unknown content encoding with 415', async () => {
    const response = await adminFetch(uploadPackUrl(), {
      method: 'POST',
      headers: { ...uploadPackHeaders, 'content-encoding': 'br' },
      body: '0000',
    });
    assert.equal(response.status, 415);
  });

  test('answers 404 for an RPC on an unknown repository', async () => {
    const response = await adminFetch(`${server.url}/alice/missing.git/git-upload-pack`, {
      method: 'POST',
      headers: uploadPackHeaders,
      body: '0000',
    });
    assert.equal(response.status, 404);
  });

  test('refuses a malformed pkt-line with 400 and stays healthy', async () => {
    for (const body of ['zzzz', '0009done', '00', 'ffff']) {
      const response = await adminFetch(uploadPackUrl(), { method: 'POST', headers: uploadPackHeaders, body });
      assert.equal(response.status, 400, `body ${JSON.stringify(body)}`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      await response.text();
    }
    await assertHealthy();
  });

  test('refuses a gzip bomb with 413 and stays healthy', async () => {
    // A well-formed v2 ls-refs request whose arguments inflate to 64 MiB from about 100 KiB:
    // the limit (1 MiB here) applies to the inflated size, and only the limit stops it.
    const argument = encodePkt('ref-prefix refs/heads/a-branch-name-to-pad-the-line\n');
    const inflated = Buffer.concat([
      encodePkt('command=ls-refs\n'),
      Buffer.from('0001'),
      Buffer.alloc(64 * 1024 * 1024 - 100, argument.toString()),
    ]);
    const bomb = gzipSync(inflated);
    assert.ok(bomb.length < 1024 * 1024);
    const response = await adminFetch(uploadPackUrl(), {
      method: 'POST',
      headers: { ...uploadPackHeaders, 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
      body: bomb,
    });
    assert.equal(response.status, 413);
    await response.text();
    await assertHealthy();
  });

  test('refuses a body that is not gzip although it says so with 400', async () => {
    const response = await adminFetch(uploadPackUrl(), {
      method: 'POST',
      headers: { ...uploadPackHeaders, 'content-encoding': 'gzip' },
      body: 'not gzip at all',
    });
    assert.equal(response.status, 400);
    await response.text();
    await assertHealthy();
  });

  test('refuses a body over the limit with 413 before reading it', async () => {
    const response = await adminFetch(uploadPackUrl(), {
      method: 'POST',
      headers: uploadPackHeaders,
      body: Buffer.alloc(2 * 1024 * 1024, 'a'),
    });
    assert.equal(response.status, 413);
    await response.text();
    await assertHealthy();
  });

  test('answers a gzip-encoded request like a plain one', async () => {
    // A v2 ls-refs command: what git sends (gzipped when large) on its first RPC.
    const request = '0014command=ls-refs\n0001' + '0009peel\n' + '0000';
    const plain = await adminFetch(uploadPackUrl(), {
      method: 'POST',
      headers: { ...uploadPackHeaders, 'git-protocol': 'version=2' },
      body: request,
    });
    const gzipped = await adminFetch(uploadPackUrl(), {
      method: 'POST',
      headers: { ...uploadPackHeaders, 'git-protocol': 'version=2', 'content-encoding': 'gzip' },
      body: gzipSync(request),
    });
    assert.equal(plain.status, 200);
    assert.equal(gzipped.status, 200);
    assert.equal(plain.headers.get('content-type'), 'application/x-git-upload-pack-result');
    assert.deepEqual(Buffer.from(await gzipped.arrayBuffer()), Buffer.from(await plain.arrayBuffer()));
  });
});

test('unknown routes answer 404', async () => {
  const response = await adminFetch(`${server.url}/alice/hello.git/objects/info/packs`);
  assert.equal(response.status, 404);
  await response.text();
});
