/** A small media client for the integration tests: real HTTP against a real server, as the web app does it. */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { API_PREFIX, type MediaKind, type UploadDone, type UploadStatus } from '@parley/protocol';

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

async function answer<T>(response: Response): Promise<Answer<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

export interface UploadMeta {
  kind: MediaKind;
  peer: string;
  mime: string;
  name?: string;
  /** Defaults to the bytes' own hash. */
  sha256?: string;
}

export class MediaClient {
  /** Raw bytes this client has sent in upload bodies (PUT and one-shot), to check what a resume re-sends. */
  sent = 0;

  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  async create(bytes: Uint8Array, meta: UploadMeta): Promise<Answer<UploadStatus & UploadDone & { error?: { code: string } }>> {
    const body = { kind: meta.kind, peer: meta.peer, size: bytes.length, mime: meta.mime, sha256: meta.sha256 ?? sha256(bytes), ...(meta.name === undefined ? {} : { name: meta.name }) };
    const response = await fetch(`${this.url}${API_PREFIX}/uploads`, { method: 'POST', headers: { ...this.auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return answer(response);
  }

  async status(id: string): Promise<Answer<UploadStatus & { error?: { code: string } }>> {
    return answer(await fetch(`${this.url}${API_PREFIX}/uploads/${id}`, { headers: this.auth() }));
  }

  async put(id: string, offset: number, chunk: Uint8Array): Promise<Answer<UploadStatus & { error?: { code: string } }>> {
    this.sent += chunk.length;
    const response = await fetch(`${this.url}${API_PREFIX}/uploads/${id}?offset=${offset}`, {
      method: 'PUT',
      headers: { ...this.auth(), 'content-type': 'application/octet-stream' },
      body: chunk,
    });
    return answer(response);
  }

  async complete(id: string): Promise<Answer<UploadDone & { error?: { code: string } }>> {
    return answer(await fetch(`${this.url}${API_PREFIX}/uploads/${id}/complete`, { method: 'POST', headers: this.auth() }));
  }

  /** Sends the upload's bytes from what the server holds, chunk by chunk, re-reading the status after a 409. */
  async resume(id: string, bytes: Uint8Array): Promise<void> {
    const first = (await this.status(id)).body;
    const chunkSize = first.chunkSize;
    let received = first.received;
    while (received < bytes.length) {
      const put = await this.put(id, received, bytes.subarray(received, Math.min(received + chunkSize, bytes.length)));
      if (put.status === 409) ({ received } = (await this.status(id)).body);
      else if (put.status === 200) ({ received } = put.body);
      else throw new Error(`PUT answered ${put.status} ${JSON.stringify(put.body)}`);
    }
  }

  /** Create, send every chunk, complete. */
  async upload(bytes: Uint8Array, meta: UploadMeta): Promise<UploadDone> {
    const created = await this.create(bytes, meta);
    if (created.status === 200) return created.body;
    if (created.status !== 201) throw new Error(`create answered ${created.status} ${JSON.stringify(created.body)}`);
    await this.resume(created.body.id, bytes);
    const done = await this.complete(created.body.id);
    if (done.status !== 200) throw new Error(`complete answered ${done.status} ${JSON.stringify(done.body)}`);
    return done.body;
  }
}

/** GET a media URL with a bearer token, a cookie, or neither. */
export async function getMedia(
  url: string,
  hash: string,
  auth: { token?: string; cookie?: string } = {},
  headers: Record<string, string> = {},
  query = '',
): Promise<{ status: number; headers: Headers; bytes: Uint8Array; json: { error?: { code: string } } | null }> {
  const all: Record<string, string> = { ...headers };
  if (auth.token !== undefined) all.authorization = `Bearer ${auth.token}`;
  if (auth.cookie !== undefined) all.cookie = auth.cookie;
  const response = await fetch(`${url}${API_PREFIX}/media/${hash}${query}`, { headers: all });
  const bytes = new Uint8Array(await response.arrayBuffer());
  let json: { error?: { code: string } } | null = null;
  if (response.headers.get('content-type')?.startsWith('application/json') === true) json = JSON.parse(new TextDecoder().decode(bytes)) as { error?: { code: string } };
  return { status: response.status, headers: response.headers, bytes, json };
}

/**
 * Sends a body from `source` with node:http (fetch cannot give the answer
 * before the body is sent), resolving with the answer as soon as it arrives;
 * `sentAtAnswer` is what the source had produced by then.
 */
export function streamTo(
  url: string,
  path: string,
  token: string,
  source: Generated,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; body: { error?: { code: string } }; sentAtAnswer: number; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${API_PREFIX}${path}`, {
      method,
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const sentAtAnswer = source.produced();
      source.destroy();
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      const done = (): void => {
        let body: { error?: { code: string } } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // cut short
        }
        resolve({ status: res.statusCode ?? 0, body, sentAtAnswer, headers: res.headers });
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    // Writing after the server closed the connection fails; only an error before any answer counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    source.pipe(req);
  });
}

export type Generated = Readable & { produced: () => number };

/**
 * `total` bytes produced on demand from one 64 KB buffer (nothing the size of
 * the body is ever allocated); from `slowAfter` bytes on, one chunk per
 * `delayMs`, so that a refusal can be seen to arrive before the end.
 */
export function generated(total: number, slowAfter = Infinity, delayMs = 15): Generated {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk.length, total - produced);
      const push = (): void => {
        if (this.destroyed) return;
        produced += n;
        this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      };
      if (produced >= slowAfter) setTimeout(push, delayMs);
      else push();
    },
  });
  return Object.assign(stream, { produced: () => produced });
}
