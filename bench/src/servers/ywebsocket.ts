/**
 * The floor of protocol cost: the bare y-websocket server of
 * @y/websocket-server 0.1.1 (Yjs 13), exactly as its own bin wires it, but on
 * 127.0.0.1 port 0 and with the document name taken after `/sync/`. No auth,
 * no validation, no persistence.
 */
import { createServer } from 'node:http';
import { setupWSConnection } from '@y/websocket-server/utils';
import { WebSocketServer } from 'ws';

const PREFIX = '/sync/';
const wss = new WebSocketServer({ noServer: true });
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.end('okay');
});

server.on('upgrade', (request, socket, head) => {
  const path = (request.url ?? '/').split('?')[0] ?? '';
  if (!path.startsWith(PREFIX)) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(request, socket, head, (ws) => {
    setupWSConnection(ws, request, { docName: decodeURIComponent(path.slice(PREFIX.length)) });
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
});

const stop = (): void => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
