/**
 * The prefs document (`prefs/<me>`), written by the user's own devices only:
 *
 *   read[<peer>]      ReadMarker     {seq}: the furthest the user has read
 *   muted[<peer>]     MuteSetting    {muted}
 *   pinned[<peer>]    PinSetting     {pinned, ts}
 *   archived[<peer>]  ArchiveSetting {archived, ts}: out of the main list until a message after ts
 *   drafts[<peer>]    Draft          {text, reply?, ts}: an empty text is no draft
 *   hidden[<msgId>]   HiddenMessage  {peer, ts}: "delete for me", hidden on every device of the user
 *   starred[<msgId>]  StarredMessage {peer, ts}: in the Starred view
 *
 * Every value is an overwrite of the user's own key, so two offline devices
 * that write the same key converge on one of the two values (Yjs picks by
 * client id, the same on every device). For read markers that is not enough:
 * the furthest must win. A device that materialises a marker lower than the
 * one it holds writes its own again (`furthestReads`), which every device
 * then sees; markers never go down.
 *
 * This module maps the document into the `reads`, `mutes`, `pins`,
 * `archives`, `drafts`, `hidden` and `stars` tables (the UI reads those) and writes settings
 * into it; the hub owns the document and calls `observePrefs`.
 */
import * as Y from 'yjs';
import { ArchiveSetting, Draft, HiddenMessage, LIMITS, PinSetting, StarredMessage, conversationId, receiptKey, type ReplyRef } from '@parley/protocol';
import { db, type ArchiveRow, type DraftRow, type HiddenRow, type MuteRow, type PinRow, type ReadRow, type StarRow } from '../db.ts';
import { clientEvents } from '../shared/events.ts';
import { receiptSeq } from './materialise.ts';

export const PREFS_ROOTS = ['read', 'muted', 'pinned', 'archived', 'drafts', 'hidden', 'starred'] as const;
export type PrefsRoot = (typeof PREFS_ROOTS)[number];

export interface PrefsHooks {
  onError: (e: unknown) => void;
  /** Read markers that moved forward (after the `reads` table holds them): the hub catches receipts up. */
  onRead?: (reads: ReadRow[]) => void;
}

// ---- values to rows (lenient: a value may be malformed) ------------------------

export function pinRow(peer: string, value: unknown): PinRow {
  const parsed = PinSetting.safeParse(value);
  return parsed.success ? { peer, pinned: parsed.data.pinned, ts: parsed.data.ts } : { peer, pinned: false, ts: 0 };
}

export function archiveRow(peer: string, value: unknown): ArchiveRow {
  const parsed = ArchiveSetting.safeParse(value);
  return parsed.success ? { peer, archived: parsed.data.archived, ts: parsed.data.ts } : { peer, archived: false, ts: 0 };
}

/** A draft row, or null when there is no draft (deleted, empty or malformed). */
export function draftRow(peer: string, value: unknown): DraftRow | null {
  const parsed = Draft.safeParse(value);
  if (!parsed.success || parsed.data.text.length === 0) return null;
  const { text, reply, ts } = parsed.data;
  return reply === undefined ? { peer, text, ts } : { peer, text, reply, ts };
}

/** A hidden or starred message's row, or null when the key holds none (deleted or malformed). */
export function markRow(msg: string, value: unknown): HiddenRow | StarRow | null {
  const parsed = HiddenMessage.or(StarredMessage).safeParse(value);
  return parsed.success ? { msg, peer: parsed.data.peer, ts: parsed.data.ts } : null;
}

export function muteRow(peer: string, value: unknown): MuteRow {
  // A deleted key is an unmute too.
  return { peer, muted: (value as { muted?: unknown } | undefined)?.muted === true };
}

/**
 * Merges read markers from the document with those the device holds: the
 * furthest wins. `write` lists the markers the document must be told again
 * (it holds a lower one than this device knows); `put` those the table lacks.
 */
