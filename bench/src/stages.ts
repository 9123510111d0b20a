/**
 * Attributes the samples of a V8 `.cpuprofile` to the stages of Parley's
 * accept path by call stack (W8). Each sample goes to the innermost frame
 * that names a stage: a lib0 decoder called by the validator counts as
 * decode, the validator's own code as validate, Yjs integrating an update
 * under `LiveDoc.accept` as apply. Frames are recognised by file and
 * function name, loosely enough to hold across the accept path's refactors
 * (hub.ts split into files, a new accept module): a stage whose code moved
 * to a file these rules do not know falls into "other", which is then large.
 */
import { readFileSync } from 'node:fs';

export const STAGES = ['decode', 'validate', 'apply', 'commit', 'fan-out', 'inbox', 'garbage collector', 'other'] as const;
export type Stage = (typeof STAGES)[number];

interface Frame {
  functionName: string;
  url: string;
  lineNumber?: number;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface StageTimes {
  /** Microseconds of samples per stage (idle excluded). */
  stages: Record<Stage, number>;
  /** Per stage, microseconds of self time per function (`name file:line`), to see what a stage is made of. */
  functions: Record<Stage, Map<string, number>>;
  /** Busy (not idle) microseconds in the window. */
  busy: number;
  /** Microseconds the window covered in this profile. */
  span: number;
}

/** Yjs functions that read an update's bytes (not `readUpdate*`, which also integrates). */
const YJS_DECODE = /^(read(?!UpdateV2$|Update$)|decode|parseUpdateMeta|LazyStructReader|_?\w*Decoder)/;
/** The hub's (and its split files') inbox projection: entries, unread counts. */
const INBOX_FUNCTION = /inbox|unread|noteIn|recordMessages/i;

/** The stage a frame names, or null when it names none (its caller decides). */
export function stageOfFrame({ functionName: name, url }: Frame): Stage | null {
  if (url === '') {
    if (name === '(garbage collector)') return 'garbage collector';
    if (name === 'postMessage' || name === 'receiveMessageOnPort') return 'commit';
    return null;
  }
  if (url.includes('/lib0/') && url.includes('decoding')) return 'decode';
  if (url.includes('/yjs/')) return YJS_DECODE.test(name) ? 'decode' : null;
  if (url.includes('/ws/lib/receiver')) return 'decode';
  if (url.includes('/ws/lib/') && /sender|websocket\.js/.test(url)) return 'fan-out';
  if (url.includes('/zod/') || /\/protocol\/(?:src|dist)\/(validate|schemas)\./.test(url)) return 'validate';
  const own = /\/sync-server\/(?:src|dist)\/(.+)\.[jt]s$/.exec(url)?.[1];
  if (own === undefined) return null;
  // The storage's reads (sqlite-db.ts on the main thread's connection) are not the commit: they stay in "other".
  if (own === 'storage/group-commit' || own === 'storage/write-codec') return 'commit';
  if (own === 'storage/sqlite') return /^(commit|call|poll|settle)$/.test(name) ? 'commit' : null;
  if (own === 'sync/frames' || own.startsWith('http/socket')) return fanOutOrDecode(own, name);
  if (own === 'sync/connection') return name === 'send' || name === 'sendControl' ? 'fan-out' : /^receive/.test(name) ? 'decode' : null;
  if (own === 'sync/live-doc') return name === 'persist' ? 'commit' : name === 'broadcast' ? 'fan-out' : name === 'accept' || name === 'capture' || name === 'transactAsServer' || name === 'write' ? 'apply' : null;
  if (own === 'sync/merge') return 'apply';
  if (own.includes('inbox') || INBOX_FUNCTION.test(name)) return 'inbox';
  // The hub's own checks on an update (budget, rate, permission), wherever the split put them.
  if (own === 'sync/hub' || own.startsWith('sync/accept') || own.includes('budget') || own.includes('write-rate')) return 'validate';
  return null;
}

/** In the transport, reading a frame is decode, everything that sends is fan-out. */
function fanOutOrDecode(own: string, name: string): Stage {
  if (own === 'sync/frames') return 'fan-out';
  return /receive|toBytes|message/i.test(name) ? 'decode' : 'fan-out';
}

/**
 * Stage times of the samples taken between `from` and `to` (microseconds on
 * the profile's clock, the same monotonic clock for every thread of a process).
 */
export function stageTimes(file: string, from: number, to: number): StageTimes {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, ProfileNode>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node);
  }
  const memo = new Map<number, Stage | 'idle'>();
  const stageOf = (node: ProfileNode): Stage | 'idle' => {
    const known = memo.get(node.id);
    if (known !== undefined) return known;
    let stage: Stage | 'idle' = 'other';
    if (node.callFrame.functionName === '(idle)') stage = 'idle';
    else {
      for (let at: ProfileNode | undefined = node; at !== undefined; at = parent.get(at.id)) {
        const named = stageOfFrame(at.callFrame);
        if (named !== null) {
          stage = named;
          break;
        }
      }
    }
    memo.set(node.id, stage);
    return stage;
  };
  const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const functions = Object.fromEntries(STAGES.map((s) => [s, new Map<string, number>()])) as Record<Stage, Map<string, number>>;
  let busy = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const node = byId.get(id);
    if (t < from || t > to || node === undefined) return;
    const stage = stageOf(node);
    if (stage === 'idle') return;
    stages[stage] += delta;
    busy += delta;
    const name = functionLabel(node.callFrame);
    functions[stage].set(name, (functions[stage].get(name) ?? 0) + delta);
  });
  return { stages, functions, busy, span: Math.max(0, Math.min(to, profile.endTime) - Math.max(from, profile.startTime)) };
}

/** `name file:line` of a frame, the file short: a package's path, or Parley's from its package folder. */
function functionLabel({ functionName, url, lineNumber }: Frame): string {
  const name = functionName || '(anonymous)';
  if (url === '') return name;
  const file = /node_modules\/(.+)$/.exec(url)?.[1] ?? /\/((?:sync-server|protocol)\/(?:src|dist)\/.+)$/.exec(url)?.[1] ?? url;
  return `${name} ${file}:${(lineNumber ?? 0) + 1}`;
}

/** Whether a profile is the storage worker's (its code ran in it) rather than the main thread's or tsx's loader's. */
export function isStorageWorker(file: string): boolean {
  return readFileSync(file, 'utf8').includes('sqlite-worker');
}

/** The profile's start on its clock, microseconds. */
export function profileStart(file: string): number {
  return (JSON.parse(readFileSync(file, 'utf8')) as CpuProfile).startTime;
}
