/**
 * Delta application: an arbitrary delta against an arbitrary base, and the round trip of
 * createDelta, whose delta must rebuild its target exactly.
 */
import { applyDelta, createDelta, deltaTargetSize, PackFormatError } from '@gitfleet/git-format';

export const coverage = ['packages/git-format/src/pack/delta.ts'];
export const dictionary = ['\x80', '\x90', '\x91', '\xff', '\xb0', '\x7f', '\x00\x00\x01'];
export const maxLength = 8192;

export function fuzz(data: Buffer): void {
  if (data.length < 3) return;
  // Byte 0: odd diffs, even applies; bytes 1-2: the base's length; the base, then the target to diff or the delta to apply.
  const baseLength = data.readUInt16BE(1) % (data.length - 2);
  const base = data.subarray(3, 3 + baseLength);
  const rest = data.subarray(3 + baseLength);
  if (data[0] & 1) {
    const delta = createDelta(base, rest);
    const rebuilt = applyDelta(base, delta);
    if (!rebuilt.equals(rest))
      throw new Error(`createDelta's delta rebuilds ${rebuilt.length} bytes that differ from its ${rest.length}-byte target`);
    return;
  }
  try {
    const size = deltaTargetSize(rest);
    const result = applyDelta(base, rest);
    if (result.length !== size) throw new Error(`applyDelta made ${result.length} bytes, the delta declares ${size}`);
  } catch (error) {
    if (error instanceof PackFormatError) return;
    throw error;
  }
}
