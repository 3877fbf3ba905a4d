/**
 * Writes the seed corpus (test/fuzz/corpus/<target>/) from the real git's output on the fuzz
 * history: its pack and idx, its objects, a pushed pack, and requests as git's clients send
 * them. Run it again when a target's input format changes:
 *   node --import tsx test/fuzz/make-corpus.ts
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDelta, DELIM_PKT, encodePktLine, FLUSH_PKT, ZERO_OID } from '@gitfleet/git-format';
import { git, gitText } from '@gitfleet/test-support/git';
import { buildPack } from '@gitfleet/test-support/packs';
import { makeHistory } from './history.js';

const corpusDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');

/** pkt-lines of `lines`, where 'flush' and 'delim' stand for those packets. */
function pkt(lines: readonly string[]): Buffer {
  return Buffer.concat(lines.map((line) => (line === 'flush' ? FLUSH_PKT : line === 'delim' ? DELIM_PKT : encodePktLine(line))));
}

function write(target: string, name: string, ...parts: Uint8Array[]): void {
  mkdirSync(path.join(corpusDir, target), { recursive: true });
  writeFileSync(path.join(corpusDir, target, name), Buffer.concat(parts));
}

function objectBody(dir: string, oid: string): Buffer {
  return git(dir, ['cat-file', gitText(dir, ['cat-file', '-t', oid]), oid]);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'gitfleet-fuzz-corpus-'));
