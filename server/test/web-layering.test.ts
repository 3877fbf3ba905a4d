import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';

// The web pages and the REST API are two faces of the same operations: what they share lives
// below both (operations/, the packages), so neither is changed by a change to the other.
test('no web page imports from the REST API', async () => {
  const directory = new URL('../src/web/', import.meta.url);
  const files = (await readdir(directory, { recursive: true })).filter((name) => name.endsWith('.ts'));
  assert.ok(files.length > 10, 'the web modules are found');
  const offending: string[] = [];
  for (const name of files) {
    const text = await readFile(new URL(name, directory), 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)) {
      if (/(^|\/)api\//.test(match[1])) offending.push(`${name}: ${match[1]}`);
    }
  }
  assert.deepEqual(offending, []);
});
