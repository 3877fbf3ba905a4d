/**
 * The input a fuzzing worker is running, in shared memory: when the worker hangs or runs out
 * of memory it cannot say so itself, so the supervisor reads the input that did it from here.
 */
const EXECUTIONS = 0;
const RUNNING = 1;
const LENGTH = 2;
const HEADER_BYTES = 12;

export class SharedInput {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.bytes = new Uint8Array(buffer, HEADER_BYTES);
  }

  static create(maxLength: number): SharedInput {
    return new SharedInput(new SharedArrayBuffer(HEADER_BYTES + maxLength));
  }

  /** Worker side: `input` is about to run. */
  begin(input: Uint8Array): void {
    this.bytes.set(input.subarray(0, this.bytes.length));
    Atomics.store(this.header, LENGTH, Math.min(input.length, this.bytes.length));
    Atomics.add(this.header, EXECUTIONS, 1);
    Atomics.store(this.header, RUNNING, 1);
  }

  /** Worker side: the input returned. */
  end(): void {
    Atomics.store(this.header, RUNNING, 0);
  }

  /** Supervisor side: the number of the execution under way, or -1 between executions. */
  runningExecution(): number {
    return Atomics.load(this.header, RUNNING) === 1 ? Atomics.load(this.header, EXECUTIONS) : -1;
  }

  /** Supervisor side: a copy of the last input begun. */
  lastInput(): Buffer {
    return Buffer.from(this.bytes.subarray(0, Atomics.load(this.header, LENGTH)));
  }
}
