import type { ObjectId } from '@gitfleet/git-format';

/**
 * Commits by committer time, newest first, as git's revision walk pops them; equal times come
 * out in the order they went in, as in git's prio_queue (which is what makes `git log` order
 * reproducible on equal dates). A heap over parallel arrays: walks push millions of commits.
 */
export class DateQueue {
  private readonly oids: ObjectId[] = [];
  private readonly times: number[] = [];
  /** Insertion order, the tie-break for equal times. */
  private readonly seqs: number[] = [];
  private pushed = 0;

  get size(): number {
    return this.oids.length;
  }

  push(oid: ObjectId, time: number): void {
    const { oids, times, seqs } = this;
    const seq = this.pushed++;
    let i = oids.length;
    oids.push(oid);
    times.push(time);
    seqs.push(seq);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(time, seq, times[parent], seqs[parent])) break;
      oids[i] = oids[parent];
      times[i] = times[parent];
      seqs[i] = seqs[parent];
      i = parent;
    }
    oids[i] = oid;
    times[i] = time;
    seqs[i] = seq;
  }

  pop(): ObjectId | undefined {
    const { oids, times, seqs } = this;
    if (oids.length === 0) return undefined;
    const top = oids[0];
    const lastOid = oids.pop()!;
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const n = oids.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(times[right], seqs[right], times[left], seqs[left]) ? right : left;
        if (!before(times[child], seqs[child], lastTime, lastSeq)) break;
        oids[i] = oids[child];
        times[i] = times[child];
        seqs[i] = seqs[child];
        i = child;
      }
      oids[i] = lastOid;
      times[i] = lastTime;
      seqs[i] = lastSeq;
    }
    return top;
  }
}

/** Whether the commit (time, seq) comes out before (otherTime, otherSeq): newer, or as new and queued earlier. */
function before(time: number, seq: number, otherTime: number, otherSeq: number): boolean {
  return time > otherTime || (time === otherTime && seq < otherSeq);
}
