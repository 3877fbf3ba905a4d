/** Side-band channels: 1 pack data, 2 progress, 3 fatal error. */
export type SidebandChannel = 1 | 2 | 3;
/** Payload limit per side-band-64k packet (65520 - 4 length - 1 channel). */
export const SIDEBAND_64K_MAX = 65515;

/** `data` framed as pkt-lines on `channel`, split at `maxPayload`. Empty data gives no packet. */
export function encodeSideband(channel: SidebandChannel, data: Uint8Array, maxPayload = SIDEBAND_64K_MAX): Buffer[] {
  if (channel !== 1 && channel !== 2 && channel !== 3) throw new RangeError(`side-band channel must be 1, 2 or 3, got ${channel}`);
  if (!Number.isInteger(maxPayload) || maxPayload < 1 || maxPayload > SIDEBAND_64K_MAX) {
    throw new RangeError(`side-band payload limit must be an integer in 1..${SIDEBAND_64K_MAX}, got ${maxPayload}`);
  }
  const packets: Buffer[] = [];
  for (let start = 0; start < data.byteLength; start += maxPayload) {
    const end = Math.min(start + maxPayload, data.byteLength);
    const packet = Buffer.allocUnsafe(5 + end - start);
    packet.write((packet.length).toString(16).padStart(4, '0'), 0, 'latin1');
    packet[4] = channel;
    packet.set(data.subarray(start, end), 5);
    packets.push(packet);
  }
  return packets;
}
