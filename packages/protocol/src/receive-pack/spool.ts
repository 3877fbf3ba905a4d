import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PackInMemory } from '@gitfleet/git-format';

/** The pack is larger than the configured limit: git's receive.maxInputSize message. */
export class PackTooLarge extends Error {
  constructor(
    readonly limit: number,
    reason = 'pack exceeds maximum allowed size',
  ) {
    super(reason);
    this.name = 'PackTooLarge';
  }
}

/** The request stream failed while the pack was being read (the client went away). */
export class RequestAborted extends Error {
  constructor(cause: unknown) {
    super(`the request ended before the pack was read: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'RequestAborted';
  }
}

/**
 * A pushed pack as received: held in memory when small (no spool file is written, read back or
 * removed), else in a spool file at `path`.
 */
export class SpooledPack {
  private constructor(
    /** Where the pack is, or would be written to be indexed on a thread. */
    readonly path: string,
    /** Bytes received. */
    readonly size: number,
    private memory: PackInMemory | undefined,
  ) {}

  static inMemory(path: string, bytes: Buffer): SpooledPack {
    return new SpooledPack(path, bytes.length, new PackInMemory(bytes));
  }

  static onDisk(path: string, size: number): SpooledPack {
    return new SpooledPack(path, size, undefined);
  }

  /** The pack while it is held in memory. */
  get inMemory(): PackInMemory | undefined {
    return this.memory;
  }

  /** Writes a pack held in memory to its path, as it stands (an index thread reads it there). */
  async spill(): Promise<void> {
    if (!this.memory) return;
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(this.path, this.memory.contents(), { flag: 'wx' });
    this.memory = undefined;
  }

  /** What to store once indexed: the completed pack's bytes, or its file. */
  get stored(): Buffer | string {
    return this.memory?.contents() ?? this.path;
  }

  /** Removes the spool file, if the pack was ever written to one. */
  async remove(): Promise<void> {
    if (!this.memory) await rm(this.path, { force: true });
  }
}

export interface SpoolOptions {
  /** The refusal's message past the limit (default git's). */
  reason?: string;
  /** Packs of at most this many bytes stay in memory (default 0: every pack goes to the file). */
  memoryBytes?: number;
}

/**
 * Receives the incoming pack: up to `options.memoryBytes` in memory, a larger one written to
 * `path`, counting its bytes. Past `maxBytes` it stops reading (the client is not waited for)
 * and throws PackTooLarge; a failing request throws RequestAborted. A failure leaves no file.
 */
export async function spoolPack(
  source: AsyncIterable<Buffer>,
  path: string,
  maxBytes: number,
  options: SpoolOptions = {},
): Promise<SpooledPack> {
  const request = fromRequest(source)[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let heldBytes = 0;
  while (heldBytes <= (options.memoryBytes ?? 0)) {
    const next = await request.next();
    if (next.done) return SpooledPack.inMemory(path, Buffer.concat(held, heldBytes));
    held.push(next.value);
    heldBytes += next.value.length;
    if (heldBytes > maxBytes) {
      await request.return?.(undefined);
      throw new PackTooLarge(maxBytes, options.reason);
    }
  }
  await mkdir(dirname(path), { recursive: true });
  const size = await writeToFile(heldThenRest(held, request), path, maxBytes, options.reason);
  return SpooledPack.onDisk(path, size);
}

async function* heldThenRest(held: Buffer[], rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  yield* held;
  yield* { [Symbol.asyncIterator]: () => rest };
}

async function writeToFile(source: AsyncIterable<Buffer>, path: string, maxBytes: number, reason: string | undefined): Promise<number> {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      if (total > maxBytes) callback(new PackTooLarge(maxBytes, reason));
      else callback(null, chunk);
    },
  });
  const file = createWriteStream(path, { flags: 'wx' });
  try {
    await pipeline(Readable.from(source, { objectMode: false }), counter, file);
  } catch (error) {
    // pipeline rejects as soon as the request fails, while the file may still be opening: it is
    // removed once it exists, or it would outlive the push.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    await rm(path, { force: true });
    throw error;
  }
  return total;
}

/** Tells a failing request apart from a failing spool file. */
async function* fromRequest(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  try {
    yield* source;
  } catch (error) {
    throw new RequestAborted(error);
  }
}
