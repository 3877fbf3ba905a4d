import { PoolBusy, ResultCache, TaskPool, TaskTimedOut, ownBytes, type TaskPoolOptions } from '@gitfleet/browse';
import { raw, type Html } from './html.js';
import type { LineRun, LinesOutput, RenderOutput, RenderTask } from './render-worker.js';

/** Bytes of rendered HTML kept (two a character), per kind. */
const CODE_CACHE_BYTES = 128 * 1024 * 1024;
const MARKDOWN_CACHE_BYTES = 32 * 1024 * 1024;
const LINES_CACHE_BYTES = 32 * 1024 * 1024;

export interface RenderedCode {
  rows: Html;
  lineCount: number;
}

/**
 * Markdown and highlighted code off the event loop: highlight.js and markdown-it cost seconds
 * on some inputs of a few hundred KiB. Each render is stopped after `timeoutMs` (undefined is
 * returned: the page says so); each blob is rendered once (cache by blob id and rendering).
 */
export class RenderPool {
  private readonly pool: TaskPool<RenderTask, RenderOutput | LinesOutput>;
  private readonly code = new ResultCache<RenderedCode | undefined>(CODE_CACHE_BYTES, (value) => 2 * (value?.rows.text.length ?? 0));
  private readonly markdownCache = new ResultCache<Html | undefined>(MARKDOWN_CACHE_BYTES, (value) => 2 * (value?.text.length ?? 0));
  private readonly linesCache = new ResultCache<string[][] | undefined>(LINES_CACHE_BYTES, (value) => 2 * (value?.flat().reduce((sum, line) => sum + line.length, 0) ?? 0));

  constructor(
    options: TaskPoolOptions,
    private readonly timeoutMs: number,
  ) {
    this.pool = new TaskPool('rendering workers', new URL(import.meta.resolve('./render-worker.js')), options);
  }

  /** A file as numbered rows, highlighted in `language` when given; undefined when it took too long. */
  codeRows(blob: string, text: Buffer, language: string | undefined): Promise<RenderedCode | undefined> {
    return this.code.get(`${blob}:${language ?? ''}`, async () => {
      const output = (await this.run({ kind: 'code', text: ownBytes(text), ...(language ? { language } : {}) })) as RenderOutput | undefined;
      return output && { rows: raw(output.html), lineCount: output.lineCount ?? 0 };
    });
  }

  /**
   * Markdown as HTML, relative links pointing into the repository at `links.ref` from
   * `directory`; undefined when it took too long. `key` names the blob and where it is shown.
   */
  markdown(key: string, source: Buffer, directory: string, links: { owner: string; name: string; ref: string }): Promise<Html | undefined> {
    return this.markdownCache.get(key, async () => {
      const output = (await this.run({ kind: 'markdown', source: ownBytes(source), directory, links })) as RenderOutput | undefined;
      return output && raw(output.html);
    });
  }

  /**
   * Runs of lines highlighted each in its language, e.g. the sides of a diff's hunks; `key`
   * names what they are. Undefined when it took too long or every thread is busy: the caller
   * shows them plain (a busy pool is not remembered, a slow render is).
   */
  async lines(key: string, runs: LineRun[]): Promise<string[][] | undefined> {
    try {
      return await this.linesCache.get(key, async () => ((await this.run({ kind: 'lines', runs })) as LinesOutput | undefined)?.lines);
    } catch (error) {
      if (error instanceof PoolBusy) return undefined;
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
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
