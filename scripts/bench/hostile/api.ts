import { request, shortBody, type HttpAnswer, type HttpOptions } from './http.js';

const SETUP_REQUEST_TIMEOUT_MS = 60_000;
const ALL_SCOPES = ['read:repository', 'write:repository', 'read:user', 'write:user', 'read:organization', 'write:organization'];

/** A signed-up account as an attacker (or a victim) has it: a password and a token of every user scope. */
export interface Account {
  name: string;
  password: string;
  token: string;
}

export class SetupFailed extends Error {
  override name = 'SetupFailed';
}

export function basic(user: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Gitfleet's REST API as the set-up of the attacks uses it; `base()` follows the server across restarts. */
export class GitfleetApi {
  constructor(
    readonly base: () => string,
    private readonly adminToken: string,
  ) {}

  /** A request of the set-up: any answer other than `expect` is a SetupFailed. */
  async call(method: string, path: string, auth: Record<string, string>, body: unknown, expect: number[]): Promise<HttpAnswer> {
    const answer = await this.send(method, path, {
      headers: { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!expect.includes(answer.status))
      throw new SetupFailed(`${method} ${path} answered ${answer.status}: ${shortBody(answer.body, 200)}`);
    return answer;
  }

  send(
    method: string,
    path: string,
    options: Omit<HttpOptions, 'timeoutMs' | 'method'> & { timeoutMs?: number } = {},
  ): Promise<HttpAnswer> {
    return request(this.base() + path, { timeoutMs: SETUP_REQUEST_TIMEOUT_MS, ...options, method });
  }

  async createAccount(name: string): Promise<Account> {
    const password = `pw-${name}-Hostile1`;
    await this.call(
      'POST',
      '/api/v1/admin/users',
      bearer(this.adminToken),
      { username: name, email: `${name}@hostile.test`, password },
      [201],
    );
    const answer = await this.call(
      'POST',
      `/api/v1/users/${name}/tokens`,
      basic(name, password),
      { name: 'hostile', scopes: ALL_SCOPES },
      [201],
    );
    return { name, password, token: json<{ sha1: string }>(answer).sha1 };
  }

  /** A token of the account with only these scopes (made with its password, as tokens must be). */
  async createToken(account: Account, name: string, scopes: string[]): Promise<string> {
    const answer = await this.call(
      'POST',
      `/api/v1/users/${account.name}/tokens`,
      basic(account.name, account.password),
      { name, scopes },
      [201],
    );
    return json<{ sha1: string }>(answer).sha1;
  }

  /** A repository of the account's own, or of an organisation it belongs to (`under`). */
  async createRepo(owner: Account, name: string, options: { private?: boolean; under?: string } = {}): Promise<void> {
    const path = options.under === undefined || options.under === owner.name ? '/api/v1/user/repos' : `/api/v1/orgs/${options.under}/repos`;
    await this.call('POST', path, bearer(owner.token), { name, private: options.private ?? false }, [201]);
  }

  async createOrg(creator: Account, name: string): Promise<void> {
    await this.call('POST', '/api/v1/orgs', bearer(creator.token), { username: name }, [201]);
  }

  /** POST of a hook (repository `owner/repo` or organisation `orgs/name`); the raw answer, since refusals are results. */
  createHook(account: Account, scope: string, url: string, extra: Record<string, unknown> = {}): Promise<HttpAnswer> {
    const path = scope.startsWith('orgs/') ? `/api/v1/${scope}/hooks` : `/api/v1/repos/${scope}/hooks`;
    return this.send('POST', path, {
      headers: { ...bearer(account.token), 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'gitea', config: { url, content_type: 'json' }, events: ['push', 'create'], active: true, ...extra }),
    });
  }

  /** Clone URL with the account's token as the password, as git sends it. */
  gitUrl(account: Account, owner: string, repo: string): string {
    const base = new URL(this.base());
    return `${base.protocol}//${encodeURIComponent(account.name)}:${account.token}@${base.host}/${owner}/${repo}.git`;
  }
}

export function json<T>(answer: HttpAnswer): T {
  return JSON.parse(answer.body.toString('utf8')) as T;
}
