/**
 * Which push endpoints the server may POST to, so that a subscription cannot
 * make it a proxy into its own network (server-side request forgery).
 *
 * An endpoint passes when the allow-list lets its host in and, unless it is
 * one of the list's own origins, it is https on port 443 and its host name
 * resolves to public addresses only. The name is resolved once per check and
 * every address is judged; the request then goes to the checked address (see
 * sender.ts), so a second answer from the name's DNS (rebinding) is never
 * asked for. The check runs when a device subscribes and again before every
 * push. The allow-list is PARLEY_PUSH_ALLOW, parsed with the rest of the
 * configuration (config/push-allow.ts).
 */
import { isIP } from 'node:net';
import type { PushAllowList } from '../config/push-allow.ts';
import { Refusal } from '../errors.ts';
import { isPublicAddress, type ResolvedAddress, type Resolver, systemResolver } from '../net/addresses.ts';

export { isPublicAddress, type ResolvedAddress, type Resolver, systemResolver };

/** Where a push to an endpoint goes: its URL and the address that was checked. */
export interface PushTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

const forbidden = (detail: string): Refusal => new Refusal('push-endpoint-forbidden', detail);

export class PushEndpoints {
  constructor(
    private readonly allow: PushAllowList,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /**
   * The target of a push to `endpoint`: resolved once, every address judged.
   * Throws a `push-endpoint-forbidden` Refusal saying why when the endpoint
   * may not be used; a name that does not resolve rejects with the resolver's
   * error (which may pass: the sender retries it as unreachable).
   */
  async check(endpoint: string): Promise<PushTarget> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw forbidden('the endpoint is not a URL');
    }
    if (url.username !== '' || url.password !== '') throw forbidden('the endpoint carries credentials');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host) !== 0;
    if (this.allow.origins.includes(url.origin)) {
      const [first] = literal ? [{ address: host, family: isIP(host) === 6 ? (6 as const) : (4 as const) }] : await this.resolve(host);
      if (first === undefined) throw forbidden(`${host} resolves to no address`);
      return { url, ...first };
    }
    if (url.protocol !== 'https:') throw forbidden('the endpoint is not https');
    if (url.port !== '') throw forbidden('the endpoint names a port other than 443');
    const name = host.toLowerCase().replace(/\.$/, '');
    if (!this.hostAllowed(name)) throw forbidden(`${name} is not a push service this server allows (PARLEY_PUSH_ALLOW)`);
    const addresses: ResolvedAddress[] = literal ? [{ address: host, family: isIP(host) === 6 ? 6 : 4 }] : await this.resolve(name);
    if (addresses.length === 0) throw forbidden(`${name} resolves to no address`);
    const local = addresses.find((a) => !isPublicAddress(a.address));
    if (local !== undefined) throw forbidden(`${name} resolves to ${local.address}, not a public address`);
    // Checked: the request goes to this address, never to a second answer.
    return { url, ...(addresses[0] as ResolvedAddress) };
  }

  private hostAllowed(name: string): boolean {
    return this.allow.hosts.some((entry) => entry === '*' || entry === name || (entry.startsWith('*.') && name.endsWith(entry.slice(1))));
  }
}
