import { operationName, type StoreCall, type StoreInterceptor } from './store-interceptor.js';

/** Counts the requests made to the stores it intercepts, by operation (`blob.get`, `kv.compareAndSwap`). */
export class RequestCounter implements StoreInterceptor {
  private readonly counts = new Map<string, number>();

  call<T>(call: StoreCall, perform: () => Promise<T>): Promise<T> {
    const name = operationName(call);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    return perform();
  }

  /** The counts so far, by operation name in sorted order. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}
