import { DELIM_PKT } from '@gitfleet/git-format';
import type { ObjectId } from '@gitfleet/git-format';
import { enumerateObjects, ReachedObjects, type Enumeration, type PackBitmaps, type Repository } from '@gitfleet/repository';
import { enumerationSources } from './enumeration-sources.js';

/**
 * Where the URIs of packs come from (the server: a presigned URL of its object store, or a
 * signed URL of its own). The protocol decides which pack to offer, the source how to reach it.
 */
export interface PackfileUriSource {
  /** A URI of one of `protocols` ("http", "https") that serves `pack` of `repo` whole; undefined when none can be made. */
  uriFor(repo: Repository, pack: ObjectId, protocols: ReadonlySet<string>): Promise<string | undefined>;
}

/** What a fetch request says that decides whether a pack may go as a URI. */
export interface PackfileUriRequest {
  /** The protocols of the client's `packfile-uris` line; undefined when it sent none. */
  protocols: ReadonlySet<string> | undefined;
  wants: readonly ObjectId[];
  /** Annotated tags that come along with what they point at (include-tag). */
  includeTags: readonly ObjectId[];
  haves: readonly ObjectId[];
  shallow: boolean;
  filtered: boolean;
  ofsDelta: boolean;
}

/** The repacked pack offered as a URI. */
export interface PackfileUriOffer {
  pack: PackBitmaps;
  uri: string;
}

export interface PackfileUriDecision {
  /**
   * What the pack section sends, when deciding took enumerating it (through the pack's bitmaps):
   * with an offer, only the objects outside the offered pack.
   */
  enumeration?: Enumeration;
  offer?: PackfileUriOffer;
}

/** The most objects sent inline beside a packfile URI, as a share of the URI pack's. */
const MAX_INLINE_SHARE = 0.5;

/**
 * Distinct protocols one request may name in its `packfile-uris` lines (git knows a handful);
 * each line is kept as a set, so that many lines cost no more than their bytes.
 */
export const MAX_PACKFILE_URI_PROTOCOLS = 16;

/** The protocols of a `packfile-uris <protocol>,<protocol>` argument (undefined for any other line). */
export function parsePackfileUrisArg(arg: string): string[] | undefined {
  const match = /^packfile-uris (.*)$/.exec(arg);
  return match ? match[1].split(',').filter((protocol) => protocol !== '') : undefined;
}

/**
 * The repository's repacked pack as a URI, for a clone: a client that asked for URIs, has
 * nothing (no haves), and wants whole history (not shallow, no filter), when the pack is a full
 * repack with usable bitmaps, the wants reach every object in it, and at most half as many
 * objects would go inline beside it (MAX_INLINE_SHARE). A full repack holds what the
 * refs reached when it was written, so for a clone of the refs the inline pack shrinks to what
 * was pushed since; a clone of fewer refs (one branch of several), or one made after a ref
 * moved away from some of the pack's history, is answered inline as before: the pack would carry
 * objects the client did not ask for, perhaps ones a force-push meant to take out of sight. A
 * fetch with haves is answered as before too: the pack would mostly repeat what the client has.
 *
 * The stored pack uses ofs-deltas (the client must have said it takes them) and is
 * self-contained, as git's client needs: it indexes the inline pack first, then each URI pack
 * on its own (http-fetch --packfile with index-pack --stdin), and checks connectivity only once
 * all are in.
 */
export async function decidePackfileUri(
  repo: Repository,
  request: PackfileUriRequest,
  source: PackfileUriSource | undefined,
): Promise<PackfileUriDecision> {
  const { protocols } = request;
  if (!source || !protocols || protocols.size === 0) return {};
  if (request.haves.length > 0 || request.shallow || request.filtered || !request.ofsDelta) return {};
  const sources = await enumerationSources(repo, { haves: [] });
  const pack = sources.bitmaps;
  if (!pack) return {};
  if ((await repo.packs.info(pack.checksum))?.kind !== 'repack') return {};
  const enumeration = await enumerateObjects(repo.objects, { wants: request.wants, haves: [], includeTags: request.includeTags }, sources);
  const { objects, clientHas } = enumeration;
  // Every object of the pack reached: its bits' count is the size made when enumerating, less the ids outside.
  if (
    !(objects instanceof ReachedObjects) ||
    objects.bitmaps !== pack ||
    objects.size - objects.reached.outside.size !== pack.objectCount
  ) {
    return { enumeration };
  }
  // The inline pack is indexed before the URI's (git's fetch-pack), so none of its deltas may name
  // an object of the pack: a large one (a mirror's pull requests) would go mostly whole, at more
  // cost than streaming the stored pack saves.
  if (objects.reached.outside.size > pack.objectCount * MAX_INLINE_SHARE) return { enumeration };
  const uri = await source.uriFor(repo, pack.checksum, protocols);
  if (uri === undefined || !protocols.has(schemeOf(uri))) return { enumeration };
  // The ids kept outside the pack's bits: none of the pack's own objects is looked at.
  return { enumeration: { objects: objects.reached.outside, clientHas }, offer: { pack, uri } };
}

/** The `packfile-uris` section (gitprotocol-v2): `<pack-hash> <uri>`, then a delimiter before the packfile section. */
export function packfileUrisSection(offer: PackfileUriOffer, line: (text: string) => Buffer): Buffer[] {
  return [line('packfile-uris\n'), line(`${offer.pack.checksum} ${offer.uri}\n`), DELIM_PKT];
}

/** The scheme of `uri` ("https"), or '' when it is no URL. */
export function schemeOf(uri: string): string {
  try {
    return new URL(uri).protocol.replace(/:$/, '');
  } catch {
    return '';
  }
}
