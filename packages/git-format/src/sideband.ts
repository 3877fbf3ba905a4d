/**
 * Side-band channels (gitprotocol-pack; gix-packetline's Channel): pack data, progress the
 * client prints as "remote: …", and a fatal error that ends the response.
 */
export const SidebandChannel = { Data: 1, Progress: 2, Error: 3 } as const;
export type SidebandChannel = (typeof SidebandChannel)[keyof typeof SidebandChannel];

/** Payload limit per side-band-64k packet (65520 - 4 length - 1 channel). */
export const SIDEBAND_64K_MAX = 65515;
/** Payload limit per side-band (not -64k) packet: 1000-byte packets, 4 for the length and 1 for the channel. */
export const SIDEBAND_MAX = 995;

/** A data packet with no payload: the client reads it as nothing at all, so it keeps a quiet connection alive. */
export const SIDEBAND_KEEPALIVE = Buffer.from('0005\x01', 'latin1');

/**
 * `data` (one buffer, or pieces that follow one another) framed as pkt-lines on `channel`, split
 * at `maxPayload`, in one buffer: the payload is copied once, however many pieces it came in (a
 * clone frames every byte of its pack). Empty data gives an empty buffer.
 */
export function encodeSideband(channel: SidebandChannel, data: Uint8Array | readonly Uint8Array[], maxPayload = SIDEBAND_64K_MAX): Buffer {
  if (channel !== SidebandChannel.Data && channel !== SidebandChannel.Progress && channel !== SidebandChannel.Error) {
    throw new RangeError(`side-band channel must be 1, 2 or 3, got ${channel as number}`);
  }
  if (!Number.isInteger(maxPayload) || maxPayload < 1 || maxPayload > SIDEBAND_64K_MAX) {
    throw new RangeError(`side-band payload limit must be an integer in 1..${SIDEBAND_64K_MAX}, got ${maxPayload}`);
  }
  const pieces = data instanceof Uint8Array ? [data] : data;
  let length = 0;
  for (const piece of pieces) length += piece.byteLength;
  const packets = Math.ceil(length / maxPayload);
  const framed = Buffer.allocUnsafe(length + 5 * packets);
  let at = 0;
  let piece = 0;
  let inPiece = 0;
  for (let start = 0; start < length; start += maxPayload) {
    const payload = Math.min(maxPayload, length - start);
    framed.write((5 + payload).toString(16).padStart(4, '0'), at, 'latin1');
    framed[at + 4] = channel;
    at += 5;
    for (let left = payload; left > 0;) {
      const source = pieces[piece];
      const take = Math.min(left, source.byteLength - inPiece);
      framed.set(source.subarray(inPiece, inPiece + take), at);
      at += take;
      left -= take;
      inPiece += take;
      if (inPiece === source.byteLength) {
        piece++;
        inPiece = 0;
      }
    }
  }
  return framed;
}
