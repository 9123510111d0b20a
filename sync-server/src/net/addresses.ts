/**
 * Which addresses are the public internet, and resolving a host name to all
 * of its: what keeps the server's outgoing requests (Web Push, link
 * previews) out of its own network (server-side request forgery). Each
 * caller resolves a name once, judges every address, and then connects to
 * the address it judged, never to a second answer of the name's DNS.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** An address a name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (rejects when it has none). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS), every address in its order. */
export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/**
 * IPv4 ranges that are not the public internet (IANA's special-purpose
 * registry): this network, private, CGNAT, loopback, link-local (the cloud
 * metadata service lives there), protocol assignments, documentation, the
 * 6to4 relay, benchmarking, multicast, reserved and broadcast.
 */
const V4_NOT_PUBLIC: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const v4NotPublic = new BlockList();
for (const [net, prefix] of V4_NOT_PUBLIC) v4NotPublic.addSubnet(net, prefix, 'ipv4');

/** Public IPv6 is global unicast (2000::/3) minus these: protocol assignments (Teredo among them), documentation, 6to4. */
const v6GlobalUnicast = new BlockList();
v6GlobalUnicast.addSubnet('2000::', 3, 'ipv6');
const v6NotPublic = new BlockList();
for (const [net, prefix] of [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
] as const)
  v6NotPublic.addSubnet(net, prefix, 'ipv6');

/** The 16 bytes of an IPv6 address (a zone `%eth0` is dropped), or null if it is not one. */
function v6Bytes(address: string): number[] | null {
  let text = address.replace(/%.*$/, '');
  if (isIP(text) !== 6) return null;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * Whether an address is on the public internet. An IPv4-mapped (::ffff:0:0/96)
 * or NAT64 (64:ff9b::/96) IPv6 address is judged by the IPv4 address it holds.
 */
export function isPublicAddress(address: string): boolean {
  if (isIP(address) === 4) return !v4NotPublic.check(address, 'ipv4');
  const bytes = v6Bytes(address);
  if (bytes === null) return false;
  const prefix96 = bytes.slice(0, 12).join(',');
  if (prefix96 === '0,0,0,0,0,0,0,0,0,0,255,255' || prefix96 === '0,100,255,155,0,0,0,0,0,0,0,0') {
    return isPublicAddress(bytes.slice(12).join('.'));
  }
  const text = address.replace(/%.*$/, '');
  return v6GlobalUnicast.check(text, 'ipv6') && !v6NotPublic.check(text, 'ipv6');
}

