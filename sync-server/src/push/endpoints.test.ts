import { describe, expect, it } from 'vitest';
import { parsePushAllow } from '../config/push-allow.ts';
import { isPublicAddress, PushEndpoints, type ResolvedAddress, type Resolver } from './endpoints.ts';

/** A resolver that answers from a table, and counts its calls. */
function table(answers: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const addresses = answers[hostname];
    if (addresses === undefined) return Promise.reject(new Error(`getaddrinfo ENOTFOUND ${hostname}`));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(resolve, { calls });
}

const refusal = async (endpoints: PushEndpoints, endpoint: string): Promise<string | null> => {
  try {
    await endpoints.check(endpoint);
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
};

const PUBLIC = { 'fcm.googleapis.com': ['142.250.74.74', '2a00:1450:4007:80e::200a'], 'updates.push.services.mozilla.com': ['34.107.221.82'] };

describe('push endpoints', () => {
  it('judges addresses: loopback, private, link-local, CGNAT, multicast, unique-local, mapped and special-purpose ones are not public', () => {
    for (const address of ['142.250.74.74', '34.107.221.82', '1.1.1.1', '2a00:1450:4007:80e::200a', '::ffff:142.250.74.74', '::ffff:8efa:4a4a', '64:ff9b::8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    for (const address of [
      '127.0.0.1',
      '127.5.6.7',
      '0.0.0.0',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.254',
      '224.0.0.251',
      '239.255.255.250',
      '255.255.255.255',
      '240.0.0.1',
      '192.0.2.1',
      '198.18.0.1',
      '198.51.100.7',
      '203.0.113.9',
      '192.0.0.8',
      '::',
      '::1',
      'fe80::1',
      'fe80::1%eth0',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      'ff05::2',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '0:0:0:0:0:ffff:c0a8:0101',
      '64:ff9b::127.0.0.1',
      '::127.0.0.1',
      '2001:db8::1',
      '2001::1',
      '2002:7f00:1::1',
      '100::1',
      'fec0::1',
      'not an address',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('allows by default the browsers\' push services, https on 443 at public addresses', async () => {
    const endpoints = new PushEndpoints(parsePushAllow(undefined), table(PUBLIC));
    expect(await endpoints.check('https://fcm.googleapis.com/fcm/send/abc')).toMatchObject({ address: '142.250.74.74', family: 4 });
    expect(await refusal(endpoints, 'https://updates.push.services.mozilla.com/wpush/v2/x')).toBeNull();
    expect(await refusal(endpoints, 'https://fcm.googleapis.com:443/fcm/send/abc')).toBeNull();
    // Not a push service: refused before any lookup.
    const resolver = table(PUBLIC);
    expect(await refusal(new PushEndpoints(parsePushAllow(undefined), resolver), 'https://attacker.example/x')).toBe('push-endpoint-forbidden');
    expect(await refusal(new PushEndpoints(parsePushAllow(undefined), resolver), 'https://push.services.mozilla.com.attacker.example/x')).toBe('push-endpoint-forbidden');
    expect(resolver.calls).toEqual([]);
  });

  it('refuses http, a port, credentials, and hosts that are or resolve to local addresses, with any host allowed', async () => {
    const endpoints = new PushEndpoints(parsePushAllow('*'), table({ ...PUBLIC, localhost: ['127.0.0.1', '::1'], 'sneaky.example': ['142.250.74.74', '10.0.0.7'], 'metadata.example': ['169.254.169.254'] }));
    for (const endpoint of [
      'http://fcm.googleapis.com/fcm/send/abc',
      'https://fcm.googleapis.com:8443/fcm/send/abc',
      'https://user:pw@fcm.googleapis.com/fcm/send/abc',
      'https://127.0.0.1/x',
      'https://2130706433/x',
      'https://10.1.2.3/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[fd00::1]/x',
      'https://100.64.1.2/x',
      'https://localhost/x',
      'https://sneaky.example/x',
      'https://metadata.example/x',
      'ftp://fcm.googleapis.com/x',
      'nonsense',
    ]) {
      expect(await refusal(endpoints, endpoint), endpoint).toBe('push-endpoint-forbidden');
    }
    expect(await refusal(endpoints, 'https://fcm.googleapis.com/fcm/send/abc')).toBeNull();
  });

  it('allows a listed origin exactly, even a local one, and nothing else at that host', async () => {
    const endpoints = new PushEndpoints(parsePushAllow('default,http://127.0.0.1:43210'), table(PUBLIC));
    expect(await endpoints.check('http://127.0.0.1:43210/push/x')).toMatchObject({ address: '127.0.0.1', family: 4 });
    expect(await refusal(endpoints, 'http://127.0.0.1:43211/push/x')).toBe('push-endpoint-forbidden');
    expect(await refusal(endpoints, 'https://127.0.0.1:43210/push/x')).toBe('push-endpoint-forbidden');
    expect(await refusal(endpoints, 'http://localhost:43210/push/x')).toBe('push-endpoint-forbidden');
    expect(await refusal(endpoints, 'https://fcm.googleapis.com/fcm/send/abc')).toBeNull();
  });

  it('narrows to the listed hosts: an exact name, or the names under a *.domain', async () => {
    const endpoints = new PushEndpoints(parsePushAllow('push.example.org, *.notify.windows.com'), table({ 'push.example.org': ['1.1.1.1'], 'wns2-par02p.notify.windows.com': ['20.1.2.3'], 'notify.windows.com': ['20.1.2.4'] }));
    expect(await refusal(endpoints, 'https://push.example.org/x')).toBeNull();
    expect(await refusal(endpoints, 'https://wns2-par02p.notify.windows.com/w/?token=x')).toBeNull();
    expect(await refusal(endpoints, 'https://notify.windows.com/w/')).toBe('push-endpoint-forbidden');
    expect(await refusal(endpoints, 'https://fcm.googleapis.com/fcm/send/abc')).toBe('push-endpoint-forbidden');
  });

  it('reads the setting, and refuses an entry it cannot', () => {
    expect(parsePushAllow('').hosts).toContain('fcm.googleapis.com');
    expect(parsePushAllow('http://127.0.0.1:43210')).toEqual({ hosts: [], origins: ['http://127.0.0.1:43210'] });
    expect(parsePushAllow('https://Push.Example.org/')).toEqual({ hosts: [], origins: ['https://push.example.org'] });
    for (const bad of ['http://127.0.0.1:43210/push', 'ftp://push.example', 'https://u:p@push.example', 'push.example/x', '*.', 'push .example']) {
      expect(() => parsePushAllow(bad), bad).toThrow(bad);
    }
  });
});
