import zlib from 'node:zlib';

/** CRC-32 (IEEE), the checksum `.idx` files keep of each entry's raw bytes. */
export type Crc32 = (data: Uint8Array, value?: number) => number;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Table-driven CRC-32 for Node releases before 20.15, which lack zlib.crc32. */
export const crc32Table: Crc32 = (data, value = 0) => {
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
};

// zlib.crc32 is native and several times faster; `engines` admits every Node 20, hence the fallback.
const nativeCrc32 = (zlib as { crc32?: Crc32 }).crc32;
export const crc32: Crc32 = nativeCrc32 ?? crc32Table;
