import { createECDH, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { parsePushAllow } from '../config/push-allow.ts';
import { PushEndpoints, type ResolvedAddress } from './endpoints.ts';
import { PushSender, type PushRequest } from './sender.ts';

/** An https agent that records where each connection would go, and connects nowhere. */
class RecordingAgent extends https.Agent {
  readonly connections: { host?: string | null; servername?: string | null; port?: number | string | null }[] = [];
  override createConnection(options: { host?: string | null; servername?: string | null; port?: number | string | null }, callback: (error: Error | null, socket?: Duplex) => void): Duplex | null | undefined {
    this.connections.push({ host: options.host, servername: options.servername, port: options.port });
    callback(new Error('recorded, not connected'));
    return undefined;
  }
}

/** Answers `first` to the first lookup and `later` to every one after: a DNS name rebinding between check and connect. */
function rebinding(first: string, later: string) {
  const calls: string[] = [];
  const resolve = (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    return Promise.resolve([{ address: calls.length === 1 ? first : later, family: 4 }]);
  };
  return Object.assign(resolve, { calls });
}

function request(endpoint: string): PushRequest {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') }, payload: '{}', ttl: 60, urgency: 'high', topic: 'bob' };
}

const vapid = { subject: 'mailto:ops@parley.example', ...webpush.generateVAPIDKeys() };

describe('push sender', () => {
  it('connects to the address it checked, keeping the name for TLS, however the name answers afterwards', async () => {
    const resolver = rebinding('142.250.74.74', '127.0.0.1');
    const agent = new RecordingAgent();
    const sender = new PushSender(vapid, new PushEndpoints(parsePushAllow('*'), resolver), agent);
    try {
      await expect(sender.send(request('https://push.rebind.example/send/1'), new AbortController().signal)).rejects.toThrow('recorded, not connected');
      expect(resolver.calls).toEqual(['push.rebind.example']);
      expect(agent.connections).toEqual([{ host: '142.250.74.74', servername: 'push.rebind.example', port: 443 }]);
    } finally {
      sender.close();
    }
  });

  it('refuses, and connects nowhere, when the name answers a local address at send time', async () => {
    const resolver = rebinding('127.0.0.1', '127.0.0.1');
    const agent = new RecordingAgent();
    const sender = new PushSender(vapid, new PushEndpoints(parsePushAllow('*'), resolver), agent);
    try {
      await expect(sender.send(request('https://push.rebind.example/send/1'), new AbortController().signal)).rejects.toMatchObject({ code: 'push-endpoint-forbidden' });
      expect(agent.connections).toEqual([]);
    } finally {
      sender.close();
    }
  });
});
