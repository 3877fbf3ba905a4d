import type { Readable } from 'node:stream';

/** Largest pkt-line: 4 length bytes + 65516 payload bytes. */
export const MAX_PKT_LENGTH = 65520;
export declare const FLUSH_PKT: Buffer; // "0000"
export declare const DELIM_PKT: Buffer; // "0001"
export declare const RESPONSE_END_PKT: Buffer; // "0002"

export type Packet =
  | { kind: 'data'; data: Buffer }
  | { kind: 'flush' }
  | { kind: 'delim' }
  | { kind: 'response-end' };

/** Thrown for anything that is not a well-formed pkt-line stream. */
export declare class PktLineError extends Error {}

/** One pkt-line holding `payload` (a string is encoded as UTF-8; no newline is added). */
export declare function encodePktLine(payload: string | Uint8Array): Buffer;

/**
 * Reads pkt-lines from a byte stream, then hands over the bytes that follow them
 * (the pack after receive-pack's commands) untouched.
 */
export declare class PktLineReader {
  constructor(source: Readable | AsyncIterable<Buffer>);
  /** Next packet; undefined at a clean end of stream; PktLineError when malformed or truncated. */
  read(): Promise<Packet | undefined>;
  /** The bytes after the last packet read, as a stream (buffered leftovers first). */
  rest(): AsyncIterable<Buffer>;
}
