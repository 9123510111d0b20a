/** The OpenAPI 3.1 document of the HTTP API, generated from the recorded routes' zod schemas. */
import { z } from 'zod';
import { ErrorResponse, MEDIA_COOKIE } from '@parley/protocol';
import type { RouteSpec } from './routes.ts';

type Json = Record<string, unknown>;

/** OpenAPI 3.1 schemas are JSON Schema 2020-12; the document's dialect covers them, so no `$schema` each. */
const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  return rest;
};

const BINARY = { type: 'string', format: 'binary' };

const SECURITY: Record<Exclude<RouteSpec['auth'], 'none'>, Json[]> = {
  user: [{ bearer: [] }],
  admin: [{ adminKey: [] }, { bearer: [] }],
  media: [{ bearer: [] }, { mediaCookie: [] }],
  usersig: [{ usersig: [] }],
};

export function openApiDocument(specs: readonly RouteSpec[]): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of specs) {
    const path = spec.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: Json[] = [...spec.url.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (spec.query !== undefined) {
      const shape: Record<string, z.ZodType> = spec.query.shape;
      for (const [name, field] of Object.entries(shape)) {
        parameters.push({ name, in: 'query', required: !field.safeParse(undefined).success, schema: schemaOf(field, 'input') });
      }
    }
    const operation: Json = {
      summary: spec.summary,
      operationId: `${spec.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.auth === 'none' ? { security: [] } : { security: SECURITY[spec.auth] }),
      ...(spec.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(spec.body, 'input') } } } } : {}),
      ...(spec.binaryBody === true ? { requestBody: { required: true, content: { 'application/octet-stream': { schema: BINARY } } } } : {}),
      responses: {
        [String(spec.status ?? 200)]:
          spec.status === 204
            ? { description: 'Success, no content' }
            : spec.binaryResponse === true
              ? { description: 'The bytes (206 with Content-Range for a Range request)', content: { '*/*': { schema: BINARY } } }
              : { description: 'Success', content: { 'application/json': { schema: spec.response === undefined ? {} : schemaOf(spec.response, 'output') } } },
        default: { description: 'An error: `{error: {code, message}}`, codes in docs/errors.md', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    (paths[path] ??= {})[spec.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Parley API', version: '1' },
    paths,
    components: {
      schemas: { Error: schemaOf(ErrorResponse, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token (user routes), or the admin key / an admin\'s access token (admin routes).' },
        adminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key' },
        mediaCookie: { type: 'apiKey', in: 'cookie', name: MEDIA_COOKIE, description: 'The access token, as set by every Session answer (media only).' },
        usersig: {
          type: 'apiKey',
          in: 'query',
          name: 'usersig',
          description:
            "The hosted service's UserSig (v2: HMAC-SHA256, zlib, base64 with *-_) for `identifier`, an administrator (PARLEY_COMPAT_ADMINS), with `sdkappid` and `contenttype=json` in the query too. Answers are always HTTP 200 with ActionStatus, ErrorCode and ErrorInfo (docs/migrating.md).",
        },
      },
    },
  };
}
