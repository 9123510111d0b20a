/**
 * Uploads and media in PostgreSQL: `uploads`, `media`, `media_uploaders`,
 * `media_refs` and `media_waiting`, as in SQLite (sqlite/media.ts says why
 * a reference from a sender who may not read the hash yet waits).
 */
import type pg from 'pg';
import type { MediaKind } from '@parley/protocol';
import type { Write } from '../stores/docs.ts';
import type { MediaRecord, MediaStore, UploadRecord } from '../stores/media.ts';
import { membersOf } from '../stores/messages.ts';
import { transaction } from './db.ts';
import type { PgCommitPart } from './docs.ts';

type UploadRow = Omit<UploadRecord, 'kind' | 'user'> & { kind: string; user_id: string };
type MediaRow = Omit<MediaRecord, 'kind'> & { kind: string };

const toUpload = ({ user_id, ...row }: UploadRow): UploadRecord => ({ ...row, user: user_id, kind: row.kind as MediaKind });
const toMedia = (row: MediaRow): MediaRecord => ({ ...row, kind: row.kind as MediaKind });

const MAY_READ =
  'SELECT EXISTS (SELECT 1 FROM media_uploaders WHERE hash = $1 AND user_id = $2) OR EXISTS (SELECT 1 FROM media_refs WHERE hash = $1 AND (a = $2 OR b = $2)) AS ok';

export class PgMedia implements MediaStore, PgCommitPart {
  constructor(private readonly pool: pg.Pool) {}

  /** Inside the commit's transaction: the batch's `media-ref` and `media-unref` writes, in order (few: one per attachment). */
  async record(client: pg.PoolClient, writes: readonly Write[]): Promise<void> {
    for (const w of writes) {
      if (w.kind === 'media-ref') {
        const [a, b] = membersOf(w.conversation);
        if (await mayRead(client, w.hash, w.from)) await client.query('INSERT INTO media_refs (hash, a, b) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [w.hash, a, b]);
        else await client.query('INSERT INTO media_waiting (hash, sender, a, b) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [w.hash, w.from, a, b]);
      } else if (w.kind === 'media-unref') {
        const [a, b] = membersOf(w.conversation);
        await client.query('DELETE FROM media_refs WHERE hash = $1 AND a = $2 AND b = $3', [w.hash, a, b]);
        await client.query('DELETE FROM media_waiting WHERE hash = $1 AND a = $2 AND b = $3', [w.hash, a, b]);
      }
    }
  }

  async putUpload(u: UploadRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO uploads (id, user_id, device, kind, peer, size, mime, sha256, name, received, created, written) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ' +
        'ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, device = excluded.device, kind = excluded.kind, peer = excluded.peer, size = excluded.size, ' +
        'mime = excluded.mime, sha256 = excluded.sha256, name = excluded.name, received = excluded.received, created = excluded.created, written = excluded.written',
      [u.id, u.user, u.device, u.kind, u.peer, u.size, u.mime, u.sha256, u.name, u.received, u.created, u.written],
    );
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const { rows } = await this.pool.query<UploadRow>('SELECT * FROM uploads WHERE id = $1', [id]);
    return rows[0] && toUpload(rows[0]);
  }

  async uploads(): Promise<UploadRecord[]> {
    const { rows } = await this.pool.query<UploadRow>('SELECT * FROM uploads ORDER BY created');
    return rows.map(toUpload);
  }

  async uploadsOf(user: string): Promise<UploadRecord[]> {
    const { rows } = await this.pool.query<UploadRow>('SELECT * FROM uploads WHERE user_id = $1 ORDER BY created', [user]);
    return rows.map(toUpload);
  }

  async setUploadReceived(id: string, received: number, written: number): Promise<void> {
    await this.pool.query('UPDATE uploads SET received = $1, written = $2 WHERE id = $3', [received, written, id]);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.pool.query('DELETE FROM uploads WHERE id = $1', [id]);
  }

  async addMedia(media: MediaRecord, uploader: string, uploadId: string | null): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('INSERT INTO media (hash, size, mime, kind, name, created) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING', [
        media.hash,
        media.size,
        media.mime,
        media.kind,
        media.name,
        media.created,
      ]);
      await client.query('INSERT INTO media_uploaders (hash, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [media.hash, uploader]);
      await client.query('INSERT INTO media_refs (hash, a, b) SELECT hash, a, b FROM media_waiting WHERE hash = $1 AND sender = $2 ON CONFLICT DO NOTHING', [
        media.hash,
        uploader,
      ]);
      await client.query('DELETE FROM media_waiting WHERE hash = $1 AND sender = $2', [media.hash, uploader]);
      if (uploadId !== null) await client.query('DELETE FROM uploads WHERE id = $1', [uploadId]);
    });
  }

  async getMedia(hash: string): Promise<MediaRecord | undefined> {
    const { rows } = await this.pool.query<MediaRow>('SELECT * FROM media WHERE hash = $1', [hash]);
    return rows[0] && toMedia(rows[0]);
  }

  mayReadMedia(hash: string, user: string): Promise<boolean> {
    return mayRead(this.pool, hash, user);
  }

  async hasUploaded(hash: string, user: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM media_uploaders WHERE hash = $1 AND user_id = $2', [hash, user]);
    return rowCount === 1;
  }

  /** One row per hash the user uploaded (media_uploaders' key), so a hash uploaded twice counts once. */
  async uploadedBytes(user: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number | null }>(
      'SELECT SUM(media.size)::bigint AS n FROM media_uploaders JOIN media ON media.hash = media_uploaders.hash WHERE media_uploaders.user_id = $1',
      [user],
    );
    return rows[0]?.n ?? 0;
  }

  async mediaOnlyOf(user: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ hash: string }>(ONLY_OF, [user]);
    return rows.map((row) => row.hash);
  }

  async forgetUploader(user: string): Promise<void> {
    await transaction(this.pool, async (client) => {
      const { rows } = await client.query<{ hash: string }>(ONLY_OF, [user]);
      await client.query('DELETE FROM media_uploaders WHERE user_id = $1', [user]);
      await client.query('DELETE FROM media_waiting WHERE sender = $1', [user]);
      if (rows.length > 0) await client.query('DELETE FROM media WHERE hash = ANY($1::text[])', [rows.map((row) => row.hash)]);
    });
  }
}

/** The hashes $1 uploaded with no other uploader and no conversation reference. */
const ONLY_OF =
  'SELECT u.hash FROM media_uploaders u WHERE u.user_id = $1 AND NOT EXISTS (SELECT 1 FROM media_uploaders o WHERE o.hash = u.hash AND o.user_id <> $1) ' +
  'AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.hash = u.hash) ORDER BY u.hash';

/** On the pool, or on a commit's connection (inside its transaction: it sees the commit's own earlier writes). */
async function mayRead(db: pg.Pool | pg.PoolClient, hash: string, user: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(MAY_READ, [hash, user]);
  return rows[0]?.ok === true;
}
