import { describe, expect, it, vi } from 'vitest';
import { sha256Hex, uploadBlob, type UploadHooks } from './uploads.ts';

// The error funnel's notices are rune state, which only the Svelte compiler runs.
vi.mock('../state/notices.svelte.ts', () => ({ notices: { push: () => undefined } }));

/**
 * A server that follows protocol/src/media.ts in memory, with faults to
 * inject: a request that never reaches it, or one whose answer is lost after
 * it stored the chunk. It records every byte it was sent.
 */
class FakeServer {
  readonly uploads = new Map<string, { size: number; bytes: Uint8Array<ArrayBuffer>; received: number; sha256: string }>();
  readonly stored = new Set<string>();
  /** Bytes that arrived in PUT bodies, in total (a resent chunk counts twice). */
  bytesReceived = 0;
  requests: string[] = [];
  private created = 0;
  faults: ((method: string, path: string) => 'drop-request' | 'lose-answer' | 'busy' | 'expire' | undefined)[] = [];
  readonly chunkSize: number;

  constructor(chunkSize: number) {
    this.chunkSize = chunkSize;
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input, 'http://parley.test');
    init?.signal?.throwIfAborted();
    const method = init?.method ?? 'GET';
    const path = url.pathname.replace('/api/v1', '');
    this.requests.push(`${method} ${path}${url.search}`);
    const fault = this.faults.shift()?.(method, path);
    if (fault === 'drop-request') throw new TypeError('Failed to fetch');
    if (fault === 'busy') return json(503, { error: { code: 'internal', message: 'busy' } });
    // The upload sat idle past the server's expiry: it is gone before this request.
    if (fault === 'expire') this.uploads.delete(/^\/uploads\/([^/]+)/.exec(path)?.[1] ?? '');
    const response = await this.answer(method, path, url, init);
    if (fault === 'lose-answer') throw new TypeError('Failed to fetch');
    return response;
  };

  private async answer(method: string, path: string, url: URL, init?: RequestInit): Promise<Response> {
    const status = (id: string): Response => {
      const u = this.uploads.get(id);
      return u === undefined ? json(404, { error: { code: 'upload-not-found', message: 'gone' } }) : json(200, { id, size: u.size, received: u.received, chunkSize: this.chunkSize });
    };
    if (method === 'POST' && path === '/uploads') {
      const body = JSON.parse(init?.body as string) as { size: number; sha256: string; mime: string };
      if (this.stored.has(body.sha256)) return json(200, { media: { hash: body.sha256, size: body.size, mime: body.mime }, url: `/api/v1/media/${body.sha256}` });
      const id = `u${++this.created}`;
      this.uploads.set(id, { size: body.size, bytes: new Uint8Array(body.size), received: 0, sha256: body.sha256 });
      return json(201, { id, size: body.size, received: 0, chunkSize: this.chunkSize });
    }
    const match = /^\/uploads\/([^/]+)(\/complete)?$/.exec(path);
    const id = match?.[1] ?? '';
    const upload = this.uploads.get(id);
    if (method === 'GET') return status(id);
    if (upload === undefined) return json(404, { error: { code: 'upload-not-found', message: 'gone' } });
    if (method === 'PUT') {
      const chunk = new Uint8Array(await (init?.body as Blob).arrayBuffer());
      this.bytesReceived += chunk.length;
      if (Number(url.searchParams.get('offset')) !== upload.received) return json(409, { error: { code: 'bad-request', message: 'offset' } });
      upload.bytes.set(chunk, upload.received);
      upload.received += chunk.length;
      return status(id);
    }
    if (method === 'POST' && match?.[2] === '/complete') {
      const hash = await sha256Hex(new Blob([upload.bytes]));
      if (hash !== upload.sha256 || upload.received !== upload.size) return json(400, { error: { code: 'bad-request', message: 'hash' } });
      this.stored.add(hash);
      return json(200, { media: { hash, size: upload.size, mime: 'application/octet-stream' }, url: `/api/v1/media/${hash}` });
    }
    return json(404, { error: { code: 'not-found', message: '?' } });
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

async function randomBlob(size: number): Promise<{ blob: Blob; hash: string }> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  const blob = new Blob([bytes]);
  return { blob, hash: await sha256Hex(blob) };
}

function hooks(server: FakeServer, extra: Partial<UploadHooks> = {}): UploadHooks {
  return { token: () => 't', fetch: server.fetch, backoff: () => Promise.resolve(), ...extra };
}

const CHUNK = 1000;

