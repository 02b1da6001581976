// The TCP end of the console-proxy benchmark (what a VNC server is to the proxy), run as its own process so that it
// shares no event loop with the proxy or the WebSocket client: on this machine's loopback, or inside an sshd host's
// network namespace (nsenter --net) for the SSH forward path.
//   node peer.mjs --host 127.0.0.1 --bytes N   → prints {"down":P,"up":P,"echo":P} once listening
//  - down: on connect, writes N bytes (back-pressured) and keeps the connection open until the other side closes (a VNC
//    server does not close either; and websockify 0.10 drops what it still holds when its target closes): remote →
//    browser, like framebuffer updates;
//  - up:   reads N bytes, then answers one byte "K": browser → remote;
//  - echo: writes back whatever it reads (TCP_NODELAY), for round trips of small frames.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const HOST = arg('host', '127.0.0.1');
const BYTES = Number(arg('bytes', String(512 << 20)));
const CHUNK = randomBytes(256 << 10);

function down(sock) {
  let left = BYTES;
  sock.on('error', () => {});
  sock.on('end', () => sock.end());
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!sock.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void sock.once('drain', pump);
    }
  };
  pump();
}

function up(sock) {
  let got = 0;
  sock.on('error', () => {});
  sock.on('data', (d) => {
    got += d.length;
    if (got >= BYTES && got - d.length < BYTES) sock.write('K');
  });
  sock.on('end', () => sock.end());
}

function echo(sock) {
  sock.setNoDelay(true);
  sock.on('error', () => {});
  sock.on('data', (d) => sock.write(d));
  sock.on('end', () => sock.end());
}

const listen = (handler) =>
  new Promise((resolve, reject) => {
    const s = createServer(handler);
    s.once('error', reject);
    s.listen(0, HOST, () => resolve(s.address().port));
  });

const ports = { down: await listen(down), up: await listen(up), echo: await listen(echo) };
process.stdout.write(`${JSON.stringify(ports)}\n`);
// Ends with its parent (stdin closes), whatever happens to the parent.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
