/**
 * One push request. web-push encrypts the payload (RFC 8291, aes128gcm) and
 * signs the VAPID header (RFC 8292) in `generateRequestDetails`; the POST is
 * made here with node's http/https, because web-push's own sender speaks
 * HTTPS only (a push service under test is plain http on 127.0.0.1) and
 * because here it can be aborted when the server stops.
 */
import http from 'node:http';
import https from 'node:https';
import webpush from 'web-push';
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
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(private readonly vapid: Vapid) {}

  /** Resolves with the push service's answer; rejects when there is none (network, timeout, `signal` aborted). */
  send(request: PushRequest, signal: AbortSignal): Promise<PushResponse> {
    const details = webpush.generateRequestDetails({ endpoint: request.endpoint, keys: request.keys }, request.payload, {
      vapidDetails: this.vapid,
      TTL: request.ttl,
      urgency: request.urgency,
      topic: request.topic,
      contentEncoding: 'aes128gcm',
    });
    const url = new URL(details.endpoint);
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const options = { method: details.method, headers: details.headers, signal, timeout: TIMEOUT_MS };
      const done = (response: http.IncomingMessage): void => {
        // The body (an error text, if any) is not needed; read it so the connection is reused.
        response.resume();
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] });
      };
      const req = secure ? https.request(url, { ...options, agent: this.agents.https }, done) : http.request(url, { ...options, agent: this.agents.http }, done);
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
