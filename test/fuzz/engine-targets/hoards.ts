/** For the engine's own test: 64 MiB kept for an input starting "M", memory out of all proportion to it. */
export const coverage = ['test/fuzz/engine-targets/'];

const kept: Buffer[] = [];

export function fuzz(data: Buffer): void {
  if (data[0] === 0x4d) kept[0] = Buffer.alloc(64 << 20, 1);
}