try {
  rmSync(corpusDir, { recursive: true, force: true });
  const history = makeHistory(path.join(scratch, 'history'));
  const { dir, commits, tag } = history;
  const [first, second] = commits;
  const tree = gitText(dir, ['rev-parse', `${second}^{tree}`]);
  const gitmodules = gitText(dir, ['rev-parse', `${second}:.gitmodules`]);
  const pack = readFileSync(history.pack.path);
  const byte = (value: number) => Buffer.of(value);

  // A push: one more commit on main, as `git push` packs it (thin, against what the server has).
  writeFileSync(path.join(dir, 'README'), Buffer.concat([readFileSync(path.join(dir, 'README')), Buffer.from('one more line\n')]));
  git(dir, ['commit', '--quiet', '-am', 'third']);
  const third = gitText(dir, ['rev-parse', 'HEAD']);
  const pushed = git(dir, ['pack-objects', '--stdout', '--thin', '--revs', '--quiet'], `${third}\n^${second}\n`);
  const wholePush = git(dir, ['pack-objects', '--stdout', '--revs', '--quiet'], `${third}\n^${second}\n`);

  const v0Fetch = pkt([`want ${second} multi_ack_detailed no-done side-band-64k thin-pack ofs-delta include-tag agent=git/2\n`, 'flush']);
  const v0Negotiate = pkt([
    `want ${second} multi_ack_detailed side-band-64k ofs-delta\n`,
    `want ${first}\n`,
    'flush',
    `have ${first}\n`,
    'done\n',
  ]);
  const v0Shallow = pkt([
    `want ${second} multi_ack_detailed shallow deepen-since filter\n`,
    `shallow ${first}\n`,
    'deepen 1\n',
    'filter blob:none\n',
    'flush',
  ]);
  const v2Fetch = pkt([
    'command=fetch\n',
    'agent=git/2\n',
    'object-format=sha1\n',
    'delim',
    'thin-pack\n',
    'ofs-delta\n',
    `want ${second}\n`,
    `have ${first}\n`,
    'want-ref refs/heads/topic\n',
    'deepen 1\n',
    'done\n',
    'flush',
  ]);
  const v2LsRefs = pkt([
    'command=ls-refs\n',
    'delim',
    'symrefs\n',
    'peel\n',
    'unborn\n',
    'ref-prefix refs/heads/\n',
    'ref-prefix HEAD\n',
    'flush',
  ]);
  const v2ObjectInfo = pkt(['command=object-info\n', 'delim', 'size\n', `oid ${second}\n`, `oid ${tree}\n`, 'flush']);
  const v2Filter = pkt([
    'command=fetch\n',
    'delim',
    `want ${second}\n`,
    'filter tree:0\n',
    'packfile-uris https\n',
    'sideband-all\n',
    'wait-for-done\n',
    'flush',
  ]);

  write('upload-pack', 'v0-fetch', byte(0), v0Fetch);
  write('upload-pack', 'v0-negotiate', byte(0), v0Negotiate);
  write('upload-pack', 'v0-shallow-filter', byte(0), v0Shallow);
  write('upload-pack', 'v2-fetch', byte(1), v2Fetch);
  write('upload-pack', 'v2-ls-refs', byte(1), v2LsRefs);
  write('upload-pack', 'v2-object-info', byte(1), v2ObjectInfo);
  write('upload-pack', 'v2-filter-uris', byte(1), v2Filter);

  const capabilities = 'report-status report-status-v2 side-band-64k atomic push-options object-format=sha1 agent=git/2';
  write('receive-pack', 'push', pkt([`${second} ${third} refs/heads/main\0${capabilities}\n`, 'flush', 'ci.skip\n', 'flush']), pushed);
  write('receive-pack', 'create-branch', pkt([`${ZERO_OID} ${third} refs/heads/new\0report-status side-band-64k\n`, 'flush']), wholePush);
  write(
    'receive-pack',
    'delete',
    pkt([`${first} ${ZERO_OID} refs/heads/topic\0report-status-v2 quiet\n`, `${tag} ${ZERO_OID} refs/tags/v1\n`, 'flush']),
  );
  write('receive-pack', 'shallow', pkt([`shallow ${first}\n`, `${second} ${third} refs/heads/main\0report-status\n`, 'flush']), pushed);

  write('pkt-line', 'v0-request', byte(0xff), v0Negotiate);
  write('pkt-line', 'v2-request', byte(3), v2Fetch);
  write('pkt-line', 'push-then-pack', byte(0x30), pkt([`${second} ${third} refs/heads/main\0${capabilities}\n`, 'flush']), pushed);
  write('pkt-line', 'specials', byte(0), Buffer.from('000100020000000a\n\n\n\n\n\n'));

  write('index-pack', 'history', pack);
  write('index-pack', 'push', wholePush);
  write('index-pack', 'thin-push', pushed);
  // Thin against the one base the index-pack target's repository holds, the empty blob.
  const emptyBlob = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
  write(
    'index-pack',
    'thin-on-empty-blob',
    buildPack([{ kind: 'ref-delta', baseOid: emptyBlob, delta: createDelta(Buffer.alloc(0), Buffer.from('hello\n')) }]),
  );

  const idxSize = Buffer.alloc(4);
  idxSize.writeUInt32BE(history.pack.size);
  write('idx', 'history', idxSize, history.pack.idx);

  const readme = (oid: string) => git(dir, ['cat-file', 'blob', `${oid}:README`]);
  const [oldReadme, newReadme] = [readme(first), readme(second)];
  const length = Buffer.alloc(2);
  length.writeUInt16BE(oldReadme.length);
  write('delta', 'readme', byte(0), length, oldReadme, createDelta(oldReadme, newReadme));
  write('delta', 'diff-readme', byte(1), length, oldReadme, newReadme);

  const bodies: Array<[string, number, Buffer]> = [
    ['commit', 0, objectBody(dir, second)],
    ['tag', 1, objectBody(dir, tag)],
    ['tree', 2, objectBody(dir, tree)],
  ];
  for (const [name, selector, body] of bodies) {
    write('objects', name, byte(selector), body);
    write('fsck', name, byte(selector), body);
  }
  write('fsck', 'gitmodules', byte(3), objectBody(dir, gitmodules));
  write(
    'fsck',
    'gitmodules-sections',
    byte(3),
    Buffer.from('[core]\n\tbare = false\n[submodule "a/b"]\n\tpath = "x y"\n\turl = ../sibling.git ; comment\n\tupdate = rebase\n'),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
