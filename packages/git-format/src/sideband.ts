/** Side-band channels: 1 pack data, 2 progress, 3 fatal error. */
export type SidebandChannel = 1 | 2 | 3;
/** Payload limit per side-band-64k packet (65520 - 4 length - 1 channel). */
export const SIDEBAND_64K_MAX = 65515;

/** `data` framed as pkt-lines on `channel`, split at `maxPayload`. */
export declare function encodeSideband(channel: SidebandChannel, data: Uint8Array, maxPayload?: number): Buffer[];
