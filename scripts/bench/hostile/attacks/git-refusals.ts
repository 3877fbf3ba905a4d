// Finding 12 (.gitmodules) and git's own refusals (refs that cannot live side by side): what
// C git's receive-pack refuses, pushed with C git.
import type { Attack, AttackContext } from '../attack.js';
import { commitFiles, pushOutcome, repoWithFiles, strikeGit, verdict } from '../git-push.js';

/** Each line is one of fsck's gitmodules checks: a name escaping .git/modules, an option as a URL, an option as a path. */
const MALICIOUS_GITMODULES = ['[submodule "../../../../hooks"]', '\tpath = -evil', '\turl = --upload-pack=/bin/false', ''].join('\n');

async function ownRepo(ctx: AttackContext, prefix: string): Promise<{ dir: string; url: string }> {
  const { attacker } = await ctx.accounts();
  const name = ctx.unique(prefix);
  await ctx.api.createRepo(attacker, name);
  const dir = await ctx.scratch(name);
  await repoWithFiles(ctx.git, dir, { 'README.md': `# ${name}\n` });
  const url = ctx.api.gitUrl(attacker, attacker.name, name);
  await ctx.git.git(['push', '--quiet', url, 'main'], { cwd: dir });
  return { dir, url };
}

export const gitRefusalAttacks: Attack[] = [
  {
    name: 'gitmodules-malicious',
    finding: '12',
    async prepare(ctx) {
      const repo = await ownRepo(ctx, 'modules');
      await commitFiles(ctx.git, repo.dir, { '.gitmodules': MALICIOUS_GITMODULES }, 'submodule');
      return async (limits) => pushOutcome(strikeGit(limits), [repo.url, 'main'], repo.dir);
    },
  },
  {
    name: 'df-refs',
    finding: 'refs',
    async prepare(ctx) {
      const repo = await ownRepo(ctx, 'df');
      await ctx.git.git(['push', '--quiet', repo.url, 'main:refs/heads/df'], { cwd: repo.dir });
      return async (limits) => {
        const beside = await pushOutcome(strikeGit(limits), [repo.url, 'main:refs/heads/df/sub'], repo.dir);
        const atomic = await pushOutcome(
          strikeGit(limits),
          ['--atomic', repo.url, 'main:refs/heads/dg', 'main:refs/heads/dg/sub'],
          repo.dir,
        );
        return `df/sub next to df: ${verdict(beside)} | --atomic dg + dg/sub: ${verdict(atomic)}`;
      };
    },
  },
];
