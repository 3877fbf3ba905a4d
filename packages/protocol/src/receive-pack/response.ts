import { FLUSH_PKT, SIDEBAND_KEEPALIVE, SidebandChannel, encodePktLine, encodeSideband } from '@gitfleet/git-format';

/**
 * An async stream of response chunks fed by a producer that runs concurrently (progress is
 * written while the pack is indexed). Chunks are small (progress lines, the report).
 */
export class ResponseQueue implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  /** Counts pushes, so that a keepalive can tell whether anything was said lately. */
  pushes = 0;
  private wake?: () => void;
  private ended = false;
  private failure?: { error: unknown };

  push(...chunks: Buffer[]): void {
    if (this.ended) return;
    this.pushes++;
    this.chunks.push(...chunks);
    this.notify();
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Writes receive-pack's response: messages on side-band 2 (the client prints them as
 * "remote: …"), the report on band 1, fatal errors on band 3 — or, without side-band, only the
 * report, since git has no other place for messages then.
 */
export class ResponseWriter {
  private keepAliveTimer?: NodeJS.Timeout;

  constructor(
    private readonly queue: ResponseQueue,
    private readonly sideband: boolean,
    private readonly quiet: boolean,
  ) {}

  /** Progress text exactly as given (it carries its own "\r" or "\n"). */
  progress(text: string): void {
    if (!this.quiet) this.band(SidebandChannel.Progress, text);
  }

  error(message: string): void {
    this.band(SidebandChannel.Progress, `error: ${message}\n`);
  }

  warning(message: string): void {
    this.band(SidebandChannel.Progress, `warning: ${message}\n`);
  }

  /** Report-status lines, each a pkt-line, then a flush; on band 1 when side-band is on. */
  report(lines: readonly string[]): void {
    const packets = Buffer.concat([...lines.map((line) => encodePktLine(`${line}\n`)), FLUSH_PKT]);
    this.queue.push(this.sideband ? encodeSideband(SidebandChannel.Data, packets) : packets);
  }

  /** A failure after which nothing more is said; false when side-band is off and it cannot be told. */
  fatal(message: string): boolean {
    if (!this.sideband) return false;
    this.band(SidebandChannel.Error, `${message}\n`);
    return true;
  }

  /**
   * While the pack is indexed and checked a large push can be silent for minutes; like git's
   * receive.keepAlive, an empty band-1 packet every `intervalMs` of silence keeps proxies and
   * the client from giving up. Started once the request has been read whole: the response
   * should not begin while the client is still sending.
   */
  startKeepAlive(intervalMs: number): void {
    if (!this.sideband || this.keepAliveTimer) return;
    let seen = this.queue.pushes;
    this.keepAliveTimer = setInterval(() => {
      if (this.queue.pushes === seen) this.queue.push(SIDEBAND_KEEPALIVE);
      seen = this.queue.pushes;
    }, intervalMs);
    this.keepAliveTimer.unref();
  }

  stopKeepAlive(): void {
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  /** The flush that closes a side-band response. */
  finish(): void {
    if (this.sideband) this.queue.push(FLUSH_PKT);
  }

  private band(channel: SidebandChannel, text: string): void {
    if (this.sideband) this.queue.push(encodeSideband(channel, Buffer.from(text, 'utf8')));
  }
}
