import { describe, expect, test } from 'vitest';
import { decide, PERMISSION_CELLS } from './permissions.ts';

const base = { messaging: 'friends', blocklistMode: 'reject', senderHasRecipient: true, recipientHasSender: true, blocked: false, asAdmin: false } as const;

describe('decide', () => {
  test('refuses a message from a blocked sender, or drops it silently in silent mode', () => {
    expect(decide({ ...base, blocked: true })).toBe('blocked');
    expect(decide({ ...base, blocked: true, blocklistMode: 'silent' })).toBe('silent-drop');
  });

  test('says which side lacks whom in friends mode', () => {
    expect(decide({ ...base, senderHasRecipient: false, recipientHasSender: false })).toBe('not-friends');
    expect(decide({ ...base, recipientHasSender: false })).toBe('not-in-recipient-friends');
    expect(decide({ ...base, senderHasRecipient: false })).toBe('not-in-sender-friends');
    expect(decide(base)).toBe('ok');
  });

  test('lets strangers message in open mode and admins always', () => {
    expect(decide({ ...base, messaging: 'open', senderHasRecipient: false, recipientHasSender: false })).toBe('ok');
    expect(decide({ ...base, blocked: true, asAdmin: true, senderHasRecipient: false })).toBe('ok');
  });

  test('the table covers 32 cells', () => {
    expect(PERMISSION_CELLS).toHaveLength(32);
  });

});
