import { createHash } from 'node:crypto';
import { PoolBusy, ResultCache, TaskPool, TaskTimedOut, ownBytes, type PoolStats, type TaskPoolOptions } from '@gitfleet/browse';
import type { CacheStats } from '@gitfleet/git-format';
import { raw, type Html } from './html.js';
import type { LineRun, LinesOutput, RenderOutput, RenderTask } from './render-worker.js';

/** Bytes of rendered HTML kept (two a character), per kind. */
const CODE_CACHE_BYTES = 128 * 1024 * 1024;
const MARKDOWN_CACHE_BYTES = 32 * 1024 * 1024;
const LINES_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Kept in place of a render that took too long, so that the next view of the same input is
 * answered at once rather than spending the whole time budget again. ResultCache keeps no
 * undefined (that also means "given up"), hence a value; a busy pool is never kept.
 */
const TIMED_OUT = Symbol('render timed out');
type Kept<T> = T | typeof TIMED_OUT;
/** What a kept "took too long" costs in the cache's byte count. */
const TIMED_OUT_BYTES = 64;

function keptBytes<T>(value: Kept<T>, sizeOf: (value: T) => number): number {
  return value === TIMED_OUT ? TIMED_OUT_BYTES : sizeOf(value);
}

export interface RenderedCode {
  rows: Html;
  lineCount: number;
}

/**
 * Markdown and highlighted code off the event loop: highlight.js and markdown-it cost seconds
 * on some inputs of a few hundred KiB. Each render is stopped after `timeoutMs` (undefined is
 * returned: the page says so); each input is rendered once, a render that took too long
 * included (cache by blob id and rendering, or by the lines themselves).
 */
export class RenderPool {
  private readonly pool: TaskPool<RenderTask, RenderOutput | LinesOutput>;
  private readonly code = new ResultCache<Kept<RenderedCode>>(CODE_CACHE_BYTES, (value) =>
    keptBytes(value, (code) => 2 * code.rows.text.length),
  );
  private readonly markdownCache = new ResultCache<Kept<Html>>(MARKDOWN_CACHE_BYTES, (value) =>
    keptBytes(value, (markdown) => 2 * markdown.text.length),
  );
  private readonly linesCache = new ResultCache<Kept<string[][]>>(LINES_CACHE_BYTES, (value) =>
    keptBytes(value, (lines) => 2 * lines.flat().reduce((sum, line) => sum + line.length, 0)),
  );

  constructor(
    options: TaskPoolOptions,
    private readonly timeoutMs: number,
  ) {
    this.pool = new TaskPool('rendering workers', new URL(import.meta.resolve('./render-worker.js')), options);
  }

  /** A file as numbered rows, highlighted in `language` when given; undefined when it took too long. */
  codeRows(blob: string, text: Buffer, language: string | undefined): Promise<RenderedCode | undefined> {
    return this.kept(this.code, `${blob}:${language ?? ''}`, async () => {
      const output = (await this.run({ kind: 'code', text: ownBytes(text), ...(language ? { language } : {}) })) as
        RenderOutput | undefined;
      return output && { rows: raw(output.html), lineCount: output.lineCount ?? 0 };
    });
  }

  /**
   * Markdown as HTML, relative links pointing into the repository at `links.ref` from
   * `directory`; undefined when it took too long. `key` names the blob and where it is shown.
   */
  markdown(key: string, source: Buffer, directory: string, links: { owner: string; name: string; ref: string }): Promise<Html | undefined> {
    return this.kept(this.markdownCache, key, async () => {
      const output = (await this.run({ kind: 'markdown', source: ownBytes(source), directory, links })) as RenderOutput | undefined;
      return output && raw(output.html);
    });
  }

  /**
   * Runs of lines highlighted each in its language, e.g. the sides of a diff's hunks, cached by
   * the runs themselves: the same commit's diff may hold other lines from one page to the next
   * (a diff cut short by its time budget). Undefined when it took too long or every thread is
   * busy: the caller shows them plain (a busy pool is not remembered, a slow render is).
   */
  async lines(runs: LineRun[]): Promise<string[][] | undefined> {
    try {
      return await this.kept(
        this.linesCache,
        linesKey(runs),
        async () => ((await this.run({ kind: 'lines', runs })) as LinesOutput | undefined)?.lines,
      );
    } catch (error) {
      if (error instanceof PoolBusy) return undefined;
      throw error;
    }
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  /** The caches of rendered output, by kind (read by monitoring). */
  get caches(): Record<'code' | 'markdown' | 'lines', { stats(): CacheStats }> {
    return { code: this.code, markdown: this.markdownCache, lines: this.linesCache };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** `render` through `cache`, a render that took too long kept as such; undefined for it. */
  private async kept<T>(cache: ResultCache<Kept<T>>, key: string, render: () => Promise<T | undefined>): Promise<T | undefined> {
    const value = await cache.get(key, async () => (await render()) ?? TIMED_OUT);
    return value === TIMED_OUT ? undefined : value;
  }

  private async run(task: RenderTask): Promise<RenderOutput | LinesOutput | undefined> {
    try {
      return await this.pool.run(task, this.timeoutMs);
    } catch (error) {
      if (error instanceof TaskTimedOut) return undefined;
      throw error;
    }
  }
}

/** Names runs of lines by their languages and text: a length-prefixed encoding, so no two lists share one. */
function linesKey(runs: LineRun[]): string {
  const hash = createHash('sha256');
  for (const run of runs) {
    hash.update(`${run.language.length}:${run.language}${run.lines.length}:`);
    for (const line of run.lines) hash.update(`${line.length}:${line}`);
  }
  return `lines:${hash.digest('hex')}`;
}
