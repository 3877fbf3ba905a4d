import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { createInflate } from 'node:zlib';
import type { ObjectId, ObjectType } from '@gitfleet/git-format';
import { CorruptPackError, MissingObjectError } from './errors.js';
import type { ObjectReader } from './object-reader.js';
import type { PackAccess } from './pack-access.js';

/** Too many bytes of deltified objects are being rebuilt in memory right now: answer 503, retry later. */
export class ObjectReadsBusy extends Error {
  override name = 'ObjectReadsBusy';
}

/**
 * Bytes of objects rebuilt whole in memory at once for streaming (a delta's result cannot be
 * streamed: it copies from anywhere in its base). One read is always admitted when none is in
 * flight, so that every object the server accepted stays readable.
 */
export class InMemoryReadBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get inFlight(): number {
    return this.used;
  }

  /** Reserves `bytes` or throws ObjectReadsBusy; the returned function gives them back (once). */
  reserve(bytes: number, what: string): () => void {
    if (this.used > 0 && this.used + bytes > this.maxBytes) {
      throw new ObjectReadsBusy(
        `${what}: ${this.used} bytes of large objects are being read already (at most ${this.maxBytes} at once); try again shortly`,
      );
    }
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
  }
}

export interface ObjectStream {
  type: ObjectType;
  size: number;
  /** The object's bytes; ends with an error if the stored data does not inflate to `size` bytes. */
  stream: Readable;
  /** Whether the bytes are inflated as they flow (true) or were read whole (a small object, a delta). */
  streamed: boolean;
}

/** Chunks of a whole object handed to the stream: a consumer sees the same pace as an inflate. */
const CHUNK_BYTES = 64 * 1024;
/**
 * Objects up to this size are read whole through the caches (block cache, delta bases): one
 * cached read beats a stream from the store, and holding them costs little.
 */
const SMALL_OBJECT_BYTES = 1024 * 1024;

/**
 * An object's bytes as a stream, without holding them whole when they are large and stored
 * whole: the entry's deflated bytes are read from the pack and inflated as they flow. A large
 * deltified object is rebuilt in memory, within `budget`. Undefined when the object is absent.
 */
export async function openObjectStream(
  { objects, packs }: { objects: ObjectReader; packs: PackAccess },
  oid: ObjectId,
  budget: InMemoryReadBudget,
): Promise<ObjectStream | undefined> {
  const entry = await packs.locate(oid);
  if (!entry) return undefined;
  const context = `object ${oid} (pack ${entry.pack} offset ${entry.offset})`;
  if (entry.header.kind === 'object' && entry.header.size > SMALL_OBJECT_BYTES) {
    const { type, size } = entry.header;
    const deflated = await packs.stream(entry.pack, entry.offset + entry.header.headerLength, entry.end);
    // Errors reach the last stream (pipeline destroys every stream with them); nothing else to do here.
    const stream = pipeline(deflated, createInflate(), new ExactLength(size, entry.pack, context), () => undefined);
    return { type, size, stream, streamed: true };
  }
  const header = entry.header.kind === 'object' ? entry.header : await objects.header(oid);
  if (!header) return undefined;
  const release = header.size > SMALL_OBJECT_BYTES ? budget.reserve(header.size, context) : () => undefined;
  let data: Buffer;
  try {
    const object = await objects.read(oid);
    if (!object) throw new MissingObjectError(oid, `located in pack ${entry.pack} offset ${entry.offset}, then not found`);
    data = object.data;
  } catch (error) {
    release();
    throw error;
  }
  const stream = Readable.from(chunks(data), { objectMode: false });
  stream.once('close', release);
  return { type: header.type, size: header.size, stream, streamed: false };
}

function* chunks(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += CHUNK_BYTES) yield data.subarray(at, at + CHUNK_BYTES);
}

/** Passes bytes through, failing when they run past `size` or end short of it: a corrupt entry never passes for an object. */
class ExactLength extends Transform {
  private seen = 0;

  constructor(
    private readonly size: number,
    private readonly pack: string,
    private readonly context: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size)
      callback(new CorruptPackError(this.pack, `${this.context}: inflates to more than the ${this.size} bytes its header says`));
    else callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(
      this.seen === this.size
        ? null
        : new CorruptPackError(this.pack, `${this.context}: inflates to ${this.seen} bytes, header says ${this.size}`),
    );
  }
}
