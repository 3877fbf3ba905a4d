import type { ObjectId } from '@gitfleet/git-format';

/** Max-heap of commits by committer time: newest first, as git's revision walk pops them. */
export class DateQueue {
  private readonly oids: ObjectId[] = [];
  private readonly times: number[] = [];

  get size(): number {
    return this.oids.length;
  }

  push(oid: ObjectId, time: number): void {
    const oids = this.oids;
    const times = this.times;
    let i = oids.length;
    oids.push(oid);
    times.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] >= time) break;
      oids[i] = oids[parent];
      times[i] = times[parent];
      i = parent;
    }
    oids[i] = oid;
    times[i] = time;
  }

  /** Time of the newest commit queued (undefined when empty). */
  peekTime(): number | undefined {
    return this.times[0];
  }

  pop(): ObjectId | undefined {
    const oids = this.oids;
    const times = this.times;
    if (oids.length === 0) return undefined;
    const top = oids[0];
    const lastOid = oids.pop()!;
    const lastTime = times.pop()!;
    const n = oids.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && times[right] > times[left] ? right : left;
        if (times[child] <= lastTime) break;
        oids[i] = oids[child];
        times[i] = times[child];
        i = child;
      }
      oids[i] = lastOid;
      times[i] = lastTime;
    }
    return top;
  }
}
