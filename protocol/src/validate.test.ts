/**
 * The validator driven with real Yjs updates: a server document that applies
 * what the validator accepts and records client-id claims the way the sync
 * server does, and client documents whose updates are captured from
 * `doc.on('update')` or computed as sync step 2 would.
 */
import { describe, expect, it, test } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import type { ErrorCode } from './codes.ts';
import { LIMITS } from './limits.ts';
import { type DocPath, parseDocPath, segmentRange } from './paths.ts';
import { LINK_IMAGE_PATH, TextElement, type Element } from './elements.ts';
import { ACTION_MAX_BYTES, actionKey, bodyBytes, type Message, type MessageAction } from './schemas.ts';
import { checkMessage, claimOf, SERVER_CLAIM, validateUpdate, type Verdict } from './validate.ts';
import { encodeModel, toModel, type Model } from './fuzz/mutate.ts';

type Accepted = Extract<Verdict, { ok: true }>;
type Refused = Extract<Verdict, { ok: false }>;
type ConversationPath = Extract<DocPath, { kind: 'conversation' }>;

const SEGMENT = '2025-03';
const TS = Date.UTC(2025, 2, 15, 12, 0, 0);
const SERVER_CLIENT = 1;
/** Fixed client ids, so that struct order in encoded updates is deterministic. */
const ALICE = 101;
const ALICE_2 = 102;
const BOB = 201;
const BOB_2 = 202;

function docPath(path: string): DocPath {
  const parsed = parseDocPath(path);
  if (parsed === null) throw new Error(`not a document path: ${path}`);
  return parsed;
}

const CONVERSATION = docPath(`c2c/alice/bob/${SEGMENT}`) as ConversationPath;

function message(id: string, over: Partial<Message> = {}): Message {
  return {
    id,
    from: 'alice',
    to: 'bob',
    type: 'text',
    body: [{ type: 'text', text: `hello ${id}` }],
    ts: TS,
    profile: { nickname: 'Alice' },
    ...over,
  };
}

/** A server document that applies accepted updates and claims their client ids, like the sync server. */
class Server {
  readonly doc = new Y.Doc();
  private seq = 0;

  constructor(readonly path: DocPath = CONVERSATION) {
    this.doc.clientID = SERVER_CLIENT;
  }

  /** The server's clock for recalls: shortly after the messages' TS unless a test moves it. */
  now = TS + 1000;
  /** The time window for clients' `ts`; the validator's default unless a test sets one. */
  tsWindow: { maxSkewMs: number; maxAgeMs: number } | undefined;

  submit(user: string, update: Uint8Array): Verdict {
    const verdict = validateUpdate(update, { user, path: this.path, doc: this.doc, now: this.now, ...(this.tsWindow === undefined ? {} : { tsWindow: this.tsWindow }) });
    if (verdict.ok) {
      // Two transactions: Y.applyUpdate marks an enclosing transaction remote, and
      // Yjs then replaces the client id of a doc that also wrote in it.
      Y.applyUpdate(this.doc, update);
      this.doc.transact(() => {
        const clients = this.doc.getMap<{ user: string }>('clients');
        for (const client of verdict.newClients) clients.set(String(client), { user });
        if (!clients.has(String(SERVER_CLIENT))) clients.set(String(SERVER_CLIENT), { user: SERVER_CLAIM });
        for (const m of verdict.messages) this.doc.getMap<number>('seq').set(m.id, ++this.seq);
      });
    }
    return verdict;
  }

  /** Submits and insists on acceptance. */
  accept(user: string, update: Uint8Array): Accepted {
    return accepted(this.submit(user, update));
  }
}

/**
 * A client document that has synced the server's copy and writes as `clientID`
 * (set after the sync: Yjs would replace an id it sees in a remote update).
 */
function device(server: Server, clientID: number): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(server.doc));
  doc.clientID = clientID;
  return doc;
}

/** Brings a client up to date with the server (what the server broadcasts). */
function deliver(server: Server, doc: Y.Doc): void {
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(server.doc, Y.encodeStateVector(doc)));
}

/** What a client sends in sync step 2: everything the server lacks. */
function syncStep2(doc: Y.Doc, server: Server): Uint8Array {
  return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(server.doc));
}

/** Runs `write` as one local transaction and returns the update it emitted. */
function capture(doc: Y.Doc, write: () => void): Uint8Array {
  const updates: Uint8Array[] = [];
  const onUpdate = (update: Uint8Array): void => {
    updates.push(update);
  };
  doc.on('update', onUpdate);
  try {
    doc.transact(write);
  } finally {
    doc.off('update', onUpdate);
  }
  const [update] = updates;
  if (update === undefined || updates.length !== 1) throw new Error(`expected one update, got ${updates.length}`);
  return update;
}

const messages = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>('messages');
const receipts = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>('receipts');

function send(doc: Y.Doc, value: Message | Record<string, unknown>, key?: string): Uint8Array {
  const id = key ?? (value as { id: string }).id;
  return capture(doc, () => messages(doc).set(id, value));
}

/** The sender's recall of `id`, as a device writes it: the marker, and the content and edits deleted, in one transaction. */
function recall(doc: Y.Doc, id: string, by = 'alice', ts = TS + 500): Uint8Array {
  return capture(doc, () => {
    doc.getMap('recalls').set(id, { by, ts });
    messages(doc).delete(id);
    const edits = doc.getMap('edits');
    for (const key of [...edits.keys()]) if (key.startsWith(`${id}|`)) edits.delete(key);
  });
}

function accepted(verdict: Verdict): Accepted {
  if (!verdict.ok) throw new Error(`refused ${verdict.code}: ${verdict.detail}`);
  return verdict;
}

function refused(verdict: Verdict, code: ErrorCode): Refused {
  if (verdict.ok) throw new Error(`accepted, expected ${code}`);
  expect(verdict.code, verdict.detail).toBe(code);
  return verdict;
}

/** The code `checkMessage` refuses with, or null when it accepts. */
function checkCode(value: unknown, user: string): string | null {
  try {
    checkMessage(value, user, CONVERSATION);
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? `not a refusal: ${String(e)}`;
  }
}

/** A one-element body whose UTF-8 JSON is exactly `bytes` long. */
function bodyOfSize(bytes: number): Message['body'] {
  const overhead = bodyBytes([{ type: 'text', text: '' }]);
  return [{ type: 'text', text: 'x'.repeat(bytes - overhead) }];
}

/** A server where alice (ALICE) has sent m1 and bob (BOB) has read it; both devices are in step. */
function conversationWithHistory(): { server: Server; alice: Y.Doc; bob: Y.Doc } {
  const server = new Server();
  const alice = device(server, ALICE);
  const bob = device(server, BOB);
  server.accept('alice', send(alice, message('m1')));
  deliver(server, bob);
  server.accept('bob', capture(bob, () => receipts(bob).set('bob|read', { user: 'bob', seq: 1 })));
  deliver(server, alice);
  deliver(server, bob);
  return { server, alice, bob };
}

