/** GET /api/docs: an OpenAPI 3.1 document that lists every registered API route. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startServer } from './helpers.ts';

afterEach(cleanup);

type Doc = { openapi: string; info: { title: string }; paths: Record<string, Record<string, { responses?: Record<string, unknown>; operationId?: string }>> };

describe('OpenAPI document', () => {
  it('lists every route fastify registered under /api and /v4/, each with responses', async () => {
    const server = await startServer({ env: { PARLEY_COMPAT_SDKAPPID: '1400000000', PARLEY_COMPAT_SECRET_KEY: 'a secret key of the app' } });
    const response = await fetch(`${server.url}/api/docs`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();

    const registered = server.parley.routes.filter((r) => (r.url.startsWith('/api') || r.url.startsWith('/v4/')) && r.method !== 'HEAD');
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

  it("describes the hosted service's /v4/ calls: their bodies, answers and the UserSig in the query", async () => {
    const server = await startServer({ env: { PARLEY_COMPAT_SDKAPPID: '1400000000', PARLEY_COMPAT_SECRET_KEY: 'a secret key of the app' } });
    const doc = (await (await fetch(`${server.url}/api/docs`)).json()) as Doc & { components: { securitySchemes: Record<string, { in?: string; name?: string }> } };
    const v4 = Object.keys(doc.paths).filter((p) => p.startsWith('/v4/'));
    expect(v4.sort()).toEqual(
      [
        'openim/sendmsg', 'openim/batchsendmsg', 'openim/importmsg', 'openim/admin_getroammsg', 'openim/admin_msgwithdraw', 'openim/modify_c2c_msg', 'openim/query_online_status',
        'im_open_login_svc/account_import', 'im_open_login_svc/multiaccount_import',
        'sns/friend_import', 'sns/friend_check', 'sns/friend_delete', 'sns/black_list_add', 'sns/black_list_delete', 'sns/black_list_get',
      ].map((c) => `/v4/${c}`).sort(),
    );
    const send = doc.paths['/v4/openim/sendmsg']?.post as { requestBody?: { content: Record<string, { schema: { required?: string[] } }> }; security?: unknown };
    expect(send.requestBody?.content['application/json']?.schema.required).toEqual(expect.arrayContaining(['To_Account', 'MsgRandom', 'MsgBody']));
    expect(send.security).toEqual([{ usersig: [] }]);
    expect(doc.components.securitySchemes.usersig).toMatchObject({ in: 'query', name: 'usersig' });
  });

  it('lists no /v4/ call on a server that does not serve them', async () => {
    const server = await startServer();
    const doc = (await (await fetch(`${server.url}/api/docs`)).json()) as Doc;
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v4/'))).toEqual([]);
    expect((await fetch(`${server.url}/v4/openim/sendmsg`, { method: 'POST' })).status).toBe(404);
  });
});
