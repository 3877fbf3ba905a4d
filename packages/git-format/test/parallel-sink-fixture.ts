/** The object sink of the parallel indexing tests: loaded by each helper thread, it records what it was given. */
import { sha1Object } from '@gitfleet/test-support/packs';
import type { ObjectType } from '../src/oid.js';
import { ObjectRejected, type ObjectSink } from '../src/pack/parallel/object-sink.js';

export interface FixtureSinkInit {
  /** Objects whose arrival the sink refuses, as a caller's fsck would. */
  reject?: string[];
}

export function createObjectSink(init: unknown): ObjectSink {
  const { reject } = init as FixtureSinkInit;
  const seen: [string, ObjectType][] = [];
  return {
    onObject(oid, type, data) {
      if (sha1Object(type, data) !== oid) throw new Error(`the content given for ${oid} does not hash to it`);
      if (reject?.includes(oid)) throw new ObjectRejected(`refused ${oid}`);
      seen.push([oid, type]);
    },
    finish: () => seen,
  };
}