describe('validateUpdate: acceptances', () => {
  test('accepts a new message from a member and reports it and its new client id', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = send(alice, message('m1'));
    const meta = Y.parseUpdateMeta(update);
    const { decoded, ...verdict } = server.accept('alice', update);
    expect(verdict).toEqual({
      ok: true,
      newClients: [ALICE],
      messages: [message('m1')],
      receipts: [],
      readMarkers: [],
      mutes: [],
      actions: [],
      recalls: [],
      edits: [],
      reactions: [],
      empty: false,
    });
    // Handed on, so that the server does not decode it again: what Y.parseUpdateMeta would read, and the structs to apply.
    expect(decoded.bytes).toBe(update);
    expect(decoded.meta).toEqual(meta);
    expect(decoded.order.map((struct) => struct.id)).toEqual([Y.createID(ALICE, 0)]);
    expect(decoded.ds.clients.size).toBe(0);
    expect(claimOf(server.doc, ALICE)).toBe('alice');
  });

  test('accepts a reply from the other member', () => {
    const server = new Server();
    server.accept('alice', send(device(server, ALICE), message('m1')));
    const bob = device(server, BOB);
    const verdict = server.accept('bob', send(bob, message('m2', { from: 'bob', to: 'alice', profile: { nickname: 'Bob' } })));
    expect(verdict.messages.map((m) => m.id)).toEqual(['m2']);
    expect(verdict.newClients).toEqual([BOB]);
  });

  test('reports no new client id for a client id the user already claimed', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    server.accept('alice', send(alice, message('m1')));
    const verdict = server.accept('alice', send(alice, message('m2')));
    expect(verdict.newClients).toEqual([]);
    expect(verdict.messages.map((m) => m.id)).toEqual(['m2']);
  });

  test('accepts several messages in one update, in update order', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      for (const id of ['m1', 'm2', 'm3']) messages(alice).set(id, message(id));
    });
    expect(server.accept('alice', update).messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
  });

  test('accepts re-sent structs the server already has as empty', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = send(alice, message('m1'));
    server.accept('alice', update);
    expect(server.accept('alice', update)).toMatchObject({ ok: true, empty: true, messages: [], newClients: [] });
    deliver(server, alice);
    expect(server.accept('alice', Y.encodeStateAsUpdate(alice))).toMatchObject({ ok: true, empty: true, messages: [] });
  });

  test('accepts an update that carries only already-held structs of the other user and of the server as empty', () => {
    const { server, bob } = conversationWithHistory();
    // bob's full state holds alice's message and the server's seq and clients writes.
    expect(server.accept('bob', Y.encodeStateAsUpdate(bob))).toMatchObject({ ok: true, empty: true });
  });

  test("accepts a client's full delete set on re-sync when the server already applied those deletions", () => {
    const { server, alice, bob } = conversationWithHistory();
    // alice overwrites her receipt: her old receipt item is deleted; bob merely receives that deletion.
    server.accept('alice', capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq: 1 })));
    server.accept('alice', capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq: 2 })));
    deliver(server, bob);
    const full = Y.encodeStateAsUpdate(bob);
    expect(Y.decodeUpdate(full).ds.clients.has(ALICE)).toBe(true);
    expect(server.accept('bob', full)).toMatchObject({ ok: true, empty: true });
  });

  test("accepts an overwrite of the user's own receipt and reports it", () => {
    const { server, bob } = conversationWithHistory();
    const verdict = server.accept('bob', capture(bob, () => receipts(bob).set('bob|read', { user: 'bob', seq: 2 })));
    expect(verdict.receipts).toEqual([{ user: 'bob', kind: 'read', seq: 2 }]);
    expect(verdict.empty).toBe(false);
    expect(receipts(server.doc).get('bob|read')).toEqual({ user: 'bob', seq: 2 });
  });

  test("accepts an overwrite of a receipt written by another device of the same user", () => {
    const { server } = conversationWithHistory();
    const bob2 = device(server, BOB_2);
    const verdict = server.accept('bob', capture(bob2, () => receipts(bob2).set('bob|read', { user: 'bob', seq: 3 })));
    expect(verdict.newClients).toEqual([BOB_2]);
    expect(verdict.receipts).toEqual([{ user: 'bob', kind: 'read', seq: 3 }]);
  });

  test('accepts a delivered receipt under a new key', () => {
    const { server, bob } = conversationWithHistory();
    const verdict = server.accept('bob', capture(bob, () => receipts(bob).set('bob|delivered', { user: 'bob', seq: 1 })));
    expect(verdict.receipts).toEqual([{ user: 'bob', kind: 'delivered', seq: 1 }]);
  });

  test('accepts a write-then-overwrite made offline in one update (origin inside the same update)', () => {
    const { server, bob } = conversationWithHistory();
    // Offline: two separate transactions, then sync step 2 sends both at once.
    receipts(bob).set('bob|delivered', { user: 'bob', seq: 1 });
    receipts(bob).set('bob|delivered', { user: 'bob', seq: 2 });
    const update = syncStep2(bob, server);
    expect(Y.decodeUpdate(update).structs.length).toBe(2);
    const verdict = server.accept('bob', update);
    expect(verdict.receipts).toEqual([{ user: 'bob', kind: 'delivered', seq: 2 }]);
    expect(receipts(server.doc).get('bob|delivered')).toEqual({ user: 'bob', seq: 2 });
  });

  test('accepts a write-then-overwrite made in one transaction', () => {
    const { server, bob } = conversationWithHistory();
    const update = capture(bob, () => {
      receipts(bob).set('bob|delivered', { user: 'bob', seq: 1 });
      receipts(bob).set('bob|delivered', { user: 'bob', seq: 2 });
    });
    expect(server.accept('bob', update).receipts).toEqual([{ user: 'bob', kind: 'delivered', seq: 2 }]);
  });

  test('accepts an offline overwrite chain made across a reload (a new client id overwriting an older, unsent one)', () => {
    const { server, bob } = conversationWithHistory();
    // Offline on BOB: an overwrite of bob's receipt, never sent.
    receipts(bob).set('bob|read', { user: 'bob', seq: 2 });
    // The app reloads offline: the persisted state comes back under a new client id.
    const reloaded = new Y.Doc();
    reloaded.clientID = BOB_2;
    Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(bob));
    receipts(reloaded).set('bob|read', { user: 'bob', seq: 3 });
    // Back online: one update holds both clients' structs; BOB_2 > BOB, so it is decoded first.
    const verdict = server.accept('bob', syncStep2(reloaded, server));
    expect(verdict.newClients).toEqual([BOB_2]); // BOB was claimed when it first wrote
    expect(receipts(server.doc).get('bob|read')).toEqual({ user: 'bob', seq: 3 });
  });

  test('accepts a message written and deleted locally before it was sent (ContentDeleted)', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    messages(alice).set('m1', message('m1'));
    messages(alice).delete('m1');
    const update = syncStep2(alice, server);
    const [struct] = Y.decodeUpdate(update).structs;
    expect(struct instanceof Y.Item && struct.content instanceof Y.ContentDeleted).toBe(true);
    expect(server.accept('alice', update)).toMatchObject({ ok: true, messages: [], newClients: [ALICE], empty: false });
    expect(messages(server.doc).has('m1')).toBe(false);
  });

  test('accepts the deletion (recall) of a message of its own author', () => {
    const { server, alice } = conversationWithHistory();
    const verdict = server.accept('alice', recall(alice, 'm1'));
    expect(verdict).toMatchObject({ ok: true, messages: [], recalls: [{ msg: 'm1', by: 'alice' }], empty: false });
    expect(messages(server.doc).has('m1')).toBe(false);
  });

  test('accepts an empty update as empty', () => {
    const server = new Server();
    expect(server.accept('alice', Y.encodeStateAsUpdate(new Y.Doc()))).toMatchObject({ ok: true, empty: true });
  });

  test('accepts a message dated at the first and the last millisecond of the segment', () => {
    const server = new Server();
    // The segment's bounds, not the time window, are under test here.
    server.tsWindow = { maxSkewMs: 366 * 24 * 3600_000, maxAgeMs: 366 * 24 * 3600_000 };
    const alice = device(server, ALICE);
    const [first, last] = segmentRange(SEGMENT);
    const verdict = server.accept(
      'alice',
      capture(alice, () => {
        messages(alice).set('m1', message('m1', { ts: first }));
        messages(alice).set('m2', message('m2', { ts: last }));
      }),
    );
    expect(verdict.messages.map((m) => m.ts)).toEqual([first, last]);
  });
});

describe('validateUpdate: prefs', () => {
  test('accepts the owner writing read[peer] and reports the read marker', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    const verdict = server.accept('alice', capture(alice, () => alice.getMap('read').set('bob', { seq: 4 })));
    expect(verdict.readMarkers).toEqual([{ peer: 'bob', seq: 4 }]);
    expect(verdict.newClients).toEqual([ALICE]);
  });

  test('accepts the owner overwriting a read marker from another device', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    server.accept('alice', capture(alice, () => alice.getMap('read').set('bob', { seq: 4 })));
    const alice2 = device(server, ALICE_2);
    const verdict = server.accept('alice', capture(alice2, () => alice2.getMap('read').set('bob', { seq: 9 })));
    expect(verdict.readMarkers).toEqual([{ peer: 'bob', seq: 9 }]);
  });

  test('refuses a read marker written by another user', () => {
    const server = new Server(docPath('prefs/alice'));
    const bob = device(server, BOB);
    refused(server.submit('bob', capture(bob, () => bob.getMap('read').set('carol', { seq: 1 }))), 'not-owner');
  });

  test('refuses a read marker that is not a non-negative integer sequence', () => {
    const server = new Server(docPath('prefs/alice'));
    for (const value of [{ seq: -1 }, { seq: 1.5 }, 'yes', {}]) {
      // A refused update is never applied, so every attempt starts from the server's copy.
      const alice = device(server, ALICE);
      refused(server.submit('alice', capture(alice, () => alice.getMap('read').set('bob', value))), 'schema-invalid');
    }
  });

  test('refuses a read marker whose key is not a user id', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    refused(server.submit('alice', capture(alice, () => alice.getMap('read').set('bob/../x', { seq: 1 }))), 'schema-invalid');
  });

  test('accepts the owner muting a conversation and reports the mute', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    const verdict = server.accept('alice', capture(alice, () => alice.getMap('muted').set('bob', { muted: true })));
    expect(verdict.mutes).toEqual([{ peer: 'bob', muted: true }]);
    expect(verdict.readMarkers).toEqual([]);
  });

  test('accepts the owner unmuting from another device (an overwrite of their own)', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    server.accept('alice', capture(alice, () => alice.getMap('muted').set('bob', { muted: true })));
    const alice2 = device(server, ALICE_2);
    const verdict = server.accept('alice', capture(alice2, () => alice2.getMap('muted').set('bob', { muted: false })));
    expect(verdict.mutes).toEqual([{ peer: 'bob', muted: false }]);
    expect(server.doc.getMap('muted').get('bob')).toEqual({ muted: false });
  });

  test('accepts the owner deleting a mute setting', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    server.accept('alice', capture(alice, () => alice.getMap('muted').set('bob', { muted: true })));
    const verdict = server.accept('alice', capture(alice, () => alice.getMap('muted').delete('bob')));
    expect(verdict.mutes).toEqual([]);
    expect(server.doc.getMap('muted').has('bob')).toBe(false);
  });

  test('refuses a mute setting written by another user', () => {
    const server = new Server(docPath('prefs/alice'));
    const bob = device(server, BOB);
    refused(server.submit('bob', capture(bob, () => bob.getMap('muted').set('carol', { muted: true }))), 'not-owner');
  });

  test('refuses a mute setting that is not {muted: boolean}', () => {
    const server = new Server(docPath('prefs/alice'));
    for (const value of [{ muted: 'yes' }, { muted: 1 }, true, {}]) {
      const alice = device(server, ALICE);
      refused(server.submit('alice', capture(alice, () => alice.getMap('muted').set('bob', value))), 'schema-invalid');
    }
  });

  test('refuses a mute setting whose key is not a user id', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    refused(server.submit('alice', capture(alice, () => alice.getMap('muted').set('bob/../x', { muted: true }))), 'schema-invalid');
  });

  test('refuses a root other than read and muted in a prefs document', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    refused(server.submit('alice', send(alice, message('m1'))), 'unknown-root');
  });
});

