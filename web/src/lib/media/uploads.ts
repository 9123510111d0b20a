/**
 * Uploading one blob, resumably, as protocol/src/media.ts lays out:
 *
 *   POST /uploads            create (200 with UploadDone when the server holds the hash already)
 *   PUT  /uploads/:id?offset chunks of `chunkSize` from Blob.slice, in order
 *   POST /uploads/:id/complete
 *
 * A dropped connection, a 5xx or a 409 (the server holds another amount than
 * this device thought) reads `GET /uploads/:id` and goes on from `received`, so
 * a chunk the server holds is never sent again. The upload id is handed to the
 * caller as soon as it exists, to resume after a reload. Refusals (4xx) end the
 * upload with their code; network trouble that outlasts the retries ends it
 * with `network` or `offline`, and the caller tries again later.
 *
 * Hashing: `crypto.subtle.digest` over the whole Blob's arrayBuffer. SubtleCrypto
 * has no incremental API; the limits (MEDIA_LIMITS, 100 MB at most) bound the
 * transient buffer, which is released as soon as the digest is taken, and the
 * native digest is several times faster than an incremental one in JavaScript.
 */
import { API_PREFIX, isErrorCode, UploadDone, UploadStatus, type ErrorCode, type MediaKind } from '@parley/protocol';
import { AppError } from '../shared/errors.ts';

export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export interface UploadRequest {
  blob: Blob;
  kind: MediaKind;
  /** The other member of the conversation the media is for. */
  peer: string;
  mime: string;
  sha256: string;
  name?: string | undefined;
  /** An upload created earlier (before a reload): resumed while the server still has it. */
  uploadId?: string | undefined;
}

export interface UploadHooks {
  token: () => string;
  /** Called once when the server says the token expired; the request is then tried again. */
  refresh?: () => Promise<void>;
  /** The server's id for this upload, as soon as it exists. */
  created?: (id: string) => unknown;
  progress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /** Waits before the next try after network trouble (attempt 1, 2, …). */
  backoff?: (attempt: number, signal?: AbortSignal) => Promise<void>;
  fetch?: typeof fetch;
}

/** Network tries in a row before an upload gives up for now (the caller retries later). */
const MAX_TRIES = 6;

const offline = (): boolean => typeof navigator !== 'undefined' && !navigator.onLine;

/** Network trouble or a 5xx: worth another try. */
class Transient extends Error {
  constructor(readonly status: number) {
    super(`transient HTTP ${status}`);
  }
}

