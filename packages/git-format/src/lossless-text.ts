import { isUtf8 } from 'node:buffer';

/*
 * Git stores names and messages as raw bytes, usually UTF-8 but not always (old commits,
 * an `encoding` header). To give callers strings yet serialise objects byte for byte, bytes
 * that are not valid UTF-8 are decoded as lone low surrogates U+DC80..U+DCFF (Python's
 * "surrogateescape"), which valid UTF-8 can never produce, and encoded back to the same byte.
 */

const ESCAPE_BASE = 0xdc00;
/** A low surrogate in the escape range that does not complete a surrogate pair. */
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;

export function decodeText(bytes: Buffer, start = 0, end = bytes.length): string {
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  if (isUtf8(view)) return view.toString('utf8');
  return decodeWithEscapes(view);
}

export function encodeText(text: string): Buffer {
  if (!ESCAPED_BYTE.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let plainStart = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const isLowSurrogate = unit >= 0xdc80 && unit <= 0xdcff;
    const pairsWithPrevious = i > 0 && isHighSurrogate(text.charCodeAt(i - 1));
    if (!isLowSurrogate || pairsWithPrevious) continue;
    parts.push(Buffer.from(text.slice(plainStart, i), 'utf8'), Buffer.of(unit - ESCAPE_BASE));
    plainStart = i + 1;
  }
  parts.push(Buffer.from(text.slice(plainStart), 'utf8'));
  return Buffer.concat(parts);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function decodeWithEscapes(bytes: Buffer): string {
  let text = '';
  let i = 0;
  while (i < bytes.length) {
    const length = validSequenceLength(bytes, i);
    if (length === 0) {
      text += String.fromCharCode(ESCAPE_BASE + bytes[i]);
      i++;
    } else {
      text += bytes.toString('utf8', i, i + length);
      i += length;
    }
  }
  return text;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates), or 0. */
function validSequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  const continuation = (k: number) => i + k < bytes.length && (bytes[i + k] & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf) return continuation(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!continuation(1) || !continuation(2)) return 0;
    const b1 = bytes[i + 1];
    if (b0 === 0xe0 && b1 < 0xa0) return 0;
    if (b0 === 0xed && b1 >= 0xa0) return 0;
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    const b1 = bytes[i + 1];
    if (b0 === 0xf0 && b1 < 0x90) return 0;
    if (b0 === 0xf4 && b1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}
