// Skydeck's console proxy for the console-proxy benchmark, as its own process (websockify, its peer, is one too):
// the built core's startConsoleProxy (main/bench/entry.ts: HTTP upgrade on /api/v1/consoles/<ticket> →
// WebSocketServer, subprotocol `binary` → bridgeRaw). The ticket names the remote, so one proxy serves every test:
//   direct:HOST:PORT  net.connect (TCP_NODELAY, as websockify does): the same path as websockify;
//   ssh:HOST:PORT     forwardTcp(HOST, PORT) on one SSH session to an sshd host (connectSsh, opened at start and
//                     kept, as the product keeps a host's session): the product path.
//   node proxy.mjs ENTRY_JS CONFIG_JSON   (CONFIG: { ssh?: { address, port, username, privateKeyPath, hostKeyFingerprint } })
// Prints {"port":P} once listening; exits when its stdin closes.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';

const [entryPath, configJson] = process.argv.slice(2);
const e = await import(pathToFileURL(entryPath).href);
const config = JSON.parse(configJson ?? '{}');

let session = null;
if (config.ssh) {
  const s = config.ssh;
  session = await e.connectSsh({ address: s.address, port: s.port, username: s.username, auth: { method: 'key', privateKey: readFileSync(s.privateKeyPath, 'utf8') }, hostKeyFingerprint: s.hostKeyFingerprint });
}

function direct(host, port) {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, noDelay: true });
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

const proxy = await e.startConsoleProxy({
  connect: async (ticket) => {
    const m = /^(direct|ssh):([^:]+):(\d+)$/.exec(ticket);
    if (!m) throw new Error(`unknown ticket ${ticket}`);
    const [, via, host, port] = m;
    if (via === 'direct') return direct(host, Number(port));
    if (!session) throw new Error('no SSH session');
    return session.forwardTcp(host, Number(port));
  },
});
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
const quit = () => {
  session?.close();
  void proxy.close().finally(() => process.exit(0));
};
process.stdin.resume();
process.stdin.on('end', quit);
process.stdin.on('error', quit);
