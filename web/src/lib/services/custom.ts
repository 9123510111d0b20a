/**
 * Stickers, custom messages and the actions on them. A sticker and a custom
 * message are ordinary messages (messaging.sendBody: the outbox, the same
 * states); an action goes into the message's segment document through the
 * action outbox (sync/actions.ts), with the same durability. Everything the
 * server would refuse is checked here first, so that it fails at once, offline.
 */
import { ACTION_MAX_BYTES, MessageAction, actionDataBytes, actionKey, type Element } from '@parley/protocol';
import { checkActions } from '../custom/resolve.ts';
import { registry } from '../custom/registry.ts';
import type { Draft, RegisteredKind } from '../custom/types.ts';
import { db, outboxId } from '../db.ts';
import { session } from '../state/session.svelte.ts';
import { writeAction } from '../sync/actions.ts';
import { AppError } from '../shared/errors.ts';
import { sendBody } from './messaging.ts';
import { currentHub } from './session.ts';

function me(): string {
  const user = session.user;
  if (user === null) throw new AppError('token-missing');
  return user;
}

/** Sends a sticker at once; returns the message id. */
export function sendSticker(peer: string, pack: string, index: number, alt: string): Promise<string> {
  return sendBody(peer, [{ type: 'face', pack, index, alt }]);
}

/** Sends a custom message made by a kind's composer; the secret stays on this device. */
export async function sendCustom(peer: string, entry: RegisteredKind, draft: Draft<unknown, unknown>): Promise<string> {
  const parsed = entry.parseData(draft.data);
  if (!parsed.ok) throw new AppError('schema-invalid', `This ${entry.label.toLowerCase()} is not complete.`);
  const element: Element = { type: 'custom', kind: entry.kind, data: parsed.data, description: entry.describe(parsed.data) };
  const id = await sendBody(peer, [element]);
  if (draft.secret !== undefined) await db.customSecrets.put({ msg: id, data: draft.secret });
  return id;
}

/**
 * Writes my action `name` on custom message `msgId`: the kind must declare
 * it, let me write it and accept its data; it is written once, ever.
 */
export async function act(msgId: string, name: string, data: unknown): Promise<void> {
  const user = me();
  const row = await db.messages.get(msgId);
  const element = row?.body.find((e) => e.type === 'custom');
  if (row === undefined || element === undefined) throw new AppError('message-not-found');
  const entry = registry.get(element.kind);
  const spec = entry?.action(name);
  if (entry === undefined || spec === undefined) throw new AppError('schema-invalid', 'This app does not know that action.');
  const allowed = checkActions(entry, row, [{ from: user, name, data, ts: 0 }]);
  if (allowed.length === 0) {
    const parsed = spec.parse(data);
    throw parsed.ok ? new AppError('not-owner', 'Only the other member can do that.') : new AppError('schema-invalid');
  }
  const action: MessageAction = { msg: msgId, from: user, name, data: allowed[0]?.data, ts: Date.now() };
  const checked = MessageAction.safeParse(action);
  if (!checked.success) throw new AppError('schema-invalid');
  if (actionDataBytes(action.data) > ACTION_MAX_BYTES) throw new AppError('action-too-long');
  const key = actionKey(msgId, user, name);
  if ((await db.actions.get(key)) !== undefined) throw new AppError('duplicate-action');
  const synced = await currentHub().conversationDoc(row.peer, row.segment);
  await synced.ready;
  await writeAction(synced, checked.data);
}

/** Forgets a refused action of mine, so that it may be tried again. */
export async function dismissAction(msgId: string, name: string): Promise<void> {
  await db.outbox.delete(outboxId('action', actionKey(msgId, me(), name)));
}
