/**
 * What the docs store owes several processes sharing one PostgreSQL (beyond
 * the contract every backend passes, contract/docs.test.ts): a log row whose
 * id was drawn before a compaction but committed after it is neither deleted
 * nor hidden; `lead` waits for a commit fenced with the old token that is
 * under way, so none can land after it; ids are unique regardless of case
 * between processes too; the pool gets over its connections being cut and
 * opens at most PARLEY_DATABASE_POOL of them.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshSchema, postgresUrl, type TestSchema } from '../../../test/services.ts';
import { PostgresStorage } from '../postgres.ts';
import { FencedError } from '../storage.ts';

const url = postgresUrl();

describe.runIf(url !== null)('the PostgreSQL docs store in a cluster', () => {
  let schema: TestSchema | undefined;
  const closing: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of closing.splice(0)) await c.close();
    await schema?.drop();
    schema = undefined;
  });

  async function open(options: { max?: number; name?: string; onError?: (error: Error) => void } = {}): Promise<{ storage: PostgresStorage; client: pg.Client }> {
    schema = await freshSchema(url ?? '');
    const { max = 4, ...rest } = options;
    const storage = await PostgresStorage.open({ url: url ?? '', max, schema: schema.schema, ...rest });
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    closing.push(storage, { close: () => client.end() });
    return { storage, client };
  }

  it('keeps and loads a log row committed after a compaction that covered its id', async () => {
    const { storage, client } = await open();
    // Another process's commit: its id is drawn now, its row is visible only at COMMIT.
    await client.query('BEGIN');
    const late = await client.query<{ id: string }>("INSERT INTO updates (doc, data) VALUES ('d', '\\x01') RETURNING id");
    const lateId = Number(late.rows[0]?.id);
    const [id = 0] = await storage.commit([{ kind: 'update', doc: 'd', data: new Uint8Array([2]) }]);
    expect(id).toBeGreaterThan(lateId);
    await storage.compact('d', new Uint8Array([9]), id);
    await client.query('COMMIT');
    const doc = await storage.loadDoc('d');
    expect([...(doc.snapshot ?? [])]).toEqual([9]);
    expect(doc.updates.map((u) => ({ id: u.id, data: [...u.data] }))).toEqual([{ id: lateId, data: [1] }]);
    expect(doc.lastId).toBe(id);
    expect(await storage.logLength('d')).toBe(1);
  });

  it('takes the lead only after a commit fenced with the old token has finished', async () => {
    const name = `parley-lead-test-${process.pid}-${Date.now()}`;
    const { storage, client } = await open({ name });
    const old = await storage.lead('d', 'node-1');
    // The old leader's commit, under way: it holds the document's row FOR SHARE, as PgDocs.commit does.
    await client.query('BEGIN');
    await client.query('SELECT token FROM doc_leaders WHERE doc = $1 FOR SHARE', ['d']);
    let led: number | null = null;
    const taking = storage.lead('d', 'node-2').then((token) => (led = token));
    const waiting = async (): Promise<boolean> =>
      (await client.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [name])).rowCount === 1;
    const deadline = Date.now() + 5000;
    while (!(await waiting())) if (Date.now() > deadline) throw new Error('lead never waited for the lock');
    expect(led).toBeNull();
    await client.query("INSERT INTO updates (doc, data) VALUES ('d', '\\x01')");
    await client.query('COMMIT');
    expect(await taking).toBeGreaterThan(old);
    await expect(storage.commit([{ kind: 'fence', doc: 'd', token: old }])).rejects.toBeInstanceOf(FencedError);
  });

  it('signs up one of two ids that differ only in case, sent by two processes at once', async () => {
    const { storage } = await open();
    const other = await PostgresStorage.open({ url: url ?? '', max: 2, schema: schema?.schema ?? '' });
    closing.push(other);
    const user = { passwordHash: 'h', nickname: 'A', avatar: null, role: 'user' as const, created: 1 };
    const created = await Promise.all([storage.createUser({ ...user, id: 'alice' }), other.createUser({ ...user, id: 'ALICE' })]);
    expect(created.filter(Boolean)).toHaveLength(1);
    expect((await other.findUser('Alice'))?.id).toBe(created[0] === true ? 'alice' : 'ALICE');
  });

  it('opens new connections after its idle ones were cut (a database restart), and says so', async () => {
    const name = `parley-cut-test-${process.pid}-${Date.now()}`;
    const lost: Error[] = [];
    const { storage, client } = await open({ name, onError: (error) => lost.push(error) });
    await storage.commit([{ kind: 'update', doc: 'd', data: new Uint8Array([1]) }]);
    const cut = await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
    expect(cut.rowCount).toBeGreaterThan(0);
    // Each cut connection's error reaches the pool as a message from the server: wait for them all.
    const deadline = Date.now() + 5000;
    while (lost.length < (cut.rowCount ?? 0)) {
      if (Date.now() > deadline) throw new Error('the pool never reported the cut connections');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await storage.commit([{ kind: 'update', doc: 'd', data: new Uint8Array([2]) }]);
    expect((await storage.loadDoc('d')).updates.map((u) => [...u.data])).toEqual([[1], [2]]);
  });

  it('opens at most its pool size of connections however many requests wait, and commits on two of their own', async () => {
    const name = `parley-pool-test-${process.pid}-${Date.now()}`;
    const { storage, client } = await open({ max: 3, name });
    await Promise.all(Array.from({ length: 12 }, (_, i) => storage.commit([{ kind: 'update', doc: `d${i}`, data: new Uint8Array([i]) }])));
    await Promise.all(Array.from({ length: 12 }, (_, i) => storage.loadDoc(`d${i}`)));
    const count = async (application: string): Promise<number> =>
      Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = $1', [application])).rows[0]?.n);
    expect(await count(name)).toBe(3);
    expect(await count(`${name}-commits`)).toBe(2);
  });

  it('commits while every pooled connection waits on a read', async () => {
    const { storage, client } = await open({ max: 2 });
    await storage.commit(Array.from({ length: 4 }, (_, i) => ({ kind: 'update', doc: `d${i}`, data: new Uint8Array([i]) })));
    // The test's own connection holds the snapshots table, so every loadDoc waits on it, each with a pooled connection.
    await client.query('BEGIN');
    await client.query('LOCK TABLE snapshots IN ACCESS EXCLUSIVE MODE');
    const reads = Promise.all(Array.from({ length: 4 }, (_, i) => storage.loadDoc(`d${i}`)));
    await until(async () => {
      const { rows } = await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_locks WHERE relation = 'snapshots'::regclass AND NOT granted");
      return Number(rows[0]?.n) === 2;
    });
    const committed = storage.commit([{ kind: 'update', doc: 'e', data: new Uint8Array([2]) }]).then(() => 'committed');
    let outcome: unknown;
    try {
      // With one pool for both, the commit waits behind the reads, and for a connection longer than the pool's connection timeout (10 s) is refused.
      outcome = await Promise.race([committed, reads.then(() => 'the reads finished first', () => 'a read failed'), new Promise((resolve) => setTimeout(resolve, 5000, 'no commit within 5 s'))]);
    } finally {
      await client.query('ROLLBACK');
    }
    expect(outcome).toBe('committed');
    expect((await reads).map((doc) => doc.updates.length)).toEqual([1, 1, 1, 1]);
  });
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the condition never held');
}
