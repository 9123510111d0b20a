/**
 * Drafts: the unsent text of a conversation (and the message it replies to),
 * kept in prefs' `drafts[<peer>]` so that it follows the user to every
 * device, offline included (the prefs document syncs when it can).
 *
 * The composer's contract:
 *   - on opening a conversation:  `const draft = await draftOf(peer)` and put
 *     `draft.text` (and `draft.reply`) back in the field;
 *   - on every input:             `saveDraft(peer, {text, reply})` — cheap,
 *     debounced here (400 ms), so call it on every keystroke;
 *   - on leaving the conversation: `flushDraft(peer)` (optional: a pending
 *     save is also written when the page is hidden or the next save for
 *     another conversation starts);
 *   - on send:                    `clearDraft(peer)`.
 * An empty text is no draft: `saveDraft(peer, {text: ''})` clears it too.
 * The conversation list shows "Draft: <text>" from the `drafts` table.
 */
import type { ReplyRef } from '@parley/protocol';
import { db } from '../db.ts';
import { setDraft } from '../sync/prefs.ts';
import { report } from '../shared/errors.ts';
import { currentHub } from './session.ts';

export interface Draft {
  text: string;
  reply?: ReplyRef | undefined;
  /** When it was written (ms since the epoch). */
  ts: number;
}

export interface DraftInput {
  text: string;
  reply?: ReplyRef | undefined;
}

/** Keystrokes within this long are one write to the prefs document. */
export const DRAFT_DEBOUNCE_MS = 400;

interface PendingSave {
  input: DraftInput;
  ts: number;
  timer: ReturnType<typeof setTimeout>;
}

const pending = new Map<string, PendingSave>();
let listening = false;

/** The draft of a conversation, if any: a save still waiting for its debounce first, then what prefs hold. */
export async function draftOf(peer: string): Promise<Draft | undefined> {
  const waiting = pending.get(peer);
  if (waiting !== undefined) {
    return waiting.input.text.length === 0 ? undefined : { text: waiting.input.text, reply: waiting.input.reply, ts: waiting.ts };
  }
  const row = await db.drafts.get(peer);
  return row === undefined ? undefined : { text: row.text, reply: row.reply, ts: row.ts };
}

/** Saves a conversation's draft after `DRAFT_DEBOUNCE_MS` without another save; an empty text clears it. */
export function saveDraft(peer: string, input: DraftInput): void {
  listen();
  const previous = pending.get(peer);
  if (previous !== undefined) clearTimeout(previous.timer);
  // Another conversation's save waiting: write it now, it will not be typed into any more.
  for (const other of [...pending.keys()]) if (other !== peer) void flushDraft(other);
  const timer = setTimeout(() => void flushDraft(peer), DRAFT_DEBOUNCE_MS);
  pending.set(peer, { input: { text: input.text, reply: input.reply }, ts: Date.now(), timer });
}

/** Writes a conversation's waiting save now (leaving the conversation, the page going away). */
export async function flushDraft(peer: string): Promise<void> {
  const waiting = pending.get(peer);
  if (waiting === undefined) return;
  clearTimeout(waiting.timer);
  pending.delete(peer);
  await write(peer, waiting.input, waiting.ts);
}

/** Clears a conversation's draft (the message was sent), dropping any save still waiting. */
export async function clearDraft(peer: string): Promise<void> {
  const waiting = pending.get(peer);
  if (waiting !== undefined) {
    clearTimeout(waiting.timer);
    pending.delete(peer);
  }
  await write(peer, { text: '' }, Date.now());
}

async function write(peer: string, input: DraftInput, ts: number): Promise<void> {
  try {
    const doc = await currentHub().prefsDoc();
    if (doc !== null) setDraft(doc, peer, input, ts);
  } catch (e) {
    report(e);
  }
}

/** A hidden page may never come back (closed, killed): its waiting saves are written then. */
function listen(): void {
  if (listening || typeof document === 'undefined') return;
  listening = true;
  const flushAll = (): void => {
    for (const peer of [...pending.keys()]) void flushDraft(peer);
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flushAll();
  });
  window.addEventListener('pagehide', flushAll);
}
