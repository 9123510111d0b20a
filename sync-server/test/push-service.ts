/**
 * A push service for the tests: a plain http server on 127.0.0.1, port 0.
 * Each request is checked the way a real one checks it (a VAPID token signed
 * by the key it names), decrypted with the subscription's private key
 * (RFC 8291, aes128gcm) and recorded; the answer is scripted per
 * subscription (201 unless told).
 */
import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';
import { importJWK, jwtVerify } from 'jose';
import { PushPayload, type PushSubscriptionBody } from '@parley/protocol';

export interface Received {
  /** The subscription it was for. */
  name: string;
  headers: IncomingHttpHeaders;
  /** The decrypted payload, parsed with the protocol's schema. */
  payload: PushPayload;
  /** The decrypted JSON, as sent. */
  json: string;
  /** The VAPID token's claims. */
  vapid: { aud: string; sub: string; key: string };
  /** What the service answered; 0 while held. */
  status: number;
}

/** A scripted answer: a status (and its Retry-After), or `hold` to never answer. */
export type Answer = { status: number; retryAfter?: string } | 'hold';

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
}

export class FakePushService {
  readonly received: Received[] = [];
  /** Failures to verify or decrypt a request: a test expects none. */
  readonly errors: string[] = [];
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly script = new Map<string, Answer[]>();
  private readonly held = new Set<ServerResponse>();
  private readonly server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void this.receive(decodeURIComponent(request.url?.replace(/^\/push\//, '') ?? ''), request.headers, Buffer.concat(chunks), response);
    });
  });
  url = '';

  static async start(): Promise<FakePushService> {
    const service = new FakePushService();
    await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
    service.url = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
    return service;
  }

  /** A new browser subscription (key pair and auth secret made here) at this service. */
  subscription(name: string, previews = true): PushSubscriptionBody {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.subscribers.set(name, { ecdh, auth });
    return { endpoint: `${this.url}/push/${encodeURIComponent(name)}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }, previews };
  }

  /** The next answers to `name`'s requests, in order; then 201 again. */
  answer(name: string, ...answers: Answer[]): void {
    this.script.set(name, answers);
  }

  to(name: string): Received[] {
    return this.received.filter((r) => r.name === name);
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async receive(name: string, headers: IncomingHttpHeaders, body: Buffer, response: ServerResponse): Promise<void> {
    const subscriber = this.subscribers.get(name);
    let record: Received;
    try {
      if (subscriber === undefined) throw new Error(`no subscription ${name}`);
      const vapid = await verifyVapid(headers.authorization, this.url);
      const json = ece.decrypt(body, { version: 'aes128gcm', privateKey: subscriber.ecdh, authSecret: subscriber.auth }).toString('utf8');
      record = { name, headers, payload: PushPayload.parse(JSON.parse(json)), json, vapid, status: 0 };
    } catch (error) {
      this.errors.push(`${name}: ${String(error)}`);
      response.writeHead(400).end();
      return;
    }
    this.received.push(record);
    const answer = this.script.get(name)?.shift() ?? { status: 201 };
    if (answer === 'hold') {
      this.held.add(response);
      response.on('close', () => this.held.delete(response));
      return;
    }
    record.status = answer.status;
    response.writeHead(answer.status, answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter }).end();
  }
}

/** `vapid t=<JWT>, k=<public key>` (RFC 8292): the token must verify with the key it names, for this service's origin. */
async function verifyVapid(header: string | undefined, origin: string): Promise<Received['vapid']> {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (match === null) throw new Error(`no VAPID authorization: ${header ?? '(none)'}`);
  const [, token = '', key = ''] = match;
  const raw = Buffer.from(key, 'base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') };
  const { payload } = await jwtVerify(token, await importJWK(jwk, 'ES256'), { audience: origin, algorithms: ['ES256'] });
  if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw new Error('a VAPID token needs sub and exp');
  return { aud: origin, sub: payload.sub, key };
}
