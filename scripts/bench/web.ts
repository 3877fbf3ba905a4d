// Browsing speed: Gitfleet's web pages and REST API on a large repository, each beside the git
// command that does the same reading on the same repository (C git on a local bare repository,
// no HTTP), so the ratio says what serving a page costs over reading the data with git itself.
import { Command, InvalidArgumentError } from 'commander';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { killAllDaemonsNow } from './daemon.js';
import { GitClient } from './git-client.js';
import { startGitfleet } from './servers.js';
import { summarize } from './stats.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = 'browse';
const PAGE = 30;

const program = new Command('bench-web')
  .description('Times web pages and API reads of a repository served by Gitfleet against the git commands that read the same data.')
  .requiredOption('--repo <path>', 'a bare repository to load, e.g. /work/.mirror/git+git/repo')
  .option('--refs <list>', 'namespaces under refs/ to push', 'heads,tags')
  .option(
    '--repeat <n>',
    'timed repetitions after one untimed warm-up',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
      return n;
    },
    5,
  )
  .parse();

interface Case {
  name: string;
  /** Path under the server's base URL. */
  url: string;
  /** The git command reading the same data from the bare repository. */
  git: string[];
  /** Text the page must contain: a page that answers fast but wrong is not a result. */
  expect?: string;
}

async function main({ repo, refs, repeat }: { repo: string; refs: string; repeat: number }): Promise<void> {
  const git = new GitClient(3_600_000);
  const inRepo = (args: string[]) => git.git(['--git-dir', repo, ...args]);
  const branch = (await inRepo(['symbolic-ref', '--short', 'HEAD'])).stdout.trim();
  const tip = (await inRepo(['rev-parse', branch])).stdout.trim();
  const cases = await chooseCases(inRepo, branch, tip);

  const workDir = path.join(projectRoot, '.bench', `web-${Date.now()}`);
  await mkdir(path.join(workDir, 'logs'), { recursive: true });
  const server = await startGitfleet({ workDir, logDir: path.join(workDir, 'logs'), runId: `web-${process.pid}` });
  process.once('exit', killAllDaemonsNow);
  try {
    await server.createRepo(REPO);
    const pushUrl = server.url(REPO);
    const base = new URL(pushUrl);
    const webBase = `${base.protocol}//${base.host}`;
    const refspecs = refs.split(',').map((ns) => `+refs/${ns}/*:refs/${ns}/*`);
    const loadStarted = performance.now();
    await git.git(['--git-dir', repo, 'push', '--quiet', pushUrl, ...refspecs]);
    console.log(`loaded ${repo} (${refspecs.join(' ')}) in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

    const rows: string[][] = [['case', 'gitfleet first (ms)', 'gitfleet median (ms)', 'git median (ms)', 'ratio (median)']];
    for (const c of cases) {
      const first = await timePage(webBase, c);
      const served: number[] = [];
      const viaGit: number[] = [];
      for (let i = 0; i < repeat; i++) {
        served.push(await timePage(webBase, c));
        viaGit.push((await inRepo(c.git)).seconds * 1000);
      }
      const s = summarize(served)!.median;
      const g = summarize(viaGit)!.median;
      rows.push([c.name, first.toFixed(0), s.toFixed(1), g.toFixed(1), `${(s / g).toFixed(2)}x`]);
      console.log(`${c.name}: ${s.toFixed(1)} ms vs git ${g.toFixed(1)} ms`);
    }
    console.log('');
    console.log(formatRows(rows));
  } finally {
    await server.daemon.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Pages of the kinds people open, on data the repository actually has. */
async function chooseCases(inRepo: (args: string[]) => Promise<{ stdout: string }>, branch: string, tip: string): Promise<Case[]> {
  const root = (await inRepo(['ls-tree', '-l', tip])).stdout.trim().split('\n').map(parseLsTree);
  const directory = root.filter((e) => e.type === 'tree').sort((a, b) => a.name.localeCompare(b.name))[0]?.name;
  const largestFile = root.filter((e) => e.type === 'blob' && e.size < 512 * 1024).sort((a, b) => b.size - a.size)[0]?.name;
  const readme = root.find((e) => /^readme(\.md)?$/i.test(e.name))?.name;
  const tags = (await inRepo(['tag', '--sort=-creatordate'])).stdout.trim().split('\n').filter(Boolean);
  const olderTag = tags[Math.min(20, tags.length - 1)];
  const repo = `/bench/${REPO}`;
  const api = `/api/v1/repos/bench/${REPO}`;
  const cases: Case[] = [
    { name: 'repository home (tree + README)', url: repo, git: ['ls-tree', tip], expect: readme },
    {
      name: `commit page ${tip.slice(0, 7)}`,
      url: `${repo}/commit/${tip}`,
      git: ['show', '--format=%H%n%an%n%B', tip],
      expect: tip.slice(0, 7),
    },
    { name: 'history, first page', url: `${repo}/commits/${branch}`, git: ['log', `-n${PAGE}`, '--format=%H %an %s', tip] },
    {
      name: 'history page 100 (API)',
      url: `${api}/commits?sha=${branch}&page=100&per_page=${PAGE}`,
      git: ['log', `--skip=${99 * PAGE}`, `-n${PAGE}`, '--format=%H %an %s', tip],
    },
    { name: 'branches', url: `${repo}/branches`, git: ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads'] },
    { name: 'tags', url: `${repo}/tags`, git: ['for-each-ref', '--format=%(refname) %(*objectname)', 'refs/tags'] },
    { name: 'commit with diff stats (API)', url: `${api}/commits/${tip}`, git: ['show', '--numstat', '--format=%H', tip] },
  ];
  if (directory)
    cases.push({
      name: `directory ${directory}/`,
      url: `${repo}/tree/${branch}/${directory}`,
      git: ['ls-tree', '-l', `${tip}:${directory}`],
    });
  if (largestFile) {
    cases.push({
      name: `file ${largestFile} (highlighted)`,
      url: `${repo}/blob/${branch}/${largestFile}`,
      git: ['cat-file', 'blob', `${tip}:${largestFile}`],
    });
    cases.push({
      name: `history of ${largestFile}, first page`,
      url: `${api}/commits?sha=${branch}&path=${largestFile}&per_page=${PAGE}`,
      git: ['log', `-n${PAGE}`, '--format=%H', tip, '--', largestFile],
    });
  }
  if (olderTag)
    cases.push({
      name: `compare ${olderTag}...${branch} (API)`,
      url: `${api}/compare/${olderTag}...${branch}`,
      git: ['diff', '--numstat', `${olderTag}...${tip}`],
    });
  return cases;
}

function parseLsTree(line: string): { type: string; size: number; name: string } {
  const [meta, name] = line.split('\t');
  const [, type, , size] = meta.split(/\s+/);
  return { type, size: Number(size) || 0, name };
}

async function timePage(base: string, c: Case): Promise<number> {
  const started = performance.now();
  const response = await fetch(base + c.url);
  const body = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${c.name}: GET ${c.url} answered ${response.status}: ${body.slice(0, 300)}`);
  if (c.expect && !body.includes(c.expect)) throw new Error(`${c.name}: GET ${c.url} does not contain ${JSON.stringify(c.expect)}`);
  return ms;
}

function formatRows(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `| ${r.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`).join('\n');
}

main(program.opts()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
