// CPU time used by the bench process and by the server process over a phase, so each phase shows how
// many cores each side kept busy (on a 2-core box, the load generator competes with the server).
// The server's figure comes from /proc/<pid>/stat (Linux); elsewhere it is reported as unknown.

import { readFileSync } from 'node:fs';

/** Linux reports utime/stime in clock ticks of USER_HZ, 100 on every mainstream architecture. */
const clockTicksPerSecond = 100;

export interface CpuReading {
  atNs: bigint;
  selfSeconds: number;
  serverSeconds: number | null;
}

export interface CoresUsed {
  /** Cores kept busy on average: CPU seconds / wall seconds. */
  benchCores: number;
  serverCores: number | null;
}

export function readCpu(serverPid: number): CpuReading {
  const self = process.cpuUsage();
  return { atNs: process.hrtime.bigint(), selfSeconds: (self.user + self.system) / 1e6, serverSeconds: processCpuSeconds(serverPid) };
}

export function coresUsed(from: CpuReading, to: CpuReading): CoresUsed {
  const wallSeconds = Number(to.atNs - from.atNs) / 1e9;
  const server = from.serverSeconds === null || to.serverSeconds === null ? null : (to.serverSeconds - from.serverSeconds) / wallSeconds;
  return { benchCores: (to.selfSeconds - from.selfSeconds) / wallSeconds, serverCores: server };
}

function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return null;
  }
}
