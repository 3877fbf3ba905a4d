/**
 * The API's foundation: the OpenAPI document lists every route the server answers, unknown
 * paths are JSON 404s, errors are `{"message": …}`, and oversized bodies are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiClient, type ApiTestServer } from './api-client.js';

/** Every route of the accounts, organisations and repositories API, in OpenAPI's spelling. */
const ACCOUNT_ROUTES = [
  'get /user',
  'get /users/{username}',
  'get /users/{username}/repos',
  'get /user/repos',
  'post /user/repos',
  'get /admin/users',
  'post /admin/users',
  'patch /admin/users/{username}',
  'delete /admin/users/{username}',
  'get /users/{username}/tokens',
  'post /users/{username}/tokens',
  'delete /users/{username}/tokens/{id}',
  'post /orgs',
  'get /orgs/{org}',
  'patch /orgs/{org}',
  'delete /orgs/{org}',
  'get /user/orgs',
  'get /users/{username}/orgs',
  'get /orgs/{org}/repos',
  'post /orgs/{org}/repos',
  'get /orgs/{org}/members',
  'get /orgs/{org}/memberships/{username}',
  'put /orgs/{org}/memberships/{username}',
  'delete /orgs/{org}/members/{username}',
  'get /orgs/{org}/teams',
  'post /orgs/{org}/teams',
  'get /orgs/{org}/teams/{team_slug}',
  'patch /orgs/{org}/teams/{team_slug}',
  'delete /orgs/{org}/teams/{team_slug}',
  'get /orgs/{org}/teams/{team_slug}/members',
  'put /orgs/{org}/teams/{team_slug}/memberships/{username}',
  'delete /orgs/{org}/teams/{team_slug}/memberships/{username}',
  'get /orgs/{org}/teams/{team_slug}/repos',
  'put /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}',
  'delete /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}',
  'get /repos/{owner}/{repo}',
  'patch /repos/{owner}/{repo}',
  'delete /repos/{owner}/{repo}',
  'get /repos/{owner}/{repo}/collaborators',
  'put /repos/{owner}/{repo}/collaborators/{username}',
  'delete /repos/{owner}/{repo}/collaborators/{username}',
  'get /repos/{owner}/{repo}/collaborators/{username}/permission',
];

/** Routes other routers answer (git data, webhooks, statuses) and the site administrators' POST /repos. */
const OTHER_ROUTES = [
  'get /repos/{owner}/{repo}/branches',
  'get /repos/{owner}/{repo}/tags',
  'get /repos/{owner}/{repo}/commits',
  'get /repos/{owner}/{repo}/commits/{ref}',
  'get /repos/{owner}/{repo}/compare/{basehead}',
  'post /repos',
  'get /repos/{owner}/{repo}/hooks',
  'post /orgs/{org}/hooks',
  'get /repos/{owner}/{repo}/hooks/{id}/deliveries/{delivery}',
  'post /repos/{owner}/{repo}/statuses/{sha}',
  'get /repos/{owner}/{repo}/commits/{ref}/status',
  'get /users/{owner}/storage',
  'get /admin/quotas/{owner}',
  'put /admin/quotas/{owner}',
];

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

describe('API foundation', () => {
  let fixture: ApiTestServer;
  let api: ApiClient;

  before(async () => {
    fixture = await startApiServer();
    api = fixture.api;
  });
  after(() => fixture?.server.stop());

  test('GET /openapi.json is an OpenAPI 3.1 document listing every route', async () => {
    const { body: doc } = await api.expect(200, 'GET', '/openapi.json');
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.servers, [{ url: `${api.baseUrl}/api/v1` }]);

    const documented = new Set<string>();
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, OperationObject>>)) {
      assert.ok(path.startsWith('/'), path);
      assert.doesNotMatch(path, /:/, `${path} still has an Express parameter`);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, operation] of Object.entries(item)) {
        if (!HTTP_METHODS.has(method)) continue;
        documented.add(`${method} ${path}`);
        assert.ok(Object.keys(operation.responses).length > 0, `${method} ${path} has responses`);
        assert.ok(!operationIds.has(operation.operationId), `operationId ${operation.operationId} is unique`);
        operationIds.add(operation.operationId);
        // Every templated segment is a required path parameter (what OpenAPI 3.1 demands).
        const pathParameters = (operation.parameters ?? []).filter((p) => p.in === 'path');
        assert.deepEqual(pathParameters.map((p) => p.name).sort(), [...templated].sort(), `${method} ${path}`);
        assert.ok(pathParameters.every((p) => p.required === true));
      }
    }
    for (const route of [...ACCOUNT_ROUTES, ...OTHER_ROUTES]) assert.ok(documented.has(route), `${route} is documented`);
    // The schemas of bodies are there, with their required fields.
    const createRepo = (doc.paths['/user/repos'] as Record<string, OperationObject>).post;
    const schema = createRepo.requestBody?.content['application/json'].schema as { properties: object; required: string[] };
    assert.deepEqual(schema.required, ['name']);
    assert.ok('private' in schema.properties);
  });

  test('the document’s routes are the routes the server answers', async () => {
    const { body: doc } = await api.expect(200, 'GET', '/openapi.json');
    // Every documented GET without path parameters answers something other than "no route".
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!('get' in item) || path.includes('{') || path === '/openapi.json') continue;
      const response = await api.call('GET', path);
      assert.ok(!(response.status === 404 && /no API route/.test(response.body.message)), `${path}: ${JSON.stringify(response.body)}`);
    }
  });

  test('unknown API paths are JSON 404s', async () => {
    const response = await api.expect(404, 'GET', '/no/such/route');
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(response.body.message, 'no API route for GET /api/v1/no/such/route');
    const wrongMethod = await api.expect(404, 'PUT', '/user');
    assert.match(wrongMethod.body.message, /no API route/);
  });

  test('errors are {"message"} objects; a 401 carries the Basic challenge', async () => {
    const response = await api.expect(401, 'GET', '/user');
    assert.equal(typeof response.body.message, 'string');
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  test('a body over the size limit is refused before it is parsed', async () => {
    const huge = JSON.stringify({ login: 'x', email: 'x@example.com', password: 'p'.repeat(200_000) });
    const response = await api.call('POST', '/admin/users', { as: api.admin, rawBody: huge, contentType: 'application/json' });
    assert.equal(response.status, 413);
    assert.equal(typeof response.body.message, 'string');
  });
});

interface OperationObject {
  operationId: string;
  responses: Record<string, unknown>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
}
