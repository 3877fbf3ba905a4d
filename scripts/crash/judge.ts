/**
 * What a round proves about its pushes, from the refs before it, what git reported, and the refs
 * the restarted server serves. An update git reported accepted must be there: its value, since
 * no other push of the round touched that ref (each ref is pushed at most once a round, and the
 * next round starts from what is served). An update git did not report accepted was in flight
 * when the server died (or was refused): it may or may not have applied, so the ref is at its
 * old value or at the new one, and anything else is a broken promise too. A ref no push touched
 * must not move.
 */
import type { PushResult } from './pushes.js';

export interface RoundJudgement {
  /** Ref updates git reported accepted. */
  acknowledged: number;
  /** Of those, updates not found: each a broken promise. */
  lost: string[];
  /** Updates git did not report accepted, found applied all the same (the kill came after the commit point). */
  appliedUnacknowledged: number;
  /** Updates git did not report accepted, not applied. */
  notApplied: number;
  /** Refs at a value no push of the round gave them (moved without a push, or a half-applied one). */
  unexpected: string[];
}

export function judgeRound(
  before: ReadonlyMap<string, string>,
  results: readonly PushResult[],
  after: ReadonlyMap<string, string>,
): RoundJudgement {
  const judgement: RoundJudgement = { acknowledged: 0, lost: [], appliedUnacknowledged: 0, notApplied: 0, unexpected: [] };
  const pushed = new Set<string>();
  const describe = (value: string | null | undefined) => value ?? '(absent)';
  for (const result of results) {
    for (const { ref, kind, target } of result.updates) {
      pushed.add(ref);
      const old = before.get(ref) ?? null;
      const now = after.get(ref) ?? null;
      if (result.accepted.has(ref)) {
        judgement.acknowledged++;
        if (now !== target)
          judgement.lost.push(`${kind} of ${ref} to ${describe(target)} was acknowledged, but ${ref} is at ${describe(now)}`);
      } else if (now === target && now !== old) judgement.appliedUnacknowledged++;
      else if (now === old) judgement.notApplied++;
      else judgement.unexpected.push(`${ref} is at ${describe(now)}: neither ${describe(old)} nor the unacknowledged ${describe(target)}`);
    }
  }
  for (const ref of new Set([...before.keys(), ...after.keys()])) {
    if (!pushed.has(ref) && before.get(ref) !== after.get(ref))
      judgement.unexpected.push(`${ref} moved from ${describe(before.get(ref))} to ${describe(after.get(ref))} without a push`);
  }
  return judgement;
}
