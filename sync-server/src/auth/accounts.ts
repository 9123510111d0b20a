/**
 * Accounts and sessions: sign-up, sign-in (password or app token), refresh,
 * profiles. Refusals are thrown as `Refusal` and turned into HTTP errors by the
 * one error funnel in http/errors.ts.
 */
import { randomBytes } from 'node:crypto';
import { cleanNickname, isReservedUserId, type ErrorCode, type ProfileEntry, type Session } from '@parley/protocol';
import type { Storage, UserRecord } from '../storage/storage.ts';
import { shownAvatar } from './avatar.ts';
import { checkPassword } from './password-policy.ts';
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
  ) {}

  async signUp(req: { user: string; password: string; nickname?: string | undefined; device: string }): Promise<Session> {
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
    if (!(await this.storage.createUser(record))) throw new Refusal('user-exists');
    return this.session(record, req.device);
  }

  async signIn(req: { user: string; password: string; device: string }): Promise<Session> {
    // Ids are unique regardless of case: `Bob` signs in to `bob`, and the session is for the stored id.
    const user = await this.storage.findUser(req.user);
    // Same refusal, and the same work, for an unknown user, a user without a
    // password and a wrong password: neither the answer nor its time tells
    // which ids exist.
    const hash = user?.passwordHash ?? (await dummy());
    const matches = await verifyPassword(req.password, hash);
    if (user?.passwordHash == null || !matches) throw new Refusal('bad-credentials');
    return this.session(user, req.device);
  }

  async signInWithAppToken(req: { appToken: string; device: string }): Promise<Session> {
    const id = await this.tokens.verifyApp(req.appToken);
    if (id === null) throw new Refusal('app-token-invalid');
    refuseReserved(id);
    let user = await this.storage.getUser(id);
    if (user === undefined) {
      const record: UserRecord = { id, passwordHash: null, nickname: id, avatar: null, role: 'user', created: Date.now() };
      await this.storage.createUser(record);
      // Not created and still not there: the id is taken in another case (`bob` when the token says `Bob`).
      user = await this.storage.getUser(id);
      if (user === undefined) throw new Refusal('user-exists');
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
    const nickname = patch.nickname === undefined ? undefined : nicknameOf(patch.nickname);
    const user = await this.storage.updateUser(id, { ...patch, nickname });
    if (user === undefined) throw new Refusal('user-not-found');
    return profileOf(user);
  }

  private async session(user: UserRecord, device: string): Promise<Session> {
    const { token, expiresAt } = await this.tokens.issueAccess(user.id, device);
    return { user: user.id, device, accessToken: token, expiresAt, profile: profileOf(user) };
  }
}