export function furthestReads(
  fromDoc: readonly { peer: string; seq: number | null }[],
  held: readonly (ReadRow | undefined)[],
): { put: ReadRow[]; write: ReadRow[] } {
  const put: ReadRow[] = [];
  const write: ReadRow[] = [];
  fromDoc.forEach(({ peer, seq }, i) => {
    const known = held[i]?.seq ?? -1;
    if (seq !== null && seq > known) put.push({ peer, seq });
    else if (known >= 0 && (seq === null || seq < known)) write.push({ peer, seq: known });
  });
  return { put, write };
}

/** Whether a conversation archived at `archivedTs` is still archived given its last message time. */
export function stillArchived(row: Pick<ArchiveRow, 'archived' | 'ts'> | undefined, lastTs: number): boolean {
  return row?.archived === true && lastTs <= row.ts;
}

// ---- materialising ----------------------------------------------------------------

/**
 * Keeps the prefs tables in step with the document: every key at attach
 * time, then the keys each transaction changed (the work is the size of the
 * write, never of the history).
 */
export function observePrefs(doc: Y.Doc, hooks: PrefsHooks): () => void {
  const maps = new Map(PREFS_ROOTS.map((root) => [root, doc.getMap<unknown>(root)] as const));
  const dirty = new Map(PREFS_ROOTS.map((root) => [root, new Set<string>(maps.get(root)?.keys() ?? [])] as const));
  const observers = PREFS_ROOTS.map((root) => {
    const fn = (event: Y.YMapEvent<unknown>): void => {
      for (const key of event.keysChanged as Set<string>) dirty.get(root)?.add(key);
    };
    maps.get(root)?.observe(fn);
    return () => maps.get(root)?.unobserve(fn);
  });
  const take = (root: PrefsRoot): string[] => {
    const set = dirty.get(root);
    const keys = [...(set ?? [])];
    set?.clear();
    return keys;
  };
  const map = (root: PrefsRoot): Y.Map<unknown> => maps.get(root) as Y.Map<unknown>;
  const flush = (): void => {
    if (![...dirty.values()].some((s) => s.size > 0)) return;
    const reads = take('read').map((peer) => ({ peer, seq: receiptSeq(map('read').get(peer)) }));
    const mutes = take('muted').map((peer) => muteRow(peer, map('muted').get(peer)));
    const pins = take('pinned').map((peer) => pinRow(peer, map('pinned').get(peer)));
    const archives = take('archived').map((peer) => archiveRow(peer, map('archived').get(peer)));
    const draftKeys = take('drafts');
    const drafts = draftKeys.flatMap((peer) => draftRow(peer, map('drafts').get(peer)) ?? []);
    const noDraft = draftKeys.filter((peer) => !drafts.some((d) => d.peer === peer));
    const marks = (root: 'hidden' | 'starred') => {
      const keys = take(root);
      const rows = keys.flatMap((msg) => markRow(msg, map(root).get(msg)) ?? []);
      return { rows, gone: keys.filter((msg) => !rows.some((r) => r.msg === msg)) };
    };
    const hidden = marks('hidden');
    const starred = marks('starred');
    let moved: ReadRow[] = [];
    let rewrite: ReadRow[] = [];
    db.transaction('rw', [db.reads, db.mutes, db.pins, db.archives, db.drafts, db.hidden, db.stars], async () => {
      const held = await db.reads.bulkGet(reads.map((r) => r.peer));
      const { put, write } = furthestReads(reads, held);
      moved = put;
      rewrite = write;
      await db.reads.bulkPut(put);
      await db.mutes.bulkPut(mutes);
      await db.pins.bulkPut(pins);
      await db.archives.bulkPut(archives);
      await db.drafts.bulkPut(drafts);
      await db.drafts.bulkDelete(noDraft);
      await db.hidden.bulkPut(hidden.rows);
      await db.hidden.bulkDelete(hidden.gone);
      await db.stars.bulkPut(starred.rows);
      await db.stars.bulkDelete(starred.gone);
    })
      .then(() => {
        // The document holds a lower marker than this device knows: tell it again (the furthest wins).
        if (rewrite.length > 0) {
          doc.transact(() => {
            for (const r of rewrite) if ((receiptSeq(map('read').get(r.peer)) ?? -1) < r.seq) map('read').set(r.peer, { seq: r.seq });
          });
        }
        if (moved.length > 0) hooks.onRead?.(moved);
        const peers = new Set([...reads, ...mutes, ...pins, ...archives].map((r) => r.peer).concat(draftKeys));
        for (const peer of peers) clientEvents.emit('conversation', { peer });
      })
      .catch(hooks.onError);
  };
  doc.on('afterTransaction', flush);
  flush();
  return () => {
    doc.off('afterTransaction', flush);
    for (const off of observers) off();
  };
}

