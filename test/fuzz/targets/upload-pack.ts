/**
 * upload-pack's request parsing and negotiation (protocol v0 and v2), served from a small
 * real history: the first byte picks the protocol version, the rest is the request body.
 * The response is read to its end.
 */
import { Readable } from 'node:stream';
import { ProtocolError, uploadPack } from '@gitfleet/protocol';
import type { Repository } from '@gitfleet/repository';
import { fixtureRepository } from '../fixture-repository.js';
import { FUZZ_PROTOCOL_LIMITS } from '../limits.js';

export const coverage = [
  'packages/protocol/src/upload-pack/',
  'packages/git-format/src/pkt-line.ts',
  'packages/repository/src/pack-output/',
];
export const dictionary = [
  '0000',
  '0001',
  '0002',
  '0004',
  'want ',
  'have ',
  'done',
  'deepen ',
  'deepen-since ',
  'deepen-not ',
  'shallow ',
  'filter ',
  'blob:none',
  'tree:0',
  'command=fetch',
  'command=ls-refs',
  'command=object-info',
  'want-ref refs/heads/main',
  'ref-prefix ',
  'object-format=sha1',
  'agent=git/2',
  'packfile-uris https',
  'thin-pack',
  'ofs-delta',
  'side-band-64k',
  'multi_ack_detailed',
  'no-done',
  'include-tag',
  'wait-for-done',
  'sideband-all',
  'deepen-relative',
  'symrefs',
  'peel',
  'unborn',
  'size',
  'oid ',
];
export const maxLength = 8192;

// Requests only read: one repository serves every input.
let repository: Promise<Repository> | undefined;

export async function fuzz(data: Buffer): Promise<void> {
  if (data.length === 0) return;
  repository ??= fixtureRepository();
  const repo = await repository;
  try {
    const response = await uploadPack(repo, Readable.from([data.subarray(1)]), {
      version: data[0] & 1 ? 2 : 0,
      limits: FUZZ_PROTOCOL_LIMITS,
    });
    for await (const chunk of response) void chunk;
  } catch (error) {
    if (error instanceof ProtocolError) return;
    throw error;
  }
}
