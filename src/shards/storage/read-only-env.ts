// Opening an existing LMDB environment for reading without creating or changing any file of its directory
// (tally verify). LMDB keeps its reader table in a lock file beside the data file and writes it even when it
// only reads (and creates it where a snapshot has none), so the data file is opened through a symbolic link
// placed in a scratch directory: the lock file goes there (both are unlinked once LMDB holds them open). A
// reader outside the writer's lock table must only read a store nobody writes: callers check storeHolders().

import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

/** The data file of an lmdb-js environment directory. */
export const dataFileName = 'data.mdb';
/** Its lock file (the reader table); never opened here. */
export const lockFileName = 'lock.mdb';

/** A store directory without a readable LMDB data file: nothing to open (the message says why). */
export class NotAStoreError extends Error {
  override name = 'NotAStoreError';
}

/** LMDB's stamp on both meta pages (mdb.c MDB_MAGIC) and the data format lmdb-js writes (MDB_DATA_VERSION). */
const lmdbMagic = 0xbeefc0de;
const lmdbDataVersion = 2;
/**
 * Where the bundled LMDB puts them in a meta page: the 24-byte page header, then MDB_meta (the page size is
 * the free DB's md_pad), the last page in use and the transaction that wrote the page.
 */
const MetaPageLayout = { magic: 24, version: 28, pageSize: 48, lastPage: 144, txnId: 152, bytes: 160 } as const;
const pageBytesMin = 512;
const pageBytesMax = 65_536;

let linksMade = 0;

/**
 * Opens the environment of `storeDir` read-only through a link in `scratchDir` (which must exist; the link
 * and LMDB's lock file are unlinked as soon as the environment is open), `maxDbs` as its writer opens it.
 * Refuses, with NotAStoreError, a directory without a data file or whose data file is no LMDB file.
 */
export function openEnvironmentReadOnly(storeDir: string, scratchDir: string, maxDbs: number, encoding: 'binary' | 'string' = 'binary'): RootDatabase {
  const dataFile = join(storeDir, dataFileName);
  if (!existsSync(dataFile) || !statSync(dataFile).isFile()) throw new NotAStoreError(`${storeDir} holds no ${dataFileName}`);
  const why = whyNotLmdb(dataFile);
  if (why !== null) throw new NotAStoreError(`${dataFile} is not an LMDB data file: ${why}`);
  // The .mdb extension makes lmdb-js open the link as the data file itself (noSubdir), lock file beside it.
  const link = join(scratchDir, `${basename(storeDir)}-${++linksMade}.mdb`);
  symlinkSync(realpathSync(dataFile), link);
  try {
    return openLinked(link, maxDbs, encoding);
  } finally {
    // LMDB holds both files open from here on: unlinked at once, nothing is left behind even if the process dies.
    rmSync(link, { force: true });
    rmSync(`${link}-lock`, { force: true });
  }
}

function openLinked(link: string, maxDbs: number, encoding: 'binary' | 'string'): RootDatabase {
  return open({
    path: link,
    noSubdir: true,
    readOnly: true, // MDB_RDONLY: the data file is opened O_RDONLY and mapped read-only
    maxDbs,
    overlappingSync: false,
    noSync: true, // nothing is ever written
    useWritemap: false,
    compression: false,
    encoding, // of the root database's values (named databases give their own)
    keyEncoding: 'ordered-binary',
    cache: false,
    remapChunks: false,
  });
}

/**
 * Why `dataFile` cannot be an LMDB data file, or null. lmdb-js (3.5) crashes the process (SIGSEGV) when it
 * opens a file that is not one, so both meta pages are checked before it sees the file.
 */
function whyNotLmdb(dataFile: string): string | null {
  const size = statSync(dataFile).size;
  const fd = openSync(dataFile, 'r');
  try {
    const first = readMeta(fd, 0);
    if (first === null) return `${size} bytes, shorter than a meta page`;
    const pageBytes = first.getUint32(MetaPageLayout.pageSize, true);
    const why = whyNotMeta(first, 'first');
    if (why !== null) return why;
    if (pageBytes < pageBytesMin || pageBytes > pageBytesMax || (pageBytes & (pageBytes - 1)) !== 0) return `page size ${pageBytes}`;
    const second = size < 2 * pageBytes ? null : readMeta(fd, pageBytes);
    if (second === null) return `${size} bytes, shorter than its two meta pages`;
    const secondWhy = whyNotMeta(second, 'second');
    if (secondWhy !== null) return secondWhy;
    // Reading a page past the end of the file kills the process (SIGBUS): a truncated file must not reach LMDB.
    const newest = first.getBigUint64(MetaPageLayout.txnId, true) >= second.getBigUint64(MetaPageLayout.txnId, true) ? first : second;
    const end = (newest.getBigUint64(MetaPageLayout.lastPage, true) + 1n) * BigInt(pageBytes);
    if (BigInt(size) < end) return `truncated: ${size} bytes, but its pages in use end at ${end}`;
    return null;
  } finally {
    closeSync(fd);
  }
}

function readMeta(fd: number, at: number): DataView | null {
  const page = new Uint8Array(MetaPageLayout.bytes);
  return readSync(fd, page, 0, page.byteLength, at) < page.byteLength ? null : new DataView(page.buffer);
}

function whyNotMeta(meta: DataView, which: string): string | null {
  if (meta.getUint32(MetaPageLayout.magic, true) !== lmdbMagic) return `no LMDB stamp on its ${which} meta page`;
  const version = meta.getUint32(MetaPageLayout.version, true);
  return version === lmdbDataVersion ? null : `data format ${version} on its ${which} meta page, not ${lmdbDataVersion}`;
}

/**
 * Process ids holding a POSIX lock on the store's lock file: an open LMDB environment keeps one for its
 * whole life, so a running server shows here. Linux only (/proc/locks); elsewhere nobody is found.
 */
export function storeHolders(storeDir: string): number[] {
  const lockFile = join(storeDir, lockFileName);
  if (!existsSync(lockFile)) return [];
  let locks: string;
  try {
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const { dev, ino } = statSync(lockFile, { bigint: true });
  // /proc/locks names a file as MAJOR:MINOR:INODE, the device numbers in hex (glibc's major/minor split).
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const holders = new Set<number>();
  for (const line of locks.split('\n')) {
    const match = /^\d+:\s+(?:->\s+)?\S+\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (match === null) continue;
    if (BigInt(`0x${match[2]!}`) === major && BigInt(`0x${match[3]!}`) === minor && BigInt(match[4]!) === ino) holders.add(Number(match[1]));
  }
  return [...holders].sort((a, b) => a - b);
}
