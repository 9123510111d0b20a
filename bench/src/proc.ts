/**
 * CPU and memory of a process, read from /proc (Linux): the harness measures
 * each server from outside, so no server needs code of ours inside it.
 */
import { readdirSync, readFileSync } from 'node:fs';

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

/** A process's threads at one moment, by thread id (/proc/<pid>/task). */
export interface ThreadsSample {
  /** Date.now() when read, to match a step's window (StepResult.windowStart). */
  at: number;
  threads: Map<number, { cpu: number; storageWrites: number }>;
}

/** Each thread's user + system CPU seconds and the bytes it has written towards storage (`write_bytes` of its io file). */
export function sampleThreads(pid: number): ThreadsSample {
  const at = Date.now();
  const threads = new Map<number, { cpu: number; storageWrites: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const io = readFileSync(`/proc/${pid}/task/${tid}/io`, 'utf8');
      const storageWrites = Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0);
      threads.set(Number(tid), { cpu: (Number(fields[11]) + Number(fields[12])) / TICKS, storageWrites });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { at, threads };
}

/**
 * CPU seconds between two samples of the main thread (its id is the
 * process's) and of the storage worker: the thread, other than the main one,
 * that wrote the most to storage meanwhile (the SQLite writer; Node and V8
 * name their threads alike, so the name cannot tell it). Null when no other
 * thread wrote.
 */
export function mainAndWriterCpu(pid: number, from: ThreadsSample, to: ThreadsSample): { main: number; writer: number | null } {
  const spent = (tid: number): number => (to.threads.get(tid)?.cpu ?? 0) - (from.threads.get(tid)?.cpu ?? 0);
  let writer: number | null = null;
  let most = 0;
  for (const [tid, t] of to.threads) {
    const written = t.storageWrites - (from.threads.get(tid)?.storageWrites ?? 0);
    if (tid !== pid && written > most) [writer, most] = [tid, written];
  }
  return { main: spent(pid), writer: writer === null ? null : spent(writer) };
}

/**
 * Samples a process's threads every `everyMs` until stopped, so that a
 * step's measured window (known only once the step is over) can be cut out
 * of them afterwards.
 */
export class ThreadSampler {
  private readonly samples: ThreadsSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.timer = setInterval(() => {
      try {
        this.samples.push(sampleThreads(pid));
      } catch {
        // The process is gone; the step reports that.
      }
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * The main thread's and the storage worker's CPU, µs per message, between
   * the samples nearest `from` and `to` (Date.now()) at `acceptedPerSecond`;
   * null when the samples do not span the window.
   */
  perMessage(from: number, to: number, acceptedPerSecond: number): { main: number; writer: number | null } | null {
    const nearest = (t: number): ThreadsSample | undefined =>
      this.samples.reduce<ThreadsSample | undefined>((best, s) => (best === undefined || Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best), undefined);
    const first = nearest(from);
    const last = nearest(to);
    if (first === undefined || last === undefined || last.at <= first.at) return null;
    const messages = (acceptedPerSecond * (last.at - first.at)) / 1000;
    if (messages <= 0) return null;
    const cpu = mainAndWriterCpu(this.pid, first, last);
    return { main: (cpu.main * 1e6) / messages, writer: cpu.writer === null ? null : (cpu.writer * 1e6) / messages };
  }
}
