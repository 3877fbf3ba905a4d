import { PktLineError, ZERO_OID, type ObjectId, type PktLineReader } from '@gitfleet/git-format';
import { ProtocolError } from '../errors.js';
import type { ProtocolLimits } from '../options.js';

/** One "old new ref" line of a push. */
export interface PushCommand {
  oldOid: ObjectId;
  newOid: ObjectId;
  name: string;
}

/** The capabilities a client asked for that change what receive-pack does. */
export interface PushCapabilities {
  reportStatus: boolean;
  reportStatusV2: boolean;
  sideband: boolean;
  quiet: boolean;
  atomic: boolean;
  pushOptions: boolean;
}

export interface PushRequest {
  commands: PushCommand[];
  capabilities: PushCapabilities;
  pushOptions: string[];
  /** Commits the client says are shallow on its side (from "shallow <id>" lines). */
  shallow: ObjectId[];
}

// Ref names travel back in the report and into the ref store as strings: refuse bytes that
// would not round-trip rather than silently replacing them.
const utf8 = new TextDecoder('utf-8', { fatal: true });
const HEX_ID = /^[0-9a-fA-F]{40}$/;
const COMMAND = /^([0-9a-fA-F]{40}) ([0-9a-fA-F]{40}) (.*)$/s;

/**
 * A push over a limit of its command list (413). `sideband` tells whether the client asked
 * for side-band-64k before the limit was reached, i.e. whether it can be told in band.
 */
export class PushRequestRefused extends ProtocolError {
  constructor(
    message: string,
    readonly sideband: boolean,
  ) {
    super(message, 413);
    this.name = 'PushRequestRefused';
  }
}

export type PushRequestLimits = Pick<ProtocolLimits, 'maxPushCommandBytes' | 'maxPushCommands' | 'maxPushOptions' | 'maxPushRefLevels'>;

/**
 * Reads the command list (and push options, when negotiated) that precedes the pack, as
 * git's read_head_info does: "shallow <id>" lines, then "old new ref" lines with the
 * capabilities after a NUL, up to a flush. Anything malformed is a ProtocolError, raised
 * before any response byte exists; so is a request over `limits` (413), refused as soon as
 * it gets there, before any byte of the pack is read.
 */
export async function readPushRequest(reader: PktLineReader, limits: PushRequestLimits): Promise<PushRequest> {
  const requested = new Set<string>();
  try {
    return await readBoundedPushRequest(reader, limits, requested);
  } catch (error) {
    if (error instanceof ProtocolError && error.status === 413) throw new PushRequestRefused(error.message, requested.has('side-band-64k'));
    throw error;
  }
}

/** readPushRequest; `requested` receives the capabilities as soon as they are read. */
async function readBoundedPushRequest(reader: PktLineReader, limits: PushRequestLimits, requested: Set<string>): Promise<PushRequest> {
  const commands: PushCommand[] = [];
  const shallow: ObjectId[] = [];
  const budget = new ByteBudget(limits.maxPushCommandBytes);
  let refLevels = 0;

  for (;;) {
    const line = await readLine(reader, 'command list', budget);
    if (line === undefined) break;
    if (line.startsWith('shallow ')) {
      const oid = line.slice('shallow '.length);
      if (!HEX_ID.test(oid)) throw new ProtocolError(`protocol error: expected shallow sha, got '${oid}'`);
      if (shallow.length === limits.maxPushCommands) throw tooMany('shallow lines', limits.maxPushCommands);
      shallow.push(oid.toLowerCase());
      continue;
    }
    const nul = line.indexOf('\0');
    const command = nul < 0 ? line : line.slice(0, nul);
    if (nul >= 0) {
      requested.clear();
      for (const capability of line.slice(nul + 1).split(' ')) if (capability) requested.add(capability);
    }
    const match = COMMAND.exec(command);
    if (!match) throw new ProtocolError(`protocol error: expected old/new/ref, got '${printable(command)}'`);
    if (commands.length === limits.maxPushCommands) throw tooMany('ref updates', limits.maxPushCommands);
    refLevels += match[3].split('/').length;
    if (refLevels > limits.maxPushRefLevels)
      throw tooMany('ref name levels (the parts between slashes, all its ref names together)', limits.maxPushRefLevels);
    commands.push({ oldOid: match[1].toLowerCase(), newOid: match[2].toLowerCase(), name: match[3] });
  }

  const format = [...requested].find((c) => c.startsWith('object-format='));
  if (format !== undefined && format !== 'object-format=sha1') {
    throw new ProtocolError(`unsupported object format '${format.slice('object-format='.length)}'`);
  }
  const capabilities: PushCapabilities = {
    reportStatus: requested.has('report-status'),
    reportStatusV2: requested.has('report-status-v2'),
    sideband: requested.has('side-band-64k'),
    quiet: requested.has('quiet'),
    atomic: requested.has('atomic'),
    pushOptions: requested.has('push-options'),
  };

  const pushOptions: string[] = [];
  if (capabilities.pushOptions && commands.length > 0) {
    for (
      let option = await readLine(reader, 'push options', budget);
      option !== undefined;
      option = await readLine(reader, 'push options', budget)
    ) {
      if (pushOptions.length === limits.maxPushOptions) throw tooMany('push options', limits.maxPushOptions);
      pushOptions.push(option);
    }
  }
  return { commands, capabilities, pushOptions, shallow };
}

/** Whether the push sends no pack at all: git's delete_only(). */
export function isDeleteOnly(commands: readonly PushCommand[]): boolean {
  return commands.every((command) => command.newOid === ZERO_OID);
}

function tooMany(what: string, limit: number): ProtocolError {
  return new ProtocolError(`push refused: more than ${limit} ${what} in one push`, 413);
}

/** Bytes of pkt-lines read so far before the pack, against the limit. */
class ByteBudget {
  private used = 0;

  constructor(private readonly limit: number) {}

  spend(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) {
      throw new ProtocolError(`push refused: its commands and push options exceed ${this.limit} bytes`, 413);
    }
  }
}

/** The next data line without its newline, or undefined at the flush that ends a section. */
async function readLine(reader: PktLineReader, section: string, budget: ByteBudget): Promise<string | undefined> {
  let packet;
  try {
    packet = await reader.read();
  } catch (error) {
    if (error instanceof PktLineError) throw new ProtocolError(`protocol error in ${section}: ${error.message}`);
    throw error;
  }
  if (packet === undefined) throw new ProtocolError(`protocol error: the request ended inside the ${section} (no flush)`);
  budget.spend(packet.kind === 'data' ? 4 + packet.data.length : 4);
  if (packet.kind === 'flush') return undefined;
  if (packet.kind !== 'data') throw new ProtocolError(`protocol error: unexpected ${packet.kind} packet in the ${section}`);
  let text: string;
  try {
    text = utf8.decode(packet.data);
  } catch {
    throw new ProtocolError(`protocol error: a line of the ${section} is not valid UTF-8`);
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** A line as it may appear in an error message: control characters escaped, length bounded. */
function printable(line: string): string {
  const shown = JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  return shown.slice(1, -1);
}
