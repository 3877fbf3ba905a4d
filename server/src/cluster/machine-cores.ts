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
