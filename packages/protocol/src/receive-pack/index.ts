/**
 * git receive-pack (gitprotocol-pack, stateless-RPC form): the ref advertisement, then one
 * request — commands, push options, pack — answered with progress and report-status.
 */
export { advertiseReceivePack } from './advertise.js';
export { receivePack } from './receive.js';
export { defaultIndexThreads, PackIndexPool, type PackChecks, type PackIndexPoolOptions } from './index-pool.js';
export { DEFAULT_PACK_LIMITS } from './pack-limits.js';
export type { AppliedRefUpdate, PreparedRefUpdate, PushedObjects, PushSummary, ReceivePackOptions } from './options.js';
