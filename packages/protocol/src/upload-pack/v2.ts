import { DELIM_PKT, encodePktLine, encodePktLines, FLUSH_PKT, SIDEBAND_64K_MAX } from '@gitfleet/git-format';
import type { ObjectId } from '@gitfleet/git-format';
import { FilterSpecError, LoopPacer, parseFilterSpec, type CommitReader } from '@gitfleet/repository';
import type { ObjectFilter, Repository, ShallowUpdate } from '@gitfleet/repository';
import { ProtocolError, RequestRefused } from '../errors.js';
import { Negotiation } from './negotiation.js';
import { fromBuffers, packResponse, sectionLine } from './pack-response.js';
import {
  decidePackfileUri,
  MAX_PACKFILE_URI_PROTOCOLS,
  packfileUrisSection,
  parsePackfileUrisArg,
  type PackfileUriSource,
} from './packfile-uris.js';
import { annotatedTags, loadRefs, tipCommits } from './refs.js';
import type { RefSnapshot } from './refs.js';
import { RefPrefixes } from './ref-prefixes.js';
import type { RequestLines } from './request.js';
import { emptyShallowArgs, isDeepening, parseShallowLine, resolveShallow } from './shallow-request.js';
import type { ShallowArgs } from './shallow-request.js';
import { checkWants } from './wants.js';

/** Capability lines a client may send before a command's arguments (serve.c). */
const REQUEST_CAPABILITIES = new Set(['agent', 'ls-refs', 'fetch', 'server-option', 'object-format', 'session-id', 'object-info']);
/** git ignores ref-prefix filtering past this many prefixes rather than grow without bound. */
const MAX_REF_PREFIXES = 65536;

type Command = { name: 'ls-refs'; args: LsRefsArgs } | { name: 'object-info'; args: ObjectInfoArgs } | { name: 'fetch'; args: FetchArgs };

/**
 * Protocol v2 over stateless HTTP: one command per request, as `git upload-pack
 * --stateless-rpc` serves it (serve.c processes a single request and exits); the command is
 * read and validated whole, one packet at a time, before it is answered.
 */
export async function uploadPackV2(
  repo: Repository,
  lines: RequestLines,
  packfileUris: PackfileUriSource | undefined,
): Promise<AsyncIterable<Buffer>> {
  const command = await readCommand(lines);
  if (!command) return fromBuffers([]);
  const reader = repo.commitReader();
  const snapshot = await loadRefs(repo, reader);
  if (command.name === 'ls-refs') return fromBuffers(lsRefs(snapshot, command.args));
  if (command.name === 'object-info') return fromBuffers(await objectInfo(reader, command.args));
  return fetch(repo, reader, snapshot, command.args, packfileUris);
}

/** The request's command, or undefined when it holds none (a lone flush, or nothing). */
async function readCommand(lines: RequestLines): Promise<Command | undefined> {
  const first = await lines.next();
  // A flush where a command would start ends the session.
  if (first === undefined) return undefined;
  if (typeof first !== 'string') {
    if (first.special === 'flush') return undefined;
    throw new ProtocolError(`expected a command, got a ${first.special} packet`);
  }
  const m = /^command=(.*)$/.exec(first);
  if (!m) throw new ProtocolError(`expected a command, got '${first}'`);
  const name = m[1];
  const parseArg = argumentParser(name);
  let line = await lines.next();
  for (; typeof line === 'string'; line = await lines.next()) {
    const key = line.split('=')[0];
    if (!REQUEST_CAPABILITIES.has(key)) throw new ProtocolError(`unknown capability '${line}'`);
    if (key === 'object-format' && line !== 'object-format=sha1') throw new ProtocolError(`mismatched object format: '${line}'`);
  }
  if (line?.special === 'delim') {
    for (line = await lines.next(); typeof line === 'string'; line = await lines.next()) parseArg.add(line);
  }
  if (line?.special !== 'flush') throw new ProtocolError(`command ${name}: expected flush after arguments`);
  return parseArg.command();
}

