/**
 * Accounts and sessions: sign-up, sign-in (password or app token), refresh,
 * profiles. Refusals are thrown as `Refusal` and turned into HTTP errors by the
 * one error funnel in http/errors.ts.
 */
import type { ErrorCode, ProfileEntry, Session } from '@parley/protocol';
import type { Storage, UserRecord } from '../storage/storage.ts';
import { shownAvatar } from './avatar.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { Tokens } from './tokens.ts';

/** An expected refusal (a closed set of codes); bugs throw ordinary errors. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: ErrorCode,
    detail?: string,
  ) {
    super(detail ?? code);
  }
}

export function profileOf(user: UserRecord): ProfileEntry {
  const avatar = shownAvatar(user.avatar);
  return avatar === null ? { id: user.id, nickname: user.nickname } : { id: user.id, nickname: user.nickname, avatar };
}

export class Accounts {
  constructor(
    private readonly storage: Storage,
    private readonly tokens: Tokens,
  ) {}

  async signUp(req: { user: string; password: string; nickname?: string | undefined; device: string }): Promise<Session> {
    const record: UserRecord = {
      id: req.user,
      passwordHash: await hashPassword(req.password),
      nickname: req.nickname ?? req.user,
      avatar: null,
      role: 'user',
      created: Date.now(),
    };
    if (!(await this.storage.createUser(record))) throw new Refusal('user-exists');
    return this.session(record, req.device);
  }

  async signIn(req: { user: string; password: string; device: string }): Promise<Session> {
    const user = await this.storage.getUser(req.user);
    // Same refusal for an unknown user and a wrong password: no user enumeration.
    if (user?.passwordHash == null || !(await verifyPassword(req.password, user.passwordHash))) {
      throw new Refusal('bad-credentials');
    }
    return this.session(user, req.device);
  }

  async signInWithAppToken(req: { appToken: string; device: string }): Promise<Session> {
    const id = await this.tokens.verifyApp(req.appToken);
    if (id === null) throw new Refusal('app-token-invalid');
    let user = await this.storage.getUser(id);
    if (user === undefined) {
      const record: UserRecord = { id, passwordHash: null, nickname: id, avatar: null, role: 'user', created: Date.now() };
      await this.storage.createUser(record);
      user = (await this.storage.getUser(id)) ?? record;
    }
    return this.session(user, req.device);
  }

  async refresh(userId: string, device: string): Promise<Session> {
    const user = await this.storage.getUser(userId);
    if (user === undefined) throw new Refusal('token-invalid', 'the user no longer exists');
    return this.session(user, device);
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

  private async session(user: UserRecord, device: string): Promise<Session> {
    const { token, expiresAt } = await this.tokens.issueAccess(user.id, device);
    return { user: user.id, device, accessToken: token, expiresAt, profile: profileOf(user) };
  }
}
