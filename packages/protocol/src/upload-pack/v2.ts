import { DELIM_PKT, encodePktLine, FLUSH_PKT } from '@gitfleet/git-format';
import type { ObjectId, Packet } from '@gitfleet/git-format';
import { CommitReader, FilterSpecError, parseFilterSpec } from '@gitfleet/repository';
import type { ObjectFilter, Repository, ShallowUpdate } from '@gitfleet/repository';
import { ProtocolError, RequestRefused } from '../errors.js';
import { Negotiation } from './negotiation.js';
import { fromBuffers, packResponse, sectionLine } from './pack-response.js';
import { annotatedTags, loadRefs, tipCommits } from './refs.js';
import type { RefSnapshot } from './refs.js';
import { PacketCursor } from './request.js';
import { emptyShallowArgs, isDeepening, parseShallowLine, resolveShallow } from './shallow-request.js';
import type { ShallowArgs } from './shallow-request.js';
import { checkWants } from './wants.js';

/** Capability lines a client may send before a command's arguments (serve.c). */
const REQUEST_CAPABILITIES = new Set(['agent', 'ls-refs', 'fetch', 'server-option', 'object-format', 'session-id', 'object-info']);
/** git ignores ref-prefix filtering past this many prefixes rather than grow without bound. */
const MAX_REF_PREFIXES = 65536;

interface Command {
  name: string;
  args: string[];
}

/**
 * Protocol v2 over stateless HTTP: every command of the request (usually one) is parsed
 * and validated first, then answered in order.
 */
export async function uploadPackV2(repo: Repository, packets: readonly Packet[]): Promise<AsyncIterable<Buffer>> {
  const commands = parseCommands(packets);
  const reader = new CommitReader(repo.objects, repo.info.id);
  const snapshot = await loadRefs(repo, reader);
  const responses: AsyncIterable<Buffer>[] = [];
  for (const command of commands) {
    if (command.name === 'ls-refs') responses.push(fromBuffers(lsRefs(snapshot, command.args)));
    else if (command.name === 'object-info') responses.push(fromBuffers(await objectInfo(reader, command.args)));
    else responses.push(await fetch(repo, reader, snapshot, command.args));
  }
  return (async function* () {
    for (const response of responses) yield* response;
  })();
}

function parseCommands(packets: readonly Packet[]): Command[] {
  const cursor = new PacketCursor(packets);
  const commands: Command[] = [];
  for (;;) {
    const first = cursor.next();
    if (first === undefined) break;
    // A flush where a command would start ends the session.
    if (typeof first !== 'string') {
      if (first.special === 'flush') break;
      throw new ProtocolError(`expected a command, got a ${first.special} packet`);
    }
    const m = /^command=(.*)$/.exec(first);
    if (!m) throw new ProtocolError(`expected a command, got '${first}'`);
    const name = m[1];
    if (name !== 'ls-refs' && name !== 'fetch' && name !== 'object-info') throw new ProtocolError(`invalid command '${name}'`);
    let line = cursor.next();
    for (; typeof line === 'string'; line = cursor.next()) {
      const key = line.split('=')[0];
      if (!REQUEST_CAPABILITIES.has(key)) throw new ProtocolError(`unknown capability '${line}'`);
      if (key === 'object-format' && line !== 'object-format=sha1') throw new ProtocolError(`mismatched object format: '${line}'`);
    }
    const args: string[] = [];
    if (line?.special === 'delim') {
      for (line = cursor.next(); typeof line === 'string'; line = cursor.next()) args.push(line);
    }
    if (line?.special !== 'flush') throw new ProtocolError(`command ${name}: expected flush after arguments`);
    commands.push({ name, args });
  }
  return commands;
}

function lsRefs(snapshot: RefSnapshot, args: readonly string[]): Buffer[] {
  let symrefs = false;
  let peel = false;
  let unborn = false;
  let prefixes: string[] = [];
  for (const arg of args) {
    if (arg === 'symrefs') symrefs = true;
    else if (arg === 'peel') peel = true;
    else if (arg === 'unborn') unborn = true;
    else if (arg.startsWith('ref-prefix ')) prefixes.push(arg.slice('ref-prefix '.length));
    else throw new ProtocolError(`ls-refs: unexpected line: '${arg}'`);
  }
  if (prefixes.length > MAX_REF_PREFIXES) prefixes = [];
  const matches = (name: string): boolean => prefixes.length === 0 || prefixes.some((prefix) => name.startsWith(prefix));
  const lines: Buffer[] = [];
  if (matches('HEAD') && (snapshot.head !== undefined || (unborn && symrefs))) {
    let line = snapshot.head !== undefined ? `${snapshot.head} HEAD` : 'unborn HEAD';
    if (symrefs) line += ` symref-target:${snapshot.headTarget}`;
    const headRef = snapshot.refs.find((ref) => ref.name === snapshot.headTarget);
    if (peel && headRef?.peeled) line += ` peeled:${headRef.peeled}`;
    lines.push(encodePktLine(`${line}\n`));
  }
  for (const ref of snapshot.refs) {
    if (!matches(ref.name)) continue;
    let line = `${ref.oid} ${ref.name}`;
    if (peel && ref.peeled) line += ` peeled:${ref.peeled}`;
    lines.push(encodePktLine(`${line}\n`));
  }
  lines.push(FLUSH_PKT);
  return lines;
}

