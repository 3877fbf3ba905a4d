import { readFileSync, statSync, mkdtempSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { FsBlobStore, SqliteKVStore } from '@gitfleet/storage';
import { BlockCache, DeltaBaseCache, PackIndexCache, Repository } from '@gitfleet/repository';
import { ZERO_OID, encodePktLine, FLUSH_PKT, DELIM_PKT } from '@gitfleet/git-format';
import { uploadPack } from '../src/index.js';

setTimeout(() => process.exit(0), Number(process.env.DEADLINE_MS ?? 1e9)).unref();
const src = '/work/.mirror/git+git/repo';
const packName = 'pack-5b31da4c48e5198d31c1572301d7159b36759c36';
const dir = mkdtempSync('/tmp/upbench/run-');
const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
const kv = new SqliteKVStore(path.join(dir, 'kv.sqlite'));
const stores = { blobs, kv, cache: new BlockCache({ blockSize: 64 * 1024, maxBytes: 256 * 1024 * 1024 }), indexes: new PackIndexCache({ maxBytes: 256 * 1024 * 1024 }), deltaBases: new DeltaBaseCache({ maxBytes: 96 * 1024 * 1024 }) };
const repo = new Repository({ id: 'bench', owner: 'o', name: 'r', createdAt: '' }, stores);
const packPath = path.join(src, 'objects/pack', packName + '.pack');
let t0 = Date.now();
await repo.objects.addPack(packPath, statSync(packPath).size, readFileSync(path.join(src, 'objects/pack', packName + '.idx')), packName.slice(5));
console.log('addPack ms', Date.now() - t0);
const refs = execFileSync('git', ['-C', src, 'for-each-ref', '--format=%(objectname) %(refname)']).toString().trim().split('\n').map((l) => ({ oid: l.slice(0, 40), name: l.slice(41) }));
await repo.refs.update(refs.map((r) => ({ name: r.name, oldOid: ZERO_OID, newOid: r.oid })), { atomic: true, message: 'x' });
await repo.refs.setHead('refs/heads/master');
const wants = [...new Set(refs.map((r) => r.oid))];
const body = Buffer.concat([encodePktLine('command=fetch\n'), encodePktLine('agent=git/2.39\n'), DELIM_PKT, encodePktLine('ofs-delta\n'), encodePktLine('thin-pack\n'), ...wants.map((w) => encodePktLine(`want ${w}\n`)), encodePktLine('done\n'), FLUSH_PKT]);
for (let round = 0; round < Number(process.argv[2] ?? 1); round++) {
  t0 = Date.now();
  const response = await uploadPack(repo, Readable.from([body]), { version: 2, limits: { maxRequestBytes: 10 << 20, maxPackBytes: 1 << 30, maxObjectSize: 1 << 30 } });
  let bytes = 0;
  const out = round === 0 ? createWriteStream('/tmp/upbench/response.bin') : undefined;
  for await (const chunk of response) { bytes += chunk.length; if (out && !out.write(chunk)) await new Promise((r) => out.once('drain', r)); }
  out?.end();
  const ms = Date.now() - t0;
  console.log(`round ${round}: ${bytes} bytes in ${ms} ms, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
}
await blobs.close(); await kv.close();