function defaultBackoff(attempt: number, signal?: AbortSignal): Promise<void> {
  const ms = Math.min(8000, 400 * 2 ** (attempt - 1));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

export async function uploadBlob(req: UploadRequest, hooks: UploadHooks): Promise<UploadDone> {
  const doFetch = hooks.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const backoff = hooks.backoff ?? defaultBackoff;
  const size = req.blob.size;
  let refreshed = false;

  /** One request; 401 token-expired refreshes once; 5xx and network errors are Transient. */
  async function call(method: string, path: string, body: BodyInit | null, json: boolean): Promise<Response> {
    for (;;) {
      const headers: Record<string, string> = { authorization: `Bearer ${hooks.token()}`, accept: 'application/json' };
      if (body !== null) headers['content-type'] = json ? 'application/json' : 'application/octet-stream';
      let response: Response;
      try {
        response = await doFetch(`${API_PREFIX}${path}`, { method, headers, body, signal: hooks.signal ?? null });
      } catch (e) {
        if (hooks.signal?.aborted) throw e;
        throw new Transient(0);
      }
      // 507 storage-full is a refusal (the server is below its free-disk reserve): the message fails, and Retry tries again later.
      if (response.status >= 500 && response.status !== 507) throw new Transient(response.status);
      if (response.status === 401 && !refreshed && hooks.refresh !== undefined) {
        const code = await errorCode(response);
        if (code === 'token-expired') {
          refreshed = true;
          await hooks.refresh();
          continue;
        }
        throw new AppError(code ?? 'token-invalid');
      }
      return response;
    }
  }

  /** Runs `step`, trying again after network trouble with backoff; refusals end it. */
  async function withRetry<T>(step: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (attempt >= MAX_TRIES) {
          if (e.status >= 500) throw new AppError('internal');
          throw new AppError(offline() ? 'offline' : 'network');
        }
        await backoff(attempt, hooks.signal);
      }
    }
  }

  const create = async (): Promise<UploadStatus | UploadDone> => {
    const response = await call(
      'POST',
      '/uploads',
      JSON.stringify({ kind: req.kind, peer: req.peer, size, mime: req.mime, sha256: req.sha256, ...(req.name === undefined ? {} : { name: req.name }) }),
      true,
    );
    if (!response.ok) throw new AppError((await errorCode(response)) ?? 'bad-request');
    const json: unknown = await response.json();
    const done = UploadDone.safeParse(json);
    if (done.success) return done.data;
    const status = UploadStatus.safeParse(json);
    if (!status.success) throw new AppError('unexpected', 'unexpected answer to an upload');
    await hooks.created?.(status.data.id);
    return status.data;
  };

  /** The server's status of an upload; null when it no longer knows it (expired, cancelled). */
  const statusOf = async (id: string): Promise<UploadStatus | null> => {
    const response = await call('GET', `/uploads/${encodeURIComponent(id)}`, null, false);
    if (response.status === 404) return null;
    if (!response.ok) throw new AppError((await errorCode(response)) ?? 'bad-request');
    const status = UploadStatus.safeParse(await response.json());
    if (!status.success) throw new AppError('unexpected', 'unexpected upload status');
    return status.data;
  };

  let reported = -1;
  const progress = (sent: number): void => {
    if (sent === reported) return;
    reported = sent;
    hooks.progress?.(sent, size);
  };

  /** A new upload; when the server no longer knows ours (expired), once more at most. */
  let creations = 0;
  const createOnce = (): Promise<UploadStatus | UploadDone> => {
    if (++creations > 2) throw new AppError('upload-not-found');
    return withRetry(create);
  };

  /** Sends what the server lacks, chunk by chunk, from `received`; answers the last status (or UploadDone). */
  const sendRest = async (start: UploadStatus): Promise<UploadStatus | UploadDone> => {
    let current = start;
    let trouble = 0;
    progress(current.received);
    while (current.received < size) {
      hooks.signal?.throwIfAborted();
      const { id, received: offset } = current;
      const end = Math.min(size, offset + current.chunkSize);
      let next: UploadStatus | UploadDone | null;
      try {
        const response = await call('PUT', `/uploads/${encodeURIComponent(id)}?offset=${offset}`, req.blob.slice(offset, end), false);
        if (response.status === 409) next = await withRetry(() => statusOf(id));
        else if (response.status === 404) next = null;
        else if (!response.ok) throw new AppError((await errorCode(response)) ?? 'bad-request');
        else {
          const parsed = UploadStatus.safeParse(await response.json());
          if (!parsed.success) throw new AppError('unexpected', 'unexpected upload status');
          next = parsed.data;
          trouble = 0;
        }
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (++trouble >= MAX_TRIES) throw new AppError(e.status >= 500 ? 'internal' : offline() ? 'offline' : 'network');
        await backoff(trouble, hooks.signal);
        // The chunk may or may not have landed: ask, rather than send it again blindly.
        next = await withRetry(() => statusOf(id));
      }
      next ??= await createOnce();
      if ('media' in next) return next;
      current = next;
      progress(Math.min(current.received, size));
    }
    return current;
  };

  /**
   * Completes the upload; null when the server says it lacks bytes (a chunk
   * was lost) or no longer knows the upload (it expired, idle): send the rest
   * again, or start over.
   */
  const complete = (id: string): Promise<UploadDone | null> =>
    withRetry(async () => {
      const response = await call('POST', `/uploads/${encodeURIComponent(id)}/complete`, null, false);
      if (response.ok) {
        const parsed = UploadDone.safeParse(await response.json());
        if (!parsed.success) throw new AppError('unexpected', 'unexpected answer to completing an upload');
        return parsed.data;
      }
      const code = await errorCode(response);
      if (code === 'upload-incomplete' || code === 'upload-not-found') return null;
      throw new AppError(code ?? 'bad-request');
    });

  // Resume a known upload, or create one; then send the rest and complete.
  let state: UploadStatus | UploadDone | null = null;
  if (req.uploadId !== undefined) state = await withRetry(() => statusOf(req.uploadId as string));
  state ??= await createOnce();
  for (let attempt = 0; attempt < 3; attempt++) {
    if ('media' in state) break;
    const sent = await sendRest(state);
    if ('media' in sent) {
      state = sent;
      break;
    }
    const done = await complete(sent.id);
    if (done !== null) {
      state = done;
      break;
    }
    state = (await withRetry(() => statusOf(sent.id))) ?? (await createOnce());
  }
  if (!('media' in state)) throw new AppError('upload-incomplete');
  progress(size);
  return state;
}

/** Cancels an upload on the server (best effort: an upload nobody completes expires anyway). */
export async function cancelUpload(id: string, token: string, doFetch: typeof fetch = fetch): Promise<void> {
  try {
    await doFetch(`${API_PREFIX}/uploads/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  } catch {
    // offline: the server expires it
  }
}

async function errorCode(response: Response): Promise<ErrorCode | undefined> {
  const json: unknown = await response.json().catch(() => null);
  const code = (json as { error?: { code?: unknown } } | null)?.error?.code;
  return isErrorCode(code) ? code : undefined;
}
