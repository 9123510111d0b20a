/**
 * CPU and memory of a process, read from /proc (Linux): the harness measures
 * each server from outside, so no server needs code of ours inside it.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux we run on). */
const TICKS = 100;

export interface ProcSample {
  /** performance.now() when read. */
  at: number;
  /** User + system CPU seconds so far. */
  cpu: number;
  /** Resident set, bytes. */
  rss: number;
}

export function sampleProc(pid: number): ProcSample {
  const at = performance.now();
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { at, cpu: (utime + stime) / TICKS, rss: rssKb * 1024 };
}

/** CPU use between two samples, in cores (1.0 = one core busy all the time). */
export function cpuCores(from: ProcSample, to: ProcSample): number {
  const seconds = (to.at - from.at) / 1000;
  return seconds > 0 ? (to.cpu - from.cpu) / seconds : 0;
}
