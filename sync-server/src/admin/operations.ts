/**
 * What an administrator may do, whichever API asks: Parley's own admin API
 * (http/admin.ts) and the hosted service's (`/v4/`, http/compat.ts) both
 * call these, so each rule has one implementation. Messages sent here bypass
 * friend and blocklist checks (as the hosted service's admin send) and are
 * written by the server into the conversation document, stamped and counted
 * like a client's.
 */
import { randomBytes } from 'node:crypto';
import {
  bodyBytes,
  isErrorCode,
  isReservedUserId,
  LIMITS,
  Message,
  userIdKey,
  type Element,
  type ErrorCode,
  type OnlineState,
  type Profile,
  type PushOptions,
} from '@parley/protocol';
import { nicknameOf } from '../auth/accounts.ts';
import { checkAvatar } from '../auth/avatar.ts';
import { parseBody, Refusal } from '../errors.ts';
import type { PushService } from '../push/push.ts';
import { profileOf } from '../social/profiles.ts';
import type { DiskWatch } from '../storage/disk.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';

export interface AdminDeps {
  hub: SyncHub;
  storage: Storage;
  disk: DiskWatch;
  push: Pick<PushService, 'reachable'>;
}

export interface SendOutcome {
  to: string;
  id?: string;
  seq?: number;
  error?: ErrorCode;
}

export class AdminOperations {
  constructor(private readonly deps: AdminDeps) {}

  /** Below the free-disk reserve, messages are refused (507 storage-full) before anything is written. */
  async checkDisk(): Promise<void> {
    if (!(await this.deps.disk.room())) throw new Refusal('storage-full', 'the server keeps its free-disk reserve (PARLEY_MIN_FREE_DISK_BYTES)');
  }

  /** Builds and checks a message from `from` to `to`; the sender's profile is the current one. */
  async compose(from: string, to: string, type: Message['type'], body: Element[], id?: string, ts?: number, push?: PushOptions): Promise<Message> {
    const { storage } = this.deps;
    const sender = await storage.getUser(from);
    const recipient = await storage.getUser(to);
    if (sender === undefined || recipient === undefined) throw new Refusal('user-not-found');
    if (sender.deleted != null || recipient.deleted != null) throw new Refusal('account-deleted');
    if (from === to) throw new Refusal('bad-request', 'from and to are the same user');
    const { id: _id, ...profile } = profileOf(sender);
    const message = { id: id ?? randomBytes(12).toString('base64url'), from, to, type, body, ts: ts ?? Date.now(), profile, ...(push === undefined ? {} : { push }) };
    if (bodyBytes(body) > LIMITS.bodyBytes) throw new Refusal('body-too-long');
    return parseBody(Message, message);
  }

  async send(message: Message, syncToSender: boolean): Promise<{ id: string; seq: number }> {
    const { hub } = this.deps;
    if (hub.accept.permit(message.from, message.to, true) !== 'ok') throw new Error('an admin send is always permitted');
    return { id: message.id, seq: await hub.writes.serverSend(message, syncToSender) };
  }

  /** Sends to each recipient in turn; one recipient's refusal does not stop the others. */
  async sendEach(to: readonly string[], build: (to: string) => Promise<Message>, syncToSender: boolean): Promise<{ results: SendOutcome[] }> {
    const results: SendOutcome[] = [];
    for (const recipient of to) {
      try {
        results.push({ to: recipient, ...(await this.send(await build(recipient), syncToSender)) });
      } catch (error) {
        if (!(error instanceof Refusal) || !isErrorCode(error.code)) throw error;
        results.push({ to: recipient, error: error.code });
      }
    }
    return { results };
  }

  /** Imports accounts: the whole batch is checked before any is created (a refusal creates none); existing ones are left as they are. */
  async importAccounts(accounts: readonly { id: string; nickname?: string | undefined; avatar?: string | undefined }[]): Promise<{ created: string[]; existing: string[] }> {
    const { storage } = this.deps;
    for (const a of accounts) await checkAvatar(storage, a.avatar, null);
    const rows = await Promise.all(
      accounts.map(async (a) => {
        if (isReservedUserId(a.id)) throw new Refusal('user-id-reserved', a.id);
        const nickname = a.nickname === undefined ? a.id : nicknameOf(a.nickname);
        // An id taken in another case (`Bob` when `bob` exists) is not this account.
        const held = await storage.findUser(a.id);
        if (held !== undefined && held.id !== a.id) throw new Refusal('user-exists', `${a.id} (taken as ${held.id})`);
        return { id: a.id, passwordHash: null, nickname, avatar: a.avatar ?? null, role: 'user' as const, created: Date.now() };
      }),
    );
    const keys = new Set<string>();
    for (const { id } of rows) {
      const key = userIdKey(id);
      if (keys.has(key)) throw new Refusal('user-exists', `${id} appears twice in the batch, in some case`);
      keys.add(key);
    }
    const created: string[] = [];
    const existing: string[] = [];
    for (const row of rows) {
      if (await storage.createUser(row)) created.push(row.id);
      else if ((await storage.getUser(row.id)) !== undefined) existing.push(row.id);
      else throw new Refusal('user-exists', row.id);
    }
    return { created, existing };
  }

  /** Imports history: ids and times kept; the senders' profiles read once per user, as an admin send stamps them. */
  async importMessages(list: readonly Omit<Message, 'profile'>[], live: boolean): Promise<{ imported: number; duplicates: number }> {
    const { storage, hub } = this.deps;
    await this.checkDisk();
    const profiles = new Map<string, Profile>();
    for (const id of new Set(list.flatMap((m) => [m.from, m.to]))) {
      const user = await storage.getUser(id);
      if (user === undefined) throw new Refusal('user-not-found');
      const { id: _id, ...profile } = profileOf(user);
      profiles.set(id, profile);
    }
    const messages = list.map((m) => {
      if (m.from === m.to) throw new Refusal('bad-request', `message ${m.id}: from and to are the same user`);
      if (bodyBytes(m.body) > LIMITS.bodyBytes) throw new Refusal('body-too-long');
      return parseBody(Message, { ...m, profile: profiles.get(m.from) });
    });
    return hub.writes.importMessages(messages, live);
  }

  /** Online (a device holds the app open, anywhere in the cluster), push (reachable by Web Push) or offline. */
  async onlineStates(users: readonly string[]): Promise<{ user: string; state: OnlineState }[]> {
    const { hub, push } = this.deps;
    const states: { user: string; state: OnlineState }[] = [];
    // Whole cluster, from memory; a subscription read only for those offline (cached: push/subscriptions.ts).
    for (const user of users) {
      const state = hub.devicesOnline(user).length > 0 ? 'online' : (await push.reachable(user)) ? 'push' : 'offline';
      states.push({ user, state });
    }
    return states;
  }
}
