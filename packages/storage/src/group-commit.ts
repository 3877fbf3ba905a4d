/**
 * One durable step (an fsync) shared between the callers that need it: a caller needs a run that
 * starts after it asks, since one already running may have missed what it wrote. Callers that ask
 * while one runs share the next, so a burst of writers costs two runs, not one each.
 */
export class GroupCommit {
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(private readonly run: () => Promise<void>) {}

  /** Resolves once a run that started after this call has succeeded; rejects with its failure. */
  request(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  /** No run under way or waiting. */
  get idle(): boolean {
    return this.running === undefined && this.next === undefined;
  }

  /** Resolves once the runs under way and waiting have ended, however they ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([this.running, this.next]);
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const running = this.run().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }
}
