// The server's footprint as the sustained bench reads it: RssAnon and VmRSS out of /proc/<pid>/status text,
// and a data dir's allocated bytes (du's figure: sparse files count what they hold, not their length).
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../support/temp-dirs.js';
import { diskBytes, parsePeakBytes, parseProcStatus, readPeakBytes, readProcessMemory, resetPeakMemory } from '../../../bench/load/server-footprint.js';

const status = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t 1234567 kB
VmHWM:\t  600000 kB
VmRSS:\t  524288 kB
RssAnon:\t  262144 kB
RssFile:\t   65536 kB
RssShmem:\t       0 kB
Threads:\t11
`;

describe('parseProcStatus', () => {
  it('reads RssAnon and VmRSS in bytes', () => {
    expect(parseProcStatus(status)).toEqual({ rssAnonBytes: 262144 * 1024, vmRssBytes: 524288 * 1024 });
  });

  it.each([
    ['no RssAnon (kernel before 4.5)', status.replace(/^RssAnon:.*\n/m, '')],
    ['no VmRSS (a kernel thread)', status.replace(/^VmRSS:.*\n/m, '')],
    ['empty', ''],
  ])('returns null with %s', (_, text) => {
    expect(parseProcStatus(text)).toBeNull();
  });

  it('does not take RssAnon for a field that only ends with it', () => {
    expect(parseProcStatus('XRssAnon:\t 1 kB\nVmRSS:\t 2 kB\n')).toBeNull();
  });

  it('reads this very process, and null for a pid that does not exist', () => {
    const own = readProcessMemory(process.pid);
    if (process.platform === 'linux') expect(own!.vmRssBytes).toBeGreaterThanOrEqual(own!.rssAnonBytes);
    expect(readProcessMemory(2 ** 22 + 12345)).toBeNull();
  });
});

describe('parsePeakBytes', () => {
  it('reads VmHWM in bytes, null without it', () => {
    expect(parsePeakBytes(status)).toBe(600000 * 1024);
    expect(parsePeakBytes(status.replace(/^VmHWM:.*\n/m, ''))).toBeNull();
  });

  it.runIf(process.platform === 'linux')('reads this process, and a reset starts the peak again from the resident set now', () => {
    expect(readPeakBytes(process.pid)!).toBeGreaterThan(0);
    // The kernel updates VmHWM lazily: within a few MiB of VmRSS, either side, never exactly.
    if (resetPeakMemory(process.pid)) expect(Math.abs(readPeakBytes(process.pid)! - readProcessMemory(process.pid)!.vmRssBytes)).toBeLessThan(16 * 2 ** 20);
    expect(readPeakBytes(2 ** 22 + 12345)).toBeNull();
    expect(resetPeakMemory(2 ** 22 + 12345)).toBe(false);
  });
});

const tempDir = useTempDirs();

describe('diskBytes', () => {
  it('adds up the blocks of every file under the dir, subdirectories included', async () => {
    const dir = tempDir('footprint-');
    const empty = await diskBytes(dir);
    await mkdir(`${dir}/a/b`, { recursive: true });
    await writeFile(`${dir}/a/b/data`, Buffer.alloc(1 << 20, 1));
    const grown = await diskBytes(dir);
    expect(grown - empty).toBeGreaterThanOrEqual(1 << 20);
    expect(grown - empty).toBeLessThan((1 << 20) + 64 * 1024);
  });

  it('counts a path deleted meanwhile as 0', async () => {
    expect(await diskBytes('/nonexistent/tally/footprint')).toBe(0);
  });
});