interface ArgumentParser {
  add(arg: string): void;
  command(): Command;
}

function argumentParser(name: string): ArgumentParser {
  if (name === 'ls-refs') {
    const args: LsRefsArgs = { symrefs: false, peel: false, unborn: false, prefixes: [], tooManyPrefixes: false };
    return { add: (arg) => addLsRefsArg(args, arg), command: () => ({ name, args }) };
  }
  if (name === 'object-info') {
    const args: ObjectInfoArgs = { size: false, oids: [] };
    return { add: (arg) => addObjectInfoArg(args, arg), command: () => ({ name, args }) };
  }
  if (name === 'fetch') {
    const args = emptyFetchArgs();
    return { add: (arg) => addFetchArg(args, arg), command: () => ({ name, args }) };
  }
  throw new ProtocolError(`invalid command '${name}'`);
}

interface LsRefsArgs {
  symrefs: boolean;
  peel: boolean;
  unborn: boolean;
  prefixes: string[];
  /** More prefixes than git filters by: every ref is listed. */
  tooManyPrefixes: boolean;
}

function addLsRefsArg(args: LsRefsArgs, arg: string): void {
  if (arg === 'symrefs') args.symrefs = true;
  else if (arg === 'peel') args.peel = true;
  else if (arg === 'unborn') args.unborn = true;
  else if (arg.startsWith('ref-prefix ')) {
    if (args.prefixes.length < MAX_REF_PREFIXES) args.prefixes.push(arg.slice('ref-prefix '.length));
    else args.tooManyPrefixes = true;
  } else throw new ProtocolError(`ls-refs: unexpected line: '${arg}'`);
}

function lsRefs(snapshot: RefSnapshot, { symrefs, peel, unborn, prefixes: wanted, tooManyPrefixes }: LsRefsArgs): Buffer[] {
  const prefixes = new RefPrefixes(tooManyPrefixes ? [] : wanted);
  const matches = (name: string): boolean => prefixes.matches(name);
  const lines: string[] = [];
  if (matches('HEAD') && (snapshot.head !== undefined || (unborn && symrefs))) {
    let line = snapshot.head !== undefined ? `${snapshot.head} HEAD` : 'unborn HEAD';
    if (symrefs) line += ` symref-target:${snapshot.headTarget}`;
    const headRef = snapshot.byName.get(snapshot.headTarget);
    if (peel && headRef?.peeled) line += ` peeled:${headRef.peeled}`;
    lines.push(`${line}\n`);
  }
  for (const ref of snapshot.refs) {
    if (!matches(ref.name)) continue;
    let line = `${ref.oid} ${ref.name}`;
    if (peel && ref.peeled) line += ` peeled:${ref.peeled}`;
    lines.push(`${line}\n`);
  }
  return [encodePktLines(lines), FLUSH_PKT];
}

interface ObjectInfoArgs {
  size: boolean;
  oids: ObjectId[];
}

function addObjectInfoArg(args: ObjectInfoArgs, arg: string): void {
  if (arg === 'size') args.size = true;
  else if (/^oid [0-9a-f]{40}$/.test(arg)) args.oids.push(arg.slice(4));
  else throw new ProtocolError(`object-info: unexpected line: '${arg}'`);
}

async function objectInfo(reader: CommitReader, { size, oids }: ObjectInfoArgs): Promise<Buffer[]> {
  const lines: Buffer[] = [];
  if (oids.length > 0) {
    if (size) lines.push(encodePktLine('size'));
    const pacer = new LoopPacer();
    for (const oid of oids) {
      await pacer.step();
      if (!size) {
        lines.push(encodePktLine(oid));
        continue;
      }
      const header = await reader.objects.header(oid);
      lines.push(encodePktLine(header ? `${oid} ${header.size}` : `${oid} `));
    }
  }
  lines.push(FLUSH_PKT);
  return lines;
}

