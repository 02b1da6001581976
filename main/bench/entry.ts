/**
 * What the benchmarks in bench/ need from the core, built as out/main/bench-entry.js (bench/*.mjs are plain Node and
 * import the built code, as the app runs it). Not loaded by the app itself.
 */
export { openDatabase, DB_FILE } from '../db/open';
export { TaskEngine } from '../tasks/engine';
export type { TaskType } from '../tasks/types';
export { EventBus } from '../events/bus';
export { createLogger } from '../log/logger';
export { upsertPage, markVanished, markUnreachable, markReachable, SyncSession } from '../inventory/sync';
export { runList, ftsQuery } from '../db/list-query';
export { SPECS } from '../inventory/specs';
export { inventorySummary } from '../inventory/summary';
export { SEED_VERSION, ORIGIN_KEY } from '../seed/seed';
export { VERSION } from '../version';
export { connectSsh, probeHostKey, SSH_CIPHERS } from '../hosts/ssh/session';
export { openCore } from '../core';
export { HeadlessPlatform } from '../platform/headless';
export { kvmAssetsIn } from '../paths';
export { schedule, forecast, releaseReservation } from '../scheduler';
export { MetricsDb } from '../monitoring/store';

// ---- console-proxy (bench/console-proxy.mjs): the console service's upgrade path around bridgeRaw ----
import { createServer as createConsoleHttpServer } from 'node:http';
import type { Duplex as ConsoleRemote } from 'node:stream';
import { WebSocketServer } from 'ws';
import { bridgeRaw, type BridgeOptions } from '../consoles/bridge';

export { bridgeRaw };

/**
 * An HTTP server on `host`:0 whose upgrades on /api/v1/consoles/<ticket> go through a WebSocketServer with the console
 * service's options (noServer, no permessage-deflate, 4 MiB max payload, subprotocol `binary`) into bridgeRaw, the
 * remote being `connect(ticket)` (in the product an SSH forwardTcp to the host's VNC port). Unlike ConsoleService
 * (upgrade, then connect, replaying early messages) the remote is opened before the upgrade: the same bytes path once
 * open, without the ticket store and host sessions around it.
 */
export async function startConsoleProxy(o: { connect: (ticket: string) => Promise<ConsoleRemote>; host?: string; bridge?: () => BridgeOptions }): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 << 20, handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false) });
  const server = createConsoleHttpServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket: ConsoleRemote, head: Buffer) => {
    const ticket = /^\/api\/v1\/consoles\/([^/?]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1];
    socket.on('error', () => socket.destroy());
    if (!ticket) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    o.connect(decodeURIComponent(ticket)).then(
      (remote) => wss.handleUpgrade(req, socket, head, (ws) => bridgeRaw(ws, remote, o.bridge?.())),
      (e: Error) => socket.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${e.message}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, o.host ?? '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
