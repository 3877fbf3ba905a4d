// Findings 10, 12 (rendering) and 13 (large trees, many statuses): content that is cheap to
// push once and expensive to show to every anonymous visitor.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once as eventOnce } from 'node:events';
import { bearer, json } from '../api.js';
import { once, type Attack, type AttackContext, type StrikeLimits } from '../attack.js';
import { commitFiles, repoWithFiles } from '../git-push.js';
import { describeError, request, tally } from '../http.js';

const MIB = 1 << 20;
const LARGE_README_BYTES = 300 * MIB;
const PARALLEL_VIEWS = 4;
const RENDERED_BYTES = 512 * 1024;
const TREE_ENTRIES = 200_000;
const STATUS_CONTEXTS = 2_000;
const STATUS_CONCURRENCY = 16;

/** A public repository of the attacker's holding `files` (written by `write` into the work tree), pushed. */
async function publishedRepo(ctx: AttackContext, prefix: string, write: (dir: string) => Promise<void>): Promise<RepoName> {
  const { attacker } = await ctx.accounts();
  const name = ctx.unique(prefix);
  await ctx.api.createRepo(attacker, name);
  const dir = await ctx.scratch(name);
  await repoWithFiles(ctx.git, dir, {});
  await write(dir);
  await commitFiles(ctx.git, dir, {}, prefix);
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(attacker, attacker.name, name), 'main'], { cwd: dir });
  return { owner: attacker.name, name };
}

/** Markdown of every construct the renderer handles, repeated to `bytes`. */
function markdown(bytes: number): string {
  const block = [
    '## Section *with* **emphasis** and `code`',
    '',
    'A paragraph with [a link](https://example.com/a_(b)_c), _nested **strong *and em* text**_, <span>html</span> & entities &amp; more.',
    '',
    '- item one with `inline` code',
    '  - nested [ref][r] item',
    '> quote with **bold** and a ~~strike~~',
    '',
    '```ts',
    'const answer: number = [1, 2, 3].map((x) => x * 2).reduce((a, b) => a + b, 0);',
    '```',
    '',
    '| a | b |',
    '|---|---|',
    '| *1* | `2` |',
    '',
    '[r]: https://example.com',
    '',
  ].join('\n');
  return block.repeat(Math.ceil(bytes / block.length)).slice(0, bytes);
}

function typescript(bytes: number): string {
  const block = `export function f(x: number, y: string): Promise<Map<string, number[]>> {\n  const r = /a+(b|c)*d?/g; // comment with 'quotes' and "strings"\n  return Promise.resolve(new Map([[y, [x, x * 2, 0x1f, 1e3]]]));\n}\n`;
  return block.repeat(Math.ceil(bytes / block.length)).slice(0, bytes);
}

/** GETs `path` PARALLEL_VIEWS times at once, anonymously, reading every byte but keeping none. */
async function parallelViews(ctx: AttackContext, urlPath: string, limits: StrikeLimits): Promise<string> {
  const outcomes = await Promise.all(
    Array.from({ length: PARALLEL_VIEWS }, () =>
      request(ctx.target.base() + urlPath, { timeoutMs: limits.remainingMs(), signal: limits.signal, keepBytes: 0 }).then(
        (answer) => `${answer.status} ${(answer.bodyBytes / MIB).toFixed(1)} MiB`,
        describeError,
      ),
    ),
  );
  return `${PARALLEL_VIEWS} anonymous views: ${tally(outcomes)}`;
}

type RepoName = { owner: string; name: string };
const page = (suffix: string) => (repo: RepoName) => `/${repo.owner}/${repo.name}${suffix}`;

function viewAttack(
  name: string,
  finding: string,
  repo: (ctx: AttackContext) => Promise<RepoName>,
  urlPath: (repo: RepoName) => string,
  parallel = true,
): Attack {
  return {
    name,
    finding,
    async prepare(ctx) {
      const full = urlPath(await repo(ctx));
      return async (limits) => {
        if (parallel) return parallelViews(ctx, full, limits);
        try {
          const answer = await request(ctx.target.base() + full, { timeoutMs: limits.remainingMs(), signal: limits.signal, keepBytes: 0 });
          return `${answer.status}, ${(answer.bodyBytes / 1024).toFixed(0)} KiB in ${(answer.ms / 1000).toFixed(1)} s`;
        } catch (error) {
          return describeError(error);
        }
      };
    },
  };
}

