/** For the engine's own test: a synchronous endless loop on an input starting "H", as a parser that never advances. */
export const coverage = ['test/fuzz/engine-targets/'];

export function fuzz(data: Buffer): void {
  let spins = 0;
  while (data[0] === 0x48) spins++;
  void spins;
}
