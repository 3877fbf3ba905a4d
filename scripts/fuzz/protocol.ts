/** Messages between the fuzzing supervisor (campaign.ts) and its worker (worker.ts). */

export interface WorkerConfig {
  /** file: URL of the target module. */
  targetUrl: string;
  seeds: Uint8Array[];
  /** Epoch milliseconds at which the worker stops. */
  deadline: number;
  maxExecutions: number;
  randomSeed: number;
  shared: SharedArrayBuffer;
  /** Growth of heap and external memory during one execution that counts as a finding, past `memoryPerInputByte` times its length. */
  memoryLimitBytes: number;
  memoryPerInputByte: number;
}

export type FindingKind = 'exception' | 'hang' | 'memory' | 'crash';

export type WorkerMessage =
  | { type: 'corpus'; input: Uint8Array }
  | { type: 'finding'; kind: FindingKind; input: Uint8Array; signature: string; detail: string }
  | ({ type: 'stats' | 'done' } & WorkerStats);

export interface WorkerStats {
  executions: number;
  corpusSize: number;
  /** Distinct coverage ranges run (BlockCoverage.coveredBlocks). */
  blocks: number;
  /** Source characters of the target's files run. */
  positions: number;
}

/** No target takes larger inputs: the shared input buffer has this room. */
export const MAX_INPUT_BYTES = 1 << 20;
