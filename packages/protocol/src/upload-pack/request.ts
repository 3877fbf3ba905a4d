import { PktLineError, PktLineReader } from '@gitfleet/git-format';
import type { Packet } from '@gitfleet/git-format';
import type { Readable } from 'node:stream';
import { LoopPacer } from '@gitfleet/repository';
import { ProtocolError } from '../errors.js';

/** A packet as upload-pack reads it: a text line, or a special packet. */
export type RequestLine = string | { special: 'flush' | 'delim' | 'response-end' };

export interface RequestBounds {
  /** Bytes of the whole request (413 past it). */
  maxBytes: number;
  /** Packets of the whole request (413 past it), flushes and delimiters included. */
  maxPackets: number;
}

/**
 * An upload-pack request read one packet at a time (git's packet_reader with CHOMP_NEWLINE):
 * nothing of the request is kept here, so what a consumer holds is what it chose to parse,
 * and a request longer than `maxBytes` or `maxPackets` is refused (413) as soon as it gets
 * there. Malformed pkt-lines are refused with 400.
 */
export class RequestLines {
  private readonly reader: PktLineReader;
  private packets = 0;
  /** A request already in memory parses without a real wait: its packets are paced too. */
  private readonly pacer = new LoopPacer();
  private peeked: RequestLine | undefined;
  private hasPeeked = false;

  constructor(
    request: Readable | AsyncIterable<Buffer>,
    private readonly bounds: RequestBounds,
  ) {
    this.reader = new PktLineReader(bounded(request, bounds.maxBytes));
  }

  /** The next packet, or undefined at the end of the request. */
  async next(): Promise<RequestLine | undefined> {
    if (this.hasPeeked) {
      this.hasPeeked = false;
      return this.peeked;
    }
    return this.read();
  }

  /** Whether the request has nothing more (reads one packet ahead). */
  async atEnd(): Promise<boolean> {
    if (!this.hasPeeked) {
      this.peeked = await this.read();
      this.hasPeeked = true;
    }
    return this.peeked === undefined;
  }

  private async read(): Promise<RequestLine | undefined> {
    let packet: Packet | undefined;
    try {
      packet = await this.reader.read();
    } catch (error) {
      if (error instanceof PktLineError) throw new ProtocolError(`malformed request: ${error.message}`, 400);
      throw error;
    }
    if (packet === undefined) return undefined;
    await this.pacer.step();
    if (++this.packets > this.bounds.maxPackets) {
      throw new ProtocolError(`request has more than ${this.bounds.maxPackets} packets`, 413);
    }
    return packet.kind === 'data' ? lineOf(packet) : { special: packet.kind };
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
function lineOf(packet: Packet & { kind: 'data' }): string {
  const text = packet.data.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
