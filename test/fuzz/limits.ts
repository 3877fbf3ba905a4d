/** Bounds for the targets that run whole protocol requests: small, so that an input can reach each of them. */
import type { PackLimits } from '@gitfleet/git-format';
import type { ProtocolLimits } from '@gitfleet/protocol';

export const FUZZ_PROTOCOL_LIMITS: ProtocolLimits = {
  maxRequestBytes: 1 << 16,
  maxRequestPackets: 1024,
  maxPackBytes: 1 << 16,
  maxObjectSize: 1 << 20,
  maxPushCommandBytes: 1 << 14,
  maxPushCommands: 50,
  maxPushOptions: 10,
  maxRefNameBytes: 256,
  maxPushRefLevels: 500,
};

export const FUZZ_PACK_LIMITS: PackLimits = {
  maxInflatedBytes: 4 << 20,
  maxExpansionRatio: 64,
  expansionAllowance: 1 << 20,
  maxDeltaDepth: 50,
};

/** Header keywords of commits and tags, for the dictionaries of the targets that parse them. */
export const OBJECT_HEADER_TOKENS = ['tree ', 'parent ', 'author ', 'committer ', 'object ', 'tagger '];
