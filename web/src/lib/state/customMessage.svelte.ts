/**
 * One custom message on screen: the message's members, the actions written
 * on it (materialised, with this device's unacknowledged and refused ones
 * marked), the peer's name, and the sender's secret when this device has it.
 * Reads Dexie only; the hub keeps the tables current.
 */
import type { ErrorCode } from '@parley/protocol';
import { db } from '../db.ts';
import { actionEntriesOf } from '../sync/outbox.ts';
import { report } from '../shared/errors.ts';
import { Live } from './live.svelte.ts';

export interface CustomSnapshot {
  /** Null until the message row is found. */
  message: { from: string; to: string; peer: string } | null;
  peerName: string;
  actions: { from: string; name: string; data: unknown; ts: number; pending: boolean }[];
  /** My refused actions, by name. */
  failures: { name: string; code: ErrorCode }[];
  secret: unknown;
}

const EMPTY: CustomSnapshot = { message: null, peerName: '', actions: [], failures: [], secret: undefined };

export class CustomMessageState {
  readonly #live: Live<CustomSnapshot>;

  constructor(msgId: string, me: string) {
    this.#live = new Live<CustomSnapshot>(
      async () => {
        const [row, actions, outbox, secret] = await Promise.all([
          db.messages.get(msgId),
          db.actions.where('msg').equals(msgId).toArray(),
          actionEntriesOf(msgId),
          db.customSecrets.get(msgId),
        ]);
        if (row === undefined) return EMPTY;
        const profile = await db.profiles.get(row.peer);
        const pending = new Set(outbox.filter((o) => o.state === 'pending').map((o) => o.key));
        const failed = outbox.filter((o) => o.state === 'failed');
        const failedKeys = new Set(failed.map((o) => o.key));
        return {
          message: { from: row.from, to: row.to, peer: row.peer },
          peerName: profile?.nickname || row.peer,
          actions: actions
            .filter((a) => !failedKeys.has(a.key))
            .map((a) => ({ from: a.from, name: a.name, data: a.data, ts: a.ts, pending: pending.has(a.key) })),
          failures: failed.flatMap((o) => {
            const name = (o.action as { name?: unknown } | null)?.name;
            return typeof name === 'string' && o.key.startsWith(`${msgId}|${me}|`) ? [{ name, code: o.code ?? 'schema-invalid' }] : [];
          }),
          secret: secret?.data,
        };
      },
      EMPTY,
      report,
    );
  }

  get current(): CustomSnapshot {
    return this.#live.current;
  }

  get loaded(): boolean {
    return this.#live.loaded;
  }
}
