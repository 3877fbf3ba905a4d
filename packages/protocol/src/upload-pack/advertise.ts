import { encodePktLine, encodePktLines, FLUSH_PKT, ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { AGENT } from '../options.js';
import type { ProtocolVersion } from '../options.js';
import { loadRefs } from './refs.js';

/** What upload-pack offers in v0/v1, in git's order (upload-pack.c send_ref). */
const V0_CAPABILITIES = [
  'multi_ack',
  'thin-pack',
  'side-band',
  'side-band-64k',
  'ofs-delta',
  'shallow',
  'deepen-since',
  'deepen-not',
  'deepen-relative',
  'no-progress',
  'include-tag',
  'multi_ack_detailed',
  'allow-tip-sha1-in-want',
  'allow-reachable-sha1-in-want',
  'no-done',
];

const V2_FETCH_FEATURES = 'shallow wait-for-done filter ref-in-want sideband-all';

/** The v2 capability advertisement (gitprotocol-v2), in git's order (serve.c, upload_pack_advertise). */
function v2Advertisement(packfileUris: boolean): string[] {
  return [
    'version 2',
    `agent=${AGENT}`,
    'ls-refs=unborn',
    `fetch=${V2_FETCH_FEATURES}${packfileUris ? ' packfile-uris' : ''}`,
    'server-option',
    'object-format=sha1',
    'object-info',
  ];
}

export interface UploadPackAdvertisement {
  /** Whether v2 advertises `packfile-uris` (the server can make URIs of packs). */
  packfileUris?: boolean;
}

/**
 * The body of `GET info/refs?service=git-upload-pack` after the "# service=" line:
 * v0/v1 ref advertisement with capabilities, or the v2 capability advertisement.
 */
export async function advertiseUploadPack(
  repo: Repository,
  version: ProtocolVersion,
  options: UploadPackAdvertisement = {},
): Promise<Buffer[]> {
  if (version === 2) return [...v2Advertisement(options.packfileUris ?? false).map((line) => encodePktLine(`${line}\n`)), FLUSH_PKT];

  const snapshot = await loadRefs(repo, repo.commitReader());
  const capabilities = [...V0_CAPABILITIES];
  // Like git, name HEAD's branch only when HEAD resolves.
  if (snapshot.head !== undefined) capabilities.push(`symref=HEAD:${snapshot.headTarget}`);
  capabilities.push('filter', 'object-format=sha1', `agent=${AGENT}`);
  const capabilityList = capabilities.join(' ');

  const lines: Buffer[] = [];
  if (version === 1) lines.push(encodePktLine('version 1\n'));
  const refLines: string[] = [];
  if (snapshot.head !== undefined) refLines.push(`${snapshot.head} HEAD`);
  for (const ref of snapshot.refs) {
    refLines.push(`${ref.oid} ${ref.name}`);
    if (ref.peeled) refLines.push(`${ref.peeled} ${ref.name}^{}`);
  }
  if (refLines.length === 0) refLines.push(`${ZERO_OID} capabilities^{}`);
  lines.push(encodePktLines(refLines.map((line, i) => (i === 0 ? `${line}\0${capabilityList}\n` : `${line}\n`))));
  lines.push(FLUSH_PKT);
  return lines;
}
