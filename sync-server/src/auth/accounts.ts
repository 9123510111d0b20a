/**
 * Accounts: sign-up, sign-in (password, app token or the hosted service's
 * UserSig), refresh, sign-out,
 * password change, profiles. Every sign-in is a session (sessions.ts).
 * Refusals are thrown as `Refusal` (errors.ts) and turned into HTTP errors by
 * the one error funnel in http/errors.ts.
 */
import { randomBytes } from 'node:crypto';
import { cleanAbout, cleanNickname, isReservedUserId, type ProfileEntry, type Session } from '@parley/protocol';
import { verifyUserSig } from '../compat/usersig.ts';
import type { CompatConfig } from '../config.ts';
import { Refusal } from '../errors.ts';
import { profileOf } from '../social/profiles.ts';
import type { Storage, UserRecord } from '../storage/storage.ts';
import { checkPassword } from './password-policy.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { Sessions } from './sessions.ts';
import type { Tokens } from './tokens.ts';

/** A nickname as stored (cleaned, see protocol names.ts), or the `nickname-invalid` refusal. */
export function nicknameOf(nickname: string): string {
  const cleaned = cleanNickname(nickname);
  if (cleaned === null) throw new Refusal('nickname-invalid');
  return cleaned;
}

/** Refuses an id kept for the server (`@…`, `.`, `..`). */
export function refuseReserved(id: string): void {
  if (isReservedUserId(id)) throw new Refusal('user-id-reserved');
}

/**
 * A hash of a random password no one knows, made once: sign-in for an unknown
 * user, or one without a password, verifies against it, so that it takes as
 * long as a wrong password and the time tells nothing about which ids exist.
 */
let dummyHash: Promise<string> | null = null;
const dummy = (): Promise<string> => (dummyHash ??= hashPassword(randomBytes(16).toString('base64url')));

export class Accounts {
  constructor(
    private readonly storage: Storage,
    private readonly tokens: Tokens,
    private readonly sessions: Sessions,
    /** The hosted service's app id and key, which UserSigs are checked with; null: UserSig sign-in is off (`compat-off`). */
    private readonly compat: Pick<CompatConfig, 'sdkAppId' | 'secretKey'> | null = null,
  ) {}

  /** `label`: what the user's list of devices calls this sign-in (sessions.ts labelOf). */
  async signUp(req: { user: string; password: string; nickname?: string | undefined; device: string }, label: string): Promise<Session> {
    refuseReserved(req.user);
    const nickname = req.nickname === undefined ? req.user : nicknameOf(req.nickname);
    const weak = checkPassword(req.user, req.password);
    if (weak !== null) throw new Refusal(weak);
    const record: UserRecord = {
      id: req.user,
      passwordHash: await hashPassword(req.password),
      nickname,
      avatar: null,
      role: 'user',
      created: Date.now(),
    };
    if (!(await this.storage.createUser(record))) {
      // A deleted account's id stays taken for good (its tombstone): say so, rather than "taken".
      throw new Refusal((await this.storage.findUser(req.user))?.deleted != null ? 'account-deleted' : 'user-exists');
    }
    return this.session(record, req.device, label);
  }

  async signIn(req: { user: string; password: string; device: string }, label: string): Promise<Session> {
    // Ids are unique regardless of case: `Bob` signs in to `bob`, and the session is for the stored id.
    const user = await this.storage.findUser(req.user);
    // Same refusal, and the same work, for an unknown user, a user without a
    // password and a wrong password: neither the answer nor its time tells
    // which ids exist.
    const hash = user?.passwordHash ?? (await dummy());
    const matches = await verifyPassword(req.password, hash);
    if (user?.passwordHash == null || !matches) throw new Refusal('bad-credentials');
    return this.session(user, req.device, label);
  }

  async signInWithAppToken(req: { appToken: string; device: string }, label: string): Promise<Session> {
    const id = await this.tokens.verifyApp(req.appToken);
    if (id === null) throw new Refusal('app-token-invalid');
    return this.signInVouched(id, req.device, label);
  }

