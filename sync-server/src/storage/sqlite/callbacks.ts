/**
 * The after-send callback queue in SQLite: `callback_queue`, its rows
 * inserted by the commit of their message (`record`, a CommitPart) and
 * carrying the claim of the process sending them (`claimed_by`, '' when
 * free, and `claim_until`). One writer thread makes each claim one
 * transaction, so two claims never take the same row.
 */
import type Database from 'better-sqlite3';
import type { CallbackStore, QueuedCallback } from '../stores/callbacks.ts';
import type { CommitPart, Write } from '../stores/docs.ts';
import type { Sync } from './sync.ts';

type Row = QueuedCallback & { claimed_by: string; claim_until: number };

const toCallback = ({ id, conversation, msg, payload, attempts, due }: Row): QueuedCallback => ({ id, conversation, msg, payload, attempts, due });

export class SqliteCallbacks implements Sync<CallbackStore>, CommitPart {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare<[string, string, string, number]>('INSERT INTO callback_queue (conversation, msg, payload, attempts, due) VALUES (?, ?, ?, 0, ?)'),
      queued: db.prepare<[], Row>('SELECT * FROM callback_queue ORDER BY id'),
      nextDue: db.prepare<[number], { due: number | null }>('SELECT MIN(due) AS due FROM callback_queue WHERE due > ?'),
      claim: db.prepare<[{ node: string; until: number; lone: number; now: number; limit: number }], Row>(
        'UPDATE callback_queue SET claimed_by = @node, claim_until = @until WHERE id IN ' +
          '(SELECT id FROM callback_queue WHERE due <= @now AND (claim_until <= @now OR (@lone AND claimed_by <> @node)) ORDER BY id LIMIT @limit) RETURNING *',
      ),
      retry: db.prepare<[number, number, number]>("UPDATE callback_queue SET attempts = ?, due = ?, claimed_by = '', claim_until = 0 WHERE id = ?"),
      drop: db.prepare<[number]>('DELETE FROM callback_queue WHERE id = ?'),
      dropOf: db.prepare<[string, string]>('DELETE FROM callback_queue WHERE conversation = ? AND msg = ?'),
      release: db.prepare<[string]>("UPDATE callback_queue SET claimed_by = '', claim_until = 0 WHERE claimed_by = ?"),
      releaseOne: db.prepare<[string, number]>("UPDATE callback_queue SET claimed_by = '', claim_until = 0 WHERE claimed_by = ? AND id = ?"),
    };
  }

  record(writes: readonly Write[]): void {
    for (const w of writes) if (w.kind === 'callback') this.stmt.insert.run(w.conversation, w.msg, w.payload, w.due);
  }

  queuedCallbacks(): QueuedCallback[] {
    return this.stmt.queued.all().map(toCallback);
  }

  nextCallbackDue(after: number): number | null {
    return this.stmt.nextDue.get(after)?.due ?? null;
  }

  claimCallbacks(node: string, now: number, claimUntil: number, limit: number, lone = false): QueuedCallback[] {
    return this.stmt.claim
      .all({ node, until: claimUntil, lone: lone ? 1 : 0, now, limit })
      .map(toCallback)
      .sort((x, y) => x.id - y.id);
  }

  retryCallback(id: number, attempts: number, due: number): void {
    this.stmt.retry.run(attempts, due, id);
  }

  dropCallbacksOf(conversation: string, msg: string): void {
    this.stmt.dropOf.run(conversation, msg);
  }

  dropCallbacks(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmt.drop.run(id);
    })();
  }

  releaseCallbackClaims(node: string, ids?: readonly number[]): void {
    if (ids === undefined) {
      this.stmt.release.run(node);
      return;
    }
    this.db.transaction(() => {
      for (const id of ids) this.stmt.releaseOne.run(node, id);
    })();
  }
}