describe('validateUpdate: refusals', () => {
  test('refuses one message key written by two devices of the user in one update', () => {
    const server = new Server();
    const phone = device(server, ALICE);
    const laptop = device(server, ALICE_2);
    send(phone, message('m1'));
    send(laptop, message('m1', { body: [{ type: 'text', text: 'again' }] }));
    const merged = Y.mergeUpdates([syncStep2(phone, server), syncStep2(laptop, server)]);
    const verdict = refused(server.submit('alice', merged), 'duplicate-id');
    expect(verdict.msgIds).toEqual(['m1']);
    expect(messages(server.doc).size).toBe(0);
  });

  test('refuses a message whose author is not the writer', () => {
    const server = new Server();
    const bob = device(server, BOB);
    const verdict = refused(server.submit('bob', send(bob, message('m1'))), 'not-author');
    expect(verdict.msgIds).toEqual(['m1']);
  });

  test('refuses a receipt whose value names another user', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', capture(bob, () => receipts(bob).set('bob|delivered', { user: 'alice', seq: 1 }))), 'not-author');
  });

  test('refuses a message to someone who is not the other member', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    refused(server.submit('alice', send(alice, message('m1', { to: 'carol' }))), 'wrong-conversation');
  });

  test('refuses a message from a writer who is not a member', () => {
    const server = new Server();
    const carol = device(server, 301);
    refused(server.submit('carol', send(carol, message('m1', { from: 'carol', to: 'bob' }))), 'wrong-conversation');
  });

  test('refuses a message to its own author', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    refused(server.submit('alice', send(alice, message('m1', { to: 'alice' }))), 'wrong-conversation');
  });

  test('refuses a message dated outside the segment month', () => {
    const server = new Server();
    const [first, last] = segmentRange(SEGMENT);
    refused(server.submit('alice', send(device(server, ALICE), message('m1', { ts: first - 1 }))), 'wrong-conversation');
    refused(server.submit('alice', send(device(server, ALICE), message('m2', { ts: last + 1 }))), 'wrong-conversation');
    expect(messages(server.doc).size).toBe(0);
  });

  test('refuses a text body over 12 KB and accepts one of exactly 12 KB', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const over = message('m1', { body: bodyOfSize(LIMITS.bodyBytes + 1) });
    expect(bodyBytes(over.body)).toBe(LIMITS.bodyBytes + 1);
    refused(server.submit('alice', send(alice, over)), 'body-too-long');

    const fresh = new Server();
    const alice2 = device(fresh, ALICE);
    const exact = message('m2', { body: bodyOfSize(LIMITS.bodyBytes) });
    expect(bodyBytes(exact.body)).toBe(LIMITS.bodyBytes);
    expect(fresh.accept('alice', send(alice2, exact)).messages).toEqual([exact]);
  });

  test('refuses a system message from a client: only the server writes them', () => {
    const notice = [{ type: 'system' as const, kind: 'custom' as const, text: 'fake' }];
    expect(checkCode(message('m1', { type: 'system', body: notice }), 'alice')).toBe('system-reserved');
    expect(checkCode(message('m1', { body: notice }), 'alice')).toBe('system-reserved');
    expect(checkCode(message('m1', { type: 'system' }), 'alice')).toBe('system-reserved');
  });

  test("refuses push options from a client: only the server sets a notification's title and text", () => {
    expect(checkCode({ ...message('m1'), push: { title: 'Your bank' } }, 'alice')).toBe('system-reserved');
  });

  test('counts the 12 KB limit in UTF-8 bytes, not characters', () => {
    const text = 'é'.repeat(LIMITS.bodyBytes / 2); // 2 bytes each: over the limit once quoted
    expect(checkCode(message('m1', { body: [{ type: 'text', text }] }), 'alice')).toBe('body-too-long');
    expect(checkCode(message('m1', { body: [{ type: 'text', text: 'é'.repeat(LIMITS.bodyBytes / 4) }] }), 'alice')).toBeNull();
  });

  test('refuses a body of too many elements that is also over 12 KB as too long', () => {
    const body = Array.from({ length: 20 }, () => ({ type: 'text', text: 'x'.repeat(1000) }));
    expect(checkCode(message('m1', { body: body as Message['body'] }), 'alice')).toBe('body-too-long');
    expect(checkCode(message('m1', { body: body.slice(0, 17).map(() => ({ type: 'text' as const, text: 'x' })) }), 'alice')).toBe('schema-invalid');
  });

  test('caps a photo or video caption at LIMITS.captionLength and a voice waveform at LIMITS.waveformLevels levels of 0-255', () => {
    const media = { hash: 'a'.repeat(64), size: 10, mime: 'image/webp' };
    const picture = { media, width: 10, height: 10 };
    const image = (caption: string): Message => message('m1', { type: 'image', body: [{ type: 'image', format: 'webp', original: picture, thumbnail: picture, caption }] });
    expect(checkCode(image('x'.repeat(LIMITS.captionLength)), 'alice')).toBeNull();
    expect(checkCode(image('x'.repeat(LIMITS.captionLength + 1)), 'alice')).toBe('schema-invalid');
    expect(checkCode(image(''), 'alice')).toBe('schema-invalid');
    const video = (caption: string): Message =>
      message('m1', { type: 'video', body: [{ type: 'video', media: { ...media, mime: 'video/webm' }, duration: 2, format: 'webm', thumbnail: { ...picture, format: 'webp' }, caption }] });
    expect(checkCode(video('A walk'), 'alice')).toBeNull();
    expect(checkCode(video('x'.repeat(LIMITS.captionLength + 1)), 'alice')).toBe('schema-invalid');

    const voice = (waveform: number[]): Message => message('m1', { type: 'voice', body: [{ type: 'voice', media: { ...media, mime: 'audio/webm' }, duration: 2, format: 'webm', waveform }] });
    expect(checkCode(voice(Array.from({ length: LIMITS.waveformLevels }, (_, i) => i * 4)), 'alice')).toBeNull();
    expect(checkCode(voice(Array.from({ length: LIMITS.waveformLevels + 1 }, () => 9)), 'alice')).toBe('schema-invalid');
    expect(checkCode(voice([0, 256]), 'alice')).toBe('schema-invalid');
    expect(checkCode(voice([1.5]), 'alice')).toBe('schema-invalid');
    // A voice message from before waveforms still passes.
    expect(checkCode(message('m1', { type: 'voice', body: [{ type: 'voice', media, duration: 2, format: 'webm' }] }), 'alice')).toBeNull();
  });

  test('refuses a message of a bad shape', () => {
    const server = new Server();
    const bad: Record<string, unknown>[] = [
      { ...message('m1'), type: 'image' },
      { ...message('m1'), body: [] },
      { ...message('m1'), body: [{ type: 'text', text: '' }] },
      { ...message('m1'), ts: -1 },
      { ...message('m1'), ts: 1.5 },
      { id: 'm1', from: 'alice', to: 'bob' },
      { ...message('m1'), from: 'not a user id' },
    ];
    for (const value of bad) refused(server.submit('alice', send(device(server, ALICE), value, 'm1')), 'schema-invalid');
    refused(server.submit('alice', send(device(server, ALICE), message('bad id!'))), 'schema-invalid');
    expect(messages(server.doc).size).toBe(0);
  });

  test('refuses a message whose key differs from its id', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const verdict = refused(server.submit('alice', send(alice, message('m1'), 'm2')), 'schema-invalid');
    expect(verdict.msgIds).toEqual(['m2']);
  });

  test('refuses binary content in a root map key', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    refused(server.submit('alice', capture(alice, () => messages(alice).set('m1', new Uint8Array([1, 2, 3])))), 'schema-invalid');
  });

  test('refuses a subdocument in a root map key', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    refused(server.submit('alice', capture(alice, () => messages(alice).set('m1', new Y.Doc()))), 'schema-invalid');
  });

  test('refuses a receipt of a bad shape', () => {
    const { server } = conversationWithHistory();
    for (const value of [{ user: 'bob', seq: -1 }, { user: 'bob' }, 7]) {
      const bob = device(server, BOB);
      refused(server.submit('bob', capture(bob, () => receipts(bob).set('bob|delivered', value))), 'schema-invalid');
    }
  });

  test('refuses a garbage byte array as undecodable', () => {
    const server = new Server();
    for (const garbage of [new Uint8Array([]), new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array([1, 2, 3, 4, 5])]) {
      const verdict = refused(server.submit('alice', garbage), 'schema-invalid');
      expect(verdict.detail).toMatch(/undecodable/);
      expect(verdict.msgIds).toEqual([]);
    }
  });

  test('refuses a message key that already exists in messages', () => {
    const server = new Server();
    server.accept('alice', send(device(server, ALICE), message('m1')));
    // Another device of alice, not in step, inserts the same key concurrently.
    const offline = new Y.Doc();
    offline.clientID = ALICE_2;
    const verdict = refused(server.submit('alice', send(offline, message('m1', { body: [{ type: 'text', text: 'other' }] }))), 'duplicate-id');
    expect(verdict.msgIds).toEqual(['m1']);
  });

  test('refuses a concurrent insert by the other member of an existing message key', () => {
    const server = new Server();
    server.accept('alice', send(device(server, ALICE), message('m1')));
    const bob = new Y.Doc();
    bob.clientID = BOB;
    refused(server.submit('bob', send(bob, message('m1', { from: 'bob', to: 'alice' }))), 'duplicate-id');
  });

  test('refuses a message key that exists only in seq (a recalled message)', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', recall(alice, 'm1'));
    expect(messages(server.doc).has('m1')).toBe(false);
    expect(server.doc.getMap('seq').has('m1')).toBe(true);
    refused(server.submit('alice', send(alice, message('m1'))), 'duplicate-id');
  });

  test('refuses an overwrite of a message by its own author', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', send(alice, message('m1', { body: [{ type: 'text', text: 'edited' }] }))), 'duplicate-id');
  });

  test('refuses a message written twice in one update', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      messages(alice).set('m1', message('m1'));
      messages(alice).set('m1', message('m1', { body: [{ type: 'text', text: 'again' }] }));
    });
    refused(server.submit('alice', update), 'duplicate-id');
  });

  test("refuses a client id claimed by another user", () => {
    const server = new Server();
    const alice = device(server, ALICE);
    server.accept('alice', send(alice, message('m1')));
    // A doc of bob forced onto alice's claimed client id (after syncing, so its clock follows hers).
    const bob = device(server, alice.clientID);
    const verdict = refused(server.submit('bob', send(bob, message('m2', { from: 'bob', to: 'alice' }))), 'client-id-taken');
    expect(verdict.detail).toContain(String(ALICE));
  });

  test("refuses a client id claimed by the server", () => {
    const { server, bob } = conversationWithHistory();
    bob.clientID = SERVER_CLIENT;
    refused(server.submit('bob', capture(bob, () => receipts(bob).set('bob|delivered', { user: 'bob', seq: 1 }))), 'client-id-taken');
  });

  test('refuses a clock gap: the second update of a client without the first', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    send(alice, message('m1')); // never arrives
    const second = send(alice, message('m2'));
    const verdict = refused(server.submit('alice', second), 'reset-required');
    expect(verdict.detail).toMatch(/clock gap/);
    expect(messages(server.doc).size).toBe(0);
  });

  test('refuses an overwrite whose origin the server lacks', () => {
    const { server, bob } = conversationWithHistory();
    // bob's first device overwrites his receipt; the update reaches his second device but not the server.
    const unsent = capture(bob, () => receipts(bob).set('bob|read', { user: 'bob', seq: 2 }));
    const bob2 = device(server, BOB_2);
    Y.applyUpdate(bob2, unsent);
    const update = capture(bob2, () => receipts(bob2).set('bob|read', { user: 'bob', seq: 3 }));
    const verdict = refused(server.submit('bob', update), 'reset-required');
    expect(verdict.detail).toMatch(/does not have/);
  });

  test("refuses deleting the other user's message", () => {
    const { server, bob } = conversationWithHistory();
    const verdict = refused(server.submit('bob', capture(bob, () => messages(bob).delete('m1'))), 'not-owner');
    expect(verdict.detail).toContain(String(ALICE));
    expect(messages(server.doc).has('m1')).toBe(true);
  });

  test('refuses deleting what the server wrote', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', capture(bob, () => bob.getMap('seq').delete('m1'))), 'not-owner');
  });

  test("refuses an overwrite of the other user's receipt", () => {
    const { server, alice } = conversationWithHistory();
    // alice holds bob's receipt item and overwrites it.
    const verdict = refused(server.submit('alice', capture(alice, () => receipts(alice).set('bob|read', { user: 'bob', seq: 99 }))), 'not-owner');
    expect(verdict.detail).toMatch(/written by another user/);
  });

  test("refuses an overwrite of the other user's receipt re-sent inside a full state update", () => {
    const { server, alice } = conversationWithHistory();
    receipts(alice).set('bob|read', { user: 'bob', seq: 99 });
    // The full state also carries bob's original item, which the server holds.
    refused(server.submit('alice', Y.encodeStateAsUpdate(alice)), 'not-owner');
    expect(receipts(server.doc).get('bob|read')).toEqual({ user: 'bob', seq: 1 });
  });

  test('refuses a new receipt under a key of another user', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', capture(alice, () => receipts(alice).set('bob|delivered', { user: 'bob', seq: 1 }))), 'not-owner');
  });

  test('refuses a receipt key of an unknown kind', () => {
    const { server } = conversationWithHistory();
    for (const key of ['bob|seen', 'bob', 'bob|read|x']) {
      const bob = device(server, BOB);
      refused(server.submit('bob', capture(bob, () => receipts(bob).set(key, { user: 'bob', seq: 1 }))), 'not-owner');
    }
  });

  test('refuses any write into an inbox document', () => {
    const server = new Server(docPath('inbox/alice'));
    const a1 = device(server, ALICE);
    refused(server.submit('alice', capture(a1, () => a1.getMap('conversations').set('bob', { unread: 0 }))), 'read-only');
    const a2 = device(server, ALICE);
    refused(server.submit('alice', capture(a2, () => a2.getMap('profiles').set('alice', { id: 'alice', nickname: 'A' }))), 'read-only');
    const a3 = device(server, ALICE);
    refused(server.submit('alice', capture(a3, () => a3.getMap('anything').set('x', 1))), 'read-only');
  });

  test('refuses a client writing seq or clients in a conversation', () => {
    const server = new Server();
    const a1 = device(server, ALICE);
    refused(server.submit('alice', capture(a1, () => a1.getMap('seq').set('m1', 1))), 'read-only');
    const a2 = device(server, ALICE);
    refused(server.submit('alice', capture(a2, () => a2.getMap('clients').set('999', { user: 'alice' }))), 'read-only');
  });

  test('refuses a root map the conversation kind does not allow', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const verdict = refused(server.submit('alice', capture(alice, () => alice.getMap('stickers').set('m1|alice|+1', { emoji: '+1' }))), 'unknown-root');
    expect(verdict.detail).toContain('stickers');
  });

  test('refuses an array insert at the root', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const verdict = refused(server.submit('alice', capture(alice, () => alice.getArray('messages').push([message('m1')]))), 'unknown-root');
    expect(verdict.detail).toMatch(/array insert/);
  });

  test('refuses text inserted into a root text type', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    refused(server.submit('alice', capture(alice, () => alice.getText('messages').insert(0, 'hi'))), 'unknown-root');
  });

  test('refuses a Y.Map nested in a root map key', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      const nested = new Y.Map<unknown>();
      messages(alice).set('m1', nested);
      nested.set('id', 'm1');
    });
    refused(server.submit('alice', update), 'nested-type');
  });

  test('refuses a Y.Text in a root map key', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    refused(server.submit('alice', capture(alice, () => receipts(alice).set('alice|read', new Y.Text('1')))), 'nested-type');
  });

  test('refuses a whole update when one part is bad and applies nothing of it', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      messages(alice).set('m1', message('m1'));
      alice.getMap('seq').set('m1', 1);
    });
    refused(server.submit('alice', update), 'read-only');
    expect(messages(server.doc).size).toBe(0);
    expect(claimOf(server.doc, ALICE)).toBeUndefined();
  });
});

