/**
 * One status line on a terminal, redrawn in place (at most every `intervalMs`); on a
 * non-terminal (a log file, a pipe), a plain line at most every `logIntervalMs` instead of
 * a flood of redraws.
 */
export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly options: { intervalMs?: number; logIntervalMs?: number } = {},
  ) {}

  update(text: string): void {
    const now = Date.now();
    const interval = this.stream.isTTY ? (this.options.intervalMs ?? 100) : (this.options.logIntervalMs ?? 5_000);
    if (now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.write(text);
  }

  /** Writes the final state and ends the line. */
  done(text: string): void {
    this.write(text);
    if (this.stream.isTTY) this.stream.write('\n');
    this.drawn = false;
  }

  private write(text: string): void {
    if (this.stream.isTTY) {
      // Back to the line's start, the text, then erase what a longer previous text left.
      this.stream.write(`\r${text}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends a line left open (before other output goes to the terminal). */
  interrupt(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
