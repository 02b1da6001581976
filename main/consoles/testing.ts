import { WebSocket } from 'ws';
import { TERMINAL_SUBPROTOCOL, type TerminalServerMessage } from '@shared/contract/consoles';
import { ByteReader } from './rfb';

/** Test clients of the console WebSockets: an RFB client up to ServerInit and a skydeck.terminal.v1 client. */

export function openWs(url: string, protocol: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [protocol]);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: 1006, reason: '' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

export interface RfbServerInit {
  version: string;
  securityTypes: number[];
  width: number;
  height: number;
  name: string;
  /** The rest of the server's stream (framebuffer updates after ServerInit). */
  reader: ByteReader;
}

/**
 * Speaks RFB 3.8 over a console WebSocket up to ServerInit. `password` answers VNC authentication when offered
 * (with the DES of des.ts: the test then only proves the proxy path, not DES — des.test.ts proves DES).
 */
export async function rfbHandshake(ws: WebSocket, o: { respond?: (challenge: Buffer) => Buffer } = {}): Promise<RfbServerInit> {
  const r = new ByteReader();
  ws.on('message', (d: Buffer) => r.push(Buffer.from(d)));
  ws.once('close', (code, reason) => r.fail(new Error(`closed ${code} ${reason.toString()}`)));
  const version = (await r.read(12)).toString('latin1');
  ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
  const n = await r.u8();
  if (n === 0) throw new Error(`refused: ${(await r.read(await r.u32())).toString()}`);
  const securityTypes = [...(await r.read(n))];
  if (securityTypes.includes(1)) {
    ws.send(Buffer.from([1]));
  } else if (securityTypes.includes(2) && o.respond) {
    ws.send(Buffer.from([2]));
    ws.send(o.respond(await r.read(16)));
  } else {
    return { version, securityTypes, width: 0, height: 0, name: '', reader: r };
  }
  const result = await r.u32();
  if (result !== 0) throw new Error(`security result ${result}: ${(await r.read(await r.u32())).toString()}`);
  ws.send(Buffer.from([1])); // ClientInit: shared
  const init = await r.read(24);
  const name = (await r.read(init.readUInt32BE(20))).toString('utf8');
  return { version, securityTypes, width: init.readUInt16BE(0), height: init.readUInt16BE(2), name, reader: r };
}

/** A skydeck.terminal.v1 client that collects output and acknowledges it (or not, to test back-pressure). */
export class TerminalClient {
  output = Buffer.alloc(0);
  received = 0;
  acked = 0;
  maxUnacked = 0;
  messages: TerminalServerMessage[] = [];
  autoAck = true;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket, private readonly keep = 1 << 20) {
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) {
        this.received += d.length;
        this.maxUnacked = Math.max(this.maxUnacked, this.received - this.acked);
        this.output = Buffer.concat([this.output, d]);
        if (this.output.length > this.keep) this.output = this.output.subarray(this.output.length - this.keep);
        if (this.autoAck) this.ack();
      } else {
        this.messages.push(JSON.parse(d.toString()) as TerminalServerMessage);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string): Promise<TerminalClient> {
    return new TerminalClient(await openWs(url, TERMINAL_SUBPROTOCOL));
  }

  ack(): void {
    const n = this.received - this.acked;
    if (n > 0 && this.ws.readyState === this.ws.OPEN) {
      this.ws.send(JSON.stringify({ t: 'ack', bytes: n }));
      this.acked = this.received;
    }
  }

  type(s: string): void {
    this.ws.send(Buffer.from(s), { binary: true });
  }

  text(): string {
    return this.output.toString('utf8');
  }

  /** Waits until the output (or a message) satisfies `test`. */
  async waitFor(what: string, test: (c: this) => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!test(this)) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; output tail: ${JSON.stringify(this.text().slice(-300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