async function objectInfo(reader: CommitReader, args: readonly string[]): Promise<Buffer[]> {
  let size = false;
  const oids: string[] = [];
  for (const arg of args) {
    if (arg === 'size') size = true;
    else if (/^oid [0-9a-f]{40}$/.test(arg)) oids.push(arg.slice(4));
    else throw new ProtocolError(`object-info: unexpected line: '${arg}'`);
  }
  const lines: Buffer[] = [];
  if (oids.length > 0) {
    if (size) lines.push(encodePktLine('size'));
    for (const oid of oids) {
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
  wants: ObjectId[];
  wantedRefs: Array<{ name: string; oid: ObjectId }>;
  haves: ObjectId[];
  shallow: ShallowArgs;
  filter?: ObjectFilter;
  thinPack: boolean;
  ofsDelta: boolean;
  noProgress: boolean;
  includeTag: boolean;
  done: boolean;
  waitForDone: boolean;
  sidebandAll: boolean;
}

function parseFetchArgs(snapshot: RefSnapshot, args: readonly string[]): FetchArgs {
  const parsed: FetchArgs = {
    wants: [],
    wantedRefs: [],
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
  const wanted = new Set<ObjectId>();
  const want = (oid: ObjectId): void => {
    if (wanted.has(oid)) return;
    wanted.add(oid);
    parsed.wants.push(oid);
  };
  const flags: Record<string, keyof FetchArgs> = {
    'thin-pack': 'thinPack',
    'ofs-delta': 'ofsDelta',
    'no-progress': 'noProgress',
    'include-tag': 'includeTag',
    done: 'done',
    'wait-for-done': 'waitForDone',
    'sideband-all': 'sidebandAll',
  };
  for (const arg of args) {
    const flag = flags[arg];
    if (flag) {
      (parsed[flag] as boolean) = true;
      continue;
    }
    let m = /^want (.*)$/.exec(arg);
    if (m) {
      if (!/^[0-9a-f]{40}$/.test(m[1])) throw new ProtocolError(`git upload-pack: protocol error, expected to get oid, not '${arg}'`);
      want(m[1]);
      continue;
    }
    m = /^want-ref (.+)$/.exec(arg);
    if (m) {
      // As git's upload-pack (read_ref), a symbolic HEAD resolves to its branch's tip.
      const name = m[1];
      const oid = name === 'HEAD' ? snapshot.head : snapshot.refs.find((r) => r.name === name)?.oid;
      if (!oid) throw new RequestRefused(`unknown ref ${name}`);
      parsed.wantedRefs.push({ name, oid });
      want(oid);
      continue;
    }
    m = /^have (.*)$/.exec(arg);
    if (m) {
      if (!/^[0-9a-f]{40}$/.test(m[1])) throw new ProtocolError(`git upload-pack: expected SHA1 object, got '${m[1]}'`);
      parsed.haves.push(m[1]);
      continue;
    }
    if (parseShallowLine(arg, parsed.shallow)) continue;
    if (arg === 'deepen-relative') {
      parsed.shallow.deepenRelative = true;
      continue;
    }
    if (arg.startsWith('filter ')) {
      if (parsed.filter) throw new ProtocolError('multiple filter-specs cannot be combined');
      try {
        parsed.filter = parseFilterSpec(arg.slice('filter '.length));
      } catch (error) {
        if (error instanceof FilterSpecError) throw new ProtocolError(error.message);
        throw error;
      }
      continue;
    }
    throw new ProtocolError(`unexpected line: '${arg}'`);
  }
  return parsed;
}

/** gitprotocol-v2 fetch, as upload_pack_v2() runs it for one stateless request. */
async function fetch(repo: Repository, reader: CommitReader, snapshot: RefSnapshot, rawArgs: readonly string[]): Promise<AsyncIterable<Buffer>> {
  const args = parseFetchArgs(snapshot, rawArgs);
  await checkWants(reader, snapshot, args.wants);
  const line = (text: string): Buffer => sectionLine(text, args.sidebandAll);
  if (args.wants.length === 0 && !args.waitForDone) return fromBuffers([]);

  const negotiation = new Negotiation(reader, args.wants);
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
    shallowUpdate = await resolveShallow(reader, snapshot, tipCommits(snapshot), args.wants, args.shallow);
    out.push(line('shallow-info\n'));
    if (isDeepening(args.shallow)) {
      for (const oid of shallowUpdate.shallow) out.push(line(`shallow ${oid}\n`));
      for (const oid of shallowUpdate.unshallow) out.push(line(`unshallow ${oid}\n`));
    }
    out.push(DELIM_PKT);
  }
  // gitprotocol-v2 fixes the section order: shallow-info comes before wanted-refs.
  if (args.wantedRefs.length > 0) {
    out.push(line('wanted-refs\n'));
    for (const ref of args.wantedRefs) out.push(line(`${ref.oid} ${ref.name}\n`));
    out.push(DELIM_PKT);
  }
  out.push(line('packfile\n'));
  const pack = packResponse(
    repo,
    {
      wants: [...args.wants, ...(shallowUpdate?.extraWants ?? [])],
      haves: [...negotiation.common, ...(shallowUpdate?.extraHaves ?? [])],
      shallow: shallowUpdate?.boundary ?? new Set(),
      filter: args.filter,
      includeTags: args.includeTag ? annotatedTags(snapshot) : [],
      ofsDelta: args.ofsDelta,
      thin: args.thinPack,
      progress: !args.noProgress,
    },
    { sideband: true, maxPayload: 65515 },
  );
  return (async function* () {
    yield Buffer.concat(out);
    yield* pack;
  })();
}
