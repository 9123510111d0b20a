/**
 * One push request. web-push encrypts the payload (RFC 8291, aes128gcm) and
 * signs the VAPID header (RFC 8292) in `generateRequestDetails`; the POST is
 * made here with node's http/https, because web-push's own sender resolves
 * the host name again as it connects (it cannot be pinned to the address
 * that was checked), speaks HTTPS only (a push service under test is plain
 * http on 127.0.0.1) and cannot be aborted when the server stops.
 *
 * The endpoint is checked (endpoints.ts) just before each request, and the
 * connection goes to the address that check resolved and judged: the socket
 * connects to that IP, while TLS (SNI, certificate) and the Host header keep
 * the endpoint's name. A connection kept alive is keyed by that IP and name.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import webpush from 'web-push';
import type { PushEndpoints } from './endpoints.ts';
import type { Vapid } from './vapid.ts';

export interface PushRequest {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** The payload JSON, in plain text. */
  payload: string;
  /** Seconds the push service may keep it for an unreachable device. */
  ttl: number;
  urgency: 'high' | 'normal';
  topic: string;
}

export interface PushResponse {
  status: number;
  retryAfter: string | undefined;
}

/** No answer within this long counts as a put-off attempt (as a 5xx would). */
const TIMEOUT_MS = 30_000;

export class PushSender {
  // Push services are few hosts; keeping connections open saves a TLS handshake per push.
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(
    private readonly vapid: Vapid,
    private readonly endpoints: PushEndpoints,
    /** The https agent (tests pass one that records where it connects). */
    httpsAgent: https.Agent = new https.Agent({ keepAlive: true }),
  ) {
    this.agents = { http: new http.Agent({ keepAlive: true }), https: httpsAgent };
  }

  /**
   * Resolves with the push service's answer; rejects when there is none
   * (network, timeout, `signal` aborted), or with a `push-endpoint-forbidden`
   * Refusal when the endpoint may not be used (any more).
   */
  async send(request: PushRequest, signal: AbortSignal): Promise<PushResponse> {
    const target = await this.endpoints.check(request.endpoint);
    const details = webpush.generateRequestDetails({ endpoint: request.endpoint, keys: request.keys }, request.payload, {
      vapidDetails: this.vapid,
      TTL: request.ttl,
      urgency: request.urgency,
      topic: request.topic,
      contentEncoding: 'aes128gcm',
    });
    const { url, address, family } = target;
    const secure = url.protocol === 'https:';
    const name = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const options = {
        host: address,
        family,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        // No SNI for an IP literal (RFC 6066); the certificate is then checked against the IP.
        ...(isIP(name) === 0 ? { servername: name } : {}),
        method: details.method,
        headers: { ...details.headers, host: url.host },
        signal,
        timeout: TIMEOUT_MS,
      };
      const done = (response: http.IncomingMessage): void => {
        // The body (an error text, if any) is not needed; read it so the connection is reused.
        response.resume();
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] });
      };
      const req = secure ? https.request({ ...options, agent: this.agents.https }, done) : http.request({ ...options, agent: this.agents.http }, done);
      req.on('timeout', () => req.destroy(new Error(`no answer from the push service in ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(details.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
