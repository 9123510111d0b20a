/**
 * The SQLite backend's stores, one class per store, all over one
 * better-sqlite3 connection, and synchronous: better-sqlite3 is. The server
 * runs two sets (sqlite.ts): the writer's, in the worker thread, and the
 * reader's, on the main thread; `inProcessStorage` runs one set on this thread
 * (tools and the contract suites).
 */
import type Database from 'better-sqlite3';
import { ComposedStorage, STORE_OF, type Storage, type StoreName, type StoreSet } from '../storage.ts';
import { SqliteSessions, SqliteUsers } from './accounts.ts';
import { SqliteCallbacks } from './callbacks.ts';
import { SqliteDocs } from './docs.ts';
import { SqliteMedia } from './media.ts';
import { SqliteMessages } from './messages.ts';
import { SqlitePush } from './push.ts';
import { SqliteSocial } from './social.ts';

export interface SqliteStores {
  docs: SqliteDocs;
  messages: SqliteMessages;
  users: SqliteUsers;
  sessions: SqliteSessions;
  social: SqliteSocial;
  push: SqlitePush;
  media: SqliteMedia;
  callbacks: SqliteCallbacks;
}

export function sqliteStores(db: Database.Database): SqliteStores {
  const messages = new SqliteMessages(db);
  const media = new SqliteMedia(db);
  const callbacks = new SqliteCallbacks(db);
  return {
    docs: new SqliteDocs(db, [messages, media, callbacks]),
    callbacks,
    messages,
    media,
    users: new SqliteUsers(db),
    sessions: new SqliteSessions(db),
    social: new SqliteSocial(db),
    push: new SqlitePush(db),
  };
}

export type AnyMethod = (...args: unknown[]) => unknown;

/** The method `method` of `store` in `stores`, bound to its store: the generic call path of both threads, by name. */
export function methodOf(stores: object, store: string, method: string): AnyMethod {
  const target = (stores as Record<string, Record<string, AnyMethod> | undefined>)[store];
  const fn = target?.[method];
  if (target === undefined || typeof fn !== 'function') throw new Error(`storage: no method ${store}.${method}`);
  return fn.bind(target);
}

/** A set of stores whose every method is `route(store, method)`: how a backend turns its own calls into the stores' promises. */
export function routedStores(route: (store: StoreName, method: string) => AnyMethod): StoreSet {
  const stores: Record<string, Record<string, AnyMethod>> = {};
  for (const [method, store] of STORE_OF) (stores[store] ??= {})[method] = route(store, method);
  return stores as unknown as StoreSet;
}

/** `run()` as a promise: its result, or its throw as a rejection. */
export function settled(run: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Every store over `db`, on this thread (a commit's fsync blocks it: for tools and tests, not the server). */
class InProcessStorage extends ComposedStorage implements Storage {
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    const stores = sqliteStores(db);
    super(
      routedStores((store, method) => {
        const run = methodOf(stores, store, method);
        return (...args) => settled(() => run(...args));
      }),
    );
    this.db = db;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

export function inProcessStorage(db: Database.Database): Storage {
  return new InProcessStorage(db);
}
