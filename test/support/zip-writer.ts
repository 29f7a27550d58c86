// A minimal zip writer for tests of the archive reader (issue #17): local headers, central directory, end record,
// deflate through node:zlib. Each entry may lie (a CRC, a stated size, flags) so that tests can build what a
// careless or hostile channel would send: bombs, traversal names, encrypted or nested entries.

import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntryInput {
  /** A string is written as UTF-8 with the UTF-8 flag; a Buffer as given (no flag: Alipay writes GBK names so). */
  name: string | Buffer;
  data: Buffer;
  /** 8 deflate (default), 0 stored, or any other number to write as is (the data then stored). */
  method?: number;
  /** Extra general purpose flag bits (1 = encrypted). */
  flags?: number;
  /** Lies to write instead of the truth. */
  crc?: number;
  uncompressedSize?: number;
}

const u16 = (value: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
};
const u32 = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
};

/** Deflated once per buffer: a bomb's megabytes of zeros are compressed once for all the zips built from them. */
const deflatedOf = new WeakMap<Buffer, Buffer>();
function deflated(data: Buffer): Buffer {
  let body = deflatedOf.get(data);
  if (body === undefined) deflatedOf.set(data, (body = deflateRawSync(data)));
  return body;
}

/** The zip of `entries`, in order. */
export function zipOf(entries: readonly ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const method = entry.method ?? 8;
    const body = method === 8 ? deflated(entry.data) : entry.data;
    const flags = (typeof entry.name === 'string' ? 0x0800 : 0) | (entry.flags ?? 0);
    const crc = entry.crc ?? crc32(entry.data);
    const size = entry.uncompressedSize ?? entry.data.length;
    const common = [u16(20), u16(flags), u16(method), u16(0), u16(0x21), u32(crc), u32(body.length), u32(size), u16(name.length), u16(0)];
    const local = Buffer.concat([u32(0x04034b50), ...common, name, body]);
    centrals.push(Buffer.concat([u32(0x02014b50), u16(20), ...common, u16(0), u16(0), u16(0), u32(0), u32(offset), name]));
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(entries.length), u16(entries.length), u32(directory.length), u32(offset), u16(0)]);
  return Buffer.concat([...locals, directory, end]);
}