describe('validateUpdate: message ids of a refused update', () => {
  test('lists every message key the refused update carried', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      messages(alice).set('m1', message('m1'));
      messages(alice).set('m2', message('m2', { to: 'carol' }));
      messages(alice).set('m3', message('m3'));
    });
    const verdict = refused(server.submit('alice', update), 'wrong-conversation');
    expect([...verdict.msgIds].sort()).toEqual(['m1', 'm2', 'm3']);
  });

  test('lists the message keys when the refusal is in the delete set', () => {
    const { server, bob } = conversationWithHistory();
    const update = capture(bob, () => {
      messages(bob).set('b1', message('b1', { from: 'bob', to: 'alice' }));
      messages(bob).delete('m1');
    });
    const verdict = refused(server.submit('bob', update), 'not-owner');
    expect(verdict.msgIds).toEqual(['b1']);
  });

  test('lists the message keys of an update refused for a clock gap', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    send(alice, message('m1')); // never arrives
    const verdict = refused(server.submit('alice', send(alice, message('m2'))), 'reset-required');
    expect(verdict.msgIds).toEqual(['m2']);
  });

  test('does not list message keys the server already holds', () => {
    const { server, alice } = conversationWithHistory();
    messages(alice).set('m2', message('m2', { to: 'carol' }));
    const verdict = refused(server.submit('alice', Y.encodeStateAsUpdate(alice)), 'wrong-conversation');
    expect(verdict.msgIds).toEqual(['m2']);
  });
});

describe('checkMessage and claimOf', () => {
  test('checkMessage returns the parsed message for its author', () => {
    expect(checkMessage(message('m1'), 'alice', CONVERSATION)).toEqual(message('m1'));
  });

  test('checkMessage refuses with the same codes as the server', () => {
    expect(checkCode(message('m1'), 'bob')).toBe('not-author');
    expect(checkCode(message('m1', { to: 'carol' }), 'alice')).toBe('wrong-conversation');
    expect(checkCode(message('m1', { ts: Date.UTC(2025, 3, 1) }), 'alice')).toBe('wrong-conversation');
    expect(checkCode({ id: 'm1' }, 'alice')).toBe('schema-invalid');
    expect(checkCode(null, 'alice')).toBe('schema-invalid');
  });

  test('the test server keeps its own client id across accepted updates', () => {
    const { server } = conversationWithHistory();
    expect(server.doc.clientID).toBe(SERVER_CLIENT);
    expect([...server.doc.getMap('clients').keys()].sort()).toEqual([String(SERVER_CLIENT), String(ALICE), String(BOB)].sort());
  });

  test('claimOf names the claimant of a client id, or nothing', () => {
    const server = new Server();
    expect(claimOf(server.doc, ALICE)).toBeUndefined();
    server.accept('alice', send(device(server, ALICE), message('m1')));
    expect(claimOf(server.doc, ALICE)).toBe('alice');
    expect(claimOf(server.doc, SERVER_CLIENT)).toBe(SERVER_CLAIM);
    expect(claimOf(server.doc, BOB)).toBeUndefined();
  });
});

const HASH = 'a'.repeat(64);
const media = (mime: string, size = 1000) => ({ hash: HASH, size, mime });
const picture = { media: media('image/jpeg'), width: 640, height: 480 };

/** One element of every type a client may write, as elements.ts describes them. */
const CLIENT_ELEMENTS: Element[] = [
  { type: 'text', text: 'hello' },
  { type: 'face', pack: 'classic', index: 3, alt: '🙂' },
  { type: 'location', caption: 'The harbour', latitude: 59.9, longitude: 10.7 },
  { type: 'image', format: 'jpg', original: picture, thumbnail: { ...picture, width: 160, height: 120 } },
  { type: 'voice', media: media('audio/ogg'), duration: 12.5, format: 'ogg' },
  { type: 'file', media: media('application/pdf'), name: 'report.pdf', format: 'pdf' },
  { type: 'video', media: media('video/mp4'), duration: 61, format: 'mp4', thumbnail: { ...picture, format: 'jpg' } },
  { type: 'custom', kind: 'red-packet', data: { amount: 8.88, currency: 'CNY' }, description: 'A red packet' },
];

describe('validateUpdate: every element type', () => {
  test.each(CLIENT_ELEMENTS.map((e) => [e.type, e] as const))('accepts a %s message from a client', (type, element) => {
    const server = new Server();
    const alice = device(server, ALICE);
    const m = message(`m-${type}`, { type, body: [element] });
    expect(server.accept('alice', send(alice, m)).messages).toEqual([m]);
  });

  test('accepts a message with several element types in its body', () => {
    const server = new Server();
    const m = message('m1', { type: 'image', body: [CLIENT_ELEMENTS[0], CLIENT_ELEMENTS[3]] as Element[] });
    expect(server.accept('alice', send(device(server, ALICE), m)).messages).toEqual([m]);
  });

  test('refuses a system element from a client as system-reserved', () => {
    const server = new Server();
    const m = message('m1', { type: 'system', body: [{ type: 'system', kind: 'custom', text: 'forged' }] });
    refused(server.submit('alice', send(device(server, ALICE), m)), 'system-reserved');
  });

  test.each([
    ['a latitude of 91', 'location', { type: 'location', caption: '', latitude: 91, longitude: 0 }],
    ['a longitude of -181', 'location', { type: 'location', caption: '', latitude: 0, longitude: -181 }],
    ['a media hash that is not hex', 'voice', { type: 'voice', media: { ...media('audio/ogg'), hash: 'z'.repeat(64) }, duration: 1, format: 'ogg' }],
    ['a media hash of upper-case hex', 'file', { type: 'file', media: { ...media('text/plain'), hash: 'A'.repeat(64) }, name: 'a.txt' }],
    ['a negative duration', 'video', { type: 'video', media: media('video/mp4'), duration: -1, format: 'mp4', thumbnail: { ...picture, format: 'jpg' } }],
    ['a negative media size', 'image', { type: 'image', format: 'png', original: { ...picture, media: media('image/png', -1) }, thumbnail: picture }],
    ['a file without a name', 'file', { type: 'file', media: media('text/plain') }],
    ['a custom kind with capitals', 'custom', { type: 'custom', kind: 'RedPacket', data: {}, description: '' }],
  ])('refuses an element with %s as schema-invalid', (_what, type, element) => {
    const server = new Server();
    const m = message('m1', { type: type as Message['type'], body: [element as Element] });
    refused(server.submit('alice', send(device(server, ALICE), m)), 'schema-invalid');
  });
});

const actions = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>('actions');

function action(msg: string, from: string, name: string, over: Partial<MessageAction> = {}): MessageAction {
  return { msg, from, name, data: { n: 1 }, ts: TS, ...over };
}

/** Writes `value` (an action by default) under `key` as one update. */
function act(doc: Y.Doc, value: unknown, key?: string): Uint8Array {
  const a = value as MessageAction;
  return capture(doc, () => actions(doc).set(key ?? actionKey(a.msg, a.from, a.name), value));
}

