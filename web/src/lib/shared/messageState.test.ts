import { describe, expect, it } from 'vitest';
import { messageState } from './messageState.ts';

const none = { peerDelivered: 0, peerRead: 0 };

describe('messageState', () => {
  it('shows a message in the outbox with no sequence as pending', () => {
    expect(messageState({ seq: null, outbox: { state: 'pending' }, ...none })).toBe('pending');
  });

  it('shows a message acked but never stamped (a silent drop) as sent, not pending', () => {
    expect(messageState({ seq: null, ...none })).toBe('sent');
  });

  it('shows a stamped message as sent until the peer receipts it', () => {
    expect(messageState({ seq: 4, outbox: { state: 'pending' }, ...none })).toBe('sent');
    expect(messageState({ seq: 4, peerDelivered: 3, peerRead: 0 })).toBe('sent');
  });

  it('shows delivered once the peer delivered receipt reaches the sequence', () => {
    expect(messageState({ seq: 4, peerDelivered: 4, peerRead: 2 })).toBe('delivered');
    expect(messageState({ seq: 4, peerDelivered: 9, peerRead: 3 })).toBe('delivered');
  });

  it('shows read once the peer read receipt reaches the sequence, whatever delivered says', () => {
    expect(messageState({ seq: 4, peerDelivered: 0, peerRead: 4 })).toBe('read');
  });

  it('shows a refused message as failed even if it carries a stale stamp', () => {
    expect(messageState({ seq: null, outbox: { state: 'failed', code: 'body-too-long' }, ...none })).toBe('failed');
    expect(messageState({ seq: 2, outbox: { state: 'failed', code: 'schema-invalid' }, peerDelivered: 5, peerRead: 5 })).toBe('failed');
  });
});
