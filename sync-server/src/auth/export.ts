/**
 * "Download my data" (GET /api/v1/me/export, issue 17): one zip, streamed as
 * it is made, never whole in memory:
 * - `messages.json`: every conversation the user is in, each message they
 *   may read in sequence order (seq, id, ts, from, body, edits, recalled);
 * - `profile.json`: the profile, the privacy settings, when the account was made;
 * - `contacts.json`: friends, blocklist, friend requests in and out;
 * - `media/<hash>.<ext>`: the bytes of the media the user sent, stored as
 *   they are (already compressed formats: no deflate).
 * The JSON is deflated. One segment document is held at a time, and the
 * stream waits for the socket to drain, so a big account costs time, not memory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Zip, ZipDeflate, ZipPassThrough, strToU8 } from 'fflate';
import { conversationId, conversationPath, mediaOf, type Message, type MessageEdit } from '@parley/protocol';
import type { Media } from '../media/media.ts';
import { profileOf } from '../social/profiles.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';

/** File extensions of the mime types the app sends; anything else is `.bin`. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'audio/webm': 'weba',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

export const extensionOf = (mime: string): string => EXTENSIONS[mime.split(';')[0]?.trim().toLowerCase() ?? ''] ?? 'bin';

/** The zip's name in Content-Disposition. */
export const exportFileName = (user: string, now = new Date()): string => `parley-${user}-${now.toISOString().slice(0, 10)}.zip`;

/** Writes the user's archive to `out` and ends it; resolves when the last byte is handed to it. */
export async function writeExport(out: Writable, user: string, deps: { storage: Storage; hub: SyncHub; media: Media }): Promise<void> {
  const { storage, hub, media } = deps;
  let failed: Error | null = null;
  const zip = new Zip((error, chunk, final) => {
    if (error !== null) {
      failed = error;
      out.destroy(error);
      return;
    }
    out.write(chunk);
    if (final) out.end();
  });
  /** Waits while the socket holds more than its buffer (fflate has no backpressure of its own). */
  const drained = async (): Promise<void> => {
    if (failed !== null) throw failed;
    if (out.destroyed) throw new Error('export: the client went away');
    if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', resolve).once('close', resolve));
  };
  const json = async (name: string, value: unknown): Promise<void> => {
    const file = new ZipDeflate(name, { level: 6 });
    zip.add(file);
    file.push(strToU8(JSON.stringify(value, null, 2)), true);
    await drained();
  };

  const record = await storage.getUser(user);
  if (record === undefined) throw new Error(`export: no user ${user}`);
  await json('profile.json', { ...profileOf(record), created: record.created, privacy: record.privacy ?? null, exported: Date.now() });
  const relations = await hub.relations.load(user);
  const since = (m: Map<string, { created: number; note: string | null }>) => [...m].map(([id, s]) => ({ id, since: s.created, ...(s.note === null ? {} : { note: s.note }) }));
  await json('contacts.json', {
    friends: since(relations.friends),
    blocked: since(relations.blocked),
    requestsSent: since(relations.requestsOut),
    requestsReceived: since(relations.requestsIn),
  });

  // messages.json, written a conversation segment at a time.
  const messages = new ZipDeflate('messages.json', { level: 6 });
  zip.add(messages);
  const text = (s: string): void => messages.push(strToU8(s), false);
  const sent = new Set<string>();
  text(`{\n  "user": ${JSON.stringify(user)},\n  "conversations": [`);
  let firstConversation = true;
  await hub.commit.idle();
  for (const peer of await storage.peersOf(user)) {
    text(`${firstConversation ? '' : ','}\n    {"peer": ${JSON.stringify(peer)}, "messages": [`);
    firstConversation = false;
    let first = true;
    for (const { segment } of await storage.segmentsOf(conversationId(user, peer))) {
      const live = await hub.registry.acquire(conversationPath(user, peer, segment));
      try {
        const seqs = live.doc.getMap<number>('seq');
        const recalls = live.doc.getMap<{ by: string; ts: number }>('recalls');
        const edits = new Map<string, MessageEdit[]>();
        for (const [key, edit] of live.doc.getMap<MessageEdit>('edits')) {
          const id = key.slice(0, key.indexOf('|'));
          edits.set(id, [...(edits.get(id) ?? []), edit]);
        }
        const hidden = new Set<string>();
        const rows: { seq: number; id: string; entry: Record<string, unknown> }[] = [];
        for (const [id, message] of live.doc.getMap<Message>('messages')) {
          const seq = seqs.get(id);
          if (seq === undefined) continue;
          hidden.add(id);
          if (message.from === user) for (const ref of mediaOf(message.body)) sent.add(ref.hash);
          const recalled = recalls.get(id);
          rows.push({
            seq,
            id,
            entry: { seq, id, ts: message.ts, from: message.from, body: message.body, ...(edits.has(id) ? { edits: edits.get(id) } : {}), ...(recalled === undefined ? {} : { recalled }) },
          });
        }
        // Recalled messages keep their place and who recalled them; their content is gone.
        for (const [id, recalled] of recalls) {
          const seq = seqs.get(id);
          if (!hidden.has(id) && seq !== undefined) rows.push({ seq, id, entry: { seq, id, recalled } });
        }
        rows.sort((p, q) => p.seq - q.seq);
        for (const row of rows) {
          text(`${first ? '' : ','}\n      ${JSON.stringify(row.entry)}`);
          first = false;
        }
      } finally {
        hub.registry.release(live);
      }
      await drained();
    }
    text('\n    ]}');
  }
  messages.push(strToU8('\n  ]\n}\n'), true);
  await drained();

  for (const hash of [...sent].sort()) {
    const record = await storage.getMedia(hash);
    const path = media.pathOf(hash);
    if (record === undefined || !(await stat(path).catch(() => null))?.isFile()) continue;
    const file = new ZipPassThrough(`media/${hash}.${extensionOf(record.mime)}`);
    zip.add(file);
    for await (const chunk of createReadStream(path)) {
      file.push(chunk as Uint8Array, false);
      await drained();
    }
    file.push(new Uint8Array(0), true);
  }
  zip.end();
  await drained();
}
