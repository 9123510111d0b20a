/**
 * The hosted service's published UserSig (version 2), as an app backend signs
 * it: written here apart from the server's own (src/compat/usersig.ts),
 * so the tests check the server against the algorithm, not against itself.
 */
import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export function hostedUserSig(o: { sdkAppId: number; secretKey: string; identifier: string; expire?: number; time?: number }): string {
  const expire = o.expire ?? 86400;
  const time = o.time ?? Math.floor(Date.now() / 1000);
  const content = `TLS.identifier:${o.identifier}\nTLS.sdkappid:${o.sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  const sig = createHmac('sha256', o.secretKey).update(content).digest('base64');
  const doc = { 'TLS.ver': '2.0', 'TLS.identifier': o.identifier, 'TLS.sdkappid': o.sdkAppId, 'TLS.expire': expire, 'TLS.time': time, 'TLS.sig': sig };
  return deflateSync(JSON.stringify(doc)).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}