// ---- writing -------------------------------------------------------------------------

/** Raises `read[peer]` to `seq`; never lowers it. */
export function markRead(doc: Y.Doc, peer: string, seq: number): void {
  const read = doc.getMap<unknown>('read');
  if ((receiptSeq(read.get(peer)) ?? -1) < seq) read.set(peer, { seq });
}

export function setPinned(doc: Y.Doc, peer: string, pinned: boolean, now = Date.now()): void {
  const map = doc.getMap<unknown>('pinned');
  if (pinRow(peer, map.get(peer)).pinned !== pinned) map.set(peer, { pinned, ts: now } satisfies PinSetting);
}

export function setArchived(doc: Y.Doc, peer: string, archived: boolean, now = Date.now()): void {
  const map = doc.getMap<unknown>('archived');
  const current = archiveRow(peer, map.get(peer));
  if (current.archived !== archived || archived) map.set(peer, { archived, ts: now } satisfies ArchiveSetting);
}

export function setMuted(doc: Y.Doc, peer: string, muted: boolean): void {
  const map = doc.getMap<unknown>('muted');
  if (muteRow(peer, map.get(peer)).muted !== muted) map.set(peer, { muted });
}

/** Writes a draft (cut to the protocol's length); an empty text empties it, and writes nothing when there is none. */
export function setDraft(doc: Y.Doc, peer: string, draft: { text: string; reply?: ReplyRef | undefined }, now = Date.now()): void {
  const map = doc.getMap<unknown>('drafts');
  const text = draft.text.slice(0, LIMITS.draftLength);
  const current = draftRow(peer, map.get(peer));
  if (text.length === 0) {
    if (current !== null) map.set(peer, { text: '', ts: now } satisfies Draft);
    return;
  }
  if (current?.text === text && current.reply?.id === draft.reply?.id) return;
  map.set(peer, (draft.reply === undefined ? { text, ts: now } : { text, reply: draft.reply, ts: now }) satisfies Draft);
}

/** "Delete for me": hides the message on every device of the user (the peer keeps it); `false` shows it again. */
export function setHidden(doc: Y.Doc, msg: string, peer: string, hidden: boolean, now = Date.now()): void {
  const map = doc.getMap<unknown>('hidden');
  if (!hidden) map.delete(msg);
  else if (!map.has(msg)) map.set(msg, { peer, ts: now } satisfies HiddenMessage);
}

/** Stars a message (the Starred view), or takes the star back. */
export function setStarred(doc: Y.Doc, msg: string, peer: string, starred: boolean, now = Date.now()): void {
  const map = doc.getMap<unknown>('starred');
  if (!starred) map.delete(msg);
  else if (!map.has(msg)) map.set(msg, { peer, ts: now } satisfies StarredMessage);
}

/**
 * The read markers ahead of their conversation's read receipt (as materialised
 * from its segments): the hub syncs such a conversation's newest segment, and
 * its receipt catches up with the marker (the peer then sees the ticks).
 */
export async function laggingReads(me: string): Promise<ReadRow[]> {
  const reads = await db.reads.toArray();
  const receipts = await db.receipts.bulkGet(reads.map((r) => `${conversationId(me, r.peer)}|${receiptKey(me, 'read')}`));
  return reads.filter((r, i) => r.seq > 0 && (receipts[i]?.seq ?? 0) < r.seq);
}
