/**
 * Uploads and media in SQLite. Media access is two small keyed tables read by
 * one lookup per request: `media_uploaders` (who uploaded a hash) and
 * `media_refs` (conversations with a message that references it, written in
 * the message's own transaction). A reference from a sender who may not read
 * the hash yet (the message outran its upload) waits in `media_waiting` until
 * that sender's upload completes, so naming a hash never grants it.
 */
import type Database from 'better-sqlite3';
import type { MediaKind } from '@parley/protocol';
import type { CommitPart, Write } from '../stores/docs.ts';
import type { MediaRecord, MediaStore, UploadRecord } from '../stores/media.ts';
import { membersOf } from '../stores/messages.ts';
import type { Sync } from './sync.ts';

/** An uploads row: an UploadRecord whose kind SQLite holds as plain text. */
type UploadRow = Omit<UploadRecord, 'kind'> & { kind: string };
type MediaRow = Omit<MediaRecord, 'kind'> & { kind: string };

// Type-only use of the protocol: the worker thread loads this file and need not load zod and Yjs.
const toUpload = (row: UploadRow): UploadRecord => ({ ...row, kind: row.kind as MediaKind });
const toMedia = (row: MediaRow): MediaRecord => ({ ...row, kind: row.kind as MediaKind });

export class SqliteMedia implements Sync<MediaStore>, CommitPart {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      putUpload: db.prepare<[UploadRow]>(
        'INSERT OR REPLACE INTO uploads (id, user, device, kind, peer, size, mime, sha256, name, received, created, written) ' +
          'VALUES (@id, @user, @device, @kind, @peer, @size, @mime, @sha256, @name, @received, @created, @written)',
      ),
      getUpload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
      uploads: db.prepare<[], UploadRow>('SELECT * FROM uploads ORDER BY created'),
      uploadsOf: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE user = ? ORDER BY created'),
      setReceived: db.prepare<[number, number, string]>('UPDATE uploads SET received = ?, written = ? WHERE id = ?'),
      deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
      putMedia: db.prepare<[MediaRow]>(
        'INSERT INTO media (hash, size, mime, kind, name, created) VALUES (@hash, @size, @mime, @kind, @name, @created) ON CONFLICT (hash) DO NOTHING',
      ),
      getMedia: db.prepare<[string], MediaRow>('SELECT * FROM media WHERE hash = ?'),
      putUploader: db.prepare<[string, string]>('INSERT OR IGNORE INTO media_uploaders (hash, user) VALUES (?, ?)'),
      mayRead: db.prepare<[{ hash: string; user: string }], { ok: number }>(
        'SELECT EXISTS (SELECT 1 FROM media_uploaders WHERE hash = @hash AND user = @user) ' +
          'OR EXISTS (SELECT 1 FROM media_refs WHERE hash = @hash AND (a = @user OR b = @user)) AS ok',
      ),
      hasUploaded: db.prepare<[string, string], { ok: number }>('SELECT 1 AS ok FROM media_uploaders WHERE hash = ? AND user = ?'),
      // One row per hash the user uploaded (media_uploaders' key), so a hash uploaded twice counts once.
      uploadedBytes: db.prepare<[string], { n: number | null }>(
        'SELECT SUM(media.size) AS n FROM media_uploaders JOIN media ON media.hash = media_uploaders.hash WHERE media_uploaders.user = ?',
      ),
      putRef: db.prepare<[string, string, string]>('INSERT OR IGNORE INTO media_refs (hash, a, b) VALUES (?, ?, ?)'),
      putWaiting: db.prepare<[string, string, string, string]>('INSERT OR IGNORE INTO media_waiting (hash, sender, a, b) VALUES (?, ?, ?, ?)'),
      releaseWaiting: db.prepare<[string, string]>('INSERT OR IGNORE INTO media_refs (hash, a, b) SELECT hash, a, b FROM media_waiting WHERE hash = ? AND sender = ?'),
      dropWaiting: db.prepare<[string, string]>('DELETE FROM media_waiting WHERE hash = ? AND sender = ?'),
      dropRef: db.prepare<[string, string, string]>('DELETE FROM media_refs WHERE hash = ? AND a = ? AND b = ?'),
      dropWaitingRef: db.prepare<[string, string, string]>('DELETE FROM media_waiting WHERE hash = ? AND a = ? AND b = ?'),
      onlyOf: db.prepare<{ user: string }, { hash: string }>(
        'SELECT u.hash FROM media_uploaders u WHERE u.user = @user AND NOT EXISTS (SELECT 1 FROM media_uploaders o WHERE o.hash = u.hash AND o.user <> @user) ' +
          'AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.hash = u.hash) ORDER BY u.hash',
      ),
      dropUploader: db.prepare<[string]>('DELETE FROM media_uploaders WHERE user = ?'),
      dropWaitingOf: db.prepare<[string]>('DELETE FROM media_waiting WHERE sender = ?'),
      dropMedia: db.prepare<[string]>('DELETE FROM media WHERE hash = ?'),
    };
  }

  /** Inside the commit's transaction: the batch's `media-ref` and `media-unref` writes, in order. */
  record(writes: readonly Write[]): void {
    for (const w of writes) {
      if (w.kind === 'media-ref') {
        const [a, b] = membersOf(w.conversation);
        if (this.mayReadMedia(w.hash, w.from)) this.stmt.putRef.run(w.hash, a, b);
        else this.stmt.putWaiting.run(w.hash, w.from, a, b);
      } else if (w.kind === 'media-unref') {
        const [a, b] = membersOf(w.conversation);
        this.stmt.dropRef.run(w.hash, a, b);
        this.stmt.dropWaitingRef.run(w.hash, a, b);
      }
    }
  }

  putUpload(upload: UploadRecord): void {
    this.stmt.putUpload.run(upload);
  }

  getUpload(id: string): UploadRecord | undefined {
    const row = this.stmt.getUpload.get(id);
    return row && toUpload(row);
  }

  uploads(): UploadRecord[] {
    return this.stmt.uploads.all().map(toUpload);
  }

  uploadsOf(user: string): UploadRecord[] {
    return this.stmt.uploadsOf.all(user).map(toUpload);
  }

  setUploadReceived(id: string, received: number, written: number): void {
    this.stmt.setReceived.run(received, written, id);
  }

  deleteUpload(id: string): void {
    this.stmt.deleteUpload.run(id);
  }

  addMedia(media: MediaRecord, uploader: string, uploadId: string | null): void {
    this.db.transaction(() => {
      this.stmt.putMedia.run(media);
      this.stmt.putUploader.run(media.hash, uploader);
      this.stmt.releaseWaiting.run(media.hash, uploader);
      this.stmt.dropWaiting.run(media.hash, uploader);
      if (uploadId !== null) this.stmt.deleteUpload.run(uploadId);
    })();
  }

  getMedia(hash: string): MediaRecord | undefined {
    const row = this.stmt.getMedia.get(hash);
    return row && toMedia(row);
  }

  mayReadMedia(hash: string, user: string): boolean {
    return this.stmt.mayRead.get({ hash, user })?.ok === 1;
  }

  hasUploaded(hash: string, user: string): boolean {
    return this.stmt.hasUploaded.get(hash, user)?.ok === 1;
  }

  uploadedBytes(user: string): number {
    return this.stmt.uploadedBytes.get(user)?.n ?? 0;
  }

  mediaOnlyOf(user: string): string[] {
    return this.stmt.onlyOf.all({ user }).map((row) => row.hash);
  }

  forgetUploader(user: string): void {
    this.db.transaction(() => {
      const gone = this.mediaOnlyOf(user);
      this.stmt.dropUploader.run(user);
      this.stmt.dropWaitingOf.run(user);
      for (const hash of gone) this.stmt.dropMedia.run(hash);
    })();
  }
}
