import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobBody } from '../blob-store.js';
import { StoreUnavailable } from '../errors.js';
import { seededRandom } from './seeded-random.js';
import { operationName, type StoreCall, type StoreInterceptor } from './store-interceptor.js';

/**
 * - `error`: the request fails before it reaches the store (connection refused, 5xx);
 * - `timeout`: the store performs the request but its answer never arrives: the caller sees an
 *   error while the request may well have taken effect (the ambiguous outcome every client of a
 *   remote store must survive);
 * - `slow`: the answer comes, late;
 * - `cut`: a body is cut after some of its bytes (a read stream errors, an upload's body fails);
 *   on a request without a stream it is an `error`.
 */
export type FaultKind = 'error' | 'timeout' | 'slow' | 'cut';
export const FAULT_KINDS: readonly FaultKind[] = ['error', 'timeout', 'slow', 'cut'];

export interface FaultInjectorOptions {
  /** Seeds the draws: the same seed and the same sequence of requests give the same faults. */
  seed: number;
  /** Share of requests faulted, from 0 to 1. */
  rate: number;
  /** The kinds drawn from, evenly (default all of FAULT_KINDS). */
  kinds?: readonly FaultKind[];
  /** How late a slow answer comes and how long a timeout waits, in ms (default 5). */
  delayMs?: number;
  /** Which requests may be faulted (default every one). */
  faultable?: (call: StoreCall) => boolean;
}

/** A fault the injector made; `call` is the request it hit. Each kind is a store failing to serve, as a real one would. */
export class InjectedFault extends StoreUnavailable {
  override name = 'InjectedFault';

  constructor(
    readonly kind: FaultKind,
    readonly call: StoreCall,
    message: string,
  ) {
    super(message);
  }
}

/** One fault injected, in request order: what to look at when replaying a seed. */
export interface InjectedFaultRecord {
  /** Ordinal of the request among those the injector saw (from 1). */
  request: number;
  operation: string;
  key: string;
  kind: FaultKind;
}

/**
 * Injects faults into a share of the requests of the stores it intercepts (wrap them with
 * InterceptedBlobStore / InterceptedKVStore). Switch it off with `enabled = false` to see the
 * system recover with the very same stores and caches.
 */
export class FaultInjector implements StoreInterceptor {
  enabled = true;
  readonly injected: InjectedFaultRecord[] = [];
  private readonly random: () => number;
  private readonly kinds: readonly FaultKind[];
  private readonly delayMs: number;
  private requests = 0;
  /** Decisions drawn before the request itself runs (writeBody draws for its putIfAbsent). */
  private readonly decided = new WeakMap<StoreCall, FaultKind | undefined>();

  constructor(private readonly options: FaultInjectorOptions) {
    if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`FaultInjector: rate must be in [0, 1], got ${options.rate}`);
    this.random = seededRandom(options.seed);
    this.kinds = options.kinds ?? FAULT_KINDS;
    if (this.kinds.length === 0) throw new RangeError('FaultInjector: no fault kinds to draw from');
    this.delayMs = options.delayMs ?? 5;
  }

  async call<T>(call: StoreCall, perform: () => Promise<T>): Promise<T> {
    const kind = this.decided.has(call) ? this.decided.get(call) : this.draw(call);
    switch (kind) {
      case undefined:
        return perform();
      case 'slow':
        await sleep(this.delayMs);
        return perform();
      case 'timeout': {
        const [answer] = await Promise.allSettled([perform()]);
        // The answer is lost: a stream in it (getStream) would otherwise hold its file or socket.
        if (answer.status === 'fulfilled' && answer.value instanceof Readable) answer.value.destroy();
        await sleep(this.delayMs);
        throw this.fault(kind, call, `no answer within ${this.delayMs} ms (the request may have taken effect)`);
      }
      case 'cut':
        // A cut body is the store's own failure (writeBody, readStream); a request without one fails.
        if (call.operation === 'getStream' || call.operation === 'putIfAbsent') return perform();
        throw this.fault(kind, call, 'connection cut before the answer');
      case 'error':
        throw this.fault(kind, call, 'refused before reaching the store');
    }
  }

  readStream(call: StoreCall, stream: Readable): Readable {
    if (this.decided.get(call) !== 'cut') return stream;
    return Readable.from(this.cutAfter(stream, Math.floor(this.random() * 64 * 1024), call));
  }

  writeBody(call: StoreCall, body: BlobBody): BlobBody {
    const kind = this.draw(call);
    this.decided.set(call, kind);
    if (kind !== 'cut') return body;
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const open = Buffer.isBuffer(body) ? () => Readable.from([body]) : () => body.open();
    const limit = Math.floor(this.random() * size);
    // No `path`: a store could copy the file and never read the cut stream.
    return { size, open: () => Readable.from(this.cutAfter(open(), limit, call)) };
  }

  private draw(call: StoreCall): FaultKind | undefined {
    this.requests++;
    if (!this.enabled || (this.options.faultable && !this.options.faultable(call))) return undefined;
    if (this.random() >= this.options.rate) return undefined;
    const kind = this.kinds[Math.floor(this.random() * this.kinds.length)];
    this.injected.push({ request: this.requests, operation: operationName(call), key: call.key, kind });
    // getStream's cut happens in readStream, which looks the decision up.
    if (call.operation === 'getStream') this.decided.set(call, kind);
    return kind;
  }

  /** The bytes of `source` up to `limit`, then an error: a body always fails once cut, even a short one. */
  private async *cutAfter(source: Readable, limit: number, call: StoreCall): AsyncGenerator<Buffer> {
    let passed = 0;
    for await (const chunk of source) {
      const bytes = Buffer.from(chunk as Uint8Array);
      if (passed + bytes.length > limit) {
        yield bytes.subarray(0, limit - passed);
        break;
      }
      passed += bytes.length;
      yield bytes;
    }
    source.destroy();
    throw this.fault('cut', call, `body cut after ${limit} bytes`);
  }

  private fault(kind: FaultKind, call: StoreCall, what: string): InjectedFault {
    return new InjectedFault(kind, call, `injected fault (${kind}) in ${operationName(call)} ${call.key}: ${what}`);
  }
}