describe('validateUpdate: actions', () => {
  test('accepts a member\'s action on a message of the document and reports it', () => {
    const { server, bob } = conversationWithHistory();
    const verdict = server.accept('bob', act(bob, action('m1', 'bob', 'open')));
    expect(verdict.actions).toEqual([action('m1', 'bob', 'open')]);
    expect(verdict.messages).toEqual([]);
  });

  test('accepts an action on a message written earlier in the same update', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      messages(alice).set('m1', message('m1'));
      actions(alice).set(actionKey('m1', 'alice', 'play'), action('m1', 'alice', 'play'));
    });
    const verdict = server.accept('alice', update);
    expect(verdict.messages.map((m) => m.id)).toEqual(['m1']);
    expect(verdict.actions).toEqual([action('m1', 'alice', 'play')]);
  });

  test('accepts an action on a recalled message (its sequence stamp remains)', () => {
    const { server, alice, bob } = conversationWithHistory();
    server.accept('alice', recall(alice, 'm1'));
    deliver(server, bob);
    expect(server.doc.getMap('messages').has('m1')).toBe(false);
    expect(server.accept('bob', act(bob, action('m1', 'bob', 'open'))).actions).toHaveLength(1);
  });

  test('accepts several actions of one user on one message under different names', () => {
    const { server, bob } = conversationWithHistory();
    const update = capture(bob, () => {
      actions(bob).set(actionKey('m1', 'bob', 'open'), action('m1', 'bob', 'open'));
      actions(bob).set(actionKey('m1', 'bob', 'thank'), action('m1', 'bob', 'thank'));
    });
    expect(server.accept('bob', update).actions.map((a) => a.name)).toEqual(['open', 'thank']);
  });

  test('refuses an action whose key names another user', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', act(bob, action('m1', 'bob', 'open'), actionKey('m1', 'alice', 'open'))), 'not-owner');
  });

  test('refuses an action whose value names another user', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', act(bob, action('m1', 'alice', 'open'), actionKey('m1', 'bob', 'open'))), 'not-author');
  });

  test('refuses a malformed action key', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', act(bob, action('m1', 'bob', 'open'), 'm1|bob')), 'not-owner');
    refused(server.submit('bob', act(device(server, BOB_2), action('m1', 'bob', 'open'), 'm1|bob|open|x')), 'not-owner');
  });

  test('refuses an action whose msg or name differs from its key', () => {
    const { server, alice, bob } = conversationWithHistory();
    server.accept('alice', send(alice, message('m2')));
    deliver(server, bob);
    refused(server.submit('bob', act(bob, action('m2', 'bob', 'open'), actionKey('m1', 'bob', 'open'))), 'schema-invalid');
    refused(server.submit('bob', act(device(server, BOB_2), action('m1', 'bob', 'play'), actionKey('m1', 'bob', 'open'))), 'schema-invalid');
  });

  test('refuses an action on a message this document does not hold', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', act(bob, action('m9', 'bob', 'open'))), 'message-not-found');
  });

  test('refuses a second write of an action, by overwrite or by a new item', () => {
    const { server, bob } = conversationWithHistory();
    server.accept('bob', act(bob, action('m1', 'bob', 'open')));
    // The same device overwrites its own item.
    refused(server.submit('bob', act(bob, action('m1', 'bob', 'open', { data: { n: 2 } }))), 'duplicate-action');
    // Another device, not yet in step, writes the key as new.
    const other = new Y.Doc();
    other.clientID = BOB_2;
    refused(server.submit('bob', act(other, action('m1', 'bob', 'open', { data: { n: 3 } }))), 'duplicate-action');
    expect(server.doc.getMap('actions').get(actionKey('m1', 'bob', 'open'))).toEqual(action('m1', 'bob', 'open'));
  });

  test('refuses an action written again after its writer deleted it', () => {
    const { server, bob } = conversationWithHistory();
    server.accept('bob', act(bob, action('m1', 'bob', 'open')));
    server.accept('bob', capture(bob, () => actions(bob).delete(actionKey('m1', 'bob', 'open'))));
    expect(server.doc.getMap('actions').has(actionKey('m1', 'bob', 'open'))).toBe(false);
    const fresh = device(server, BOB_2);
    refused(server.submit('bob', act(fresh, action('m1', 'bob', 'open'))), 'duplicate-action');
  });

  test('refuses one action key written twice in one update', () => {
    const { server } = conversationWithHistory();
    // Two devices of bob write the same key offline; one sync carries both.
    const a = device(server, BOB);
    const b = device(server, BOB_2);
    act(a, action('m1', 'bob', 'open', { data: 1 }));
    act(b, action('m1', 'bob', 'open', { data: 2 }));
    const both = Y.mergeUpdates([syncStep2(a, server), syncStep2(b, server)]);
    expect(refused(server.submit('bob', both), 'duplicate-action').detail).toContain('twice');
  });

  test('refuses an action whose data is over ACTION_MAX_BYTES, and takes one at the limit', () => {
    const { server, bob } = conversationWithHistory();
    const overhead = JSON.stringify('').length;
    const atLimit = 'x'.repeat(ACTION_MAX_BYTES - overhead);
    refused(server.submit('bob', act(bob, action('m1', 'bob', 'big', { data: `${atLimit}x` }))), 'action-too-long');
    expect(server.accept('bob', act(device(server, BOB_2), action('m1', 'bob', 'fits', { data: atLimit }))).actions).toHaveLength(1);
  });

  test('refuses an action that fails the schema', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', act(bob, { msg: 'm1', from: 'bob', name: 'Open!', data: 1, ts: TS }, 'm1|bob|Open!')), 'schema-invalid');
    refused(server.submit('bob', act(device(server, BOB_2), { msg: 'm1', from: 'bob', name: 'open' }, 'm1|bob|open')), 'schema-invalid');
  });

  test('refuses an overwrite of the other member\'s action', () => {
    const { server, alice, bob } = conversationWithHistory();
    server.accept('bob', act(bob, action('m1', 'bob', 'open')));
    deliver(server, alice);
    refused(server.submit('alice', act(alice, action('m1', 'alice', 'open'), actionKey('m1', 'bob', 'open'))), 'not-owner');
  });

  test('refuses actions in a prefs document', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    refused(server.submit('alice', act(alice, action('m1', 'alice', 'open'))), 'unknown-root');
  });
});

const edits = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>('edits');
const reactions = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>('reactions');

function edit(doc: Y.Doc, msg: string, n: number, text: string, from = 'alice', key = `${msg}|${n}`): Uint8Array {
  return capture(doc, () => edits(doc).set(key, { msg, from, n, text, ts: TS + 100 }));
}

function react(doc: Y.Doc, msg: string, from: string, emoji: string, key = `${msg}|${from}|${emoji}`): Uint8Array {
  return capture(doc, () => reactions(doc).set(key, { msg, from, emoji, ts: TS + 100 }));
}

describe('validateUpdate: recalls', () => {
  test("accepts the sender's recall within the window and reports it", () => {
    const { server, alice } = conversationWithHistory();
    server.now = TS + LIMITS.recallWindowMs;
    expect(server.accept('alice', recall(alice, 'm1')).recalls).toEqual([{ msg: 'm1', by: 'alice' }]);
    expect(server.doc.getMap('recalls').get('m1')).toEqual({ by: 'alice', ts: TS + 500 });
  });

  test('accepts the recall of a message the server wrote over (a backend rewrite), and no other deletion of it', () => {
    const { server, alice, bob } = conversationWithHistory();
    // The server overwrites m1 as its own client (sync/accept.ts, a rewrite by the app's backend).
    server.doc.transact(() => messages(server.doc).set('m1', message('m1', { body: [{ type: 'text', text: '****' }] })));
    deliver(server, alice);
    deliver(server, bob);
    // Not without the recall, and not by bob, whose message it is not.
    refused(server.submit('alice', capture(alice, () => messages(alice).delete('m1'))), 'not-owner');
    const bobs = device(server, BOB_2);
    refused(server.submit('bob', capture(bobs, () => messages(bobs).delete('m1'))), 'not-owner');
    const fresh = device(server, ALICE_2);
    expect(server.accept('alice', recall(fresh, 'm1')).recalls).toEqual([{ msg: 'm1', by: 'alice' }]);
    expect(messages(server.doc).has('m1')).toBe(false);
  });

  test('accepts a recall that also deletes the recalled message\'s edits', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', edit(alice, 'm1', 1, 'fixed'));
    expect(server.accept('alice', recall(alice, 'm1')).recalls).toHaveLength(1);
    expect(edits(server.doc).size).toBe(0);
  });

  test('honours a recall window given in the context', () => {
    const { server, alice } = conversationWithHistory();
    const update = recall(alice, 'm1');
    const ctx = { user: 'alice', path: CONVERSATION, doc: server.doc, now: TS + 5000 };
    refused(validateUpdate(update, { ...ctx, recallWindowMs: 1000 }), 'recall-window-passed');
    expect(validateUpdate(update, { ...ctx, recallWindowMs: 10_000 }).ok).toBe(true);
  });

  test('refuses a recall after the window with recall-window-passed', () => {
    const { server, alice } = conversationWithHistory();
    server.now = TS + LIMITS.recallWindowMs + 1;
    refused(server.submit('alice', recall(alice, 'm1')), 'recall-window-passed');
    expect(messages(server.doc).has('m1')).toBe(true);
  });

  test("refuses a recall of the other member's message with not-owner", () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', capture(bob, () => bob.getMap('recalls').set('m1', { by: 'bob', ts: TS }))), 'not-owner');
  });

  test('refuses a recall naming another user', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', recall(alice, 'm1', 'bob')), 'not-author');
  });

  test('refuses a recall of a message the server has not accepted', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', capture(alice, () => alice.getMap('recalls').set('m9', { by: 'alice', ts: TS }))), 'message-not-found');
  });

  test('refuses a second recall of one message', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', recall(alice, 'm1'));
    refused(server.submit('alice', capture(alice, () => alice.getMap('recalls').set('m1', { by: 'alice', ts: TS + 600 }))), 'message-recalled');
    const other = new Y.Doc();
    other.clientID = ALICE_2;
    refused(server.submit('alice', capture(other, () => other.getMap('recalls').set('m1', { by: 'alice', ts: TS + 700 }))), 'message-recalled');
  });

  test('refuses deleting a recall', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', recall(alice, 'm1'));
    refused(server.submit('alice', capture(alice, () => alice.getMap('recalls').delete('m1'))), 'message-recalled');
  });

  test('refuses deleting an own message without recalling it', () => {
    const { server, alice } = conversationWithHistory();
    const verdict = refused(server.submit('alice', capture(alice, () => messages(alice).delete('m1'))), 'not-owner');
    expect(verdict.detail).toContain('recall');
    expect(messages(server.doc).has('m1')).toBe(true);
  });

  test('refuses deleting an own edit of a message not recalled', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', edit(alice, 'm1', 1, 'fixed'));
    refused(server.submit('alice', capture(alice, () => edits(alice).delete('m1|1'))), 'not-owner');
  });

  test('refuses a recall marker with a malformed value', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', capture(alice, () => alice.getMap('recalls').set('m1', { by: 'alice' }))), 'schema-invalid');
  });
});

