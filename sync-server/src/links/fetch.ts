/**
 * One GET to a judged address (guard.ts), with no cookies and no
 * credentials: the answer's status, headers and body, read only as far as
 * the caller takes it. The whole preview shares one deadline (its signal).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LinkTarget } from './guard.ts';

export const USER_AGENT = 'Mozilla/5.0 (compatible; ParleyLinkPreview/1.0)';

export function get(target: LinkTarget, accept: string, signal: AbortSignal): Promise<http.IncomingMessage> {
  const { url, address, family } = target;
  const secure = url.protocol === 'https:';
  const name = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: address,
      family,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      // No SNI for an IP literal (RFC 6066); the certificate is then checked against the IP.
      ...(isIP(name) === 0 ? { servername: name } : {}),
      method: 'GET',
      headers: { host: url.host, 'user-agent': USER_AGENT, accept, 'accept-language': 'en;q=0.9, *;q=0.5' },
      signal,
      // No keep-alive pool: each preview is a few requests to sites never asked again soon.
      agent: false,
    };
    const request = secure ? https.request(options, resolve) : http.request(options, resolve);
    request.on('error', reject);
    request.end();
  });
}

/** Reads a body up to `max` bytes; null when it is longer (the rest is never downloaded). */
export async function readAtMost(body: http.IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
