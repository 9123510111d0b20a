/**
 * The security headers of every response (the app, the API, media, errors):
 * a page of Parley runs only its own scripts, talks only to its own origin,
 * cannot be framed, sends no Referer, and may use the camera, microphone and
 * location (voice and video messages, sharing a place) and nothing else a
 * page could ask for. A route that sets one of these itself keeps its own.
 */
import type { FastifyInstance } from 'fastify';

/**
 * The Content-Security-Policy. No inline script and no eval (the built
 * index.html loads one module; the page registers its service worker from a
 * file). Styles come from files too: Svelte and the virtual list set
 * element styles through the CSSOM (`el.style`), which style-src does not
 * govern, and no template holds a style attribute (e2e/specs/csp.spec.ts
 * sees no violation). Images and media may be blob: (a message's own file
 * before it is uploaded) and data: (images). `connect-src 'self'` covers the
 * sync socket on the same host (CSP3: 'self' matches ws:/wss: of the page's
 * own host and port).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Features a page may use: its own camera, microphone and location; the rest a chat app never needs are off. */
export const PERMISSIONS_POLICY = [
  'camera=(self)',
  'microphone=(self)',
  'geolocation=(self)',
  'accelerometer=()',
  'gyroscope=()',
  'magnetometer=()',
  'usb=()',
  'serial=()',
  'hid=()',
  'midi=()',
  'payment=()',
  'display-capture=()',
  'idle-detection=()',
  'xr-spatial-tracking=()',
  'browsing-topics=()',
].join(', ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'permissions-policy': PERMISSIONS_POLICY,
};

export function installSecurityHeaders(app: FastifyInstance): void {
  // onSend runs for every reply, errors and not-found included (an onRequest hook misses a request refused before it).
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    done(null, payload);
  });
}
