/**
 * Reading the file system calls of a server process from strace's output
 * (`strace -f -y -o FILE -e trace=…`), to check a write protocol itself: a
 * crash of the process keeps the page cache, so only the order of writes,
 * fsyncs and renames tells whether a power cut could lose a file.
 */
import { readFileSync } from 'node:fs';

/** The system calls traced. */
export const TRACED = 'openat,write,fsync,fdatasync,rename,renameat,renameat2';

/** One finished system call: its name, its arguments as strace printed them, and its result. */
export interface Syscall {
  name: string;
  args: string;
  result: string;
}

const LINE = /^(\d+)\s+(.*)$/;
const CALL = /^(\w+)\((.*)\)\s+=\s+(.*)$/;

/**
 * The calls in strace's output, in the order they finished. With -f, a call
 * of one thread that another thread's call interrupts is printed in two
 * parts (`<unfinished ...>` then `<... name resumed>`); they are joined here.
 */
export function readTrace(file: string): Syscall[] {
  const calls: Syscall[] = [];
  const unfinished = new Map<string, string>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = LINE.exec(raw);
    if (line === null) continue;
    const [, pid = '', rest = ''] = line;
    let text = rest;
    if (text.endsWith('<unfinished ...>')) {
      unfinished.set(pid, text.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(text);
    if (resumed !== null) {
      text = `${unfinished.get(pid) ?? ''}${resumed[1] ?? ''}`;
      unfinished.delete(pid);
    }
    const call = CALL.exec(text);
    if (call !== null) calls.push({ name: call[1] ?? '', args: call[2] ?? '', result: call[3] ?? '' });
  }
  return calls;
}

/** The path strace -y prints after a file descriptor argument: `5</data/jwt-secret>` gives /data/jwt-secret. */
export function fdPath(args: string): string | null {
  return /^\d+<([^>]*)>/.exec(args)?.[1] ?? null;
}

/** The two quoted paths of a rename, renameat or renameat2 call. */
export function renamePaths(call: Syscall): { from: string; to: string } | null {
  const quoted = [...call.args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
  if (quoted.length < 2) return null;
  return { from: quoted[0] ?? '', to: quoted[1] ?? '' };
}

/**
 * Checks that `file` was written the durable way: a write to a temporary
 * file in the same directory, an fsync of that file, its rename onto `file`,
 * then an fsync of the directory, in that order. Returns what is missing, or
 * null when all of it happened.
 */
export function missingDurableWrite(calls: readonly Syscall[], dir: string, file: string): string | null {
  const target = `${dir}/${file}`;
  const renameAt = calls.findIndex((c) => c.name.startsWith('rename') && c.result.startsWith('0') && renamePaths(c)?.to === target);
  const directWrite = calls.some((c) => c.name === 'write' && fdPath(c.args) === target);
  if (renameAt < 0) return `${file}: no rename onto it${directWrite ? ' (written in place)' : ''}`;
  const temp = renamePaths(calls[renameAt] as Syscall)?.from ?? '';
  if (!temp.startsWith(`${dir}/`) || temp.slice(dir.length + 1).includes('/')) return `${file}: renamed from ${temp}, not from a file in ${dir}`;
  const before = calls.slice(0, renameAt);
  const wroteAt = before.findIndex((c) => c.name === 'write' && fdPath(c.args) === temp);
  if (wroteAt < 0) return `${file}: no write to ${temp} before the rename`;
  const syncedAt = before.findIndex((c, i) => i > wroteAt && (c.name === 'fsync' || c.name === 'fdatasync') && fdPath(c.args) === temp);
  if (syncedAt < 0) return `${file}: ${temp} not fsynced between its write and the rename`;
  const dirSynced = calls.slice(renameAt + 1).some((c) => (c.name === 'fsync' || c.name === 'fdatasync') && fdPath(c.args) === dir);
  if (!dirSynced) return `${file}: the directory ${dir} not fsynced after the rename`;
  return null;
}
