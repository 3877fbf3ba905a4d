import path from 'node:path';
import { cachedRepository, mulberry32, textLine, type Emitter } from './generate.js';
import { DEFAULT_BRANCH } from './servers.js';

/** The shape of the pushed history; changing it changes PUSHES_VERSION so the cache is rebuilt. */
const SHAPE = {
  files: 300,
  minLines: 20,
  extraLines: 60,
  maxFilesPerCommit: 3,
} as const;
const PUSHES_VERSION = 1;

/**
 * A history of `commits` commits on main, each meant to be pushed on its own: the first adds
 * a small source tree, each later one edits a few of its files, as a day of ordinary pushes
 * does. Cached in benchDir per commit count (deterministic: a fixed seed).
 */
export function pushesRepository(benchDir: string, commits: number): Promise<string> {
  return cachedRepository(path.join(benchDir, `pushes-v${PUSHES_VERSION}-${commits}.git`), (emit) => writePushes(emit, commits), {
    repack: false,
  });
}

async function writePushes(emit: Emitter, commits: number): Promise<void> {
  const random = mulberry32(0x9054);
  const contents = Array.from({ length: SHAPE.files }, () =>
    Array.from({ length: SHAPE.minLines + Math.floor(random() * SHAPE.extraLines) }, () => textLine(random)),
  );
  const file = (i: number) => `src/part-${Math.floor(i / 30)}/file-${i}.txt`;
  const text = (i: number) => contents[i].join('\n') + '\n';
  const ref = `refs/heads/${DEFAULT_BRANCH}`;
  let tip = await emit.commit(
    ref,
    undefined,
    'initial import\n',
    contents.map((_, i) => [file(i), text(i)]),
  );
  for (let c = 1; c < commits; c++) {
    const changes: Array<[string, string]> = [];
    const touched = 1 + Math.floor(random() * SHAPE.maxFilesPerCommit);
    for (let t = 0; t < touched; t++) {
      const i = Math.floor(random() * SHAPE.files);
      const lines = contents[i];
      lines[Math.floor(random() * lines.length)] = textLine(random);
      lines.push(textLine(random));
      changes.push([file(i), text(i)]);
    }
    tip = await emit.commit(ref, tip, `push ${c}: ${textLine(random)}\n`, changes);
  }
}
