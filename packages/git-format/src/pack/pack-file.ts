import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * The bytes of a pack being indexed: a spooled file, or a small pack held in memory. Indexing
 * reads it front to back, then by offset, and may extend it (a thin pack's bases).
 */
export interface PackFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** For the many small reads by offset of the second pass, where an async round trip costs more than the read. */
  readSync(buffer: Buffer, offset: number, length: number, position: number): number;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
}

/** A pack spooled to a local file, open for reading and writing. */
export class SpooledPackFile implements PackFile {
  constructor(private readonly handle: FileHandle) {}

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.handle.read(buffer, offset, length, position);
  }

  readSync(buffer: Buffer, offset: number, length: number, position: number): number {
    return readSync(this.handle.fd, buffer, offset, length, position);
  }

  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.handle.write(buffer, offset, length, position);
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }
}

/**
 * A pack held in memory: a push of a few objects, which is never written to a spool file.
 * Writes past the end grow it, as they would grow a file.
 */
export class PackInMemory implements PackFile {
  private bytes: Buffer;
  private length: number;

  /** Takes `bytes` over: indexing may write into them. */
  constructor(bytes: Buffer) {
    this.bytes = bytes;
    this.length = bytes.length;
  }

  get size(): number {
    return this.length;
  }

  /** The pack as it stands: once indexed, completed with the bases a thin pack lacked. */
  contents(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return { bytesRead: this.readSync(buffer, offset, length, position) };
  }

  readSync(buffer: Buffer, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.length - position));
    this.bytes.copy(buffer, offset, position, position + n);
    return n;
  }

  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    this.ensureCapacity(position + length);
    // A write past the end leaves zeros in the gap, as a file's hole reads.
    if (position > this.length) this.bytes.fill(0, this.length, position);
    buffer.copy(this.bytes, position, offset, offset + length);
    this.length = Math.max(this.length, position + length);
    return { bytesWritten: length };
  }

  async truncate(length: number): Promise<void> {
    this.ensureCapacity(length);
    if (length > this.length) this.bytes.fill(0, this.length, length);
    this.length = length;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.bytes.length));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}
