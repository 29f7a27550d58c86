// Issue #17: a statement archive (an Alipay bill's zip) is read safely or refused whole with a code and a message
// naming the entry — too many entries, an archive inside, a name that climbs out, encryption, an unknown method, a
// bomb (its inflated bytes counted while they stream: the ratio, an entry's bound, the archive's total), a CRC
// that does not match. Every zip here is built by test/support/zip-writer.ts.

import { describe, expect, it } from 'vitest';
import { ArchiveError, archiveLimits, readZipEntries, type ArchiveLimits } from '../../../src/recon/zip-archive.js';
import { gb18030Bytes } from '../../support/gb18030.js';
import { zipOf, type ZipEntryInput } from '../../support/zip-writer.js';

const csv = (text: string): Buffer => Buffer.from(text, 'utf8');

async function refusal(zip: Uint8Array, limits?: Partial<ArchiveLimits>): Promise<ArchiveError> {
  const error = await readZipEntries(zip, { ...archiveLimits, ...limits }).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  return error as ArchiveError;
}

describe('readZipEntries', () => {
  it('reads deflated and stored entries, GBK names without the UTF-8 flag, UTF-8 names with it; directories left out', async () => {
    const gbkName = gb18030Bytes('20881234567890120156_20251204_业务明细.csv');
    const zip = zipOf([
      { name: gbkName, data: csv('a,b\n1,2\n') },
      { name: '20881234567890120156_20251204_业务明细(汇总).csv', data: csv('c\n3\n'), method: 0 },
      { name: 'sub/', data: Buffer.alloc(0), method: 0 },
    ]);
    const files = await readZipEntries(zip);
    expect(files.map((file) => [file.name, file.bytes.toString('utf8')])).toEqual([
      ['20881234567890120156_20251204_业务明细.csv', 'a,b\n1,2\n'],
      ['20881234567890120156_20251204_业务明细(汇总).csv', 'c\n3\n'],
    ]);
  });

  const zeros = Buffer.alloc(32 * 1024 * 1024);
  const one = (entry: Partial<ZipEntryInput>): Buffer => zipOf([{ name: 'bill.csv', data: csv('x\n'), ...entry }]);
  const cases: { name: string; zip: () => Buffer; limits?: Partial<ArchiveLimits>; code: string; message: RegExp }[] = [
    { name: 'bytes that are no zip', zip: () => csv('支付宝交易号,商户订单号\n'), code: 'archive_unreadable', message: /no zip archive/ },
    {
      name: 'more entries than archiveEntriesMax',
      zip: () => zipOf(Array.from({ length: 17 }, (_, i) => ({ name: `part-${i}.csv`, data: csv('x\n') }))),
      code: 'archive_entries',
      message: /17 entries; at most 16/,
    },
    { name: 'a nested .zip', zip: () => one({ name: 'inner.zip' }), code: 'archive_nested', message: /inner\.zip: an archive inside the archive/ },
    { name: 'a zip under a .csv name', zip: () => one({ data: zipOf([{ name: 'x.csv', data: csv('x') }]) }), code: 'archive_nested', message: /bill\.csv is itself a zip archive/ },
    { name: 'a name climbing out with ..', zip: () => one({ name: '../../etc/cron.d/bill.csv' }), code: 'archive_name', message: /"\.\.\/\.\.\/etc\/cron\.d\/bill\.csv" is refused: its name is an invalid relative path/ },
    { name: 'an absolute name', zip: () => one({ name: '/etc/passwd' }), code: 'archive_name', message: /absolute path/ },
    { name: 'a backslash name', zip: () => one({ name: '..\\bill.csv' }), code: 'archive_name', message: /characters/ },
    { name: 'a name twice', zip: () => zipOf([{ name: 'a.csv', data: csv('1') }, { name: 'a.csv', data: csv('2') }]), code: 'archive_name', message: /comes twice/ },
    { name: 'an encrypted entry', zip: () => one({ flags: 0x1 }), code: 'archive_encrypted', message: /bill\.csv is encrypted/ },
    { name: 'a method other than stored or deflate', zip: () => one({ method: 12 }), code: 'archive_method', message: /compression method 12/ },
    {
      name: 'a bomb: 32 MiB of zeros in ~32 KiB, stopped by its ratio while streaming',
      zip: () => one({ data: zeros }),
      code: 'archive_ratio',
      message: /bill\.csv inflates more than 200 times its [0-9]+ compressed bytes/,
    },
    { name: 'a bomb whose header states 1 KiB', zip: () => one({ data: zeros, uncompressedSize: 1024 }), code: 'archive_unreadable', message: /too many bytes/ },
    { name: 'a size stated past the entry bound', zip: () => one({ data: csv('x'.repeat(5000)) }), limits: { entryBytesMax: 1000 }, code: 'archive_entry_bytes', message: /states 5000 bytes, more than 1000/ },
    {
      name: 'entries inflating past the archive total',
      zip: () => zipOf([{ name: 'a.csv', data: csv('a'.repeat(600)) }, { name: 'b.csv', data: csv('b'.repeat(600)) }]),
      limits: { bytesMax: 1000 },
      code: 'archive_bytes',
      message: /past 1000 bytes in all \(at b\.csv\)/,
    },
    { name: 'a CRC that does not match', zip: () => one({ crc: 0xdeadbeef }), code: 'archive_crc', message: /bill\.csv: CRC-32 [0-9a-f]{8} of its bytes ≠ deadbeef/ },
  ];
  it.each(cases)('refuses $name', async ({ zip, limits, code, message }) => {
    const error = await refusal(zip(), limits);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});
