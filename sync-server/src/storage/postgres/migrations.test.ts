/** The schema's migrations on a real PostgreSQL: each runs once, however many processes open the database at once, and a database at an older version gets the newer ones. */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshSchema, postgresUrl, type TestSchema } from '../../../test/services.ts';
import { openPool } from './db.ts';
import { MIGRATIONS, migrate, type Migration } from './migrations.ts';

const url = postgresUrl();

describe.runIf(url !== null)('the PostgreSQL migrations', () => {
  const schemas: TestSchema[] = [];
  const pools: pg.Pool[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.end();
    for (const schema of schemas.splice(0)) await schema.drop();
  });

  async function schemaPools(n: number): Promise<pg.Pool[]> {
    const schema = await freshSchema(url ?? '');
    schemas.push(schema);
    const opened = Array.from({ length: n }, () => openPool({ url: url ?? '', max: 2, schema: schema.schema }));
    pools.push(...opened);
    return opened;
  }

  const versions = async (pool: pg.Pool): Promise<number[]> => (await pool.query<{ version: number }>('SELECT version FROM parley_schema ORDER BY version')).rows.map((r) => r.version);

  it('runs each migration once when two processes migrate the same database at once, and not again at the next open', async () => {
    const [a, b] = await schemaPools(2);
    if (a === undefined || b === undefined) throw new Error('two pools');
    const ran = await Promise.all([migrate(a), migrate(b)]);
    // Each version ran once, by one of them (one may have run some, the other the rest).
    expect(ran.flat().sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(a)).toEqual([]);
    expect(await versions(a)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('brings a database at version 1 up to the later versions', async () => {
    const [pool] = await schemaPools(1);
    if (pool === undefined) throw new Error('a pool');
    const v1 = MIGRATIONS.slice(0, 1);
    expect(await migrate(pool, v1)).toEqual([1]);
    await pool.query("INSERT INTO meta (key, value) VALUES ('kept', 'yes')");
    const later: Migration[] = [...v1, { version: 2, sql: 'ALTER TABLE meta ADD COLUMN note TEXT' }];
    expect(await migrate(pool, later)).toEqual([2]);
    expect((await pool.query('SELECT key, value, note FROM meta')).rows).toEqual([{ key: 'kept', value: 'yes', note: null }]);
    expect(await versions(pool)).toEqual([1, 2]);
  });

  it('leaves the database as it was when a migration fails part-way', async () => {
    const [pool] = await schemaPools(1);
    if (pool === undefined) throw new Error('a pool');
    await migrate(pool, MIGRATIONS.slice(0, 1));
    const broken: Migration = { version: 2, sql: 'CREATE TABLE half_done (a INTEGER); SELECT no_such_column FROM meta' };
    await expect(migrate(pool, [...MIGRATIONS.slice(0, 1), broken])).rejects.toThrow(/no_such_column/);
    expect(await versions(pool)).toEqual([1]);
    expect((await pool.query("SELECT to_regclass('half_done') AS t")).rows).toEqual([{ t: null }]);
  });
});
