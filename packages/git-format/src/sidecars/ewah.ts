/**
 * EWAH-compressed bitmaps exactly as git serializes them (ewah/ewah_io.c): bit size u32,
 * word count u32, the 64-bit words, then the position of the last run-length word, all
 * big-endian. Words alternate between a run-length word (RLW) and the literal words it
 * announces; an RLW holds a run bit (bit 0), a run length in words (bits 1-32), and a literal
 * word count (bits 33-63).
 */
import { Bitmap } from './bitmap.js';
import { CorruptSidecarError } from './errors.js';

const HEADER_BYTES = 8;
const MAX_RUN_WORDS = 2 ** 32 - 1;
const MAX_LITERAL_WORDS = 2 ** 31 - 1;

export interface DecodedEwah {
  bitmap: Bitmap;
  /** The bit size git recorded: at least one past the highest set bit. */
  bitSize: number;
  /** Bytes the serialized bitmap took, from where decoding started. */
  byteLength: number;
}

/**
 * Decodes the EWAH bitmap serialized at `at`. `maxBits` is the number of objects the bitmap
 * can index: every declared size is checked against it and against the bytes, so a corrupt
 * or hostile file can neither read past its buffer nor make the decoder allocate more than
 * that number of bits (rounded up to a word).
 */
export function decodeEwah(bytes: Uint8Array, at: number, maxBits: number): DecodedEwah {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength - at < HEADER_BYTES) throw new CorruptSidecarError('ewah', `truncated header at byte ${at}`);
  const bitSize = view.getUint32(at);
  const wordCount = view.getUint32(at + 4);
  const wordsAt = at + HEADER_BYTES;
  const end = wordsAt + 8 * wordCount + 4;
  if (end > bytes.byteLength) {
    throw new CorruptSidecarError('ewah', `${wordCount} words at byte ${at} run past the end (${bytes.byteLength} bytes)`);
  }
  const lastRlw = view.getUint32(end - 4);
  if (wordCount > 0 && lastRlw >= wordCount)
    throw new CorruptSidecarError('ewah', `last RLW ${lastRlw} outside its ${wordCount} words at byte ${at}`);
  const capacityWords = Math.ceil(bitSize / 64);
  if (capacityWords > Math.ceil(maxBits / 64)) {
    throw new CorruptSidecarError('ewah', `bit size ${bitSize} at byte ${at} exceeds the ${maxBits} objects it indexes`);
  }
  const out = new Uint32Array(2 * capacityWords);
  let written = 0;
  let word = 0;
  while (word < wordCount) {
    const rlwAt = wordsAt + 8 * word;
    const high = view.getUint32(rlwAt);
    const low = view.getUint32(rlwAt + 4);
    const runOfOnes = (low & 1) === 1;
    const runWords = (low >>> 1) + (high & 1) * 2 ** 31;
    const literalWords = high >>> 1;
    word++;
    if (written + runWords + literalWords > capacityWords) {
      throw new CorruptSidecarError('ewah', `RLW ${word - 1} at byte ${at} expands past its bit size ${bitSize}`);
    }
    if (word + literalWords > wordCount) {
      throw new CorruptSidecarError('ewah', `RLW ${word - 1} at byte ${at} announces ${literalWords} literal words past the end`);
    }
    if (runOfOnes) out.fill(0xffffffff, 2 * written, 2 * (written + runWords));
    written += runWords;
    for (let k = 0; k < literalWords; k++) {
      const literalAt = wordsAt + 8 * (word + k);
      out[2 * written] = view.getUint32(literalAt + 4);
      out[2 * written + 1] = view.getUint32(literalAt);
      written++;
    }
    word += literalWords;
  }
  return { bitmap: new Bitmap(out), bitSize, byteLength: end - at };
}

/**
 * Serializes `bitmap` in git's canonical form: all-zero and all-one 64-bit words as runs, the
 * others as literals, words up to `bitSize` (zero runs past the last set bit). The default
 * bit size, whole words up to the last set bit, is what bitmap_to_ewah writes; git's type
 * bitmaps record the exact bit count and its XORed entries the longer operand's size.
 */
export function encodeEwah(bitmap: Bitmap, bitSize = 64 * Math.ceil(bitmap.bitLength() / 64)): Buffer {
  if (!(Number.isInteger(bitSize) && bitSize >= bitmap.bitLength() && bitSize < 2 ** 32)) {
    throw new RangeError(`bit size ${bitSize} for a bitmap of ${bitmap.bitLength()} bits`);
  }
  const words64 = Math.ceil(bitSize / 64);
  const source = bitmap.words.length >= 2 * words64 ? bitmap.words : padded(bitmap.words, 2 * words64);
  // Each RLW either covers a clean word or precedes a literal, so the output never exceeds one word more than the input.
  const out = Buffer.allocUnsafe(HEADER_BYTES + 8 * (words64 + 1) + 4);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const lowAt = (i: number): number => source[2 * i];
  const highAt = (i: number): number => source[2 * i + 1];
  let outWords = 0;
  let lastRlw: number;
  let i = 0;
  do {
    let runOfOnes = false;
    let runWords = 0;
    if (i < words64 && isCleanWord(lowAt(i), highAt(i))) {
      const low = lowAt(i);
      runOfOnes = low !== 0;
      while (i < words64 && runWords < MAX_RUN_WORDS && lowAt(i) === low && highAt(i) === low) {
        runWords++;
        i++;
      }
    }
    const literalsFrom = i;
    while (i < words64 && i - literalsFrom < MAX_LITERAL_WORDS && !isCleanWord(lowAt(i), highAt(i))) i++;
    const literalWords = i - literalsFrom;
    lastRlw = outWords;
    const rlwAt = HEADER_BYTES + 8 * outWords++;
    view.setUint32(rlwAt, ((literalWords << 1) | Math.floor(runWords / 2 ** 31)) >>> 0);
    view.setUint32(rlwAt + 4, (((runWords % 2 ** 31) << 1) | (runOfOnes ? 1 : 0)) >>> 0);
    for (let k = literalsFrom; k < i; k++) {
      const literalAt = HEADER_BYTES + 8 * outWords++;
      view.setUint32(literalAt, highAt(k));
      view.setUint32(literalAt + 4, lowAt(k));
    }
  } while (i < words64);
  view.setUint32(0, bitSize);
  view.setUint32(4, outWords);
  view.setUint32(HEADER_BYTES + 8 * outWords, lastRlw);
  return out.subarray(0, HEADER_BYTES + 8 * outWords + 4);
}

function isCleanWord(low: number, high: number): boolean {
  return low === high && (low === 0 || low === 0xffffffff);
}

function padded(words: Uint32Array, length: number): Uint32Array {
  const copy = new Uint32Array(length);
  copy.set(words);
  return copy;
}
