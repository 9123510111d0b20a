/**
 * Serves the built PWA. The app shell files that decide which version runs
 * (index.html, sw.js, the manifest) are revalidated on every load; hashed
 * files under /assets/ never change, so they are cached for a year. Any GET
 * that is neither API nor sync and names no file gets index.html (SPA routes).
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, errorBody, SYNC_PATH_PREFIX } from '@parley/protocol';

const REVALIDATE = new Set(['index.html', 'sw.js', 'manifest.webmanifest']);

export async function registerStatic(app: FastifyInstance, root: string): Promise<void> {
  await app.register(fastifyStatic, {
    root,
    wildcard: true,
    cacheControl: false,
    setHeaders(res, path) {
      const name = path.split(/[\\/]/).at(-1) ?? '';
      if (REVALIDATE.has(name)) res.setHeader('Cache-Control', 'no-cache');
      else if (/[\\/]assets[\\/]/.test(path)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    },
  });
}

export function registerNotFound(app: FastifyInstance, spa: boolean): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const isApp = !path.startsWith(`${API_PREFIX}/`) && path !== API_PREFIX && !path.startsWith(SYNC_PATH_PREFIX);
    if (spa && isApp && (request.method === 'GET' || request.method === 'HEAD')) {
      return reply.header('Cache-Control', 'no-cache').sendFile('index.html');
    }
    return reply.status(404).send(errorBody('not-found'));
  });
}
