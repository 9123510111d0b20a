/**
 * The card of a link being written (GET /api/v1/link-previews): the server
 * fetches the page, so neither this device nor the reader's contacts the
 * site. Asked once per link while the app runs; none when offline or
 * refused (the message goes without a card).
 */
import { LinkPreview } from '@parley/protocol';
import { api } from '../shared/api.ts';
import { connection } from '../state/connection.svelte.ts';
import { session } from '../state/session.svelte.ts';

const asked = new Map<string, Promise<LinkPreview | null>>();

export function linkPreviewOf(url: string): Promise<LinkPreview | null> {
  const token = session.current?.accessToken;
  if (token === undefined || !connection.online) return Promise.resolve(null);
  let answer = asked.get(url);
  if (answer === undefined) {
    answer = api('GET', `/link-previews?url=${encodeURIComponent(url)}`, { token, schema: LinkPreview }).catch(() => null);
    asked.set(url, answer);
    // A refusal (offline meanwhile, rate-limited) may go another time.
    void answer.then((card) => card === null && asked.delete(url));
  }
  return answer;
}
