import { encodePktLine, FLUSH_PKT, SIDEBAND_64K_MAX, SIDEBAND_MAX } from '@gitfleet/git-format';
import type { ObjectId } from '@gitfleet/git-format';
import { FilterSpecError, parseFilterSpec } from '@gitfleet/repository';
import type { ObjectFilter, Repository, ShallowUpdate } from '@gitfleet/repository';
import { ProtocolError } from '../errors.js';
import { Negotiation } from './negotiation.js';
import { fromBuffers, packResponse } from './pack-response.js';
import type { PackFraming } from './pack-response.js';
import { annotatedTags, loadRefs, tipCommits } from './refs.js';
import type { RequestLines } from './request.js';
import { emptyShallowArgs, isDeepening, parseShallowLine, resolveShallow } from './shallow-request.js';
import type { ShallowArgs } from './shallow-request.js';
import { checkWants } from './wants.js';

interface V0Request {
  wants: ObjectId[];
  /** Capabilities named on the want lines. */
  features: Set<string>;
  shallow: ShallowArgs;
  filter?: ObjectFilter;
  haves: ObjectId[];
  /** How the have lines ended: none sent, a flush (another round follows), or "done". */
  end: 'no-haves' | 'flush' | 'done';
}

/**
 * One stateless-RPC request of protocol v0/v1 (gitprotocol-pack, as `git upload-pack
 * --stateless-rpc` answers it): the shallow update, the ACK/NAK lines for this request's
 * haves, and the pack once the client is done or the server says it is ready.
 */
export async function uploadPackV0(repo: Repository, requestLines: RequestLines): Promise<AsyncIterable<Buffer>> {
  const request = await readV0Request(requestLines);
  const reader = repo.commitReader();
  const snapshot = await loadRefs(repo, reader);
  await checkWants(reader, snapshot, request.wants);
  const lines: Buffer[] = [];

  let shallowUpdate: ShallowUpdate | undefined;
  if (request.shallow.shallows.length > 0 || isDeepening(request.shallow)) {
    shallowUpdate = await resolveShallow(reader, snapshot, tipCommits(snapshot), request.wants, request.shallow);
    if (isDeepening(request.shallow)) {
      for (const oid of shallowUpdate.shallow) lines.push(encodePktLine(`shallow ${oid}\n`));
      for (const oid of shallowUpdate.unshallow) lines.push(encodePktLine(`unshallow ${oid}\n`));
      lines.push(FLUSH_PKT);
    }
  }
  if (request.wants.length === 0 || request.end === 'no-haves') return fromBuffers(lines);

  const wants = [...request.wants, ...(shallowUpdate?.extraWants ?? [])];
  const features = request.features;
  const multiAck = features.has('multi_ack_detailed') ? 2 : features.has('multi_ack') ? 1 : 0;
  const negotiation = new Negotiation(reader, wants);
  let gotCommon = false;
  let gotOther = false;
  let sentReady = false;
  let last: ObjectId | undefined;
  for (const have of request.haves) {
    if (await negotiation.have(have)) {
      gotCommon = true;
      last = have;
      if (multiAck === 2) lines.push(encodePktLine(`ACK ${have} common\n`));
      else if (multiAck === 1) lines.push(encodePktLine(`ACK ${have} continue\n`));
      else if (negotiation.common.length === 1) lines.push(encodePktLine(`ACK ${have}\n`));
    } else {
      gotOther = true;
      if (multiAck && (await negotiation.okToGiveUp())) {
        if (multiAck === 2) {
          sentReady = true;
          lines.push(encodePktLine(`ACK ${have} ready\n`));
        } else lines.push(encodePktLine(`ACK ${have} continue\n`));
      }
    }
  }
  if (request.end === 'flush') {
    if (multiAck === 2 && gotCommon && !gotOther && (await negotiation.okToGiveUp())) {
      sentReady = true;
      lines.push(encodePktLine(`ACK ${last} ready\n`));
    }
    if (negotiation.common.length === 0 || multiAck) lines.push(encodePktLine('NAK\n'));
    if (!(features.has('no-done') && sentReady)) return fromBuffers(lines);
    lines.push(encodePktLine(`ACK ${last}\n`));
  } else if (negotiation.common.length > 0) {
    if (multiAck) lines.push(encodePktLine(`ACK ${last}\n`));
  } else {
    lines.push(encodePktLine('NAK\n'));
  }

  const framing: PackFraming = features.has('side-band-64k')
    ? { sideband: true, maxPayload: SIDEBAND_64K_MAX }
    : features.has('side-band')
      ? { sideband: true, maxPayload: SIDEBAND_MAX }
      : { sideband: false };
  const pack = packResponse(
    repo,
    {
      wants,
      haves: [...negotiation.common, ...(shallowUpdate?.extraHaves ?? [])],
      shallow: shallowUpdate?.boundary ?? new Set(),
      filter: request.filter,
      includeTags: features.has('include-tag') ? annotatedTags(snapshot) : [],
      ofsDelta: features.has('ofs-delta'),
      thin: features.has('thin-pack'),
      progress: !features.has('no-progress'),
    },
    framing,
  );
  return (async function* () {
    yield Buffer.concat(lines);
    yield* pack;
  })();
}

async function readV0Request(cursor: RequestLines): Promise<V0Request> {
  const request: V0Request = { wants: [], features: new Set(), shallow: emptyShallowArgs(), haves: [], end: 'no-haves' };
  const wanted = new Set<ObjectId>();
  let filterSpec: string | undefined;
  for (;;) {
    const line = await cursor.next();
    if (line === undefined) break;
    if (typeof line !== 'string') {
      if (line.special === 'flush') break;
      throw new ProtocolError(`git upload-pack: protocol error, unexpected ${line.special} packet`);
    }
    if (parseShallowLine(line, request.shallow)) continue;
    if (line.startsWith('filter ')) {
      if (filterSpec !== undefined) throw new ProtocolError('multiple filter-specs cannot be combined');
      filterSpec = line.slice('filter '.length);
      continue;
    }
    const m = /^want ([0-9a-f]{40})(?: (.*))?$/.exec(line);
    if (!m) throw new ProtocolError(`git upload-pack: protocol error, expected to get object ID, not '${line}'`);
    for (const feature of (m[2] ?? '').split(' ')) if (feature) request.features.add(feature.split('=')[0]);
    if (!wanted.has(m[1])) {
      wanted.add(m[1]);
      request.wants.push(m[1]);
    }
  }
  request.shallow.deepenRelative = request.features.has('deepen-relative');
  if (filterSpec !== undefined) {
    if (!request.features.has('filter')) throw new ProtocolError('git upload-pack: filtering capability not negotiated');
    try {
      request.filter = parseFilterSpec(filterSpec);
    } catch (error) {
      if (error instanceof FilterSpecError) throw new ProtocolError(error.message);
      throw error;
    }
  }
  if (request.wants.length === 0 || (await cursor.atEnd())) return request;

  request.end = 'flush';
  for (;;) {
    const line = await cursor.next();
    if (line === undefined) break;
    if (typeof line !== 'string') {
      if (line.special === 'flush') break;
      throw new ProtocolError(`git upload-pack: expected SHA1 list, got ${line.special} packet`);
    }
    if (line === 'done') {
      request.end = 'done';
      break;
    }
    const m = /^have ([0-9a-f]{40})$/.exec(line);
    if (!m) throw new ProtocolError(`git upload-pack: expected SHA1 list, got '${line}'`);
    request.haves.push(m[1]);
  }
  return request;
}
