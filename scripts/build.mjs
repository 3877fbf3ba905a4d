/**
 * Builds the product: `tsc -b tsconfig.build.json` compiles every package and the server into
 * its own dist/ (project references, so only what changed is compiled again), then the web
 * UI's static files are copied beside the compiled server, which reads them from disk.
 *
 *   node scripts/build.mjs             build
 *   node scripts/build.mjs --if-stale  build only when a source changed since the last build
 *                                      (what `pnpm start` and `pnpm gitfleet` run first)
 *
 * Plain JavaScript rather than TypeScript: it runs before anything is compiled, and every
 * `pnpm start` pays for its start-up. It writes only to stderr, so `pnpm gitfleet … --json`
 * keeps a clean stdout.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The product's projects: each with a tsconfig.build.json (test-support, used only by tests, has none). */
const projects = [...readdirSync(path.join(root, 'packages')).map((name) => path.join('packages', name)), 'server'].filter((project) =>
  existsSync(path.join(root, project, 'tsconfig.build.json')),
);
const ASSETS_SOURCE = 'server/src/web/assets';
const ASSETS_TARGET = 'server/dist/web/assets';
/** Written last by a build that succeeded, dated when that build began (a file saved while it ran counts as newer). */
const STAMP = 'server/dist/build-complete';

/**
 * Held while building: several `pnpm start` at once (one per port, as the README's distributed
 * example does on a fresh clone) build once, and none starts a server while another rewrites dist/.
 * It holds the builder's pid, so a lock left by a build that was killed is taken over.
 */
const LOCK = 'node_modules/.gitfleet-build.lock';
const LOCK_POLL_MS = 200;

/** Takes the build lock, waiting while a live process holds it; returns its release. */
function lock() {
  const file = path.join(root, LOCK);
  let waiting = false;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error;
    }
    if (!holderAlive(file)) {
      rmSync(file, { force: true });
      continue;
    }
    if (!waiting) process.stderr.write('build: waiting for another build to finish…\n');
    waiting = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOCK_POLL_MS);
  }
}

/**
 * Whether the process that holds the lock file still runs.
 * @param {string} file
 */
function holderAlive(file) {
  let pid;
  let age;
  try {
    pid = Number(readFileSync(file, 'utf8'));
    age = Date.now() - statSync(file).mtimeMs;
  } catch {
    return true; // released meanwhile: the next attempt takes it
  }
  // Empty only between its creation and the write of the pid; empty for longer, its writer died.
  if (!pid) return age < 10_000;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}

/**
 * Newest modification time under `file`, directories included (a deleted or renamed file changes its directory's).
 * @param {string} file
 * @returns {number}
 */
function newestChange(file) {
  const stats = statSync(file);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestChange(path.join(file, entry)));
  return newest;
}

/** Why a build is needed, or undefined when the last one is newer than every input. */
function staleness() {
  const stamp = path.join(root, STAMP);
  if (!existsSync(stamp)) return 'no complete build yet';
  const missing = projects.find((project) => !existsSync(path.join(root, project, 'dist')));
  if (missing) return `${missing}/dist is missing`;
  const inputs = [
    'tsconfig.base.json',
    'tsconfig.build.json',
    fileURLToPath(import.meta.url),
    ...projects.flatMap((project) => [
      path.join(project, 'src'),
      path.join(project, 'package.json'),
      path.join(project, 'tsconfig.build.json'),
    ]),
  ];
  const built = statSync(stamp).mtimeMs;
  const changed = inputs.find((input) => newestChange(path.resolve(root, input)) > built);
  return changed ? `${path.relative(root, path.resolve(root, changed))} changed since the last build` : undefined;
}

function build() {
  const began = new Date();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (compiled.status !== 0)
    throw new Error(`tsc -b tsconfig.build.json failed (${compiled.error?.message ?? `exit ${compiled.status ?? compiled.signal}`})`);
  rmSync(path.join(root, ASSETS_TARGET), { recursive: true, force: true });
  cpSync(path.join(root, ASSETS_SOURCE), path.join(root, ASSETS_TARGET), { recursive: true });
  writeFileSync(path.join(root, STAMP), `${began.toISOString()}\n`);
  utimesSync(path.join(root, STAMP), began, began);
}

const ifStale = process.argv.includes('--if-stale');
if (!ifStale || staleness()) {
  const release = lock();
  try {
    // Looked at again under the lock: a build that held it may have just made this one needless.
    const reason = ifStale ? staleness() : 'asked for';
    if (reason) {
      const started = Date.now();
      if (ifStale) process.stderr.write(`build: ${reason}; building…\n`);
      build();
      if (ifStale) process.stderr.write(`build: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } catch (error) {
    process.stderr.write(`build: ${/** @type {Error} */ (error).message}\n`);
    process.exitCode = 1;
  } finally {
    release();
  }
}
