/**
 * The account itself (Settings → Account, issue 17): "download my data" and
 * deleting the account. Both need the bearer token, so the archive is fetched
 * (not a plain link) and handed to the browser as a blob download: the zip
 * is held in this tab's memory while it is saved, which a personal archive
 * allows; a signed short-lived URL would avoid that at the cost of a second
 * kind of credential on the server.
 */
import { API_PREFIX, DeleteAccountResponse, isErrorCode } from '@parley/protocol';
import { session } from '../state/session.svelte.ts';
import { api } from '../shared/api.ts';
import { AppError, rateLimitedText } from '../shared/errors.ts';
import { leaveDeletedAccount } from './session.ts';

function token(): string {
  const value = session.current?.accessToken;
  if (value === undefined) throw new AppError('token-missing');
  return value;
}

/** Fetches the archive and saves it as `parley-<user>-<date>.zip`. */
export async function downloadMyData(): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}/me/export`, { headers: { authorization: `Bearer ${token()}` } });
  } catch {
    throw new AppError(navigator.onLine ? 'network' : 'offline');
  }
  if (!response.ok) {
    const json = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
    const code = json?.error?.code;
    if (code === 'rate-limited') throw new AppError(code, rateLimitedText(Number(response.headers.get('retry-after'))));
    throw new AppError(isErrorCode(code) ? code : 'internal');
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'parley-data.zip';
  const url = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // After the click has handed the blob to the download.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

/**
 * Deletes the account (the server answers once everything is erased), then
 * wipes this device and goes to the sign-in screen with a notice.
 */
export async function deleteAccount(proof: { password: string } | { confirm: string }): Promise<void> {
  await api('DELETE', '/me', { token: token(), body: proof, schema: DeleteAccountResponse });
  await leaveDeletedAccount();
}
