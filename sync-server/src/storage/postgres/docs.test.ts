/**
 * What the docs store owes several processes sharing one PostgreSQL (beyond
 * the contract every backend passes, contract/docs.test.ts): a log row whose
 * id was drawn before a compaction but committed after it is neither deleted
 * nor hidden, and the pool opens at most PARLEY_DATABASE_POOL connections.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshSchema, postgresUrl, type TestSchema } from '../../../test/services.ts';
import { PostgresStorage } from '../postgres.ts';

const url = postgresUrl();

describe.runIf(url !== null)('the PostgreSQL docs store in a cluster', () => {
  let schema: TestSchema | undefined;
  const closing: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of closing.splice(0)) await c.close();
    await schema?.drop();
    schema = undefined;
  });

  async function open(options: { max?: number; name?: string } = {}): Promise<{ storage: PostgresStorage; client: pg.Client }> {
    schema = await freshSchema(url ?? '');
    const storage = await PostgresStorage.open({ url: url ?? '', max: options.max ?? 4, schema: schema.schema, ...(options.name === undefined ? {} : { name: options.name }) });
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

  it('opens at most its pool size of connections however many requests wait', async () => {
    const name = `parley-pool-test-${process.pid}-${Date.now()}`;
    const { storage, client } = await open({ max: 2, name });
    await Promise.all(Array.from({ length: 12 }, (_, i) => storage.commit([{ kind: 'update', doc: `d${i}`, data: new Uint8Array([i]) }])));
    const { rows } = await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
    expect(Number(rows[0]?.n)).toBe(2);
  });
});
