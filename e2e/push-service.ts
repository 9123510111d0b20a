/**
 * A push service for the browser tests, on plain http at 127.0.0.1: the
 * server refuses such an endpoint unless its origin is in PARLEY_PUSH_ALLOW,
 * which the spec sets to `url`. It stands where FCM or Mozilla's
 * autopush would: it hands out subscriptions (a P-256 key pair and auth secret
 * made here, as a browser makes them), receives the server's encrypted pushes,
 * and decrypts them (RFC 8291, aes128gcm) into the JSON the browser would hand
 * the service worker. The test then delivers that JSON to the real service
 * worker through the DevTools protocol.
 *
 * Why: headless Chromium cannot reach a push service (`pushManager.subscribe`
 * fails), so the browser's own subscription is the one part played here.
 */
import { createDecipheriv, createECDH, hkdfSync, randomBytes, type ECDH } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PushRequest {
  name: string;
  /** The decrypted payload, as sent. */
  json: string;
  headers: Record<string, string | string[] | undefined>;
}

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
}

export class PushService {
  readonly received: PushRequest[] = [];
  readonly errors: string[] = [];
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const name = decodeURIComponent(request.url?.replace(/^\/push\//, '') ?? '');
      const subscriber = this.subscribers.get(name);
      if (subscriber === undefined) {
        response.writeHead(410).end();
        return;
      }
      try {
        this.received.push({ name, json: decrypt(Buffer.concat(chunks), subscriber), headers: request.headers });
        response.writeHead(201).end();
      } catch (e) {
        this.errors.push(`${name}: ${(e as Error).message}`);
        response.writeHead(400).end();
      }
    });
  });
  /** The service's origin, http://127.0.0.1:<port>. */
  url = '';

  static async start(): Promise<PushService> {
    const service = new PushService();
    await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
    service.url = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
    return service;
  }

  /** A subscription at this service, as `PUT /api/v1/push/subscription` takes it. */
  subscription(name: string, previews = true): { endpoint: string; keys: { p256dh: string; auth: string }; previews: boolean } {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.subscribers.set(name, { ecdh, auth });
    return { endpoint: `${this.url}/push/${encodeURIComponent(name)}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }, previews };
  }

  to(name: string): PushRequest[] {
    return this.received.filter((r) => r.name === name);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** RFC 8188 aes128gcm with RFC 8291's key derivation: what a browser does with a push it receives. */
function decrypt(body: Buffer, { ecdh, auth }: Subscriber): string {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body.readUInt8(20);
  const serverKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (ciphertext.length > recordSize) throw new Error('a push of more than one record');
  const shared = ecdh.computeSecret(serverKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), serverKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, auth, info, 32));
  const key = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  // The last record ends with a 0x02 delimiter, then zero padding.
  const end = plain.lastIndexOf(2);
  if (end < 0) throw new Error('no padding delimiter');
  return plain.subarray(0, end).toString('utf8');
}
