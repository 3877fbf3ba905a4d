// Pushes as a client that costs next to nothing: what a server accepts per second, without the
// machine's two cores going to git's own processes (a `git push` starts four of them).
import { spawn } from 'node:child_process';
import http from 'node:http';

const ZERO_ID = '0'.repeat(40);

/** One push made ready beforehand: its command and pack, framed as `git send-pack` frames them. */
export interface PreparedPush {
  ref: string;
  body: Buffer;
}

/**
 * The pushes that move `ref` along `chain` one commit at a time (the first creates it), each
 * with a pack of the objects its commit adds, made by git from `gitDir`.
 */
export async function preparePushes(gitDir: string, ref: string, chain: readonly string[]): Promise<PreparedPush[]> {
  const pushes: PreparedPush[] = [];
  for (let i = 0; i < chain.length; i++) {
    const old = i === 0 ? ZERO_ID : chain[i - 1];
    const pack = await packOf(gitDir, i === 0 ? [chain[i]] : [chain[i], `^${old}`]);
    const command = pktLine(`${old} ${chain[i]} ${ref}\0report-status agent=gitfleet-bench`);
    pushes.push({ ref, body: Buffer.concat([command, Buffer.from('0000'), pack]) });
  }
  return pushes;
}

/**
 * Makes `push` against the repository at `url` (credentials in it, if any) as git does over smart
 * HTTP: the receive-pack advertisement, then the request; throws unless the server reported the
 * ref updated. `agent` keeps the client's connections alive across pushes, as git's does.
 */
export async function pushOverHttp(url: string, push: PreparedPush, agent: http.Agent): Promise<void> {
  const advertisement = await exchange(`${url}/info/refs?service=git-receive-pack`, { method: 'GET', agent });
  if (advertisement.status !== 200) throw new Error(`${push.ref}: advertisement answered ${advertisement.status}`);
  const answer = await exchange(`${url}/git-receive-pack`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/x-git-receive-pack-request', accept: 'application/x-git-receive-pack-result' },
    body: push.body,
  });
  const report = answer.body.toString('latin1');
  if (answer.status !== 200 || !report.includes('unpack ok\n') || !report.includes(`ok ${push.ref}\n`)) {
    throw new Error(`${push.ref}: push answered ${answer.status}: ${JSON.stringify(report.slice(0, 300))}`);
  }
}

function exchange(
  target: string,
  options: { method: string; agent: http.Agent; headers?: Record<string, string>; body?: Buffer },
): Promise<{ status: number; body: Buffer }> {
  const url = new URL(target);
  const auth = url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  url.username = '';
  url.password = '';
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method, agent: options.agent, headers: options.headers, auth }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.once('error', reject);
    });
    request.once('error', reject);
    request.end(options.body);
  });
}

function pktLine(text: string): Buffer {
  const payload = Buffer.from(`${text}\n`);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

/** `git pack-objects --stdout` of the objects `revs` name (`^id` excludes), as bytes. */
function packOf(gitDir: string, revs: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['--git-dir', gitDir, 'pack-objects', '--revs', '--stdout', '--quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`git pack-objects exited with ${code}: ${stderr.trim()}`)),
    );
    child.stdin.end(`${revs.join('\n')}\n`);
  });
}
