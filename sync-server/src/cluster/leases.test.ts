/**
 * Document leases on a real PostgreSQL: advisory locks are database-wide,
 * so a lease is keyed by the document's path in its schema. Two installs (or
 * two tests) in two schemas of one database each lead their own copy of a
 * path; two processes in one schema never both lead it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freshSchema, postgresUrl, type TestSchema } from '../../test/services.ts';
import { createLog } from '../log.ts';
import { PostgresStorage } from '../storage/postgres.ts';
import { DocLeases } from './leases.ts';

const url = postgresUrl();

describe.runIf(url !== null)('document leases', () => {
  const schemas: TestSchema[] = [];
  const leases: DocLeases[] = [];
  afterEach(async () => {
    for (const l of leases.splice(0)) await l.close();
    for (const s of schemas.splice(0)) await s.drop();
  });

  /** A migrated schema of its own. */
  async function schema(): Promise<TestSchema> {
    const s = await freshSchema(url ?? '');
    schemas.push(s);
    await (await PostgresStorage.open({ url: url ?? '', max: 1, schema: s.schema })).close();
    return s;
  }

  async function node(s: TestSchema, name: string): Promise<DocLeases> {
    const l = await DocLeases.open(s.url, name, createLog('silent'), () => undefined);
    leases.push(l);
    return l;
  }

  it('leads a path in each schema, and once per schema', async () => {
    const [one, two] = [await schema(), await schema()];
    const path = 'conv/alice/bob/2026-12';
    expect(await (await node(one, 'a')).tryLead(path)).toEqual({ token: 1 });
    expect(await (await node(two, 'b')).tryLead(path)).toEqual({ token: 1 });
    expect(await (await node(one, 'c')).tryLead(path)).toBeNull();
  });
});
