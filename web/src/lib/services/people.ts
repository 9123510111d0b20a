/**
 * Finding people through the HTTP API: the search, the "discoverable"
 * privacy setting, and invite links.
 *
 * The tokens of the invites this device made live in localStorage, not in
 * the Dexie store (they are not chat data and must survive a sign-up, which
 * starts a new store): the server keeps only their hashes, so the link can be
 * shown again only where it was made. (The invite a visitor landed on is kept
 * the same way: pendingInvite.ts.)
 */
import { CreatedInvite, InviteAccepted, InviteInfo, InviteList, Ok, PeopleResult, type ProfileEntry } from '@parley/protocol';
import { connection } from '../state/connection.svelte.ts';
import { session } from '../state/session.svelte.ts';
import { api } from '../shared/api.ts';
import { AppError } from '../shared/errors.ts';

const MADE_KEY = 'parley.invites';

function token(): string {
  const value = session.current;
  if (value === null) throw new AppError('token-missing');
  if (!connection.online) throw new AppError('offline');
  return value.accessToken;
}

export interface PeoplePage {
  people: ProfileEntry[];
  next: string | null;
}

export async function searchPeople(query: string, cursor: string | null = null): Promise<PeoplePage> {
  const params = new URLSearchParams({ q: query });
  if (cursor !== null) params.set('cursor', cursor);
  return api('GET', `/people?${params.toString()}`, { token: token(), schema: PeopleResult });
}

/** An invite of the caller's as the panel shows it: with its link when this device made it. */
export interface MyInvite {
  id: string;
  created: number;
  expires: number;
  link: string | null;
}

export const inviteLink = (tok: string): string => `${location.origin}/invite/${tok}`;

function madeTokens(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(MADE_KEY) ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function keepTokens(tokens: Record<string, string>): void {
  localStorage.setItem(MADE_KEY, JSON.stringify(tokens));
}

/** The caller's live invites, newest first; those made on this device with their link. */
export async function myInvites(): Promise<MyInvite[]> {
  const { invites } = await api('GET', '/invites', { token: token(), schema: InviteList });
  const tokens = madeTokens();
  // Tokens of invites that are gone (revoked elsewhere, expired) are forgotten.
  keepTokens(Object.fromEntries(invites.filter((i) => tokens[i.id] !== undefined).map((i) => [i.id, tokens[i.id] ?? ''])));
  return invites.map((i) => ({ ...i, link: tokens[i.id] === undefined ? null : inviteLink(tokens[i.id] ?? '') })).reverse();
}

export async function createInvite(): Promise<MyInvite> {
  const made = await api('POST', '/invites', { body: {}, token: token(), schema: CreatedInvite });
  keepTokens({ ...madeTokens(), [made.id]: made.token });
  return { id: made.id, created: made.created, expires: made.expires, link: inviteLink(made.token) };
}

export async function revokeInvite(id: string): Promise<void> {
  await api('DELETE', `/invites/${encodeURIComponent(id)}`, { token: token(), schema: Ok });
  const tokens = madeTokens();
  delete tokens[id];
  keepTokens(tokens);
}

/** Who invited, before sign-in. */
export async function resolveInvite(tok: string): Promise<{ inviter: ProfileEntry; expires: number }> {
  return api('POST', '/invites/resolve', { body: { token: tok }, schema: InviteInfo });
}

/** Takes up the invite: the inviter, and whether a chat is open or a friend request went (friends-only installs). */
export async function acceptInvite(tok: string): Promise<{ inviter: ProfileEntry; outcome: 'chat' | 'friend-request' }> {
  return api('POST', '/invites/accept', { body: { token: tok }, token: token(), schema: InviteAccepted });
}
