/** Temporary directories for tests: one helper, each directory removed when its owner ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Whatever ends and runs cleanups: a test's context `t`, or `{ after }` from node:test at
 * a file's top level (a hook's own `after` would run as soon as the hook ends).
 */
export interface CleanupOwner {
  after(fn: () => void | Promise<void>): void;
}

/** A fresh, empty directory `gitfleet-<label>-XXXXXX` under the system's temp dir, removed when `owner` ends. */
export function tempDir(owner: CleanupOwner, label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `gitfleet-${label}-`));
  owner.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
