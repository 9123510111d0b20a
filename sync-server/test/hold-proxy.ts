/**
 * A TCP proxy between one process of a test cluster and Redis that can hold
 * back a SUBSCRIBE: once a chunk the process sends names the channel asked
 * for, that connection's bytes to Redis wait until `release`. Redis then
 * confirms the subscription only when the test lets it, a slow Redis made to
 * order; everything else passes at once.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Chunks held back, in order (null: passing). */
  held: Buffer[] | null;
}

export class HoldProxy {
  private readonly links = new Set<Link>();
  private marker: string | null = null;
  private onHeld: (() => void) | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Listens on 127.0.0.1 (port 0) in front of the Redis at `redisUrl`. */
  static async start(redisUrl: string): Promise<HoldProxy> {
    const target = new URL(redisUrl);
    // The server's handler needs the proxy, which needs the server's port.
    const made: { proxy?: HoldProxy } = {};
    const server = createServer((client) => made.proxy?.link(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const url = new URL(redisUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    made.proxy = new HoldProxy(server, url.toString());
    return made.proxy;
  }

  /** Holds the next SUBSCRIBE naming `channel`, and what its connection sends after it; resolves once it is held. */
  hold(channel: string): Promise<void> {
    this.marker = channel;
    return new Promise((resolve) => (this.onHeld = resolve));
  }

  /** Lets what was held through, in order. */
  release(): void {
    this.marker = null;
    for (const link of this.links) {
      const held = link.held;
      link.held = null;
      for (const chunk of held ?? []) link.upstream.write(chunk);
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }

  private link(client: Socket, target: URL): void {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    const link: Link = { client, upstream, held: null };
    this.links.add(link);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (link.held === null && this.marker !== null && chunk.includes(this.marker) && chunk.toString('latin1').toLowerCase().includes('subscribe')) {
        link.held = [];
        this.onHeld?.();
        this.onHeld = null;
      }
      if (link.held !== null) link.held.push(chunk);
      else upstream.write(chunk);
    });
    const end = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}
