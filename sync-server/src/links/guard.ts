/**
 * Which links the server may fetch for a preview, so that a link cannot make
 * it a proxy into its own network (server-side request forgery): an http(s)
 * URL on the default port, with no credentials, whose host resolves to
 * public addresses only; or one of PARLEY_LINK_PREVIEW_ALLOW's origins,
 * whatever it resolves to. The name is resolved once and every address is
 * judged; the request goes to the judged address (fetch.ts), so a second
 * answer of the name's DNS (rebinding) is never asked for. Every redirect is
 * judged again.
 */
import { isIP } from 'node:net';
import { Refusal } from '../errors.ts';
import { isPublicAddress, type ResolvedAddress, type Resolver, systemResolver } from '../net/addresses.ts';

/** Where a request goes: the URL and the address that was judged. */
export interface LinkTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

const forbidden = (detail: string): Refusal => new Refusal('link-forbidden', detail);

export class LinkGuard {
  constructor(
    private readonly allow: readonly string[],
    private readonly resolve: Resolver = systemResolver,
  ) {}

  async check(link: string): Promise<LinkTarget> {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw forbidden('the link is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw forbidden('the link is not http(s)');
    if (url.username !== '' || url.password !== '') throw forbidden('the link carries credentials');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host) !== 0;
    const addresses: ResolvedAddress[] = literal ? [{ address: host, family: isIP(host) === 6 ? 6 : 4 }] : await this.lookup(host);
    const [first] = addresses;
    if (first === undefined) throw new Refusal('link-preview-unavailable', `${host} resolves to no address`);
    if (this.allow.includes(url.origin)) return { url, ...first };
    if (url.port !== '') throw forbidden('the link names a port other than the default');
    const local = addresses.find((a) => !isPublicAddress(a.address));
    if (local !== undefined) throw forbidden(`${host} resolves to ${local.address}, not a public address`);
    return { url, ...first };
  }

  private async lookup(host: string): Promise<ResolvedAddress[]> {
    try {
      return await this.resolve(host);
    } catch (error) {
      throw new Refusal('link-preview-unavailable', `${host} does not resolve (${(error as Error).message})`);
    }
  }
}
