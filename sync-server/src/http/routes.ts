/**
 * Every HTTP route is registered through `RouteBook.add`, which records its
 * method, URL, schemas and auth, so that the OpenAPI document (openapi.ts) is
 * generated from the same zod schemas the handlers parse with.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  method: Method;
  url: string;
  summary: string;
  /** `media`: a user's access token as a bearer token or in the media cookie (for `<img>`, `<audio>`, `<video>`). */
  /** `usersig`: the hosted service's `/v4/` signature in the query (http/compat.ts). */
  auth: 'none' | 'user' | 'admin' | 'media' | 'usersig';
  body?: z.ZodType;
  /** The body is raw bytes (`application/octet-stream`), streamed to the handler as `request.raw`. */
  binaryBody?: boolean;
  /** The answer is raw bytes (media), not JSON. */
  binaryResponse?: boolean;
  query?: z.ZodObject;
  response?: z.ZodType;
  /** The success status, 200 unless said. */
  status?: number;
  /** The most a JSON body may hold, bytes, when more than the server's 1 MB default. */
  bodyLimit?: number;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export class RouteBook {
  readonly specs: RouteSpec[] = [];

  constructor(private readonly app: FastifyInstance) {}

  add(spec: RouteSpec, handler: Handler): void {
    this.specs.push(spec);
    const status = spec.status ?? 200;
    this.app.route({
      method: spec.method,
      url: spec.url,
      ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }),
      handler: async (request, reply) => {
        const result = await handler(request, reply);
        // A handler that answered itself (a stream, another status) returns the reply.
        if (reply.sent || result === reply) return reply;
        return reply.status(status).send(result);
      },
    });
  }
}

/** Who is calling: the user, device and session of the request's access token (refused otherwise). */
export type Caller = (request: FastifyRequest) => Promise<{ user: string; device: string; session: string }>;
