/** GET /api/docs: an OpenAPI 3.1 document that lists every registered API route. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startServer } from './helpers.ts';

afterEach(cleanup);

type Doc = { openapi: string; info: { title: string }; paths: Record<string, Record<string, { responses?: Record<string, unknown>; operationId?: string }>> };

describe('OpenAPI document', () => {
  it('lists every route fastify registered under /api, each with responses', async () => {
    const server = await startServer();
    const response = await fetch(`${server.url}/api/docs`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();

    const registered = server.parley.routes.filter((r) => r.url.startsWith('/api') && r.method !== 'HEAD');
    expect(registered.length).toBeGreaterThan(20);
    for (const route of registered) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.url}`).toBeDefined();
    }
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p));
    expect(operations).toHaveLength(registered.length);
    const ids = new Set<string>();
    for (const op of operations) {
      expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
      expect(op.operationId).toBeTruthy();
      ids.add(op.operationId ?? '');
    }
    expect(ids.size).toBe(operations.length);
  });
});