describe('validateUpdate: edits', () => {
  test("accepts the sender's edit of their text message and reports it", () => {
    const { server, alice } = conversationWithHistory();
    const verdict = server.accept('alice', edit(alice, 'm1', 1, 'hello, fixed'));
    expect(verdict.edits).toEqual([{ msg: 'm1', from: 'alice', n: 1, text: 'hello, fixed', ts: TS + 100 }]);
    expect(server.accept('alice', edit(alice, 'm1', 2, 'again')).edits.map((e) => e.n)).toEqual([2]);
  });

  test("refuses an edit of the other member's message with not-editable", () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', edit(bob, 'm1', 1, 'mine now', 'bob')), 'not-editable');
  });

  test('refuses an edit of a message that is not text with not-editable', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    server.accept('alice', send(alice, message('l1', { type: 'location', body: [{ type: 'location', caption: 'The harbour', latitude: 59.9, longitude: 10.7 }] })));
    refused(server.submit('alice', edit(alice, 'l1', 1, 'caption')), 'not-editable');
  });

  test('refuses an edit of a recalled message with message-recalled', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', recall(alice, 'm1'));
    refused(server.submit('alice', edit(alice, 'm1', 1, 'too late')), 'message-recalled');
  });

  test('refuses an edit naming another user, or whose key differs from its value', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', edit(alice, 'm1', 1, 'x', 'bob')), 'not-author');
    refused(server.submit('alice', edit(device(server, ALICE_2), 'm1', 1, 'x', 'alice', 'm1|2')), 'schema-invalid');
    refused(server.submit('alice', edit(device(server, ALICE_2), 'm1', 1, 'x', 'alice', 'm1')), 'schema-invalid');
  });

  test('refuses an edit over 12 KB with body-too-long', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', edit(alice, 'm1', 1, 'x'.repeat(LIMITS.bodyBytes))), 'body-too-long');
  });

  test('refuses an overwrite of an edit key', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', edit(alice, 'm1', 1, 'first'));
    refused(server.submit('alice', edit(alice, 'm1', 1, 'second')), 'duplicate-id');
    const other = new Y.Doc();
    other.clientID = ALICE_2;
    refused(server.submit('alice', edit(other, 'm1', 1, 'third')), 'duplicate-id');
  });

  test('refuses an edit of a message the document does not hold', () => {
    const { server, alice } = conversationWithHistory();
    refused(server.submit('alice', edit(alice, 'm9', 1, 'x')), 'message-not-found');
  });
});

describe('validateUpdate: reactions', () => {
  test("accepts a member's reaction and reports it", () => {
    const { server, bob } = conversationWithHistory();
    expect(server.accept('bob', react(bob, 'm1', 'bob', '👍')).reactions).toEqual([{ msg: 'm1', from: 'bob', emoji: '👍', ts: TS + 100 }]);
  });

  test('accepts a reaction on a message carried in the same update', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const update = capture(alice, () => {
      messages(alice).set('m1', message('m1'));
      reactions(alice).set('m1|alice|❤️', { msg: 'm1', from: 'alice', emoji: '❤️', ts: TS });
    });
    expect(server.accept('alice', update).reactions).toHaveLength(1);
  });

  test('accepts toggling off (delete) and on again (an overwrite of the own item)', () => {
    const { server, bob } = conversationWithHistory();
    server.accept('bob', react(bob, 'm1', 'bob', '👍'));
    const off = server.accept('bob', capture(bob, () => reactions(bob).delete('m1|bob|👍')));
    expect(off.reactions).toEqual([]);
    expect(reactions(server.doc).has('m1|bob|👍')).toBe(false);
    expect(server.accept('bob', react(bob, 'm1', 'bob', '👍')).reactions).toHaveLength(1);
    expect(reactions(server.doc).has('m1|bob|👍')).toBe(true);
  });

  test("refuses a reaction under the other member's key, or overwriting theirs", () => {
    const { server, alice, bob } = conversationWithHistory();
    refused(server.submit('alice', react(device(server, ALICE_2), 'm1', 'bob', '👍')), 'not-owner');
    server.accept('bob', react(bob, 'm1', 'bob', '👍'));
    deliver(server, alice);
    refused(server.submit('alice', react(alice, 'm1', 'alice', '👍', 'm1|bob|👍')), 'not-owner');
  });

  test("refuses deleting the other member's reaction", () => {
    const { server, alice, bob } = conversationWithHistory();
    server.accept('bob', react(bob, 'm1', 'bob', '👍'));
    deliver(server, alice);
    refused(server.submit('alice', capture(alice, () => reactions(alice).delete('m1|bob|👍'))), 'not-owner');
  });

  test('refuses a reaction on a recalled message, or on no message', () => {
    const { server, alice, bob } = conversationWithHistory();
    refused(server.submit('bob', react(device(server, BOB_2), 'm9', 'bob', '👍')), 'message-not-found');
    server.accept('alice', recall(alice, 'm1'));
    deliver(server, bob);
    refused(server.submit('bob', react(bob, 'm1', 'bob', '👍')), 'message-recalled');
  });

  test('refuses a reaction whose value differs from its key, or that fails the schema', () => {
    const { server, bob } = conversationWithHistory();
    refused(server.submit('bob', react(bob, 'm1', 'bob', '👍', 'm1|bob|❤️')), 'schema-invalid');
    refused(server.submit('bob', react(device(server, BOB_2), 'm1', 'bob', 'x'.repeat(LIMITS.reactionLength + 1))), 'schema-invalid');
    refused(server.submit('bob', react(device(server, BOB_2), 'm1', 'alice', '👍', 'm1|bob|👍')), 'not-author');
  });
});

describe('validateUpdate: pinned, archived and drafts prefs', () => {
  const prefs = (): { server: Server; alice: Y.Doc } => {
    const server = new Server(docPath('prefs/alice'));
    return { server, alice: device(server, ALICE) };
  };

  test('accepts the owner pinning, archiving and drafting, and deleting them', () => {
    const { server, alice } = prefs();
    server.accept('alice', capture(alice, () => alice.getMap('pinned').set('bob', { pinned: true, ts: TS })));
    server.accept('alice', capture(alice, () => alice.getMap('archived').set('bob', { archived: true, ts: TS })));
    server.accept('alice', capture(alice, () => alice.getMap('drafts').set('bob', { text: 'half a thought', reply: { id: 'm1', from: 'bob' }, ts: TS })));
    expect(server.doc.getMap('drafts').get('bob')).toMatchObject({ text: 'half a thought' });
    server.accept('alice', capture(alice, () => alice.getMap('drafts').set('bob', { text: 'the whole thought', ts: TS + 1 })));
    server.accept('alice', capture(alice, () => alice.getMap('pinned').delete('bob')));
    expect(server.doc.getMap('pinned').has('bob')).toBe(false);
  });

  test('refuses a draft over the limit with draft-too-long, and takes one at the limit', () => {
    const { server, alice } = prefs();
    refused(server.submit('alice', capture(alice, () => alice.getMap('drafts').set('bob', { text: 'x'.repeat(LIMITS.draftLength + 1), ts: TS }))), 'draft-too-long');
    const fresh = device(server, ALICE_2);
    server.accept('alice', capture(fresh, () => fresh.getMap('drafts').set('bob', { text: 'x'.repeat(LIMITS.draftLength), ts: TS })));
  });

  test("refuses writes to another user's prefs", () => {
    const { server } = prefs();
    const bob = device(server, BOB);
    refused(server.submit('bob', capture(bob, () => bob.getMap('pinned').set('carol', { pinned: true, ts: TS }))), 'not-owner');
    const bob2 = device(server, BOB_2);
    refused(server.submit('bob', capture(bob2, () => bob2.getMap('drafts').set('carol', { text: 'hi', ts: TS }))), 'not-owner');
  });

  test('refuses malformed settings and keys that are not user ids', () => {
    const { server, alice } = prefs();
    refused(server.submit('alice', capture(alice, () => alice.getMap('pinned').set('bob', { pinned: 'yes', ts: TS }))), 'schema-invalid');
    const alice2 = device(server, ALICE_2);
    refused(server.submit('alice', capture(alice2, () => alice2.getMap('archived').set('not a user!', { archived: true, ts: TS }))), 'schema-invalid');
  });
});

describe('validateUpdate: message pins (conversation `pins`)', () => {
  const pins = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>('pins');
  const pin = (doc: Y.Doc, msg: string, from: string, key = `${msg}|${from}`, over: Record<string, unknown> = {}): Uint8Array =>
    capture(doc, () => pins(doc).set(key, { msg, from, ts: TS + 100, ...over }));

  test("accepts either member's pin, an unpin (delete) and a pin again (overwrite of the own item)", () => {
    const { server, alice, bob } = conversationWithHistory();
    server.accept('bob', pin(bob, 'm1', 'bob'));
    server.accept('alice', pin(alice, 'm1', 'alice'));
    expect(pins(server.doc).get('m1|bob')).toEqual({ msg: 'm1', from: 'bob', ts: TS + 100 });
    server.accept('bob', capture(bob, () => pins(bob).delete('m1|bob')));
    expect(pins(server.doc).has('m1|bob')).toBe(false);
    server.accept('bob', pin(bob, 'm1', 'bob'));
    expect(pins(server.doc).has('m1|bob')).toBe(true);
  });

  test("refuses a pin under the other member's key, an overwrite or a deletion of theirs", () => {
    const { server, alice, bob } = conversationWithHistory();
    refused(server.submit('alice', pin(device(server, ALICE_2), 'm1', 'bob')), 'not-owner');
    server.accept('bob', pin(bob, 'm1', 'bob'));
    deliver(server, alice);
    refused(server.submit('alice', pin(alice, 'm1', 'alice', 'm1|bob')), 'not-owner');
    const alice3 = device(server, 103);
    refused(server.submit('alice', capture(alice3, () => pins(alice3).delete('m1|bob'))), 'not-owner');
  });

  test('refuses a pin of no message, of a recalled one, naming another author, or malformed', () => {
    const { server, alice, bob } = conversationWithHistory();
    refused(server.submit('bob', pin(device(server, BOB_2), 'm9', 'bob')), 'message-not-found');
    refused(server.submit('bob', pin(device(server, BOB_2), 'm1', 'alice', 'm1|bob')), 'not-author');
    refused(server.submit('bob', pin(device(server, BOB_2), 'm1', 'bob', 'm1|bob', { msg: 'm2' })), 'schema-invalid');
    refused(server.submit('bob', pin(device(server, BOB_2), 'm1', 'bob', 'm1|bob|x')), 'not-owner');
    refused(server.submit('bob', pin(device(server, BOB_2), 'm1', 'bob', 'm1|bob', { ts: TS + LIMITS.maxClockSkewMs * 10 })), 'ts-out-of-range');
    server.accept('alice', recall(alice, 'm1'));
    deliver(server, bob);
    refused(server.submit('bob', pin(bob, 'm1', 'bob')), 'message-recalled');
  });

  test('refuses pins in a prefs document', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    refused(server.submit('alice', pin(alice, 'm1', 'alice')), 'unknown-root');
  });
});

