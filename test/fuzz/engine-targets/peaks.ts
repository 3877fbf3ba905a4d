/** For the engine's own test: 256 MiB written and dropped within the run, on an input starting "P". */
export const coverage = ['test/fuzz/engine-targets/'];

export function fuzz(data: Buffer): void {
  if (data[0] === 0x50) Buffer.alloc(256 << 20).fill(1);
}
