import { open, rm, type FileHandle } from 'node:fs/promises';
import { crc32, encodePackHeader, type ObjectId } from '@gitfleet/git-format';
import { OutputBuffer } from '../pack-output/output-buffer.js';

/** Written to the file in pieces of about this size. */
const FLUSH_BYTES = 1024 * 1024;

/**
 * A pack written to a local file entry by entry: the running offset where the next entry
 * starts, the CRC-32 of each entry's bytes (what the .idx keeps), the SHA-1 trailer.
 * Holds at most about FLUSH_BYTES of output before writing it out.
 */
export class PackFileWriter {
  private readonly out = new OutputBuffer();
  private crc = 0;

  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
  ) {}

  static async create(path: string, objectCount: number): Promise<PackFileWriter> {
    const writer = new PackFileWriter(await open(path, 'w'), path);
    writer.out.write(encodePackHeader(objectCount));
    return writer;
  }

  /** Where the next entry starts. */
  get offset(): number {
    return this.out.offset;
  }

  beginEntry(): void {
    this.crc = 0;
  }

  async write(bytes: Buffer): Promise<void> {
    this.crc = crc32(bytes, this.crc);
    this.out.write(bytes);
    if (this.out.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** The CRC-32 of the bytes written since beginEntry. */
  endEntry(): number {
    return this.crc;
  }

  /** Appends the trailer and closes the file; returns the pack's size and checksum. */
  async finish(): Promise<{ size: number; checksum: ObjectId }> {
    this.out.finish();
    const size = this.out.offset;
    const last = this.out.take();
    // finish() appends the trailer as a piece of its own.
    const checksum = last[last.length - 1].toString('hex');
    await this.writeOut(last);
    await this.file.close();
    return { size, checksum };
  }

  /** Closes and deletes the unfinished file. */
  async abandon(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  private async flush(): Promise<void> {
    await this.writeOut(this.out.take());
  }

  private async writeOut(pieces: Buffer[]): Promise<void> {
    const { bytesWritten } = await this.file.writev(pieces);
    const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
    if (bytesWritten === total) return;
    // A short write (rare for a file): the rest, one write at a time.
    const rest = Buffer.concat(pieces).subarray(bytesWritten);
    for (let at = 0; at < rest.length;) {
      const written = await this.file.write(rest, at, rest.length - at);
      at += written.bytesWritten;
    }
  }
}
