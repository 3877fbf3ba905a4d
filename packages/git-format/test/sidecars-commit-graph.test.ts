import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { git, gitStatus } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { CommitGraph, writeCommitGraph, type CommitGraphInput } from '../src/sidecars/commit-graph.js';
import { CorruptSidecarError } from '../src/sidecars/errors.js';
import { buildSidecarRepo, commitsByGit, copyRepo, FAR_FUTURE, replaceFile, resealed } from './sidecar-fixtures.js';

const dir = tempDir({ after }, 'sidecars-commit-graph');
let repo: string;
let commits: CommitGraphInput[];
let gitGraph: Buffer;

before(() => {
  repo = buildSidecarRepo(dir);
  git(repo, ['commit-graph', 'write', '--reachable']);
  gitGraph = readFileSync(graphPath(repo));
  commits = commitsByGit(repo);
});

function graphPath(repository: string): string {
  return path.join(repository, 'objects', 'info', 'commit-graph');
}

/** Topological levels by their definition, independently of the writer: longest path to a root, plus one. */
function levelsByDefinition(all: readonly CommitGraphInput[]): Map<string, number> {
  const byOid = new Map(all.map((commit) => [commit.oid, commit]));
  const levels = new Map<string, number>();
  // git log lists children before parents, so the reverse order sees parents first.
  const ordered = gitLogTopoOrder();
  for (const oid of ordered) {
    const commit = byOid.get(oid);
    assert.ok(commit);
    levels.set(oid, 1 + Math.max(0, ...commit.parents.map((parent) => levels.get(parent) ?? assert.fail(`parent ${parent} before child`))));
  }
  return levels;
}

function gitLogTopoOrder(): string[] {
  return git(repo, ['rev-list', '--all', '--topo-order', '--reverse']).toString().trim().split('\n');
}

function installGraph(bytes: Buffer, name: string): string {
  const copy = copyRepo(repo, dir, name);
  replaceFile(graphPath(copy), bytes);
  return copy;
}

describe('CommitGraph reading the commit-graph git wrote', () => {
  test('every commit has the tree, parents and commit time git log reports, and levels by definition', () => {
    const graph = CommitGraph.parse(gitGraph);
    assert.equal(graph.commitCount, commits.length);
    const levels = levelsByDefinition(commits);
    for (const commit of commits) {
      const entry = graph.lookup(commit.oid);
      assert.ok(entry, `${commit.oid} is in the graph`);
      assert.equal(entry.tree, commit.tree);
      assert.deepEqual(entry.parents, commit.parents);
      assert.equal(entry.commitTime, commit.commitTime);
      assert.equal(entry.generation, levels.get(commit.oid));
      assert.ok(entry.correctedCommitDate !== undefined && entry.correctedCommitDate >= commit.commitTime);
      for (const parent of entry.parentPositions) {
        assert.ok(entry.correctedCommitDate > (graph.entryAt(parent).correctedCommitDate ?? Infinity));
      }
    }
    assert.ok(
      commits.some((commit) => commit.parents.length === 4),
      'the fixture has an octopus merge',
    );
    assert.ok(
      commits.some((commit) => commit.commitTime === FAR_FUTURE),
      'the fixture has a date past 32 bits',
    );
    const dated1970 = commits.find((commit) => commit.commitTime === 1);
    assert.ok(dated1970 && gitGraph.includes('GDO2'), 'a corrected-date offset past 31 bits, in the overflow chunk');
    assert.equal(graph.lookup(dated1970.oid)?.correctedCommitDate, FAR_FUTURE + 1);
    assert.equal(graph.lookup('0'.repeat(40)), undefined);
    assert.equal(graph.lookup('not an id'), undefined);
  });
});