describe('uploadBlob', () => {
  it('hashes like sha256sum', async () => {
    expect(await sha256Hex(new Blob(['abc']))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('sends the bytes in chunks at their offsets, then completes', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(3500);
    const progress: number[] = [];
    const done = await uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash }, hooks(server, { progress: (sent) => progress.push(sent) }));
    expect(done.media.hash).toBe(hash);
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toEqual(['PUT /uploads/u1?offset=0', 'PUT /uploads/u1?offset=1000', 'PUT /uploads/u1?offset=2000', 'PUT /uploads/u1?offset=3000']);
    expect(server.bytesReceived).toBe(3500);
    expect(progress).toEqual([0, 1000, 2000, 3000, 3500]);
  });

  it('after an answer lost on the way back, reads the status and never sends the stored chunk again', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(3000);
    // create, the first chunk, then the second chunk's answer is lost.
    server.faults = [() => undefined, () => undefined, (m) => (m === 'PUT' ? 'lose-answer' : undefined)];
    const done = await uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash }, hooks(server));
    expect(done.media.hash).toBe(hash);
    // The second chunk was stored although its answer was lost: the next PUT starts after it.
    expect(server.bytesReceived).toBe(3000);
    expect(server.requests).toContain('GET /uploads/u1');
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toEqual(['PUT /uploads/u1?offset=0', 'PUT /uploads/u1?offset=1000', 'PUT /uploads/u1?offset=2000']);
  });

  it('after a request that never arrived, sends that chunk again (and only it)', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(2500);
    // create, the first chunk, the second never arrives, then the status asks once while the server is busy.
    server.faults = [() => undefined, () => undefined, (m) => (m === 'PUT' ? 'drop-request' : undefined), () => 'busy'];
    const done = await uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash }, hooks(server));
    expect(done.media.hash).toBe(hash);
    expect(server.bytesReceived).toBe(2500);
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toEqual(['PUT /uploads/u1?offset=0', 'PUT /uploads/u1?offset=1000', 'PUT /uploads/u1?offset=1000', 'PUT /uploads/u1?offset=2000']);
  });

  it('resumes an upload created before a reload from what the server holds', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(3000);
    let created: string | undefined;
    // The first attempt dies after two chunks (the tab closed).
    const controller = new AbortController();
    const first = uploadBlob(
      { blob, kind: 'video', peer: 'bob', mime: 'video/webm', sha256: hash },
      hooks(server, {
        signal: controller.signal,
        created: (id) => (created = id),
        progress: (sent) => {
          if (sent >= 2000) controller.abort();
        },
      }),
    );
    await expect(first).rejects.toThrow();
    expect(created).toBe('u1');
    server.requests = [];
    const done = await uploadBlob({ blob, kind: 'video', peer: 'bob', mime: 'video/webm', sha256: hash, uploadId: created }, hooks(server));
    expect(done.media.hash).toBe(hash);
    expect(server.requests[0]).toBe('GET /uploads/u1');
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toEqual(['PUT /uploads/u1?offset=2000']);
    expect(server.bytesReceived).toBe(3000);
  });

  it('starts over when the server no longer knows the upload', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(1500);
    const done = await uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash, uploadId: 'expired' }, hooks(server));
    expect(done.media.hash).toBe(hash);
    expect(server.requests.slice(0, 2)).toEqual(['GET /uploads/expired', 'POST /uploads']);
  });

  it('starts over when the upload expired before it was completed', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(1500);
    // create, both chunks; then the upload expires just before it is completed.
    server.faults = [() => undefined, () => undefined, () => undefined, (m, path) => (m === 'POST' && path.endsWith('/complete') ? 'expire' : undefined)];
    const done = await uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash }, hooks(server));
    expect(done.media.hash).toBe(hash);
    expect(server.requests.filter((r) => r.startsWith('POST /uploads'))).toEqual(['POST /uploads', 'POST /uploads/u1/complete', 'POST /uploads', 'POST /uploads/u2/complete']);
  });

  it('ends with storage-full at once, without retrying, when the server is below its free-disk reserve', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(1500);
    let calls = 0;
    server.fetch = (): Promise<Response> => {
      calls++;
      return Promise.resolve(json(507, { error: { code: 'storage-full', message: 'full' } }));
    };
    await expect(uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash }, hooks(server))).rejects.toMatchObject({ code: 'storage-full' });
    expect(calls).toBe(1);
  });

  it('sends nothing when the server holds the bytes already', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(1500);
    server.stored.add(hash);
    const done = await uploadBlob({ blob, kind: 'image', peer: 'bob', mime: 'image/png', sha256: hash }, hooks(server));
    expect(done.media.hash).toBe(hash);
    expect(server.bytesReceived).toBe(0);
  });

  it('gives up for now with "network" when the network stays away, and ends with the code of a refusal', async () => {
    const server = new FakeServer(CHUNK);
    const { blob, hash } = await randomBlob(1500);
    server.faults = Array.from({ length: 20 }, () => () => 'drop-request' as const);
    await expect(uploadBlob({ blob, kind: 'file', peer: 'bob', mime: 'application/octet-stream', sha256: hash }, hooks(server))).rejects.toMatchObject({ code: 'network' });

    const refusing = new FakeServer(CHUNK);
    refusing.fetch = (): Promise<Response> => Promise.resolve(json(404, { error: { code: 'user-not-found', message: 'no' } }));
    await expect(uploadBlob({ blob, kind: 'file', peer: 'nobody', mime: 'application/octet-stream', sha256: hash }, hooks(refusing))).rejects.toMatchObject({ code: 'user-not-found' });
  });
});
