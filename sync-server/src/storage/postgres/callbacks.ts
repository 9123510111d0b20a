/**
 * The after-send callback queue in PostgreSQL: `callback_queue`, as in
 * SQLite. A message's rows go in with one INSERT inside its commit's
 * transaction (`record`). Claims take rows `FOR UPDATE SKIP LOCKED`, as the
 * push queue's do: two processes claiming at once never get the same row.
 */
import type pg from 'pg';
import type { CallbackStore, QueuedCallback } from '../stores/callbacks.ts';
import type { Write } from '../stores/docs.ts';
import type { PgCommitPart } from './docs.ts';

type CallbackWrite = Extract<Write, { kind: 'callback' }>;
type Row = QueuedCallback & { claimed_by: string; claim_until: number };

const toCallback = ({ id, conversation, msg, payload, attempts, due }: Row): QueuedCallback => ({ id, conversation, msg, payload, attempts, due });

export class PgCallbacks implements CallbackStore, PgCommitPart {
  constructor(private readonly pool: pg.Pool) {}

  async record(client: pg.PoolClient, writes: readonly Write[]): Promise<void> {
    const rows = writes.filter((w): w is CallbackWrite => w.kind === 'callback');
    if (rows.length === 0) return;
    await client.query('INSERT INTO callback_queue (conversation, msg, payload, attempts, due) SELECT c, m, p, 0, d FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(c, m, p, d)', [
      rows.map((w) => w.conversation),
      rows.map((w) => w.msg),
      rows.map((w) => w.payload),
      rows.map((w) => w.due),
    ]);
  }

  async queuedCallbacks(): Promise<QueuedCallback[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM callback_queue ORDER BY id');
    return rows.map(toCallback);
  }

  async nextCallbackDue(after: number): Promise<number | null> {
    const { rows } = await this.pool.query<{ due: number | null }>('SELECT MIN(due) AS due FROM callback_queue WHERE due > $1', [after]);
    return rows[0]?.due ?? null;
  }

  async claimCallbacks(node: string, now: number, claimUntil: number, limit: number, lone = false): Promise<QueuedCallback[]> {
    const { rows } = await this.pool.query<Row>(
      'UPDATE callback_queue SET claimed_by = $1, claim_until = $2 WHERE id IN ' +
        '(SELECT id FROM callback_queue WHERE due <= $3 AND (claim_until <= $3 OR ($4 AND claimed_by <> $1)) ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING *',
      [node, claimUntil, now, lone, limit],
    );
    return rows.map(toCallback).sort((x, y) => x.id - y.id);
  }

  async retryCallback(id: number, attempts: number, due: number): Promise<void> {
    await this.pool.query("UPDATE callback_queue SET attempts = $1, due = $2, claimed_by = '', claim_until = 0 WHERE id = $3", [attempts, due, id]);
  }

  async dropCallbacksOf(conversation: string, msg: string): Promise<void> {
    await this.pool.query('DELETE FROM callback_queue WHERE conversation = $1 AND msg = $2', [conversation, msg]);
  }

  async dropCallbacks(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.pool.query('DELETE FROM callback_queue WHERE id = ANY($1::bigint[])', [ids]);
  }

  async releaseCallbackClaims(node: string, ids?: readonly number[]): Promise<void> {
    if (ids === undefined) await this.pool.query("UPDATE callback_queue SET claimed_by = '', claim_until = 0 WHERE claimed_by = $1", [node]);
    else if (ids.length > 0) await this.pool.query("UPDATE callback_queue SET claimed_by = '', claim_until = 0 WHERE claimed_by = $1 AND id = ANY($2::bigint[])", [node, ids]);
  }
}