  /** The refusal's detail names the hosted service's code (70009…), which the app's backend already knows. */
  async signInWithUserSig(req: { user: string; usersig: string; device: string }, label: string): Promise<Session> {
    if (this.compat === null) throw new Refusal('compat-off');
    const check = verifyUserSig(req.usersig, { ...this.compat, identifier: req.user });
    if (!check.ok) throw new Refusal(check.code === 70001 ? 'usersig-expired' : 'usersig-invalid', `(${check.code}: ${check.detail})`);
    return this.signInVouched(check.identifier, req.device, label);
  }

  /**
   * Signs in a user the app's backend vouched for (an app token, a UserSig):
   * an id not seen before is created, as the hosted service imports a user on
   * their first login.
   */
  private async signInVouched(id: string, device: string, label: string): Promise<Session> {
    refuseReserved(id);
    let user = await this.storage.getUser(id);
    if (user === undefined) {
      const record: UserRecord = { id, passwordHash: null, nickname: id, avatar: null, role: 'user', created: Date.now() };
      await this.storage.createUser(record);
      // Not created and still not there: the id is taken in another case (`bob` when the token says `Bob`).
      user = await this.storage.getUser(id);
      if (user === undefined) throw new Refusal('user-exists');
    }
    // A tombstone never signs in again, not even with the app's token.
    if (user.deleted != null) throw new Refusal('account-deleted');
    return this.session(user, device, label);
  }

  /** The session of a refresh token, with a new access token and the next refresh token (the one given is dead). */
  async refresh(req: { refreshToken: string; device: string }): Promise<Session> {
    const { id, user: userId, refreshToken } = await this.sessions.refresh(req.refreshToken, req.device);
    const user = await this.storage.getUser(userId);
    if (user === undefined || user.deleted != null) {
      await this.sessions.revoke([id]);
      throw new Refusal('refresh-invalid', 'the user no longer exists');
    }
    const { token, expiresAt } = await this.tokens.issueAccess(user.id, req.device, id);
    return { user: user.id, device: req.device, accessToken: token, expiresAt, refreshToken, profile: profileOf(user) };
  }

  /** Ends the caller's session: its access and refresh tokens stop working, its sockets close. */
  async signOut(session: string): Promise<void> {
    await this.sessions.revoke([session]);
  }

  /**
   * Changes the password after checking the current one, and signs out
   * every other session of the user (a thief who knew the old password
   * loses the sessions made with it); resolves with how many.
   */
  async changePassword(userId: string, session: string, req: { current: string; password: string }): Promise<number> {
    const user = await this.storage.getUser(userId);
    if (user?.passwordHash == null || !(await verifyPassword(req.current, user.passwordHash))) throw new Refusal('bad-credentials');
    const weak = checkPassword(user.id, req.password);
    if (weak !== null) throw new Refusal(weak);
    await this.storage.updateUser(user.id, { passwordHash: await hashPassword(req.password) });
    return this.sessions.revokeOthers(user.id, session);
  }

  async profile(id: string): Promise<ProfileEntry> {
    const user = await this.storage.getUser(id);
    if (user === undefined) throw new Refusal('user-not-found');
    return profileOf(user);
  }

  /** `avatar: null` removes the avatar; `about` is cleaned (names.ts cleanAbout: nothing visible left removes it). */
  async updateProfile(id: string, patch: { nickname?: string | undefined; avatar?: string | null | undefined; about?: string | undefined }): Promise<ProfileEntry> {
    const nickname = patch.nickname === undefined ? undefined : nicknameOf(patch.nickname);
    const about = patch.about === undefined ? undefined : cleanAbout(patch.about);
    const user = await this.storage.updateUser(id, { nickname, avatar: patch.avatar, about });
    if (user === undefined) throw new Refusal('user-not-found');
    return profileOf(user);
  }

  private async session(user: UserRecord, device: string, label: string): Promise<Session> {
    const { id, refreshToken } = await this.sessions.create(user.id, device, label);
    const { token, expiresAt } = await this.tokens.issueAccess(user.id, device, id);
    return { user: user.id, device, accessToken: token, expiresAt, refreshToken, profile: profileOf(user) };
  }
}
