/** Reads a V8 `.cpuprofile` (from `node --cpu-prof`) into self-time tables. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy time (all but idle), ms. */
  busyMs: number;
  functions: ProfileRow[];
  groups: ProfileRow[];
}

/** Where a function's code lives: a package, a Parley file, or a V8 pseudo-frame. */
function groupOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(sync-server|protocol)\/src\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

function shortUrl(url: string): string {
  const pkg = /node_modules\/(.+)$/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:sync-server|protocol)\/src\/.+)$/.exec(url);
  return own ? own[1]! : url;
}

/**
 * Self time per function and per package. `window` ([from, to] in ms after the
 * profile started) keeps only those samples, so start-up, connecting and the
 * shutdown compaction do not blur the steady state.
 */
export function summarizeProfile(file: string, window: [number, number] | null = null, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window !== null && (t / 1000 < window[0] || t / 1000 > window[1])) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const functions = new Map<string, number>();
  const groups = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += micros;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const name = url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + micros);
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, ms: micros / 1000, share: busy > 0 ? micros / busy : 0 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, functions: rows(functions), groups: rows(groups) };
}
