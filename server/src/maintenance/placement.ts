import { chooseMaintenance, DEFAULT_MAINTENANCE_POLICY, type Repository } from '@gitfleet/repository';
import type { MaintenanceOutcome } from './scheduler.js';

type Run = (repo: Repository, signal: AbortSignal) => Promise<MaintenanceOutcome>;

/**
 * Runs that rewrite at most this many objects stay in the server's process. Most compactions
 * after ordinary pushes merge a few small packs, which takes milliseconds (in turns with the event
 * loop); starting a node process for each costs more CPU than the run itself, and a repository
 * pushed to all day would start hundreds. Beyond it, a run holds a CPU for seconds and needs memory
 * in proportion to the repository: that goes to a child process.
 */
export const IN_PROCESS_MAX_OBJECTS = 10_000;

/** How many objects the run maintenance would make now rewrites (0 for a run that only collects). */
export async function objectsToRewrite(repo: Repository): Promise<number> {
  const packs = await repo.packs.list();
  const decision = chooseMaintenance(packs, DEFAULT_MAINTENANCE_POLICY);
  const rewritten = decision.action === 'compact' ? decision.merge : decision.action === 'full' ? packs : [];
  return rewritten.reduce((sum, pack) => sum + pack.objects, 0);
}

/** Small runs in this process, large ones in a child (see IN_PROCESS_MAX_OBJECTS). */
export function bySize(inProcess: Run, inChild: Run): Run {
  return async (repo, signal) => ((await objectsToRewrite(repo)) <= IN_PROCESS_MAX_OBJECTS ? inProcess : inChild)(repo, signal);
}