interface FetchArgs {
  /** "want <id>" and "want-ref <name>" lines in request order; refs resolve once the refs are loaded. */
  wantLines: Array<{ oid: ObjectId } | { ref: string }>;
  haves: ObjectId[];
  shallow: ShallowArgs;
  filter?: ObjectFilter;
  /** The protocols of the client's `packfile-uris` line, when it sent one. */
  packfileUriProtocols?: Set<string>;
  thinPack: boolean;
  ofsDelta: boolean;
  noProgress: boolean;
  includeTag: boolean;
  done: boolean;
  waitForDone: boolean;
  sidebandAll: boolean;
}

function emptyFetchArgs(): FetchArgs {
  return {
    wantLines: [],
    haves: [],
    shallow: emptyShallowArgs(),
    thinPack: false,
    ofsDelta: false,
    noProgress: false,
    includeTag: false,
    done: false,
    waitForDone: false,
    sidebandAll: false,
  };
}

const FETCH_FLAGS: Record<string, keyof FetchArgs> = {
  'thin-pack': 'thinPack',
  'ofs-delta': 'ofsDelta',
  'no-progress': 'noProgress',
  'include-tag': 'includeTag',
  done: 'done',
  'wait-for-done': 'waitForDone',
  'sideband-all': 'sidebandAll',
};

function addFetchArg(args: FetchArgs, arg: string): void {
  const flag = FETCH_FLAGS[arg];
  if (flag) {
    (args[flag] as boolean) = true;
    return;
  }
  let m = /^want (.*)$/.exec(arg);
  if (m) {
    if (!/^[0-9a-f]{40}$/.test(m[1])) throw new ProtocolError(`git upload-pack: protocol error, expected to get oid, not '${arg}'`);
    args.wantLines.push({ oid: m[1] });
    return;
  }
  m = /^want-ref (.+)$/.exec(arg);
  if (m) {
    args.wantLines.push({ ref: m[1] });
    return;
  }
  m = /^have (.*)$/.exec(arg);
  if (m) {
    if (!/^[0-9a-f]{40}$/.test(m[1])) throw new ProtocolError(`git upload-pack: expected SHA1 object, got '${m[1]}'`);
    args.haves.push(m[1]);
    return;
  }
  if (parseShallowLine(arg, args.shallow)) return;
  const uriProtocols = parsePackfileUrisArg(arg);
  if (uriProtocols) {
    // gitprotocol-v2 allows one such line; git's upload-pack adds up the protocols of several.
    args.packfileUriProtocols ??= new Set();
    for (const protocol of uriProtocols) args.packfileUriProtocols.add(protocol);
    if (args.packfileUriProtocols.size > MAX_PACKFILE_URI_PROTOCOLS) {
      throw new ProtocolError(`more than ${MAX_PACKFILE_URI_PROTOCOLS} packfile-uris protocols`);
    }
    return;
  }
  if (arg === 'deepen-relative') {
    args.shallow.deepenRelative = true;
    return;
  }
  if (arg.startsWith('filter ')) {
    if (args.filter) throw new ProtocolError('multiple filter-specs cannot be combined');
    try {
      args.filter = parseFilterSpec(arg.slice('filter '.length));
    } catch (error) {
      if (error instanceof FilterSpecError) throw new ProtocolError(error.message);
      throw error;
    }
    return;
  }
  throw new ProtocolError(`unexpected line: '${arg}'`);
}

