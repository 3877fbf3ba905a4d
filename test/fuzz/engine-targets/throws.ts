/** For the engine's own test: a TypeError on an input starting "BUG", as a parser bug would throw. */
export const coverage = ['test/fuzz/engine-targets/'];

export function fuzz(data: Buffer): void {
  if (data.toString('latin1', 0, 3) === 'BUG') throw new TypeError('a bug the fuzzer must report');
}
