/**
 * Branch filters (Gitea's `branch_filter`): globs over branch names.
 *
 * Syntax: `*` any characters but `/`; `**` any characters, `/` included, and when it is a whole
 * path segment also no segment at all (`release/**` matches `release` too, and `a/**` followed
 * by `/b` matches `a/b`); `?` one character but `/`; `[abc]`, `[a-z]`, `[!a-z]` or `[^a-z]` one character (never
 * `/`) in or outside the set; `{main,release/*}` one of the alternatives, which may nest; `\x` the
 * character x; a leading `!` matches the branches the rest does not. Extglob syntax (`(`, `)`,
 * `|`) and POSIX classes are refused rather than read differently from what was meant.
 *
 * A filter compiles to a small automaton (Thompson's construction) whose states are simulated
 * all at once over the name: matching visits at most (name length + 1) × (program size) states,
 * and the program is linear in the filter's length (alternatives are not expanded). Nothing
 * backtracks, so no filter and branch name can hold the event loop.
 */

export interface BranchFilterLimits {
  /** Characters of a filter. */
  maxLength: number;
  /** `*`, `**`, `?`, `[…]` and `{…}` of a filter, together. */
  maxWildcards: number;
}

/** A filter that cannot be saved: its syntax, its length or its number of wildcards. */
export class BranchFilterError extends Error {
  override name = 'BranchFilterError';
}

/** Work done by one match, for callers that account for it. */
export interface MatchStats {
  /** Automaton states visited. */
  steps: number;
}

type CharTest = (char: string) => boolean;

type Node =
  /** `literal` is set for a plain character (a `/` before a final `**` needs recognising). */
  | { kind: 'char'; test: CharTest; literal?: string }
  /** Any run of characters the test accepts (`*`: not `/`; `**`: any). */
  | { kind: 'repeat'; test: CharTest }
  | { kind: 'optional'; body: Node[] }
  | { kind: 'alternatives'; options: Node[][] };

type Instruction =
  { op: 'char'; test: CharTest } | { op: 'split'; first: number; second: number } | { op: 'jump'; to: number } | { op: 'match' };

const notSlash: CharTest = (char) => char !== '/';
const anything: CharTest = () => true;
const literal = (expected: string): Node => ({ kind: 'char', test: (char) => char === expected, literal: expected });

/** A filter compiled once, matched against any number of branch names. */
export class BranchFilter {
  /** Instructions of the automaton: the bound on the work per character of a name. */
  readonly size: number;

  private constructor(
    private readonly program: readonly Instruction[],
    private readonly negated: boolean,
  ) {
    this.size = program.length;
  }

  /** Parses `filter` (syntax only: limits are checked by validateBranchFilter). */
  static compile(filter: string): BranchFilter {
    const negated = filter.startsWith('!');
    const nodes = new Parser(negated ? filter.slice(1) : filter).parse();
    const program: Instruction[] = [];
    emit(nodes, program);
    program.push({ op: 'match' });
    return new BranchFilter(program, negated);
  }

  /** True when the branch name (without refs/heads/) matches. */
  matches(name: string, stats?: MatchStats): boolean {
    const outcome = this.matchWithin(name, Infinity);
    if (stats) stats.steps += outcome.steps;
    return outcome.matched!;
  }

  /**
   * Like `matches`, but gives up once `maxSteps` states have been visited: `matched` is then
   * undefined. Lets a caller bound the work of many matches together.
   */
  matchWithin(name: string, maxSteps: number): { matched: boolean | undefined; steps: number } {
    const program = this.program;
    // A state is added once per step: `seen[pc] === step` marks it.
    const seen = new Int32Array(program.length).fill(-1);
    let steps = 0;
    let step = 0;
    let current: number[] = [];
    const add = (list: number[], start: number) => {
      const pending = [start];
      while (pending.length > 0) {
        const pc = pending.pop()!;
        if (seen[pc] === step) continue;
        seen[pc] = step;
        steps++;
        const instruction = program[pc];
        if (instruction.op === 'split') pending.push(instruction.second, instruction.first);
        else if (instruction.op === 'jump') pending.push(instruction.to);
        else list.push(pc);
      }
    };
    add(current, 0);
    // UTF-16 code units, as the filter is read: `?` is one of them.
    for (let index = 0; index < name.length; index++) {
      // Checked per character: one character costs at most twice the program's size.
      if (steps >= maxSteps) return { matched: undefined, steps };
      const char = name[index];
      step++;
      const next: number[] = [];
      for (const pc of current) {
        const instruction = program[pc];
        steps++;
        if (instruction.op === 'char' && instruction.test(char)) add(next, pc + 1);
      }
      current = next;
      if (current.length === 0) break;
    }
    const matched = current.some((pc) => program[pc].op === 'match');
    return { matched: matched !== this.negated, steps };
  }
}

