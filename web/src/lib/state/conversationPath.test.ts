import { describe, expect, test } from 'vitest';
import { conversationHref, messageHref } from '../shared/routes.ts';
import { parseConversationPath } from './conversationPath.ts';

describe('parseConversationPath', () => {
  test('a conversation gives its peer and no message', () => {
    expect(parseConversationPath(conversationHref('bob'))).toEqual({ peer: 'bob', messageId: null });
    expect(parseConversationPath('/c/bob/')).toEqual({ peer: 'bob', messageId: null });
  });

  test('a message link gives the peer and the message, both unescaped', () => {
    expect(parseConversationPath(messageHref('bob@example.com', 'm/1 x'))).toEqual({ peer: 'bob@example.com', messageId: 'm/1 x' });
  });

  test('other paths and malformed escapes are not conversations', () => {
    expect(parseConversationPath('/')).toBeNull();
    expect(parseConversationPath('/contacts')).toBeNull();
    expect(parseConversationPath('/c/')).toBeNull();
    expect(parseConversationPath('/c/bob/m/')).toBeNull();
    expect(parseConversationPath('/c/bob/x/1')).toBeNull();
    expect(parseConversationPath('/c/%E0%A4%A')).toBeNull();
  });
});
