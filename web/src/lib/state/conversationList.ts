/**
 * The conversation list, as data: inbox rows with profiles and the user's
 * prefs (read markers, mutes, pins, archives, drafts), pinned first, then
 * newest first; archived conversations apart until a message newer than the
 * archiving. A last message I deleted for myself (prefs `hidden`) gives way
 * to the newest one I did not. conversations.svelte.ts makes it live; services/title.ts counts it.
 */
import { Dexie } from 'dexie';
import { conversationId, previewOfBody } from '@parley/protocol';
import { db, type ArchiveRow, type ConversationRow, type DraftRow, type PinRow, type ProfileRow } from '../db.ts';
import { recallText } from '../shared/recallText.ts';
import { stillArchived } from '../sync/prefs.ts';

export interface ConversationItem {
  peer: string;
  name: string;
  avatar?: string | undefined;
  preview: string;
  mine: boolean;
  time: number;
  unread: number;
  /** Muted (prefs): no notifications for it. */
  muted: boolean;
  /** Pinned (prefs): on top of the list. */
  pinned: boolean;
  /** Archived (prefs) and no message since: in the Archived list only. */
  archived: boolean;
  /** The unsent text (prefs' drafts), shown instead of the preview. */
  draft?: string | undefined;
}

export interface ConversationLists {
  /** The main list: pinned first (most recently pinned on top), then by last activity. */
  main: ConversationItem[];
  /** Archived conversations, by last activity. */
  archived: ConversationItem[];
}

export interface Prefs {
  reads: Map<string, number>;
  muted: Set<string>;
  pins: Map<string, PinRow>;
  archives: Map<string, ArchiveRow>;
  drafts: Map<string, DraftRow>;
  profiles: Map<string, ProfileRow>;
  systemIds: Set<string>;
  /** Last messages recalled on this device's copy, by id: who recalled them. */
  recalls: Map<string, string>;
  /** Conversations whose last message I deleted for myself: the newest I did not, instead (empty when none). */
  shown?: Map<string, { preview: string; from: string }>;
}

/** One row of the list from its inbox row and the user's prefs (pure: the sorting and the tests use it). */
export function itemOf(row: ConversationRow, me: string, p: Prefs): ConversationItem {
  const profile = p.profiles.get(row.peer);
  // The inbox's count lags a read made on another device or offline on this one; a reply means read too.
  const read = (p.reads.get(row.peer) ?? 0) >= row.lastSeq || row.lastFrom === me;
  const draft = p.drafts.get(row.peer)?.text;
  const name = profile?.nickname || row.peer;
  // A recall reads as in the conversation, whichever copy says so first (the server's inbox, or this device's message row).
  const recalledBy = row.recalledBy ?? p.recalls.get(row.lastId ?? '');
  const shown = p.shown?.get(row.peer);
  return {
    peer: row.peer,
    name,
    avatar: profile?.avatar,
    preview: shown !== undefined ? shown.preview : recalledBy === undefined ? row.preview : recallText(recalledBy, me, name),
    // A system notice is nobody's message, and a recall notice says who: no "You:" before either.
    mine: shown !== undefined ? shown.from === me && shown.preview !== '' : row.lastFrom === me && recalledBy === undefined && !p.systemIds.has(row.lastId ?? ''),
    time: row.lastTs,
    unread: read ? 0 : row.unread,
    muted: p.muted.has(row.peer),
    pinned: p.pins.get(row.peer)?.pinned === true,
    archived: stillArchived(p.archives.get(row.peer), row.lastTs),
    draft: draft === undefined || draft.length === 0 ? undefined : draft,
  };
}

/** Splits and orders the rows (given newest first): pinned on top by pin time, archived apart. */
export function arrange(items: ConversationItem[], pins: Map<string, PinRow>): ConversationLists {
  const main = items.filter((i) => !i.archived);
  const pinned = main.filter((i) => i.pinned).sort((a, b) => (pins.get(b.peer)?.ts ?? 0) - (pins.get(a.peer)?.ts ?? 0));
  return { main: [...pinned, ...main.filter((i) => !i.pinned)], archived: items.filter((i) => i.archived) };
}

/** The user's two lists, from the store (what the list shows, and what the title counts). */
export async function loadLists(me: string): Promise<ConversationLists> {
  const [rows, profiles, reads, mutes, pins, archives, drafts] = await Promise.all([
    db.conversations.orderBy('updatedAt').reverse().toArray(),
    db.profiles.toArray(),
    db.reads.toArray(),
    db.mutes.toArray(),
    db.pins.toArray(),
    db.archives.toArray(),
    db.drafts.toArray(),
  ]);
  const [lasts, hiddenLasts] = await Promise.all([db.messages.bulkGet(rows.map((r) => r.lastId ?? '')), db.hidden.bulkGet(rows.map((r) => r.lastId ?? ''))]);
  const prefs: Prefs = {
    reads: new Map(reads.map((r) => [r.peer, r.seq])),
    muted: new Set(mutes.flatMap((m) => (m.muted ? [m.peer] : []))),
    pins: new Map(pins.map((p) => [p.peer, p])),
    archives: new Map(archives.map((a) => [a.peer, a])),
    drafts: new Map(drafts.map((d) => [d.peer, d])),
    profiles: new Map(profiles.map((p) => [p.id, p])),
    systemIds: new Set(lasts.flatMap((m) => (m?.type === 'system' ? [m.id] : []))),
    recalls: new Map(lasts.flatMap((m) => (m?.recalled === undefined ? [] : [[m.id, m.recalled.by] as const]))),
    shown: await shownInstead(rows.filter((_, i) => hiddenLasts[i] !== undefined), me),
  };
  // Newest first by what the list shows (a pushed or local row may be newer than its updatedAt order).
  const items = rows.map((row) => itemOf(row, me, prefs)).sort((a, b) => b.time - a.time);
  return arrange(items, prefs.pins);
}

/**
 * For conversations whose last message I hid: the newest message I did not
 * hide (a few rows read per such conversation, from the newest down).
 */
async function shownInstead(rows: readonly ConversationRow[], me: string): Promise<Map<string, { preview: string; from: string }>> {
  const shown = new Map<string, { preview: string; from: string }>();
  for (const row of rows) {
    const conv = conversationId(me, row.peer);
    const recent = await db.messages.where('[conv+order]').between([conv, Dexie.minKey], [conv, Dexie.maxKey]).reverse().limit(50).toArray();
    const hidden = new Set((await db.hidden.bulkGet(recent.map((m) => m.id))).flatMap((h) => (h === undefined ? [] : [h.msg])));
    const newest = recent.find((m) => !hidden.has(m.id));
    shown.set(row.peer, newest === undefined ? { preview: '', from: '' } : { preview: newest.recalled !== undefined ? 'Message recalled' : newest.body.length > 0 ? previewOfBody(newest.body) : newest.text, from: newest.from });
  }
  return shown;
}

/** Unread messages in the main list (archived conversations wait until opened). */
export function unreadTotal(lists: ConversationLists): number {
  return lists.main.reduce((n, i) => n + i.unread, 0);
}

