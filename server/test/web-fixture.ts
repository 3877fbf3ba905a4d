/**
 * What the web page tests share: a browser-like client (one session cookie, CSRF token taken
 * from the page like a browser's form would) and a real repository pushed with git.
 */
import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gitAsync } from '@gitfleet/test-support/git';

export interface Page {
  status: number;
  headers: Headers;
  text: string;
}

export class WebClient {
  cookie: string | undefined;

  constructor(readonly baseUrl: string) {}

  async get(urlPath: string): Promise<Page> {
    return this.request('GET', urlPath);
  }

  /** Posts a form as the browser would: with the CSRF token of the page the form is on. */
  async submit(formPage: string, action: string, fields: Record<string, string | string[]>): Promise<Page> {
    const page = await this.get(formPage);
    return this.post(action, { _csrf: csrfOf(page.text), ...fields });
  }

  async post(urlPath: string, fields: Record<string, string | string[]>): Promise<Page> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) body.append(name, one);
    return this.request('POST', urlPath, body);
  }

  async signIn(user: string, password: string): Promise<Page> {
    const page = await this.post('/login', { username: user, password });
    const setCookie = page.headers.get('set-cookie');
    if (page.status !== 303 || !setCookie) throw new Error(`sign-in as ${user} failed: ${page.status} ${page.text.slice(0, 500)}`);
    this.cookie = setCookie.split(';')[0];
    return page;
  }

  private async request(method: string, urlPath: string, body?: URLSearchParams): Promise<Page> {
    const headers: Record<string, string> = { origin: this.baseUrl };
    if (this.cookie) headers.cookie = this.cookie;
    const response = await fetch(`${this.baseUrl}${urlPath}`, { method, headers, body, redirect: 'manual' });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }
}

/** A webhook endpoint on loopback answering every delivery with `response`; `events` records their X-GitHub-Event. */
export async function startHookReceiver(response: {
  headers?: Record<string, string>;
  body: string;
}): Promise<{ url: string; events: string[]; close(): void }> {
  const events: string[] = [];
  const receiver = http.createServer((req, res) => {
    events.push(String(req.headers['x-github-event']));
    req.resume();
    res.writeHead(200, response.headers).end(response.body);
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, events, close: () => receiver.close() };
}

/** A hook's page once a delivery shows on it (deliveries go out in the background), or after ten seconds. */
export async function hookPageWithDelivery(client: WebClient, hookPage: string): Promise<Page> {
  let page = await client.get(hookPage);
  for (let attempt = 0; attempt < 100 && !/class="delivery"/.test(page.text); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    page = await client.get(hookPage);
  }
  return page;
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]*)"/.exec(html);
  if (!match) throw new Error('no CSRF field on the page');
  return match[1];
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  return gitWithEnv(cwd, {}, ...args);
}

/** git as a person committing now (the pages show commit dates), never the machine's configuration. */
async function gitWithEnv(cwd: string, extraEnv: Record<string, string>, ...args: string[]): Promise<string> {
  return (await gitAsync(cwd, args, { env: extraEnv, clock: false })).stdout.trim();
}

export const HOSTILE_FILE = '<img src=x onerror=alert(1)>.txt';
const HOSTILE_MESSAGE = '<script>alert("commit")</script> tidy up';
/** Commits on the branch "long": more than one history page. */
export const LONG_BRANCH_COMMITS = 35;

/**
 * In `dir`, a working repository: README with hostile HTML and relative links, highlighted source, a
 * binary file, a file with a hostile name, a branch with "/" in its name, an annotated tag, and
 * a branch long enough for two history pages.
 */
export async function buildRepository(dir: string): Promise<void> {
  const write = async (file: string, content: string | Buffer) => {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  };
  await git(dir, 'init', '-q', '-b', 'main');
  await write(
    'README.md',
    "# Demo project\n\n<script>alert('readme')</script>\n\nRead the [guide](docs/guide.md) and see ![logo](img/logo.png) or [elsewhere](https://example.com/x).\n",
  );
  await write('docs/guide.md', '# Guide\n\nSee [the README](../README.md).\n');
  await write('img/logo.png', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64)]));
  await write(
    'src/main.ts',
    'export const answer: number = 41;\n/* a comment\n   over lines */\nfunction twice(x: number) {\n  return x * 2;\n}\n',
  );
  await write('data/blob.bin', Buffer.from([0, 1, 2, 3, 0, 255, 254, 0]));
  await write(HOSTILE_FILE, 'hostile name\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'Initial commit');
  await write(
    'src/main.ts',
    'export const answer: number = 42;\n/* a comment\n   over lines */\nfunction twice(x: number) {\n  return x * 2;\n}\n',
  );
  await git(dir, 'commit', '-q', '-am', `${HOSTILE_MESSAGE}\n\nBody with <b>markup</b>.`);
  await git(dir, 'tag', '-a', 'v1.0', '-m', 'release 1.0');
  await git(dir, 'checkout', '-q', '-b', 'feature/x');
  await write('src/feature.ts', 'export const feature = true;\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'Add the feature');
  await git(dir, 'checkout', '-q', '-b', 'long', 'main');
  for (let index = 1; index <= LONG_BRANCH_COMMITS; index++) await git(dir, 'commit', '-q', '--allow-empty', '-m', `long commit ${index}`);
  await git(dir, 'checkout', '-q', 'main');
  await buildMergeHistory(dir);
}

/** Rounds of MERGE_BRANCH: each a topic branch and the mainline, commits interleaved in time, then a merge. */
export const MERGE_ROUNDS = 6;
export const MERGE_BRANCH = 'merges';

/**
 * Branch "merges": rounds of a topic branch and the mainline growing side by side (their
 * commits alternate in time) then merged, so that history pages end in the middle of a topic
 * whose older siblings are not its ancestors. Every commit has its own committer time.
 */
async function buildMergeHistory(dir: string): Promise<void> {
  const tree = await git(dir, 'rev-parse', 'main^{tree}');
  // Later than the other branches' commits (made just now): no parent is newer than its child.
  let time = Math.floor(Date.now() / 1000) + 1000;
  const commit = async (message: string, ...parents: string[]) => {
    const date = `${time++} +0000`;
    const args = parents.flatMap((parent) => ['-p', parent]);
    return gitWithEnv(dir, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }, 'commit-tree', tree, ...args, '-m', message);
  };
  let mainline = await git(dir, 'rev-parse', 'main');
  for (let round = 1; round <= MERGE_ROUNDS; round++) {
    let topic = mainline;
    for (let step = 1; step <= 5; step++) {
      topic = await commit(`topic ${round}.${step}`, topic);
      mainline = await commit(`mainline ${round}.${step}`, mainline);
    }
    mainline = await commit(`Merge topic ${round}`, mainline, topic);
  }
  await git(dir, 'update-ref', `refs/heads/${MERGE_BRANCH}`, mainline);
}

/** Pushes every branch and tag to `remote` (a URL with credentials). */
export async function pushAll(dir: string, remote: string): Promise<void> {
  await git(dir, 'push', '-q', remote, '--all');
  await git(dir, 'push', '-q', remote, '--tags');
}
