/** The pkt-line reader: any byte stream, fed in chunks, read to its end or its first error. */
import { PktLineError, PktLineReader } from '@gitfleet/git-format';

export const coverage = ['packages/git-format/src/pkt-line.ts'];
export const dictionary = ['0000', '0001', '0002', '0003', '0004', '0005', '000a', 'fff0', 'fff1', 'FFF0', '0x00', 'ffff'];
export const maxLength = 8192;

export async function fuzz(data: Buffer): Promise<void> {
  // The first byte picks the chunk size: packets split across chunks take the reader's other paths.
  const chunkSize = data.length > 0 ? 1 + data[0] : 1;
  const body = data.subarray(1);
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += chunkSize) chunks.push(body.subarray(at, at + chunkSize));
  const reader = new PktLineReader(
    (async function* () {
      yield* chunks;
    })(),
  );
  try {
    for (let packet = await reader.read(); packet !== undefined; packet = await reader.read()) {
      if (packet.kind === 'data' && packet.data.length > 65516) throw new Error(`packet of ${packet.data.length} bytes passed the limit`);
      if (packet.kind === 'flush' && data[1] === 0x30) {
        for await (const rest of reader.rest()) void rest;
        return;
      }
    }
  } catch (error) {
    if (!(error instanceof PktLineError)) throw error;
  }
}
