import { PktLineError, PktLineReader } from '@gitfleet/git-format';
import type { Packet } from '@gitfleet/git-format';
import type { Readable } from 'node:stream';
import { ProtocolError } from '../errors.js';

/**
 * Reads a whole upload-pack request (it is small: wants, haves, arguments), refusing one
 * larger than `maxBytes` (413) or not made of well-formed pkt-lines (400).
 */
export async function readRequest(request: Readable | AsyncIterable<Buffer>, maxBytes: number): Promise<Packet[]> {
  const reader = new PktLineReader(bounded(request, maxBytes));
  const packets: Packet[] = [];
  try {
    for (;;) {
      const packet = await reader.read();
      if (!packet) return packets;
      packets.push(packet);
    }
  } catch (error) {
    if (error instanceof PktLineError) throw new ProtocolError(`malformed request: ${error.message}`, 400);
    throw error;
  }
}

async function* bounded(source: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += bytes.length;
    if (total > maxBytes) throw new ProtocolError(`request is larger than ${maxBytes} bytes`, 413);
    yield bytes;
  }
}

/** A data packet as a text line, without its trailing newline. */
export function lineOf(packet: Packet & { kind: 'data' }): string {
  const text = packet.data.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Packets read one at a time, text lines for data (git's packet_reader with CHOMP_NEWLINE). */
export class PacketCursor {
  private at = 0;

  constructor(private readonly packets: readonly Packet[]) {}

  get atEnd(): boolean {
    return this.at >= this.packets.length;
  }

  /** The next packet: a line, or 'flush' / 'delim' / 'response-end', or undefined at the end. */
  next(): string | { special: 'flush' | 'delim' | 'response-end' } | undefined {
    const packet = this.packets[this.at++];
    if (!packet) return undefined;
    return packet.kind === 'data' ? lineOf(packet) : { special: packet.kind };
  }
}
