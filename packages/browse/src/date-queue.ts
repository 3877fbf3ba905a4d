import type { ObjectId } from '@gitfleet/git-format';

/**
 * Commits by committer time, newest first; equal times come out in the order they went in,
 * as in git's prio_queue (which is what makes `git log` order reproducible on equal dates).
 */
export class DateQueue {
  private readonly heap: Array<{ oid: ObjectId; time: number; seq: number }> = [];
  private pushed = 0;

  get size(): number {
    return this.heap.length;
  }

  push(oid: ObjectId, time: number): void {
    const heap = this.heap;
    const item = { oid, time, seq: this.pushed++ };
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
  }

  pop(): ObjectId | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(heap[right], heap[left]) ? right : left;
        if (!before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top.oid;
  }
}

function before(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time > b.time || (a.time === b.time && a.seq < b.seq);
}