describe('writeCommitGraph judged by git', () => {
  test('with corrected commit dates it writes the very bytes git wrote, which git commit-graph verify accepts', () => {
    const mine = writeCommitGraph([...commits].reverse());
    assert.ok(mine.equals(gitGraph), 'same bytes as git commit-graph write --reachable');
    const copy = installGraph(mine, 'v2.git');
    const verdict = gitStatus(copy, ['commit-graph', 'verify']);
    assert.equal(verdict.status, 0, verdict.stderr);
  });

  test('with topological levels only (no GDA2) git commit-graph verify accepts it and git log uses it', () => {
    const mine = writeCommitGraph(commits, { generationV2: false });
    const graph = CommitGraph.parse(mine);
    assert.equal(graph.lookup(commits[0].oid)?.correctedCommitDate, undefined);
    const copy = installGraph(mine, 'v1.git');
    const verdict = gitStatus(copy, ['commit-graph', 'verify']);
    assert.equal(verdict.status, 0, verdict.stderr);
    const withGraph = git(copy, ['-c', 'core.commitGraph=true', 'log', '--all', '--topo-order', '--format=%H %P']).toString();
    const without = git(copy, ['-c', 'core.commitGraph=false', 'log', '--all', '--topo-order', '--format=%H %P']).toString();
    assert.equal(withGraph, without);
  });

  test('git commit-graph verify catches a graph that lies, so the checks above can fail', () => {
    const lying = commits.map((commit, i) => (i === 3 ? { ...commit, commitTime: commit.commitTime + 1 } : commit));
    const copy = installGraph(writeCommitGraph(lying), 'lying.git');
    const verdict = gitStatus(copy, ['commit-graph', 'verify']);
    assert.notEqual(verdict.status, 0);
    assert.match(verdict.stderr, /commit date/);
  });

  test('a chain of 100,000 commits gets levels 1..100,000 without recursion', () => {
    const chain: CommitGraphInput[] = [];
    const tree = 'ab'.repeat(20);
    for (let i = 0; i < 100_000; i++) {
      chain.push({ oid: fakeOid(i), tree, parents: i === 0 ? [] : [fakeOid(i - 1)], commitTime: 1_000_000 });
    }
    const graph = CommitGraph.parse(writeCommitGraph(chain));
    assert.equal(graph.lookup(fakeOid(99_999))?.generation, 100_000);
    assert.equal(graph.lookup(fakeOid(99_999))?.correctedCommitDate, 1_000_000 + 99_999);
    assert.deepEqual(graph.lookup(fakeOid(5))?.parents, [fakeOid(4)]);
  });

  test('refuses inputs it cannot represent', () => {
    const root = { oid: fakeOid(1), tree: fakeOid(2), parents: [], commitTime: 0 };
    assert.throws(() => writeCommitGraph([{ ...root, commitTime: 2 ** 34 }]), RangeError);
    assert.throws(() => writeCommitGraph([{ ...root, commitTime: -1 }]), RangeError);
    assert.throws(() => writeCommitGraph([{ ...root, parents: [fakeOid(3)] }]), /outside the graph/);
    assert.throws(() => writeCommitGraph([root, root]), /twice/);
    assert.throws(
      () =>
        writeCommitGraph([
          { ...root, parents: [fakeOid(3)] },
          { ...root, oid: fakeOid(3), parents: [fakeOid(1)] },
        ]),
      /cycle/,
    );
  });
});

function fakeOid(i: number): string {
  return createHash('sha1').update(String(i)).digest('hex');
}

describe('CommitGraph refusing corrupt files', () => {
  const edited = (edit: (bytes: Buffer) => void): Buffer => resealed(gitGraph, edit);
  const tocEntry = (bytes: Buffer, id: string): number => {
    for (let at = 8; ; at += 12) {
      const name = bytes.toString('latin1', at, at + 4);
      if (name === id) return at;
      if (bytes.readUInt32BE(at) === 0) throw new Error(`no chunk ${id}`);
    }
  };
  const chunkStart = (bytes: Buffer, id: string): number => Number(bytes.readBigUInt64BE(tocEntry(bytes, id) + 4));

  const cases: [string, () => Buffer, RegExp][] = [
    ['a flipped byte', () => Buffer.from(gitGraph).fill(0xff, 2000, 2001), /checksum mismatch/],
    ['a truncated file', () => gitGraph.subarray(0, 30), /too short|does not fit/],
    ['a bad signature', () => edited((b) => b.write('XGPH', 0, 'latin1')), /signature/],
    ['a chunk offset past the end', () => edited((b) => b.writeBigUInt64BE(BigInt(b.length), tocEntry(b, 'CDAT') + 4)), /spans bytes/],
    ['a missing commit data chunk', () => edited((b) => b.write('XDAT', tocEntry(b, 'CDAT'), 'latin1')), /missing chunk CDAT/],
    ['a decreasing fanout', () => edited((b) => b.writeUInt32BE(0, chunkStart(b, 'OIDF') + 4 * 254)), /fanout/],
    [
      'a repeated id',
      () => edited((b) => b.copy(b, chunkStart(b, 'OIDL') + 20, chunkStart(b, 'OIDL') + 40, chunkStart(b, 'OIDL') + 60)),
      /out of order/,
    ],
    ['a split-graph base count', () => edited((b) => (b[7] = 1)), /base graphs/],
  ];
  for (const [name, bytes, message] of cases) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => CommitGraph.parse(bytes()),
        (error: unknown) => error instanceof CorruptSidecarError && message.test(error.message),
      );
    });
  }

  test('refuses a parent position outside the graph when the commit is read', () => {
    const graph = CommitGraph.parse(
      edited((b) => {
        b.writeUInt32BE(1_000_000, chunkStart(b, 'CDAT') + 20);
      }),
    );
    assert.throws(
      () => graph.entryAt(0),
      (error: unknown) => error instanceof CorruptSidecarError && /parent position 1000000/.test(error.message),
    );
  });

  test('refuses an octopus whose parents run past the EDGE chunk', () => {
    const graph = CommitGraph.parse(
      edited((b) => {
        const edges = chunkStart(b, 'EDGE');
        const end = Number(b.readBigUInt64BE(tocEntry(b, 'EDGE') + 16));
        for (let at = edges; at < end; at += 4) b.writeUInt32BE(b.readUInt32BE(at) & 0x7fffffff, at);
      }),
    );
    const octopus = commits.find((commit) => commit.parents.length === 4);
    assert.ok(octopus);
    assert.throws(
      () => graph.lookup(octopus.oid),
      (error: unknown) => error instanceof CorruptSidecarError && /EDGE/.test(error.message),
    );
  });
});
