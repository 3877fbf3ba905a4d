/**
 * The receive-pack exchange as bytes: request bodies framed as `git send-pack` frames them,
 * delivered as a socket would, and a reader for the response (report-status, side-band).
 */
import { Readable } from 'node:stream';
import { FLUSH, pkt } from './wire.js';

export { FLUSH, pkt };

export interface PushCommandLine {
  old: string;
  new: string;
  ref: string;
}

/**
 * A receive-pack request body as `git send-pack` writes it: commands (capabilities after a NUL
 * on the first), flush, push options and flush when asked for, then the pack.
 */
export function pushRequest(
  commands: PushCommandLine[],
  options: { capabilities?: string[]; pushOptions?: string[]; shallow?: string[]; pack?: Buffer } = {},
): Buffer {
  const capabilities = options.capabilities ?? ['report-status', 'side-band-64k', 'agent=git/2.39'];
  const parts: Buffer[] = (options.shallow ?? []).map((oid) => pkt(`shallow ${oid}`));
  commands.forEach((c, i) =>
    parts.push(pkt(i === 0 ? `${c.old} ${c.new} ${c.ref}\0${capabilities.join(' ')}` : `${c.old} ${c.new} ${c.ref}`)),
  );
  parts.push(FLUSH);
  if (options.pushOptions) parts.push(...options.pushOptions.map((o) => pkt(o)), FLUSH);
  if (options.pack) parts.push(options.pack);
  return Buffer.concat(parts);
}

/** A request body as a stream delivered in small chunks, as a socket would. */
export function requestStream(body: Buffer, chunkSize = 7919): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += chunkSize) chunks.push(body.subarray(at, at + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

/** The pkt-lines of `bytes`; a flush is the string 'flush'. */
export function readPackets(bytes: Buffer): Array<Buffer | 'flush'> {
  const packets: Array<Buffer | 'flush'> = [];
  let at = 0;
  while (at < bytes.length) {
    const length = parseInt(bytes.subarray(at, at + 4).toString('ascii'), 16);
    if (Number.isNaN(length) || (length > 0 && length < 4)) throw new Error(`bad pkt-line length at ${at}`);
    if (length === 0) {
      packets.push('flush');
      at += 4;
      continue;
    }
    if (at + length > bytes.length) throw new Error(`truncated pkt-line at ${at}`);
    packets.push(bytes.subarray(at + 4, at + length));
    at += length;
  }
  return packets;
}

export interface ParsedResponse {
  /** report-status lines, without newlines. */
  report: string[];
  /** Everything on side-band 2. */
  progress: string;
  /** Everything on side-band 3. */
  fatal: string;
  /** Whether the side-band response ended with its flush. */
  flushed: boolean;
}

/** Demultiplexes a receive-pack response the way git send-pack reads it. */
export function parseResponse(bytes: Buffer, sideband: boolean): ParsedResponse {
  let band1 = bytes;
  let progress = '';
  let fatal = '';
  let flushed = false;
  if (sideband) {
    const data: Buffer[] = [];
    for (const packet of readPackets(bytes)) {
      if (packet === 'flush') {
        flushed = true;
        continue;
      }
      const payload = packet.subarray(1);
      if (packet[0] === 1) data.push(payload);
      else if (packet[0] === 2) progress += payload.toString();
      else if (packet[0] === 3) fatal += payload.toString();
      else throw new Error(`unknown side-band channel ${packet[0]}`);
    }
    band1 = Buffer.concat(data);
  }
  const report: string[] = [];
  for (const packet of readPackets(band1)) {
    if (packet === 'flush') break;
    report.push(packet.toString().replace(/\n$/, ''));
  }
  return { report, progress, fatal, flushed };
}

export async function collect(response: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk);
  return Buffer.concat(chunks);
}
