/**
 * The PostgreSQL backend (PARLEY_DATABASE_URL): the stores of postgres/, one
 * class per store, over one connection pool, composed into one Storage. Its
 * schema is brought up to date at open (postgres/migrations.ts). Unlike the
 * SQLite file, one database serves several Parley processes at once: what
 * that asks of the docs store is in postgres/docs.ts.
 */
import type pg from 'pg';
import { openPool, type PoolOptions } from './postgres/db.ts';
import { PgSessions, PgUsers } from './postgres/accounts.ts';
import { PgCallbacks } from './postgres/callbacks.ts';
import { PgDocs } from './postgres/docs.ts';
import { PgMedia } from './postgres/media.ts';
import { PgMessages } from './postgres/messages.ts';
import { migrate } from './postgres/migrations.ts';
import { PgPush } from './postgres/push.ts';
import { PgSocial } from './postgres/social.ts';
import { ComposedStorage, type Storage } from './storage.ts';

/** Connections kept for commits, beside the pool of PARLEY_DATABASE_POOL (postgres/docs.ts says why). */
const COMMIT_CONNECTIONS = 2;

export class PostgresStorage extends ComposedStorage implements Storage {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly commits: pg.Pool,
  ) {
    const messages = new PgMessages(pool);
    const media = new PgMedia(pool);
    const callbacks = new PgCallbacks(pool);
    super({
      docs: new PgDocs(pool, [messages, media, callbacks], commits),
      callbacks,
      messages,
      media,
      users: new PgUsers(pool),
      sessions: new PgSessions(pool),
      social: new PgSocial(pool),
      push: new PgPush(pool),
    });
  }

  /** Connects, runs the migrations the database lacks, and resolves with the storage; a database that cannot be reached or migrated rejects. */
  static async open(options: PoolOptions): Promise<PostgresStorage> {
    const pool = openPool(options);
    // The group commit takes one batch at a time; the second connection is for its probe after a fault.
    const commits = openPool({ ...options, max: COMMIT_CONNECTIONS, name: `${options.name ?? 'parley'}-commits` });
    try {
      await migrate(pool);
    } catch (error) {
      await Promise.all([pool.end(), commits.end()]);
      throw error;
    }
    return new PostgresStorage(pool, commits);
  }

  /** Waits for the queries in flight and closes every connection. */
  close(): Promise<void> {
    return (this.closing ??= Promise.all([this.pool.end(), this.commits.end()]).then(() => undefined));
  }
}
