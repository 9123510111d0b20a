/**
 * The Hocuspocus 3 peer: @hocuspocus/server with @hocuspocus/extension-sqlite
 * (documents stored as whole-state blobs, debounced: its default 2 s / 10 s),
 * and an onAuthenticate hook that checks the same access tokens Parley checks
 * and that the user is a member of the conversation, so both pay for auth.
 */
import { join } from 'node:path';
import { Server } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';
import { parseDocPath, mayRead } from '@parley/protocol';
import { readJwtSecret, verifyAccessToken } from '../tokens.ts';

const dataDir = process.env.BENCH_DATA_DIR;
if (dataDir === undefined) throw new Error('BENCH_DATA_DIR is required');
const key = readJwtSecret(dataDir);

const server = new Server({
  port: 0,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: false,
  extensions: [new SQLite({ database: join(dataDir, 'hocuspocus.sqlite') })],
  async onAuthenticate({ token, documentName }) {
    const user = await verifyAccessToken(key, token);
    const doc = parseDocPath(documentName);
    if (user === null || doc === null || !mayRead(doc, user)) throw new Error('forbidden');
    return { user };
  },
});

await server.listen();
process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address.port })}\n`);

const stop = (): void => {
  server.destroy().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
