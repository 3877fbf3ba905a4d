import type { ProtocolLimits } from '@gitfleet/protocol';

/** Protocol limits for tests: generous for the fixtures, small enough that a test may exceed them. */
export const TEST_PROTOCOL_LIMITS: Readonly<ProtocolLimits> = {
  maxRequestBytes: 1 << 20,
  maxPackBytes: 64 << 20,
  maxObjectSize: 16 << 20,
  maxRequestPackets: 1 << 16,
  maxPushCommandBytes: 1 << 20,
  maxPushCommands: 1000,
  maxPushOptions: 100,
  maxRefNameBytes: 1024,
  maxPushRefLevels: 40000,
};
