/**
 * The commit, tag and tree parsers, and the agreements between them: the walkers' quick
 * readers (commitTreeAndParents, forEachTreeEntry) must see what the full parsers see, and
 * what a parser accepts must serialize to an object that parses back the same.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  commitTreeAndParents,
  forEachTreeEntry,
  ObjectParseError,
  parseCommit,
  parseTag,
  parseTree,
  serializeCommit,
  serializeTag,
  serializeTree,
} from '@gitfleet/git-format';
import { OBJECT_HEADER_TOKENS } from '../limits.js';

export const coverage = ['packages/git-format/src/objects.ts', 'packages/git-format/src/lossless-text.ts'];
export const dictionary = [
  ...OBJECT_HEADER_TOKENS,
  'type commit',
  'tag ',
  'gpgsig ',
  'encoding ',
  '100644 ',
  '40000 ',
  '160000 ',
  '120000 ',
  ' +0000',
  ' -0130',
  '\n\n',
  '\n ',
  ' <a@b> ',
  '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
];
export const maxLength = 4096;

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const body = data.subarray(1);
  try {
    const kind = data[0] % 3;
    if (kind === 0) checkCommit(body);
    else if (kind === 1) checkTag(body);
    else checkTree(body);
  } catch (error) {
    if (error instanceof ObjectParseError) return;
    throw error;
  }
}

function checkCommit(body: Buffer): void {
  let quick: ReturnType<typeof commitTreeAndParents> | undefined;
  try {
    quick = commitTreeAndParents(body);
  } catch (error) {
    if (!(error instanceof ObjectParseError)) throw error;
  }
  const commit = parseCommit(body);
  if (quick && (quick.tree !== commit.tree || !isDeepStrictEqual(quick.parents, commit.parents))) {
    throw new Error(
      `commitTreeAndParents read tree ${quick.tree} and ${quick.parents.length} parents, parseCommit ${commit.tree} and ${commit.parents.length}`,
    );
  }
  sameAfterRoundTrip('commit', commit, parseCommit(serializeCommit(commit)));
}

function checkTag(body: Buffer): void {
  const tag = parseTag(body);
  sameAfterRoundTrip('tag', tag, parseTag(serializeTag(tag)));
}

function checkTree(body: Buffer): void {
  const entries = parseTree(body);
  let visited = 0;
  forEachTreeEntry(body, (mode, name, oid) => {
    const entry = entries[visited++];
    if (modeAsGitReadsIt(entry.mode) !== mode || oid !== entry.oid || (name.length === 0) !== (entry.name === '')) {
      throw new Error(`forEachTreeEntry and parseTree disagree on entry ${visited - 1}`);
    }
  });
  if (visited !== entries.length) throw new Error(`forEachTreeEntry saw ${visited} entries, parseTree ${entries.length}`);
  if (entries.every((entry) => entry.name !== '')) {
    const again = serializeTree(entries);
    if (!again.equals(body)) throw new Error('a tree serialized from its parsed entries differs from the tree');
  }
}

/** git reads a tree entry's mode into an unsigned int, so one wider than 32 bits wraps. */
function modeAsGitReadsIt(octal: string): number {
  return Number(BigInt.asUintN(32, BigInt(`0o${octal}`)));
}

function sameAfterRoundTrip(what: string, parsed: unknown, reparsed: unknown): void {
  if (!isDeepStrictEqual(parsed, reparsed)) {
    throw new Error(
      `a ${what} serialized from its parsed form parses differently: ${JSON.stringify(parsed)} became ${JSON.stringify(reparsed)}`,
    );
  }
}
