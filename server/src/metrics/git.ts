import { Counter, Histogram } from 'prom-client';
import { PktLineError } from '@gitfleet/git-format';
import { ProtocolError, type ProtocolVersion, type PushSummary } from '@gitfleet/protocol';
import { httpStatusOf } from '../operations/errors.js';
import { metricsRegistry, secondsSince } from './registry.js';

export type GitService = 'upload-pack' | 'receive-pack';

/**
 * How a git request ended: ok; rejected (a push whose pack or some ref update was refused, told
 * in its report); refused (the request itself, answered with an error status); failed (the
 * server's fault, the response cut off); client-gone (the client left before the end).
 */
export type GitOutcome = 'ok' | 'rejected' | 'refused' | 'failed' | 'client-gone';

const labelNames = ['service', 'protocol', 'outcome'] as const;

const operations = new Counter({
  name: 'gitfleet_git_operations_total',
  help: 'git requests (upload-pack: clones, fetches and v2 ref listings; receive-pack: pushes) by protocol version and outcome',
  labelNames,
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'gitfleet_git_operation_duration_seconds',
  help: 'git requests, from the request being admitted until the response is over',
  labelNames,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
  registers: [metricsRegistry],
});

const bytesSent = new Counter({
  name: 'gitfleet_git_bytes_sent_total',
  help: 'Bytes of git response bodies (packs, progress, reports)',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

const bytesReceived = new Counter({
  name: 'gitfleet_git_bytes_received_total',
  help: 'Bytes of git request bodies read (inflated when gzip-encoded): negotiations, push commands and packs',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

const objectsReceived = new Counter({
  name: 'gitfleet_git_objects_received_total',
  help: 'Objects in pushed packs that were indexed (the bases appended to complete a thin pack not counted)',
  registers: [metricsRegistry],
});

/**
 * One git request being served: it counts its bytes as they go (a number added per chunk, no
 * metric call) and records itself once, when it ends.
 */
export class GitOperation {
  private readonly started = process.hrtime.bigint();
  private sent = 0;
  private reported: GitOutcome = 'ok';
  private ended = false;

  /** `bytesRead` tells how much of the request body has been read. */
  constructor(
    private readonly service: GitService,
    private readonly version: ProtocolVersion,
    private readonly bytesRead: () => number,
  ) {}

  /**
   * `work`, the step before the response begins; its failure ends the request with the status
   * the error handler (app.ts) will answer it with: refused below 500, failed from 500.
   */
  async beforeResponse<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      this.end(error instanceof ProtocolError ? error.status : error instanceof PktLineError ? 400 : (httpStatusOf(error) ?? 500));
      throw error;
    }
  }

  /** Counts a chunk of the response. */
  sending(bytes: number): void {
    this.sent += bytes;
  }

  /** What receive-pack's report said: a push with a refused pack or ref update is "rejected". */
  pushReported(summary: PushSummary): void {
    objectsReceived.inc(summary.objects);
    if (!summary.unpacked || summary.rejected > 0) this.reported = 'rejected';
  }

  /** Records the request, answered with `status` and perhaps cut off; only the first call counts. */
  end(status: number, cutOff?: 'failed' | 'client-gone'): void {
    if (this.ended) return;
    this.ended = true;
    const outcome = cutOff ?? (status >= 500 ? 'failed' : status >= 400 ? 'refused' : this.reported);
    const labels = { service: this.service, protocol: `v${this.version}`, outcome };
    operations.inc(labels);
    duration.observe(labels, secondsSince(this.started));
    bytesSent.inc({ service: this.service }, this.sent);
    bytesReceived.inc({ service: this.service }, this.bytesRead());
  }
}
