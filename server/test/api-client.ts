/**
 * What the API tests share: an in-process server started with the bootstrap administrator,
 * a small JSON client, and users made through the API itself (admin creates them, each mints
 * its own token with its password).
 */
import assert from 'node:assert/strict';
import { TEST_ADMIN, TEST_ADMIN_ENV, TEST_ADMIN_PASSWORD, TEST_ADMIN_TOKEN } from '@gitfleet/test-support/server';
import { startTestServer, type TestServer } from './helpers.js';

export { TEST_ADMIN, TEST_ADMIN_PASSWORD, TEST_ADMIN_TOKEN };

export type Credential = { token: string } | { basic: readonly [string, string] } | undefined;

export interface ApiResponse {
  status: number;
  headers: Headers;
  // Parsed JSON of whatever shape the route answers; each test asserts the fields it relies on.
  body: any;
}

export const ALL_SCOPES = [
  'read:repository',
  'write:repository',
  'read:user',
  'write:user',
  'read:organization',
  'write:organization',
  'read:admin',
  'write:admin',
] as const;

export interface TestUser {
  name: string;
  password: string;
  /** A token with every scope. */
  token: string;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  /** `rawBody` goes out as it is, with `contentType` when given (fetch's text/plain otherwise). */
  async call(
    method: string,
    path: string,
    options: { as?: Credential; body?: unknown; rawBody?: string; contentType?: string } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    const as = options.as;
    if (as && 'token' in as) headers.authorization = `token ${as.token}`;
    if (as && 'basic' in as) headers.authorization = `Basic ${Buffer.from(`${as.basic[0]}:${as.basic[1]}`).toString('base64')}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** The same, asserting the status (with the answer in the failure message). */
  async expect(status: number, method: string, path: string, options: { as?: Credential; body?: unknown } = {}): Promise<ApiResponse> {
    const response = await this.call(method, path, options);
    assert.equal(response.status, status, `${method} ${path}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  get admin(): Credential {
    return { token: TEST_ADMIN_TOKEN };
  }

  /** A user created by the administrator, with a token of `scopes` minted with its password. */
  async createUser(name: string, options: { admin?: boolean; scopes?: readonly string[] } = {}): Promise<TestUser> {
    const password = `pw-${name}-correct-horse`;
    await this.expect(201, 'POST', '/admin/users', {
      as: this.admin,
      body: { login: name, email: `${name}@example.com`, password, admin: options.admin ?? false },
    });
    const token = await this.createToken(name, password, 'all', options.scopes ?? ALL_SCOPES);
    return { name, password, token };
  }

  async createToken(user: string, password: string, tokenName: string, scopes: readonly string[]): Promise<string> {
    const created = await this.expect(201, 'POST', `/users/${user}/tokens`, {
      as: { basic: [user, password] },
      body: { name: tokenName, scopes },
    });
    return created.body.sha1 as string;
  }
}

export interface ApiTestServer {
  server: TestServer;
  api: ApiClient;
}

/** An in-process server whose bootstrap administrator is TEST_ADMIN. */
export async function startApiServer(env: Record<string, string> = {}): Promise<ApiTestServer> {
  const server = await startTestServer({ ...TEST_ADMIN_ENV, ...env });
  return { server, api: new ApiClient(server.url) };
}

export function token(user: TestUser): Credential {
  return { token: user.token };
}

export function password(user: TestUser): Credential {
  return { basic: [user.name, user.password] };
}
