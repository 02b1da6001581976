import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConsoleGateway } from '../core-types';

/**
 * The desktop app's console listener: a loopback HTTP server that only takes WebSocket upgrades for console tickets
 * (the renderer talks to the core over IPC, but noVNC and xterm.js want a WebSocket). Refuses other hosts' names
 * (DNS rebinding) and pages of other origins.
 */
export async function startConsoleListener(gateway: ConsoleGateway, o: { allowedOrigins: string[]; port?: number }): Promise<{ origin: string; port: number; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Console WebSockets only.\n');
  });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost') return refuse('403 Forbidden');
    const origin = req.headers.origin;
    if (origin && !o.allowedOrigins.includes(origin)) return refuse('403 Forbidden');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith('/api/v1/consoles/')) return refuse('404 Not Found');
    gateway.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `ws://127.0.0.1:${port}`;
  gateway.setOrigin(origin);
  return {
    origin,
    port,
    async close() {
      gateway.setOrigin(null);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