describe('validateUpdate: hidden and starred messages (prefs)', () => {
  const prefs = (): { server: Server; alice: Y.Doc } => {
    const server = new Server(docPath('prefs/alice'));
    return { server, alice: device(server, ALICE) };
  };

  test('accepts the owner hiding and starring a message, and taking it back (delete)', () => {
    const { server, alice } = prefs();
    server.accept('alice', capture(alice, () => alice.getMap('hidden').set('m1', { peer: 'bob', ts: TS })));
    server.accept('alice', capture(alice, () => alice.getMap('starred').set('m2', { peer: 'bob', ts: TS })));
    expect(server.doc.getMap('hidden').get('m1')).toEqual({ peer: 'bob', ts: TS });
    server.accept('alice', capture(alice, () => alice.getMap('starred').delete('m2')));
    expect(server.doc.getMap('starred').has('m2')).toBe(false);
  });

  test("refuses hiding or starring in another user's prefs", () => {
    const { server } = prefs();
    const bob = device(server, BOB);
    refused(server.submit('bob', capture(bob, () => bob.getMap('hidden').set('m1', { peer: 'alice', ts: TS }))), 'not-owner');
    const bob2 = device(server, BOB_2);
    refused(server.submit('bob', capture(bob2, () => bob2.getMap('starred').set('m1', { peer: 'alice', ts: TS }))), 'not-owner');
  });

  test('refuses keys that are not message ids, values without a peer, and times out of range', () => {
    const { server, alice } = prefs();
    refused(server.submit('alice', capture(alice, () => alice.getMap('hidden').set('m 1|x', { peer: 'bob', ts: TS }))), 'schema-invalid');
    const alice2 = device(server, ALICE_2);
    refused(server.submit('alice', capture(alice2, () => alice2.getMap('starred').set('m1', { ts: TS }))), 'schema-invalid');
    const alice3 = device(server, 103);
    refused(server.submit('alice', capture(alice3, () => alice3.getMap('hidden').set('m1', { peer: 'bob', ts: TS + LIMITS.maxClockSkewMs * 10 }))), 'ts-out-of-range');
  });

  test('refuses more hidden (or starred) messages than the limit with prefs-full, and takes the last one within it', () => {
    const { server, alice } = prefs();
    const full = (doc: Y.Doc, root: string, count: number): void => {
      server.accept('alice', capture(doc, () => {
        for (let i = 0; i < count; i++) doc.getMap(root).set(`${root}${i}`, { peer: 'bob', ts: TS });
      }));
    };
    full(alice, 'hidden', LIMITS.hiddenMessages - 1);
    server.accept('alice', capture(alice, () => alice.getMap('hidden').set('last', { peer: 'bob', ts: TS })));
    const alice2 = device(server, ALICE_2);
    refused(server.submit('alice', capture(alice2, () => alice2.getMap('hidden').set('over', { peer: 'bob', ts: TS }))), 'prefs-full');
    // An overwrite of a key held is no new message.
    const alice4 = device(server, 105);
    server.accept('alice', capture(alice4, () => alice4.getMap('hidden').set('last', { peer: 'bob', ts: TS + 1 })));
    full(device(server, 106), 'starred', LIMITS.starredMessages);
    const alice3 = device(server, 103);
    refused(server.submit('alice', capture(alice3, () => alice3.getMap('starred').set('over', { peer: 'bob', ts: TS }))), 'prefs-full');
  });
});

describe('validateUpdate: forwarded messages and receipt times', () => {
  test('accepts a message marked forwarded and refuses any other value of the mark', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    expect(server.accept('alice', send(alice, { ...message('m1'), forwarded: true })).messages[0]?.forwarded).toBe(true);
    refused(server.submit('alice', send(device(server, ALICE_2), { ...message('m2'), forwarded: 'yes' })), 'schema-invalid');
  });

  test("accepts a receipt with the writer's time, and refuses one whose time is out of range", () => {
    const { server, bob } = conversationWithHistory();
    server.accept('bob', capture(bob, () => receipts(bob).set('bob|delivered', { user: 'bob', seq: 1, ts: TS + 10 })));
    const bob2 = device(server, BOB_2);
    refused(server.submit('bob', capture(bob2, () => receipts(bob2).set('bob|read', { user: 'bob', seq: 1, ts: TS + LIMITS.maxClockSkewMs * 10 }))), 'ts-out-of-range');
  });
});

describe('validateUpdate: the time window', () => {
  const window = { maxSkewMs: 5 * 60_000, maxAgeMs: 30 * 24 * 3600_000 };
  /** A server whose clock reads `now`, judging with the window above. */
  function serverAt(now: number): Server & { submitIn: (user: string, update: Uint8Array) => Verdict } {
    const server = new Server();
    server.now = now;
    return Object.assign(server, { submitIn: (user: string, update: Uint8Array) => validateUpdate(update, { user, path: server.path, doc: server.doc, now, tsWindow: window }) });
  }

  test('refuses a message dated more than the allowed skew ahead of the server with ts-out-of-range', () => {
    const server = serverAt(TS - window.maxSkewMs - 1);
    refused(server.submitIn('alice', send(device(server, ALICE), message('m1'))), 'ts-out-of-range');
  });

  test('accepts a message dated exactly the allowed skew ahead', () => {
    const server = serverAt(TS - window.maxSkewMs);
    accepted(server.submitIn('alice', send(device(server, ALICE), message('m1'))));
  });

  test('refuses a message older than the allowed age with ts-out-of-range, and takes one just within it', () => {
    // March 2025 segment: a server clock past the window's end for TS.
    const late = serverAt(TS + window.maxAgeMs + 1);
    const refusal = refused(late.submitIn('alice', send(device(late, ALICE), message('m1'))), 'ts-out-of-range');
    expect(refusal.msgIds).toEqual(['m1']);
    const onTime = serverAt(TS + window.maxAgeMs);
    accepted(onTime.submitIn('alice', send(device(onTime, ALICE), message('m1'))));
  });

  test('uses the default window (5 minutes ahead, 30 days old) when none is given', () => {
    const server = new Server();
    server.now = TS - LIMITS.maxClockSkewMs - 1;
    refused(server.submit('alice', send(device(server, ALICE), message('m1'))), 'ts-out-of-range');
    expect(LIMITS.maxMessageAgeMs).toBe(30 * 24 * 3600_000);
  });

  test('refuses an edit, a reaction, an action or a recall dated in the future with ts-out-of-range', () => {
    const future = TS + 1000 + window.maxSkewMs + 60_000;
    const { server, alice, bob } = conversationWithHistory();
    const judge = (user: string, update: Uint8Array): Verdict => validateUpdate(update, { user, path: server.path, doc: server.doc, now: server.now, tsWindow: window });
    refused(judge('alice', capture(alice, () => edits(alice).set('m1|1', { msg: 'm1', from: 'alice', n: 1, text: 'x', ts: future }))), 'ts-out-of-range');
    refused(judge('bob', capture(bob, () => reactions(bob).set('m1|bob|👍', { msg: 'm1', from: 'bob', emoji: '👍', ts: future }))), 'ts-out-of-range');
    refused(judge('bob', act(device(server, BOB_2), action('m1', 'bob', 'open', { ts: future }))), 'ts-out-of-range');
    refused(judge('alice', recall(device(server, ALICE_2), 'm1', 'alice', future)), 'ts-out-of-range');
    // An edit dated now is taken.
    accepted(judge('alice', edit(device(server, ALICE_2), 'm1', 1, 'x')));
  });
});

describe('checkMessage: the sender profile avatar', () => {
  test('takes an avatar uploaded to Parley and refuses any other address with avatar-invalid', () => {
    expect(checkCode(message('m1', { profile: { nickname: 'Alice', avatar: `/api/v1/media/${'a'.repeat(64)}` } }), 'alice')).toBeNull();
    for (const avatar of ['https://tracker.example/p.png', 'data:image/png;base64,AAAA', `/api/v1/media/${'a'.repeat(63)}`, `https://x.example/api/v1/media/${'a'.repeat(64)}`]) {
      expect(checkCode(message('m1', { profile: { nickname: 'Alice', avatar } }), 'alice')).toBe('avatar-invalid');
    }
  });
});

describe('checkMessage: the sender profile nickname', () => {
  test('refuses a nickname with bidi overrides, zero-width or control characters, or nothing visible, with nickname-invalid', () => {
    expect(checkCode(message('m1', { profile: { nickname: 'Alice 👩‍💻' } }), 'alice')).toBeNull();
    for (const nickname of ['Al\u202Eecila', 'Ali\u200Bce', 'Alice\u0007', '\u200B', '   ', ' Alice']) {
      expect(checkCode(message('m1', { profile: { nickname } }), 'alice'), JSON.stringify(nickname)).toBe('nickname-invalid');
    }
  });
});

describe('validateUpdate: work linear in the update', () => {
  /** A prefs update written offline: read markers of two peers overwritten in turn, `n` times each, every write its own transaction. */
  function alternatingOverwrites(n: number): { server: Server; update: Uint8Array } {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    const read = alice.getMap('read');
    for (let i = 1; i <= n; i++) {
      read.set('bob', { seq: i });
      read.set('carol', { seq: i });
    }
    return { server, update: syncStep2(alice, server) };
  }

  test('accepts a chain of 20,000 overwrites inside one update, following each link once and without recursion', () => {
    const { server, update } = alternatingOverwrites(10_000);
    const verdict = server.accept('alice', update);
    expect(verdict.readMarkers).toEqual([
      { peer: 'bob', seq: 10_000 },
      { peer: 'carol', seq: 10_000 },
    ]);
  });

  test('accepts 20,000 overwrites alternating between two client ids (a reload between each), replaying Yjs\'s integration order once', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    const read = alice.getMap('read');
    for (let i = 1; i <= 20_000; i++) {
      // Each link depends on the other client's previous one: Yjs (and the replay) follow it through a stack, never recursing.
      alice.clientID = i % 2 === 0 ? ALICE : ALICE_2;
      read.set('bob', { seq: i });
    }
    expect(server.accept('alice', syncStep2(alice, server)).readMarkers).toEqual([{ peer: 'bob', seq: 20_000 }]);
    expect(server.doc.store.pendingStructs).toBeNull();
  });

  test('refuses an update whose overwrites point at each other in a cycle', () => {
    // Two items of one client, each naming the other as the item it overwrites: no honest encoder writes this.
    const server = new Server(docPath('prefs/alice'));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1); // one client section
    encoding.writeVarUint(encoder, 2); // two structs
    encoding.writeVarUint(encoder, ALICE);
    encoding.writeVarUint(encoder, 0); // first clock
    for (const originClock of [1, 0]) {
      encoding.writeUint8(encoder, 0x80 | 8); // an item with an origin, holding ContentAny
      encoding.writeVarUint(encoder, ALICE);
      encoding.writeVarUint(encoder, originClock);
      encoding.writeVarUint(encoder, 1);
      encoding.writeAny(encoder, { seq: 1 });
    }
    encoding.writeVarUint(encoder, 0); // no deletions
    refused(server.submit('alice', encoding.toUint8Array(encoder)), 'schema-invalid');
  });

  test('accepts a delete set that repeats one range many times, walking the range once', () => {
    const server = new Server(docPath('prefs/alice'));
    const alice = device(server, ALICE);
    const read = alice.getMap('read');
    server.accept('alice', capture(alice, () => { for (let i = 0; i < 200; i++) read.set(`u${i}`, { seq: i }); }));
    server.accept('alice', capture(alice, () => { for (let i = 0; i < 200; i++) read.delete(`u${i}`); }));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0); // no structs
    encoding.writeVarUint(encoder, 1); // deletions of one client
    encoding.writeVarUint(encoder, ALICE);
    encoding.writeVarUint(encoder, 5000);
    for (let r = 0; r < 5000; r++) {
      encoding.writeVarUint(encoder, 0);
      encoding.writeVarUint(encoder, 200);
    }
    expect(server.accept('alice', encoding.toUint8Array(encoder)).empty).toBe(true);
  });
});

