/** Text of about `bytes` bytes that compresses poorly (a pseudo-random sequence), so that it is as large in a pack. */
export function incompressibleText(bytes: number, seed = 1): Buffer {
  const lines: string[] = [];
  let x = seed;
  for (let length = 0; length < bytes;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const line = `${x.toString(36)} ${(x * 7).toString(36)} ${(x * 13).toString(36)}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''));
}
