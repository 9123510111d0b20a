/**
 * Accounts: sign-up, sign-in (password or app token), refresh, sign-out,
 * password change, profiles. Every sign-in is a session (sessions.ts).
 * Refusals are thrown as `Refusal` and turned into HTTP errors by the one
 * error funnel in http/errors.ts.
 */
import type { ProfileEntry, Session } from '@parley/protocol';
import type { Storage, UserRecord } from '../storage/storage.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { Refusal } from './refusal.ts';
import type { Sessions } from './sessions.ts';
import type { Tokens } from './tokens.ts';

export { Refusal } from './refusal.ts';

export function profileOf(user: UserRecord): ProfileEntry {
  return user.avatar === null ? { id: user.id, nickname: user.nickname } : { id: user.id, nickname: user.nickname, avatar: user.avatar };
}

export class Accounts {
  constructor(
    private readonly storage: Storage,
    private readonly tokens: Tokens,
    private readonly sessions: Sessions,
  ) {}

  /** `label`: what the user's list of devices calls this sign-in (sessions.ts labelOf). */
  async signUp(req: { user: string; password: string; nickname?: string | undefined; device: string }, label: string): Promise<Session> {
    const record: UserRecord = {
      id: req.user,
      passwordHash: await hashPassword(req.password),
      nickname: req.nickname ?? req.user,
      avatar: null,
      role: 'user',
      created: Date.now(),
    };
    if (!(await this.storage.createUser(record))) throw new Refusal('user-exists');
    return this.session(record, req.device, label);
  }

  async signIn(req: { user: string; password: string; device: string }, label: string): Promise<Session> {
    const user = await this.storage.getUser(req.user);
    // Same refusal for an unknown user and a wrong password: no user enumeration.
    if (user?.passwordHash == null || !(await verifyPassword(req.password, user.passwordHash))) {
      throw new Refusal('bad-credentials');
    }
    return this.session(user, req.device, label);
  }

  async signInWithAppToken(req: { appToken: string; device: string }, label: string): Promise<Session> {
    const id = await this.tokens.verifyApp(req.appToken);
    if (id === null) throw new Refusal('app-token-invalid');
    let user = await this.storage.getUser(id);
    if (user === undefined) {
      const record: UserRecord = { id, passwordHash: null, nickname: id, avatar: null, role: 'user', created: Date.now() };
      await this.storage.createUser(record);
      user = (await this.storage.getUser(id)) ?? record;
    }
    return this.session(user, req.device, label);
  }

  /** The session of a refresh token, with a new access token and the next refresh token (the one given is dead). */
  async refresh(req: { refreshToken: string; device: string }): Promise<Session> {
    const { id, user: userId, refreshToken } = await this.sessions.refresh(req.refreshToken, req.device);
    const user = await this.storage.getUser(userId);
    if (user === undefined) {
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
    // The length (LIMITS.passwordMin/passwordMax) is checked by the request schema.
    // TODO(accounts): checkPassword(user.id, req.password) from auth/password-policy.ts goes here.
    await this.storage.updateUser(user.id, { passwordHash: await hashPassword(req.password) });
    return this.sessions.revokeOthers(user.id, session);
  }

  async profile(id: string): Promise<ProfileEntry> {
    const user = await this.storage.getUser(id);
    if (user === undefined) throw new Refusal('user-not-found');
    return profileOf(user);
  }

  async updateProfile(id: string, patch: { nickname?: string | undefined; avatar?: string | undefined }): Promise<ProfileEntry> {
    const user = await this.storage.updateUser(id, patch);
    if (user === undefined) throw new Refusal('user-not-found');
    return profileOf(user);
  }

  private async session(user: UserRecord, device: string, label: string): Promise<Session> {
    const { id, refreshToken } = await this.sessions.create(user.id, device, label);
    const { token, expiresAt } = await this.tokens.issueAccess(user.id, device, id);
    return { user: user.id, device, accessToken: token, expiresAt, refreshToken, profile: profileOf(user) };
  }
}
