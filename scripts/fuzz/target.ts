/**
 * A fuzz target: a module exporting `fuzz(data)`, which throws only for a bug. Each target
 * catches its module's own typed errors for bad input itself (it knows which they are); any
 * other exception, a hang or memory out of proportion to the input is a finding.
 */
export interface FuzzTarget {
  fuzz(data: Buffer): void | Promise<void>;
  /** Path fragments of the source files whose coverage guides the fuzzer (e.g. "packages/git-format/src/pkt-line.ts"). */
  coverage: readonly string[];
  /** Tokens the mutations insert: magic numbers, keywords, lengths. */
  dictionary: readonly Buffer[];
  maxLength: number;
}

interface TargetModule {
  fuzz?: unknown;
  coverage?: unknown;
  dictionary?: unknown;
  maxLength?: unknown;
}

const DEFAULT_MAX_LENGTH = 4096;

/** Loads the target module at `url` (its exports checked). */
export async function loadTarget(url: string): Promise<FuzzTarget> {
  const module = (await import(url)) as TargetModule;
  if (typeof module.fuzz !== 'function') throw new Error(`fuzz target ${url} exports no fuzz(data) function`);
  if (!Array.isArray(module.coverage) || module.coverage.length === 0) throw new Error(`fuzz target ${url} exports no coverage paths`);
  const dictionary = Array.isArray(module.dictionary) ? module.dictionary : [];
  return {
    fuzz: module.fuzz as FuzzTarget['fuzz'],
    coverage: module.coverage.map(String),
    dictionary: dictionary.map((token: unknown) =>
      typeof token === 'string' ? Buffer.from(token, 'latin1') : Buffer.from(token as Uint8Array),
    ),
    maxLength: typeof module.maxLength === 'number' ? module.maxLength : DEFAULT_MAX_LENGTH,
  };
}
