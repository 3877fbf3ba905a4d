/**
 * receive-pack on a small real history: the command list (shallow lines, "old new ref" lines,
 * capabilities, push options) and then the pack, indexed, checked and applied. Each input
 * starts from the same repository.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ProtocolError, receivePack } from '@gitfleet/protocol';
import { fixtureRepository } from '../fixture-repository.js';
import { FUZZ_PACK_LIMITS, FUZZ_PROTOCOL_LIMITS } from '../limits.js';

export const coverage = [
  'packages/protocol/src/receive-pack/',
  'packages/git-format/src/pkt-line.ts',
  'packages/repository/src/ref-db.ts',
  'packages/repository/src/ref-name.ts',
];
export const dictionary = [
  '0000',
  '0001',
  '0004',
  'PACK',
  '0000000000000000000000000000000000000000',
  'refs/heads/main',
  'refs/heads/',
  'refs/tags/',
  'HEAD',
  'shallow ',
  '\x00report-status',
  ' report-status-v2',
  ' side-band-64k',
  ' quiet',
  ' atomic',
  ' push-options',
  ' object-format=sha1',
  ' object-format=sha256',
  ' agent=git/2',
  '..',
  '.lock',
  '@{',
  '//',
];
export const maxLength = 16384;

const spoolDir = mkdtempSync(path.join(tmpdir(), 'gitfleet-fuzz-spool-'));
process.once('exit', () => rmSync(spoolDir, { recursive: true, force: true }));

export async function fuzz(data: Buffer): Promise<void> {
  const repo = await fixtureRepository();
  try {
    const response = await receivePack(repo, Readable.from([data]), {
      limits: FUZZ_PROTOCOL_LIMITS,
      packLimits: FUZZ_PACK_LIMITS,
      spoolDir,
    });
    for await (const chunk of response) void chunk;
  } catch (error) {
    if (error instanceof ProtocolError) return;
    throw error;
  }
}
