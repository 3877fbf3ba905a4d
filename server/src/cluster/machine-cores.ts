import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The cores this process may use: node's count, lowered to the CPU quota of its cgroup (v2
 * `cpu.max`) when it has one. Node 20 counts the host's cores, so in a container limited to
 * 2 CPUs on a host of 64 a worker per core would be 64 workers sharing 2 CPUs.
 */
export function machineCores(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const cores = availableParallelism();
  let quota: string;
  try {
    quota = readFileSync(cpuMaxFile, 'utf8');
  } catch {
    return cores;
  }
  const [max, period] = quota.trim().split(/\s+/);
  const allowed = Number(max) / Number(period);
  return max === 'max' || !(allowed > 0) ? cores : Math.max(1, Math.min(cores, Math.ceil(allowed)));
}

/**
 * Up to this many cores, one process serves best: its event loop takes one core and its threads
 * (indexing pushes, zlib, file system, SQLite's syncs) the other. A second event loop there only
 * competes with those threads, and with the stores and clients on the same cores, and each
 * process then learns of the other's pushes from the stores instead of from itself. Measured on
 * two cores (README, "Every core"): one process accepted 18–25% more pushes on S3 + Redis, within
 * 10% either way on the embedded backend, and served parallel clones as fast or faster.
 */
const ONE_PROCESS_UP_TO_CORES = 2;

/** GITFLEET_WORKERS when unset: one process on a small machine, else one worker per core. */
export function defaultWorkers(cores: number): number {
  return cores <= ONE_PROCESS_UP_TO_CORES ? 1 : cores;
}