/** Written as a stream: the benchmark itself must not hold 300 MiB. */
const largeReadme = once((ctx) =>
  publishedRepo(ctx, 'large', async (dir) => {
    const out = createWriteStream(path.join(dir, 'README.md'));
    const chunk = Buffer.from(markdown(MIB));
    for (let written = 0; written < LARGE_README_BYTES; written += chunk.length) {
      if (!out.write(chunk)) await eventOnce(out, 'drain');
    }
    out.end();
    await eventOnce(out, 'finish');
  }),
);

const renderable = once((ctx) =>
  publishedRepo(ctx, 'render', async (dir) => {
    await writeFile(path.join(dir, 'README.md'), markdown(RENDERED_BYTES));
    await writeFile(path.join(dir, 'big.ts'), typescript(RENDERED_BYTES));
  }),
);

/** One tree of TREE_ENTRIES files (all the empty blob), made with git mktree rather than a work tree. */
const hugeTree = once(async (ctx) => {
  const { attacker } = await ctx.accounts();
  const name = ctx.unique('tree');
  await ctx.api.createRepo(attacker, name);
  const dir = await ctx.scratch(name);
  await ctx.git.git(['init', '--quiet', '--initial-branch=main', dir]);
  const blob = (await ctx.git.git(['hash-object', '-w', '--stdin'], { cwd: dir, input: '' })).stdout.trim();
  const listing = Array.from({ length: TREE_ENTRIES }, (_, i) => `100644 blob ${blob}\tfile-${String(i).padStart(6, '0')}.txt\n`).join('');
  const tree = (await ctx.git.git(['mktree'], { cwd: dir, input: listing })).stdout.trim();
  const commit = (await ctx.git.git(['commit-tree', tree, '-m', `${TREE_ENTRIES} entries`], { cwd: dir })).stdout.trim();
  await ctx.git.git(['update-ref', 'refs/heads/main', commit], { cwd: dir });
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(attacker, attacker.name, name), 'main'], { cwd: dir });
  return { owner: attacker.name, name };
});

const statuses: Attack = {
  name: 'statuses-2000-contexts',
  finding: '13',
  async prepare(ctx) {
    const { attacker } = await ctx.accounts();
    const repo = await renderable(ctx);
    const commit = json<{ sha: string }>(
      await ctx.api.call('GET', `/api/v1/repos/${repo.owner}/${repo.name}/commits/main`, bearer(attacker.token), undefined, [200]),
    ).sha;
    return async (limits) => {
      const outcomes: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < STATUS_CONTEXTS && !limits.signal.aborted) {
          const context = `ci/${next++}`;
          outcomes.push(
            await request(`${ctx.target.base()}/api/v1/repos/${repo.owner}/${repo.name}/statuses/${commit}`, {
              method: 'POST',
              headers: { ...bearer(attacker.token), 'content-type': 'application/json' },
              body: JSON.stringify({ state: 'success', context }),
              timeoutMs: limits.remainingMs(),
              signal: limits.signal,
            }).then((answer) => String(answer.status), describeError),
          );
        }
      };
      await Promise.all(Array.from({ length: STATUS_CONCURRENCY }, worker));
      const combined = await request(`${ctx.target.base()}/api/v1/repos/${repo.owner}/${repo.name}/commits/${commit}/status`, {
        timeoutMs: limits.remainingMs(),
        signal: limits.signal,
      })
        .then((answer) => `${answer.status} ${(answer.bodyBytes / 1024).toFixed(0)} KiB in ${(answer.ms / 1000).toFixed(1)} s`)
        .catch(describeError);
      return `${STATUS_CONTEXTS} contexts on one commit: ${tally(outcomes)}; combined status ${combined}`;
    };
  },
};

export const largeContentAttacks: Attack[] = [
  viewAttack('large-readme-home-x4', '10', largeReadme, page('')),
  viewAttack('large-raw-x4', '10', largeReadme, page('/raw/main/README.md')),
  viewAttack('render-512k-code', '12', renderable, page('/blob/main/big.ts'), false),
  viewAttack('render-512k-markdown', '12', renderable, page(''), false),
  viewAttack('tree-200k-page', '13', hugeTree, page(''), false),
  viewAttack('tree-200k-api', '13', hugeTree, (repo) => `/api/v1/repos/${repo.owner}/${repo.name}/contents`, false),
  statuses,
];
