/**
 * The user's own profile and account security through the HTTP API: the
 * avatar (uploaded as media of no conversation, then set with PATCH /me),
 * the "about" line, the password, and the signed-in devices.
 *
 * The session keeps the profile it was answered with; every change here
 * writes the server's answer back to it (and to Dexie's stored session), so
 * new messages carry the new nickname and avatar. A change made on another
 * device arrives with `refreshProfile` (Settings reads it when it opens).
 */
import {
  API_PREFIX,
  ChangePasswordResponse,
  ProfileEntry,
  SessionList,
  UploadDone,
  type SessionInfo,
  type UpdateProfileRequest,
} from '@parley/protocol';
import { setMeta } from '../db.ts';
import { connection } from '../state/connection.svelte.ts';
import { session } from '../state/session.svelte.ts';
import { api } from '../shared/api.ts';
import { AppError, codeOf } from '../shared/errors.ts';

/** The side of the square an avatar is drawn at (the crop dialog's output), in pixels. */
export const AVATAR_SIZE = 512;

function token(): string {
  const value = session.current;
  if (value === null) throw new AppError('token-missing');
  if (!connection.online) throw new AppError('offline');
  return value.accessToken;
}

/** Keeps the server's answer as the session's profile (new messages carry it). */
async function keep(profile: ProfileEntry): Promise<ProfileEntry> {
  const value = session.current;
  if (value === null || value.user !== profile.id) return profile;
  const next = { ...value, profile };
  session.current = next;
  await setMeta('session', next);
  return profile;
}

async function patch(body: UpdateProfileRequest): Promise<ProfileEntry> {
  return keep(await api('PATCH', '/me', { body, token: token(), schema: ProfileEntry }));
}

/** The profile as the server has it now: a change made on another device shows here too. */
export async function refreshProfile(): Promise<ProfileEntry> {
  return keep(await api('GET', '/me', { token: token(), schema: ProfileEntry }));
}

/** Sets the nickname and the "about" line, either or both (the server cleans them; an empty about line removes it). */
export function saveProfile(fields: { nickname?: string; about?: string }): Promise<ProfileEntry> {
  const body: UpdateProfileRequest = {};
  if (fields.nickname !== undefined) body.nickname = fields.nickname.trim();
  if (fields.about !== undefined) body.about = fields.about.trim();
  return patch(body);
}

/**
 * Uploads `image` (the crop dialog's square WebP) as an avatar — media of no
 * conversation, which anyone signed in may read once it is someone's avatar —
 * and makes it the profile's avatar.
 */
export async function setAvatar(image: Blob): Promise<ProfileEntry> {
  const bearer = token();
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}/media?kind=image&mime=${encodeURIComponent(image.type || 'image/webp')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/octet-stream' },
      body: image,
    });
  } catch {
    throw new AppError(navigator.onLine ? 'network' : 'offline');
  }
  const json: unknown = await response.json().catch(() => null);
  const done = UploadDone.safeParse(json);
  if (!response.ok || !done.success) throw new AppError(codeOf((json as { error?: unknown } | null)?.error));
  return patch({ avatar: done.data.url });
}

export function removeAvatar(): Promise<ProfileEntry> {
  return patch({ avatar: null });
}

/** Changes the password; resolves with how many other devices the server signed out. */
export async function changePassword(current: string, password: string): Promise<number> {
  const { signedOut } = await api('POST', '/me/password', { body: { current, password }, token: token(), schema: ChangePasswordResponse });
  return signedOut;
}

/** The user's signed-in devices, this one first, then the most recently used. */
export async function listDevices(): Promise<SessionInfo[]> {
  const { sessions } = await api('GET', '/me/sessions', { token: token(), schema: SessionList });
  return sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.lastUsed - a.lastUsed);
}

/** Signs another device out: its tokens stop working and its sockets close at once. */
export async function signOutDevice(id: string): Promise<void> {
  const value = session.current;
  if (value === null) throw new AppError('token-missing');
  if (!connection.online) throw new AppError('offline');
  // 204: no body, which api() would not parse.
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}/me/sessions/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${value.accessToken}` } });
  } catch {
    throw new AppError(navigator.onLine ? 'network' : 'offline');
  }
  if (response.status !== 204) {
    const json: unknown = await response.json().catch(() => null);
    throw new AppError(codeOf((json as { error?: unknown } | null)?.error));
  }
}