/** The wanted ids, each once in request order, and the wanted refs (each once) with their ids. */
async function resolveWants(snapshot: RefSnapshot, args: FetchArgs): Promise<{ wants: ObjectId[]; wantedRefs: Map<string, ObjectId> }> {
  const wants = new Set<ObjectId>();
  const wantedRefs = new Map<string, ObjectId>();
  const pacer = new LoopPacer();
  for (const line of args.wantLines) {
    await pacer.step();
    if ('oid' in line) {
      wants.add(line.oid);
      continue;
    }
    const name = line.ref;
    if (wantedRefs.has(name)) continue;
    // As git's upload-pack (read_ref), a symbolic HEAD resolves to its branch's tip.
    const oid = name === 'HEAD' ? snapshot.head : snapshot.byName.get(name)?.oid;
    if (!oid) throw new RequestRefused(`unknown ref ${name}`);
    wantedRefs.set(name, oid);
    wants.add(oid);
  }
  return { wants: [...wants], wantedRefs };
}

/** gitprotocol-v2 fetch, as upload_pack_v2() runs it for one stateless request. */
async function fetch(
  repo: Repository,
  reader: CommitReader,
  snapshot: RefSnapshot,
  args: FetchArgs,
  packfileUris: PackfileUriSource | undefined,
): Promise<AsyncIterable<Buffer>> {
  const { wants, wantedRefs } = await resolveWants(snapshot, args);
  await checkWants(reader, snapshot, wants);
  const line = (text: string): Buffer => sectionLine(text, args.sidebandAll);
  if (wants.length === 0 && !args.waitForDone) return fromBuffers([]);

  const negotiation = new Negotiation(reader, wants);
  const out: Buffer[] = [];
  if (args.haves.length > 0) {
    const acks: ObjectId[] = [];
    for (const have of args.haves) if (await negotiation.have(have)) acks.push(have);
    if (!args.done) {
      out.push(line('acknowledgments\n'));
      if (acks.length === 0) out.push(line('NAK\n'));
      for (const oid of acks) out.push(line(`ACK ${oid}\n`));
      if (args.waitForDone || !(await negotiation.okToGiveUp())) {
        out.push(FLUSH_PKT);
        return fromBuffers(out);
      }
      out.push(line('ready\n'), DELIM_PKT);
    }
  }

  let shallowUpdate: ShallowUpdate | undefined;
  if (args.shallow.shallows.length > 0 || isDeepening(args.shallow)) {
    shallowUpdate = await resolveShallow(reader, snapshot, tipCommits(snapshot), wants, args.shallow);
    out.push(line('shallow-info\n'));
    if (isDeepening(args.shallow)) {
      for (const oid of shallowUpdate.shallow) out.push(line(`shallow ${oid}\n`));
      for (const oid of shallowUpdate.unshallow) out.push(line(`unshallow ${oid}\n`));
    }
    out.push(DELIM_PKT);
  }
  // gitprotocol-v2 fixes the section order: shallow-info comes before wanted-refs.
  if (wantedRefs.size > 0) {
    out.push(line('wanted-refs\n'));
    for (const [name, oid] of wantedRefs) out.push(line(`${oid} ${name}\n`));
    out.push(DELIM_PKT);
  }
  const includeTags = args.includeTag ? annotatedTags(snapshot) : [];
  const uri = await decidePackfileUri(
    repo,
    {
      protocols: args.packfileUriProtocols,
      wants,
      includeTags,
      haves: args.haves,
      shallow: shallowUpdate !== undefined,
      filtered: args.filter !== undefined,
      ofsDelta: args.ofsDelta,
    },
    packfileUris,
  );
  if (uri.offer) out.push(...packfileUrisSection(uri.offer, line));
  out.push(line('packfile\n'));
  const pack = packResponse(
    repo,
    {
      wants: [...wants, ...(shallowUpdate?.extraWants ?? [])],
      haves: [...negotiation.common, ...(shallowUpdate?.extraHaves ?? [])],
      shallow: shallowUpdate?.boundary ?? new Set(),
      filter: args.filter,
      includeTags,
      ofsDelta: args.ofsDelta,
      thin: args.thinPack,
      progress: !args.noProgress,
      enumerated: uri.enumeration,
    },
    { sideband: true, maxPayload: SIDEBAND_64K_MAX },
  );
  return (async function* () {
    yield Buffer.concat(out);
    yield* pack;
  })();
}