/** Refuses a filter that is malformed, longer than the limits allow or has too many wildcards. */
export function validateBranchFilter(filter: string, limits: BranchFilterLimits): void {
  if (filter.length > limits.maxLength)
    throw new BranchFilterError(`is ${filter.length} characters long; at most ${limits.maxLength} are allowed`);
  const wildcards = countWildcards(filter);
  if (wildcards > limits.maxWildcards) {
    throw new BranchFilterError(`has ${wildcards} wildcards (*, **, ?, […], {…}); at most ${limits.maxWildcards} are allowed`);
  }
  BranchFilter.compile(filter);
}

/** A stored filter ready to match: every branch passes, none does (it does not parse), or the compiled filter decides. */
export type StoredBranchFilter = 'every' | 'none' | BranchFilter;

/**
 * Gitea's rule: empty or `*` lets every branch through; a stored filter that does not parse
 * lets none through (filters are validated when saved; this guards older or hand-edited data).
 */
export function compileStoredFilter(filter: string): StoredBranchFilter {
  if (filter === '' || filter === '*') return 'every';
  try {
    return BranchFilter.compile(filter);
  } catch (error) {
    if (error instanceof BranchFilterError) return 'none';
    throw error;
  }
}

/** Filters apply to branches only: tags and other refs always pass. */
export function isBranchRef(ref: string): boolean {
  return ref.startsWith('refs/heads/');
}

/**
 * One filter against one ref, compiled on the spot; a push's expansion decides its filters
 * together under one budget instead (BranchFilterDecisions).
 */
export function branchFilterMatches(filter: string, ref: string, stats?: MatchStats): boolean {
  if (!isBranchRef(ref)) return true;
  const compiled = compileStoredFilter(filter);
  if (typeof compiled === 'string') return compiled === 'every';
  return compiled.matches(ref.slice('refs/heads/'.length), stats);
}

function countWildcards(filter: string): number {
  let count = 0;
  for (let i = 0; i < filter.length; i++) {
    const char = filter[i];
    if (char === '\\') i++;
    else if (char === '*') {
      count++;
      while (filter[i + 1] === '*') i++;
    } else if (char === '?' || char === '[' || char === '{') count++;
  }
  return count;
}

/** Thompson's construction: every node becomes instructions ending where the next one starts. */
function emit(nodes: readonly Node[], program: Instruction[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'char':
        program.push({ op: 'char', test: node.test });
        break;
      case 'repeat': {
        const split = program.length;
        program.push({ op: 'split', first: split + 1, second: -1 });
        program.push({ op: 'char', test: node.test });
        program.push({ op: 'jump', to: split });
        program[split] = { op: 'split', first: split + 1, second: program.length };
        break;
      }
      case 'optional': {
        const split = program.length;
        program.push({ op: 'split', first: split + 1, second: -1 });
        emit(node.body, program);
        program[split] = { op: 'split', first: split + 1, second: program.length };
        break;
      }
      case 'alternatives': {
        const jumps: number[] = [];
        node.options.forEach((option, index) => {
          const last = index === node.options.length - 1;
          const split = program.length;
          if (!last) program.push({ op: 'split', first: split + 1, second: -1 });
          emit(option, program);
          if (!last) {
            jumps.push(program.length);
            program.push({ op: 'jump', to: -1 });
            program[split] = { op: 'split', first: split + 1, second: program.length };
          }
        });
        for (const jump of jumps) program[jump] = { op: 'jump', to: program.length };
        break;
      }
    }
  }
}

/** A recursive-descent reader of the syntax above; nesting is bounded by the filter's length. */
class Parser {
  private position = 0;

  constructor(private readonly text: string) {}

  parse(): Node[] {
    const nodes = this.sequence(false);
    if (this.position < this.text.length) throw new BranchFilterError(`has an unmatched "}" at character ${this.position + 1}`);
    return nodes;
  }

