/**
 * Friends, friend requests, the blocklist and the profile, through the HTTP
 * API. The server mirrors every change into the inbox document, which the hub
 * materialises into `relations`; the screens read that, so nothing is written
 * to Dexie here except the profile of the session.
 */
import { Ok, Privacy, ProfileEntry, UserId, type PrivacyPatch } from '@parley/protocol';
import { setMeta } from '../db.ts';
import { connection } from '../state/connection.svelte.ts';
import { presence } from '../state/presence.svelte.ts';
import { session } from '../state/session.svelte.ts';
import { api } from '../shared/api.ts';
import { AppError } from '../shared/errors.ts';

function token(): string {
  const value = session.current;
  if (value === null) throw new AppError('token-missing');
  if (!connection.online) throw new AppError('offline');
  return value.accessToken;
}

const seg = (id: string): string => encodeURIComponent(id);

export async function sendFriendRequest(to: string, note: string): Promise<void> {
  if (!UserId.safeParse(to).success) throw new AppError('bad-request', 'A user id is 1-64 of A-Z a-z 0-9 _ . @ -.');
  const body = note.trim() === '' ? { to } : { to, note: note.trim() };
  await api('POST', '/friends/requests', { body, token: token(), schema: Ok });
}

export async function acceptRequest(from: string): Promise<void> {
  await api('POST', `/friends/requests/${seg(from)}/accept`, { body: {}, token: token(), schema: Ok });
}

export async function declineRequest(from: string): Promise<void> {
  await api('POST', `/friends/requests/${seg(from)}/decline`, { body: {}, token: token(), schema: Ok });
}

export async function removeFriend(id: string): Promise<void> {
  await api('DELETE', `/friends/${seg(id)}`, { token: token(), schema: Ok });
}

export async function block(id: string): Promise<void> {
  await api('PUT', `/blocklist/${seg(id)}`, { body: {}, token: token(), schema: Ok });
}

export async function unblock(id: string): Promise<void> {
  await api('DELETE', `/blocklist/${seg(id)}`, { token: token(), schema: Ok });
}

/** Changes the nickname; the session keeps the new profile (new messages carry it). */
export async function setNickname(nickname: string): Promise<void> {
  const value = session.current;
  const profile = await api('PATCH', '/me', { body: { nickname: nickname.trim() }, token: token(), schema: ProfileEntry });
  if (value === null) return;
  const next = { ...value, profile: { ...value.profile, nickname: profile.nickname } };
  session.current = next;
  await setMeta('session', next);
}

/** This user's privacy settings, from the server (the inbox socket also says them, and each change on any device). */
export async function loadPrivacy(): Promise<Privacy> {
  const privacy = await api('GET', '/me/privacy', { token: token(), schema: Privacy });
  presence.privacy = privacy;
  return privacy;
}

/** Changes privacy settings; the server enforces them at once, on every device and for every peer. */
export async function setPrivacy(patch: PrivacyPatch): Promise<Privacy> {
  const privacy = await api('PATCH', '/me/privacy', { body: patch, token: token(), schema: Privacy });
  presence.privacy = privacy;
  return privacy;
}