describe('validateUpdate: what Yjs resolves when it applies an update (issue 13)', () => {
  /** Applies `update` to a copy of the server's document as Yjs would: whether it throws, or leaves anything pending. */
  function applyToCopy(server: Server, update: Uint8Array): string {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(server.doc));
    try {
      Y.applyUpdate(copy, update);
    } catch (e) {
      return `throws: ${String(e)}`;
    }
    if (copy.store.pendingStructs !== null) return 'pending structs';
    if (copy.store.pendingDs !== null) return 'pending deletions';
    return 'applies whole';
  }

  function bent(update: Uint8Array, bend: (model: Model, items: Y.Item[]) => void): Uint8Array {
    const model = toModel(update);
    bend(model, model.sections.flatMap((s) => s.structs.filter((x): x is Y.Item => x instanceof Y.Item)));
    return encodeModel(model);
  }

  test('refuses a new message followed by an overwrite whose right origin is a clock not reached, which Yjs half applies and then throws on', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq: 0 })));
    const update = capture(alice, () => {
      messages(alice).set('m2', message('m2'));
      receipts(alice).set('alice|read', { user: 'alice', seq: 1 });
    });
    const crafted = bent(update, (_, items) => {
      const overwrite = items.find((i) => i.origin !== null);
      if (overwrite !== undefined) overwrite.rightOrigin = Y.createID(ALICE, 99);
    });
    expect(applyToCopy(server, crafted)).toMatch(/^throws/);
    const verdict = refused(server.submit('alice', crafted), 'schema-invalid');
    expect(verdict.msgIds).toEqual(['m2']);
  });

  test('refuses a right origin on a new map entry even where it resolves: Yjs writes none, and it moves or deletes the entry', () => {
    const { server, alice } = conversationWithHistory();
    server.accept('alice', capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq: 0 })));
    const update = capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq: 1 }));
    refused(server.submit('alice', bent(update, (_, [item]) => { if (item !== undefined) item.rightOrigin = Y.createID(BOB, 0); })), 'schema-invalid');
  });

  test('refuses a held struct re-sent with a reference to a clock not reached (Yjs resolves references of the structs it skips)', () => {
    const { server, alice } = conversationWithHistory();
    const full = Y.mergeUpdates([Y.encodeStateAsUpdate(alice), capture(alice, () => messages(alice).set('m2', message('m2')))]);
    for (const ref of ['origin', 'rightOrigin'] as const) {
      for (const target of [Y.createID(ALICE, 50), Y.createID(BOB, 50), Y.createID(777, 0)]) {
        const crafted = bent(full, (_, items) => {
          const held = items.find((i) => i.parentSub === 'm1');
          if (held !== undefined) held[ref] = target;
        });
        expect(applyToCopy(server, crafted)).not.toBe('applies whole');
        refused(server.submit('alice', crafted), 'reset-required');
      }
    }
  });

  test('refuses a parent given by the id of a clock not reached, in a struct the server holds', () => {
    const { server, alice } = conversationWithHistory();
    const crafted = bent(Y.encodeStateAsUpdate(alice), (_, items) => {
      const held = items.find((i) => i.parentSub === 'm1');
      if (held !== undefined) held.parent = Y.createID(BOB, 40);
    });
    expect(applyToCopy(server, crafted)).not.toBe('applies whole');
    refused(server.submit('alice', crafted), 'reset-required');
  });

  test("refuses one client's structs in two sections, and an empty struct: Yjs keeps only the last section", () => {
    const { server, alice } = conversationWithHistory();
    const update = capture(alice, () => {
      messages(alice).set('m2', message('m2'));
      messages(alice).set('m3', message('m3'));
    });
    const split = bent(update, (model) => {
      const [section] = model.sections;
      if (section !== undefined) model.sections.push({ client: section.client, clock: section.clock + 1, structs: section.structs.splice(1) });
    });
    expect(applyToCopy(server, split)).toBe('pending structs');
    refused(server.submit('alice', split), 'schema-invalid');
    const empty = bent(update, (model, [first]) => {
      if (first !== undefined) model.sections[0]?.structs.splice(1, 0, new Y.GC(first.id, 0));
    });
    refused(server.submit('alice', empty), 'schema-invalid');
  });

  test("refuses a deletion of the sender's own clocks the server does not hold, so that the recall written there later stays", () => {
    const { server, alice } = conversationWithHistory();
    const next = Y.getState(server.doc.store, ALICE);
    const ahead = bent(capture(alice, () => receipts(alice).set('alice|delivered', { user: 'alice', seq: 1 })), (model) => {
      model.sections = [];
      model.ds = [{ client: ALICE, ranges: [{ clock: next, len: 10 }] }];
    });
    expect(applyToCopy(server, ahead)).toBe('pending deletions');
    refused(server.submit('alice', ahead), 'reset-required');
    // A fresh device at the server's state writes the recall at exactly those clocks, and it stays.
    const device = new Y.Doc();
    Y.applyUpdate(device, Y.encodeStateAsUpdate(server.doc));
    device.clientID = ALICE;
    server.accept('alice', recall(device, 'm1'));
    expect(server.doc.getMap('recalls').has('m1')).toBe(true);
  });

  test('accepts a deletion of an item the same update adds, and refuses one of a recall marker it adds', () => {
    const { server, alice } = conversationWithHistory();
    const next = Y.getState(server.doc.store, ALICE);
    const reaction = capture(alice, () => alice.getMap('reactions').set('m1|alice|+1', { msg: 'm1', from: 'alice', emoji: '+1', ts: TS }));
    const added = bent(reaction, (model) => { model.ds = [{ client: ALICE, ranges: [{ clock: next, len: 1 }] }]; });
    expect(applyToCopy(server, added)).toBe('applies whole');
    server.accept('alice', added);
    expect(server.doc.getMap('reactions').has('m1|alice|+1')).toBe(false);

    const device = new Y.Doc();
    Y.applyUpdate(device, Y.encodeStateAsUpdate(server.doc));
    device.clientID = ALICE;
    const marker = capture(device, () => device.getMap('recalls').set('m1', { by: 'alice', ts: TS + 500 }));
    const after = Y.getState(server.doc.store, ALICE);
    refused(server.submit('alice', bent(marker, (model) => { model.ds = [{ client: ALICE, ranges: [{ clock: after, len: 1 }] }]; })), 'message-recalled');
  });

  test('refuses a struct or a deletion that reaches past 2^53 clocks, where Yjs sums clocks inexactly and throws on its own delete set', () => {
    const { server, alice } = conversationWithHistory();
    // Five clocks held, so that a struct from there can end at 2^53 + 4 with a length that is still exact.
    for (let seq = 1; Y.getState(server.doc.store, ALICE) < 5; seq++) server.accept('alice', capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq })));
    const next = Y.getState(server.doc.store, ALICE);
    const update = capture(alice, () => messages(alice).set('m2', message('m2')));
    // A message "written and deleted before it was sent" of billions of clocks, ending at 2^53 + 4 (found by `npm run fuzz`):
    // 2^53 + 3 rounds to 2^53 + 4, so Yjs looks for the last clock past the struct that holds it.
    const length = 2 ** 53 + 4 - next;
    expect(Number.isSafeInteger(length)).toBe(true);
    const huge = bent(update, (_, [item]) => {
      if (item === undefined) return;
      item.content = new Y.ContentDeleted(length);
      item.length = length;
    });
    expect(applyToCopy(server, huge)).toBe('throws: Error: Unexpected case');
    refused(server.submit('alice', huge), 'schema-invalid');
    const hugeGc = bent(update, (model) => {
      const [section] = model.sections;
      if (section !== undefined) section.structs = [new Y.GC(Y.createID(ALICE, next), Number.MAX_SAFE_INTEGER)];
    });
    refused(server.submit('alice', hugeGc), 'schema-invalid');
    const hugeRange = bent(update, (model) => { model.ds = [{ client: ALICE, ranges: [{ clock: next, len: Number.MAX_SAFE_INTEGER }] }]; });
    refused(server.submit('alice', hugeRange), 'schema-invalid');
    // The largest struct whose clocks stay exact is judged like any other.
    const largest = bent(update, (_, [item]) => {
      if (item === undefined) return;
      item.content = new Y.ContentDeleted(Number.MAX_SAFE_INTEGER - next);
      item.length = Number.MAX_SAFE_INTEGER - next;
    });
    expect(applyToCopy(server, largest)).toBe('applies whole');
    server.accept('alice', largest);
  });

  test('accepts a struct the server holds in part when its rest overwrites the same key (a re-sent merged run), and refuses it under another key', () => {
    const server = new Server();
    const alice = device(server, ALICE);
    const svBefore = Y.encodeStateVector(server.doc);
    server.accept('alice', capture(alice, () => receipts(alice).set('alice|read', { user: 'alice', seq: 1 })));
    receipts(alice).set('alice|read', { user: 'alice', seq: 2 });
    receipts(alice).set('alice|read', { user: 'alice', seq: 3 });
    // Sync step 2 against the state vector from before the first receipt arrived: its first struct is held in part.
    const resent = Y.encodeStateAsUpdate(alice, svBefore);
    const [first] = toModel(resent).sections[0]?.structs ?? [];
    expect(first?.length).toBeGreaterThan(1);
    const elsewhere = bent(resent, (_, [run]) => {
      if (run === undefined) return;
      run.origin = null;
      run.parent = 'receipts' as unknown as Y.AbstractType<unknown>;
      run.parentSub = 'alice|delivered';
    });
    refused(server.submit('alice', elsewhere), 'schema-invalid');
    expect(applyToCopy(server, resent)).toBe('applies whole');
    expect(server.accept('alice', resent).receipts).toEqual([{ user: 'alice', kind: 'read', seq: 3 }]);
  });
});

describe('a text with a link preview', () => {
  const card = { url: 'https://example.com/a', title: 'A page', image: `${LINK_IMAGE_PATH}/${'a'.repeat(64)}` };
  it('takes a card whose image this server serves, and none pointing elsewhere', () => {
    expect(TextElement.safeParse({ type: 'text', text: 'https://example.com/a', preview: card }).success).toBe(true);
    for (const image of ['https://tracker.example/pixel.png', `${LINK_IMAGE_PATH}/../../uploads/x`, `/api/v1/media/${'a'.repeat(64)}`]) {
      expect(TextElement.safeParse({ type: 'text', text: 'x', preview: { ...card, image } }).success).toBe(false);
    }
    expect(TextElement.safeParse({ type: 'text', text: 'x', preview: { ...card, url: 'javascript:alert(1)' } }).success).toBe(false);
    expect(TextElement.safeParse({ type: 'text', text: 'x', preview: { ...card, title: 'x'.repeat(301) } }).success).toBe(false);
  });
});
