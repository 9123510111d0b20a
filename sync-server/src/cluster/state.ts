/**
 * What each process of a cluster keeps in memory and must hear from the
 * others, over one channel (`all`):
 *
 * - who is online: each process announces its devices going online and
 *   offline, and a heartbeat; a process that falls silent for
 *   DEAD_AFTER heartbeats is gone, and its devices with it. Each process
 *   keeps every other's online devices, so deciding whether a device needs
 *   a push reads nothing (PushNotifier, PushQueue);
 * - relations, settings, profiles and deleted accounts changed through one process: the
 *   others' caches follow (the change itself is in storage already);
 * - sessions created and revoked: each process checks tokens against its
 *   own copy of the live sessions, and closes a revoked session's sockets.
 *
 * All of it is either in storage (read again after a Redis outage) or
 * ephemeral (online devices are announced again to a process that says
 * hello, and after a Redis outage).
 */
import type { Privacy } from '@parley/protocol';
import type { RevokedSession, Sessions } from '../auth/sessions.ts';
import type { Log } from '../log.ts';
import type { SyncHub } from '../sync/hub.ts';
import type { Bus } from './bus.ts';

/** Heartbeats a process may miss before the others count it gone. */
const DEAD_AFTER = 3.5;

type Profile = Parameters<SyncHub['profileChangedElsewhere']>[0];
interface SessionInfo {
  id: string;
  user: string;
  device: string;
  lastUsed: number;
}

type StateMessage = { from: string } & (
  | { t: 'hb' }
  | { t: 'hello' }
  | { t: 'online'; user: string; device: string; on: boolean }
  | { t: 'online-all'; devices: [string, string[]][] }
  | { t: 'relations'; users: string[] }
  | { t: 'settings' }
  | { t: 'profile'; profile: Profile }
  | { t: 'deleted'; user: string }
  | { t: 'privacy'; user: string; privacy: Privacy }
  | { t: 'session'; session: SessionInfo }
  | { t: 'revoked'; revoked: RevokedSession[] }
);

type Payload = StateMessage extends infer M ? (M extends { from: string } ? Omit<M, 'from'> : never) : never;

export class ClusterState {
  /** The devices online on each other process, by user. */
  private readonly online = new Map<string, Map<string, Set<string>>>();
  private readonly lastHeard = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly stopListening: () => void;

  constructor(
    private readonly bus: Bus,
    private readonly hub: SyncHub,
    private readonly sessions: Sessions,
    private readonly log: Log,
    private readonly heartbeatMs: number,
  ) {
    this.stopListening = bus.subscribe('all', (message) => this.receive(JSON.parse(message.toString()) as StateMessage));
    hub.online.onOnline = (user, device, on) => this.send({ t: 'online', user, device, on });
    hub.online.elsewhere = (user) => this.devicesElsewhere(user);
    const reflect = hub.relations.onChange;
    hub.relations.onChange = (users) => {
      reflect(users);
      this.send({ t: 'relations', users });
    };
    hub.settings.onChange = () => this.send({ t: 'settings' });
    hub.inboxes.onProfile = (profile) => this.send({ t: 'profile', profile });
    hub.onAccountDeleted = (user) => this.send({ t: 'deleted', user });
    hub.onPrivacy = (user, privacy) => this.send({ t: 'privacy', user, privacy });
    sessions.onCreate = (session) => this.send({ t: 'session', session });
    sessions.onRevoke((revoked) => this.send({ t: 'revoked', revoked: [...revoked] }));
    bus.onResync(() => {
      this.send({ t: 'hello' });
      this.announceOnline();
      void sessions.reload().catch((err: unknown) => log.error({ err }, 'cluster: sessions not read again after redis came back'));
      void hub.settings.reload();
    });
    this.timer = setInterval(() => this.beat(), heartbeatMs);
    this.timer.unref();
    this.send({ t: 'hello' });
    this.beat();
  }

  close(): void {
    clearInterval(this.timer);
    this.stopListening();
  }

  private devicesElsewhere(user: string): string[] {
    const devices: string[] = [];
    for (const [node, byUser] of this.online) {
      if (node === this.bus.node) continue;
      for (const device of byUser.get(user) ?? []) devices.push(device);
    }
    return devices;
  }

  private beat(): void {
    this.send({ t: 'hb' });
    const now = Date.now();
    for (const [node, at] of this.lastHeard) {
      if (now - at < DEAD_AFTER * this.heartbeatMs) continue;
      this.lastHeard.delete(node);
      const byUser = this.online.get(node);
      // Its users offline everywhere now are last seen now: stored here, since their process cannot.
      for (const user of [...(byUser?.keys() ?? [])]) this.hub.online.elsewhereChanging(user, () => byUser?.delete(user), true);
      this.online.delete(node);
      this.log.warn({ node }, 'cluster: a process fell silent; its devices are offline');
    }
  }

  private announceOnline(): void {
    this.send({ t: 'online-all', devices: this.hub.online.onlineHere() });
  }

  private send(payload: Payload): void {
    this.bus.publish('all', JSON.stringify({ ...payload, from: this.bus.node }));
  }

  private receive(message: StateMessage): void {
    if (message.from === this.bus.node) return;
    this.lastHeard.set(message.from, Date.now());
    switch (message.t) {
      case 'hb':
        return;
      case 'hello':
        this.announceOnline();
        return;
      case 'online': {
        let byUser = this.online.get(message.from);
        if (byUser === undefined) this.online.set(message.from, (byUser = new Map<string, Set<string>>()));
        const node = byUser;
        // The user's conversations here hear it when it turns them online or offline as a whole.
        this.hub.online.elsewhereChanging(message.user, () => {
          let devices = node.get(message.user);
          if (message.on) {
            if (devices === undefined) node.set(message.user, (devices = new Set<string>()));
            devices.add(message.device);
          } else if (devices !== undefined) {
            devices.delete(message.device);
            if (devices.size === 0) node.delete(message.user);
          }
        });
        return;
      }
      case 'online-all':
        this.online.set(message.from, new Map(message.devices.map(([user, devices]): [string, Set<string>] => [user, new Set<string>(devices)])));
        return;
      case 'relations':
        this.hub.relationsChangedElsewhere(message.users).catch((err: unknown) => this.log.error({ err }, 'cluster: relations not read again'));
        return;
      case 'settings':
        this.hub.settings.reload().catch((err: unknown) => this.log.error({ err }, 'cluster: settings not read again'));
        return;
      case 'profile':
        this.hub.profileChangedElsewhere(message.profile);
        return;
      case 'deleted':
        this.hub.accountDeletedElsewhere(message.user);
        return;
      case 'privacy':
        this.hub.privacyChangedElsewhere(message.user, message.privacy);
        return;
      case 'session':
        this.sessions.adopt(message.session);
        return;
      case 'revoked':
        this.sessions.revokedElsewhere(message.revoked);
        return;
    }
  }
}
