import { encodePktLine, encodeSideband, FLUSH_PKT, SIDEBAND_KEEPALIVE, SidebandChannel } from '@gitfleet/git-format';
import type { ObjectId } from '@gitfleet/git-format';
import { enumerateObjects, planPack, streamPack } from '@gitfleet/repository';
import type { Enumeration, ObjectFilter, Repository } from '@gitfleet/repository';
import { enumerationSources } from './enumeration-sources.js';

/** How pack bytes travel: bare, or in side-band packets of at most `maxPayload` bytes. */
export type PackFraming = { sideband: false } | { sideband: true; maxPayload: number };

const PROGRESS_INTERVAL_MS = 1000;
/** git's uploadpack.keepAlive default: an empty data packet after 5 quiet seconds. */
const KEEPALIVE_MS = 5000;

export interface PackRequest {
  wants: readonly ObjectId[];
  haves: readonly ObjectId[];
  shallow: ReadonlySet<ObjectId>;
  filter?: ObjectFilter;
  /** Annotated tags that come along when what they point at is sent (include-tag). */
  includeTags: readonly ObjectId[];
  ofsDelta: boolean;
  thin: boolean;
  progress: boolean;
  /** The objects to send, when chosen already (deciding on a packfile URI enumerates before the pack section starts). */
  enumerated?: Enumeration;
}

/**
 * The pack part of a response: enumeration (with progress as git prints it), then the
 * pack, then the closing "Total" line and flush. A failure once output has begun goes to
 * the client on side-band 3, the only way left to say it.
 */
export async function* packResponse(repo: Repository, request: PackRequest, framing: PackFraming): AsyncGenerator<Buffer> {
  const progress = request.progress && framing.sideband;
  const say = (message: string): Buffer =>
    framing.sideband ? encodeSideband(SidebandChannel.Progress, Buffer.from(message), framing.maxPayload) : Buffer.alloc(0);
  try {
    let counted = 0;
    const enumerating = request.enumerated
      ? Promise.resolve(request.enumerated)
      : enumerateObjects(
          repo.objects,
          {
            wants: request.wants,
            haves: request.haves,
            shallow: request.shallow,
            filter: request.filter,
            includeTags: request.includeTags,
            onProgress: (count) => {
              counted = count;
            },
          },
          await enumerationSources(repo, request),
        );
    let quietSince = Date.now();
    while ((await waitOrTimeout(enumerating, PROGRESS_INTERVAL_MS)) === 'timeout') {
      if (progress) yield say(`Enumerating objects: ${counted}\r`);
      else if (framing.sideband && Date.now() - quietSince >= KEEPALIVE_MS) {
        quietSince = Date.now();
        yield SIDEBAND_KEEPALIVE;
      }
    }
    const { objects: send, clientHas } = await enumerating;
    const total = send.size;
    if (progress) yield say(`Enumerating objects: ${total}, done.\n`);
    const slices = await planPack(repo.packs, send);
    if (progress) yield say(`Counting objects: 100% (${total}/${total}), done.\n`);

    const pack = streamPack(repo, slices, { send, ofsDelta: request.ofsDelta, thin: request.thin, clientHas });
    const stats = yield* framed(pack, framing);
    if (progress) {
      yield say(`Total ${stats.total} (delta ${stats.deltas}), reused ${stats.reused} (delta ${stats.reusedDeltas}), pack-reused 0\n`);
    }
    if (framing.sideband) yield FLUSH_PKT;
  } catch (error) {
    if (!framing.sideband) throw error;
    yield encodeSideband(SidebandChannel.Error, Buffer.from(`upload-pack: ${(error as Error).message}\n`), framing.maxPayload);
  }
}

/**
 * The pack's bytes as they travel, passing on what the pack stream returns. A response given
 * up midway (the client went away) ends the pack stream too, which releases its reads.
 */
async function* framed<R>(pack: AsyncGenerator<Buffer[], R>, framing: PackFraming): AsyncGenerator<Buffer, R> {
  try {
    for (;;) {
      const next = await pack.next();
      if (next.done) return next.value;
      if (framing.sideband) yield encodeSideband(SidebandChannel.Data, next.value, framing.maxPayload);
      else yield* next.value;
    }
  } finally {
    await pack.return(undefined as R);
  }
}

async function waitOrTimeout(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A text line as a pkt-line, inside side-band 1 when sideband-all is on (protocol v2). */
export function sectionLine(text: string, sidebandAll: boolean): Buffer {
  return sidebandAll ? encodePktLine(Buffer.concat([Buffer.from([SidebandChannel.Data]), Buffer.from(text)])) : encodePktLine(text);
}

/** A response made only of lines already built. */
export async function* fromBuffers(buffers: readonly Buffer[]): AsyncGenerator<Buffer> {
  if (buffers.length > 0) yield Buffer.concat(buffers);
}
