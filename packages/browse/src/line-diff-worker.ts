/** The diff pool's thread: one file's line diff per task (see line-diff-pool.ts). */
import { diffTexts, type LineDiff, type LineDiffBounds } from './line-diff.js';
import { lowerThisThreadPriority } from '@gitfleet/git-format';

// CPU-heavy tasks: the event loops of the process keep their cores first.
lowerThisThreadPriority();

export interface LineDiffTask {
  old: Uint8Array;
  new: Uint8Array;
  bounds: LineDiffBounds;
}

export interface LineDiffOutcome {
  /** Absent when the texts are too different to diff within the bounds. */
  diff?: LineDiff;
  /** Lines of both sides: what a file that gave up is charged against the request's line budget. */
  lines: number;
  /** Time spent diffing, charged against the request's time budget. */
  elapsedMs: number;
}

export default function runLineDiff(task: LineDiffTask): LineDiffOutcome {
  const started = performance.now();
  const decoder = new TextDecoder();
  const diff = diffTexts(decoder.decode(task.old), decoder.decode(task.new), task.bounds);
  const outcome: LineDiffOutcome = { lines: countLines(task.old) + countLines(task.new), elapsedMs: performance.now() - started };
  if (diff) outcome.diff = diff;
  return outcome;
}

function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) lines++;
  return bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? lines + 1 : lines;
}
