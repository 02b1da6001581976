// A minimal QMP client for the QEMU test peers (guest-image.mjs, qemu-vnc.mjs): connects to a QMP Unix socket, takes
// the greeting, negotiates capabilities, and sends commands one at a time (asynchronous events are skipped).
import { connect } from 'node:net';

/**
 * @param {string} path the `-qmp unix:PATH,server=on,wait=off` socket
 * @returns {Promise<{ cmd: (execute: string, args?: object) => Promise<any>, close: () => void }>}
 */
export async function qmpConnect(path) {
  const sock = connect(path);
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.setEncoding('utf8');
  let buf = '';
  /** @type {Array<(msg: any) => void>} */
  const waiting = [];
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if ('QMP' in msg || 'return' in msg || 'error' in msg) waiting.shift()?.(msg);
    }
  });
  sock.on('error', () => {});
  const next = () => new Promise((resolve) => waiting.push(resolve));
  await next(); // greeting
  /** @param {string} execute @param {object} [args] */
  const cmd = async (execute, args) => {
    const reply = next();
    sock.write(`${JSON.stringify({ execute, ...(args ? { arguments: args } : {}) })}\n`);
    const r = /** @type {any} */ (await reply);
    if (r.error) throw new Error(`QMP ${execute}: ${r.error.desc}`);
    return r.return;
  };
  await cmd('qmp_capabilities');
  return { cmd, close: () => sock.destroy() };
}
