// The benchmark starts servers as `pnpm start` does by reading the start script: what it takes
// from a script, and the scripts it refuses rather than misread.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parseStartScript } from '../scripts/bench/start-command.js';

test('the project’s own start script gives node its options and the allocator default', async () => {
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const command = parseStartScript(manifest.scripts.start);
  assert.deepEqual(command.variables, [{ name: 'MALLOC_ARENA_MAX', value: '1' }]);
  assert.ok(command.nodeOptions.includes('--initial-old-space-size=128'));
});

test('a script without variables, and one with several', () => {
  assert.deepEqual(parseStartScript('node scripts/build.mjs && node --a server/dist/cli.js serve'), {
    variables: [],
    nodeOptions: ['--a'],
  });
  assert.deepEqual(parseStartScript('A=${A:-1} B_2=${B_2:-x/y} node server/dist/cli.js serve').variables, [
    { name: 'A', value: '1' },
    { name: 'B_2', value: 'x/y' },
  ]);
});

test('scripts the benchmark could not run the same way are refused', () => {
  for (const script of [
    'node server/dist/cli.js serve || true',
    'node server/dist/cli.js',
    'A=${B:-1} node server/dist/cli.js serve',
    'A=${A:-$HOME} node server/dist/cli.js serve',
    "A=${A:-'1'} node server/dist/cli.js serve",
    'A=1 node server/dist/cli.js serve',
    'tsx server/src/cli.ts serve',
  ]) {
    assert.throws(() => parseStartScript(script), /start script/, script);
  }
});
