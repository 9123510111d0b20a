/**
 * One call to the app backend's callback URL, as the hosted service makes it:
 * `POST <url>?SdkAppid=…&CallbackCommand=…&contenttype=json&ClientIP=…&OptPlatform=RESTAPI`
 * with, when a token is set, `RequestTime` (unix s) and `Sign` = hex SHA-256
 * of token + RequestTime, so the backend knows the call is this server's.
 *
 * The URL is judged by the push endpoints' rule (push/endpoints.ts), so that
 * no setting or DNS answer makes the server POST into its own network: https
 * on 443 at public addresses only, unless PARLEY_CALLBACK_ALLOW lists its
 * origin. The request goes to the judged address. The answer is read up to
 * 64 KiB and parsed as JSON when it is.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { CallbackConfig } from '../config.ts';
import { PushEndpoints, type Resolver, systemResolver } from '../push/endpoints.ts';

/** The most of an answer read; a callback's answer is a few fields. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface CallbackAnswer {
  status: number;
  /** The parsed JSON body, or null when it was none. */
  json: unknown;
}

export class CallbackCaller {
  private readonly guard: PushEndpoints;

  constructor(
    private readonly config: Pick<CallbackConfig, 'url' | 'allow' | 'token'>,
    private readonly sdkAppId: number,
    resolve: Resolver = systemResolver,
  ) {
    // Any public host on https:443; listed origins as they are (a test's receiver, an intranet backend).
    this.guard = new PushEndpoints({ hosts: ['*'], origins: config.allow }, resolve);
  }

  /** The URL of one call: the configured one with the hosted service's query parameters. */
  urlFor(command: string, now = Date.now()): string {
    const url = new URL(this.config.url);
    url.searchParams.set('SdkAppid', String(this.sdkAppId));
    url.searchParams.set('CallbackCommand', command);
    url.searchParams.set('contenttype', 'json');
    url.searchParams.set('ClientIP', '');
    url.searchParams.set('OptPlatform', 'RESTAPI');
    if (this.config.token !== null) {
      const time = String(Math.floor(now / 1000));
      url.searchParams.set('RequestTime', time);
      url.searchParams.set('Sign', createHash('sha256').update(this.config.token + time).digest('hex'));
    }
    return url.toString();
  }

  /**
   * POSTs `payload` for `command`; rejects on a refused URL (a Refusal,
   * push-endpoint-forbidden), no answer by `signal`, or a network error.
   */
  async call(command: string, payload: unknown, signal: AbortSignal): Promise<CallbackAnswer> {
    const target = await this.guard.check(this.urlFor(command));
    const body = Buffer.from(JSON.stringify(payload));
    const { url } = target;
    const secure = url.protocol === 'https:';
    const name = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const options: https.RequestOptions = {
        host: target.address,
        family: target.family,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        ...(isIP(name) === 0 ? { servername: name } : {}),
        method: 'POST',
        headers: { host: url.host, 'content-type': 'application/json; charset=utf-8', 'content-length': body.length },
        signal,
        agent: false,
      };
      const answered = (response: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          let json: unknown = null;
          try {
            json = size > 0 && size <= MAX_ANSWER_BYTES ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
          } catch {
            json = null;
          }
          resolve({ status: response.statusCode ?? 0, json });
        });
      };
      const request = secure ? https.request(options, answered) : http.request(options, answered);
      request.on('error', reject);
      request.end(body);
    });
  }
}
