// The provider-side VNC console of the Alibaba Cloud and Tencent Cloud fakes: what their VNC proxies
// (`wss://<region>-vncproxy.aliyun.com/…`, `wss://bjvnc.qcloud.com:26789/vnc?s=…`) do, on the fake's own port.
// DescribeInstanceVncUrl issues a one-time token (`s`), valid for `ttlMs` (15 s, as both clouds document); a WebSocket
// upgrade presenting it is relayed byte for byte (RFB in binary messages, as the clouds' noVNC pages speak it) to a
// real VNC server, e.g. QEMU's (scripts/peers/qemu-vnc.mjs). A used, expired or unknown token is refused before any
// upgrade with HTTP 403 and a plain-text reason, as a one-time URL must be.
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';

/**
 * @param {{ path: string, ttlMs?: number, target?: { host: string, port: number } | null }} o
 *   path: the URL path the proxy serves (`/websocket/` for Alibaba Cloud, `/vnc` for Tencent Cloud).
 */
export function createVncRelay(o) {
  const ttlMs = o.ttlMs ?? 15_000;
  let target = o.target ?? null;
  /** @type {Map<string, { instanceId: string, expires: number }>} */
  const tokens = new Map();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false) });
  const stats = { issued: 0, relayed: 0, refused: /** @type {string[]} */ ([]) };
  const sockets = new Set();

  const refuse = (socket, why) => {
    stats.refused.push(why);
    socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
  };

  return {
    stats,
    /** Where the VNC server behind the proxy is (null: none; upgrades are then closed with 1011). */
    setTarget(t) {
      target = t;
    },
    /** A one-time URL for the instance, on the fake's `base` (ws://127.0.0.1:PORT). */
    issue(base, instanceId) {
      const s = randomBytes(24).toString('hex');
      tokens.set(s, { instanceId, expires: Date.now() + ttlMs });
      stats.issued++;
      return `${base}${o.path}?s=${s}`;
    },
    /** Takes an HTTP upgrade on the fake's server; false when the path is not the proxy's. */
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (url.pathname !== o.path) return false;
      const s = url.searchParams.get('s') ?? '';
      const t = tokens.get(s);
      if (!t) return refuse(socket, 'the VNC URL is unknown or was already used'), true;
      tokens.delete(s);
      if (Date.now() > t.expires) return refuse(socket, 'the VNC URL has expired'), true;
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        if (!target) return ws.close(1011, 'no VNC server behind this fake');
        stats.relayed++;
        const tcp = connect(target);
        sockets.add(tcp);
        tcp.on('close', () => sockets.delete(tcp));
        tcp.on('data', (d) => ws.readyState === ws.OPEN && ws.send(d, { binary: true }));
        tcp.on('error', () => ws.close(1011, 'the VNC server failed'));
        tcp.on('close', () => ws.readyState === ws.OPEN && ws.close(1000, 'the VNC server closed'));
        ws.on('message', (d) => tcp.write(/** @type {Buffer} */ (d)));
        ws.on('close', () => tcp.destroy());
      });
      return true;
    },
    close() {
      for (const x of sockets) {
        if ('terminate' in x) x.terminate();
        else x.destroy();
      }
      wss.close();
    },
  };
}