  /** Nodes up to the end, or (inside braces) up to the next top-level `,` or `}`. */
  private sequence(inBraces: boolean): Node[] {
    const nodes: Node[] = [];
    const text = this.text;
    while (this.position < text.length) {
      const char = text[this.position];
      if (char === '}' || (inBraces && char === ',')) break;
      // A segment starts at the beginning of the filter or of an alternative, or after a `/`.
      const segmentStart = nodes.length === 0 || text[this.position - 1] === '/';
      this.position++;
      switch (char) {
        case '\\':
          if (this.position >= text.length) throw new BranchFilterError('ends with a lone "\\"');
          nodes.push(literal(text[this.position++]));
          break;
        case '*': {
          let stars = 1;
          while (text[this.position] === '*') {
            stars++;
            this.position++;
          }
          if (stars === 1) nodes.push({ kind: 'repeat', test: notSlash });
          else this.globstar(nodes, segmentStart, inBraces);
          break;
        }
        case '?':
          nodes.push({ kind: 'char', test: notSlash });
          break;
        case '[':
          nodes.push(this.characterClass());
          break;
        case '{':
          nodes.push(this.alternatives());
          break;
        case '(':
        case ')':
        case '|':
          throw new BranchFilterError(`uses "${char}" (extglob syntax is not supported); write "\\${char}" to match it literally`);
        default:
          nodes.push(literal(char));
      }
    }
    return nodes;
  }

  /** `**`: across segments; as a whole segment, also none at all. */
  private globstar(nodes: Node[], segmentStart: boolean, inBraces: boolean): void {
    const text = this.text;
    const any: Node = { kind: 'repeat', test: anything };
    if (segmentStart && text[this.position] === '/') {
      this.position++;
      nodes.push({ kind: 'optional', body: [any, literal('/')] });
      return;
    }
    const segmentEnd = this.position === text.length || (inBraces && (text[this.position] === ',' || text[this.position] === '}'));
    const last = nodes[nodes.length - 1];
    if (segmentStart && segmentEnd && last?.kind === 'char' && last.literal === '/') {
      // A final "/**": the slash before it is part of what may be absent.
      nodes.pop();
      nodes.push({ kind: 'optional', body: [literal('/'), any] });
      return;
    }
    nodes.push(any);
  }

  private characterClass(): Node {
    const text = this.text;
    const start = this.position - 1;
    let negated = false;
    if (text[this.position] === '!' || text[this.position] === '^') {
      negated = true;
      this.position++;
    }
    if (text.startsWith('[:', this.position))
      throw new BranchFilterError(`uses a POSIX character class at character ${this.position + 1}; list the characters instead`);
    const ranges: Array<[string, string]> = [];
    let first = true;
    for (;;) {
      if (this.position >= text.length) throw new BranchFilterError(`has an unclosed "[" at character ${start + 1}`);
      let char = text[this.position++];
      if (char === ']' && !first) break;
      first = false;
      if (char === '\\') {
        if (this.position >= text.length) throw new BranchFilterError(`has an unclosed "[" at character ${start + 1}`);
        char = text[this.position++];
      }
      let end = char;
      if (text[this.position] === '-' && this.position + 1 < text.length && text[this.position + 1] !== ']') {
        this.position++;
        end = text[this.position++];
        if (end === '\\') {
          if (this.position >= text.length) throw new BranchFilterError(`has an unclosed "[" at character ${start + 1}`);
          end = text[this.position++];
        }
        if (end < char) throw new BranchFilterError(`has the reversed range "${char}-${end}" at character ${start + 1}`);
      }
      ranges.push([char, end]);
    }
    const inSet = (char: string) => ranges.some(([low, high]) => char >= low && char <= high);
    return { kind: 'char', test: (char) => char !== '/' && inSet(char) !== negated };
  }

  private alternatives(): Node {
    const start = this.position - 1;
    const options: Node[][] = [this.sequence(true)];
    while (this.text[this.position] === ',') {
      this.position++;
      options.push(this.sequence(true));
    }
    if (this.text[this.position] !== '}') throw new BranchFilterError(`has an unclosed "{" at character ${start + 1}`);
    this.position++;
    if (options.length < 2)
      throw new BranchFilterError(
        `has "{…}" with one alternative at character ${start + 1}; separate alternatives with commas, or write "\\{" for the character`,
      );
    return { kind: 'alternatives', options };
  }
}
