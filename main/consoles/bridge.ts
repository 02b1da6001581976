import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { CONSOLE_CLOSE, TERMINAL_WINDOW_BYTES, terminalClientMessage, type TerminalServerMessage } from '@shared/contract/consoles';

/**
 * The two ways a console WebSocket is joined to its remote stream. Both keep memory bounded in both directions:
 *  - towards the browser: a raw stream pauses while the socket holds more than HIGH_WATER unsent bytes (RFB), and a
 *    terminal pauses while more than its window of output is unacknowledged by xterm.js;
 *  - towards the remote: the WebSocket's TCP socket is paused while the remote stream refuses more (write() false) and
 *    resumed on its 'drain'.
 */

/** Unsent bytes on the WebSocket above which the remote stream is paused (RFB); resumed below LOW_WATER. */
export const HIGH_WATER = 4 << 20;
export const LOW_WATER = 1 << 20;

export interface BridgeStats {
  /** Browser → remote. */
  bytesIn: number;
  /** Remote → browser. */
  bytesOut: number;
}

export interface BridgeOptions {
  stats?: BridgeStats;
  /** Called once when either side ends; `why` is what the browser was told. */
  onClose?: (why: { code: number; reason: string }) => void;
  /** WebSocket ping interval (keeps NATs and idle proxies from dropping a quiet console). Default 20 s. */
  pingMs?: number;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
export function closeReason(s: string): string {
  const b = Buffer.from(s);
  if (b.length <= 123) return s;
  let cut = 120;
  while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--;
  return b.subarray(0, cut).toString() + '…';
}

/** Flow control of browser → remote: pause reading the WebSocket while the remote stream is full. */
function inbound(ws: WebSocket, remote: Duplex, stats: BridgeStats, write: (b: Buffer) => boolean): void {
  const sock = (ws as unknown as { _socket?: { pause(): void; resume(): void } })._socket;
  let waiting = false;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) return;
    const b = toBuffer(data);
    stats.bytesIn += b.length;
    if (!write(b) && !waiting && sock) {
      waiting = true;
      sock.pause();
      remote.once('drain', () => {
        waiting = false;
        sock.resume();
      });
    }
  });
}

function lifecycle(ws: WebSocket, remote: Duplex, o: BridgeOptions): (code: number, reason: string) => void {
  let closed = false;
  const ping = setInterval(() => {
    if (ws.readyState === ws.OPEN) ws.ping();
  }, o.pingMs ?? 20_000);
  ping.unref();
  const end = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, closeReason(reason));
    remote.destroy();
    o.onClose?.({ code, reason });
  };
  ws.on('close', () => end(1000, 'closed by the browser'));
  ws.on('error', () => end(1006, 'browser connection failed'));
  remote.on('error', (e: Error) => end(CONSOLE_CLOSE.failed, e.message));
  return end;
}

/** Joins a WebSocket carrying raw bytes (noVNC's `binary` subprotocol) to a stream (an SSH forward to a VNC server). */
export function bridgeRaw(ws: WebSocket, remote: Duplex, o: BridgeOptions = {}): { close(code: number, reason: string): void } {
  const stats = o.stats ?? { bytesIn: 0, bytesOut: 0 };
  const end = lifecycle(ws, remote, o);
  remote.on('close', () => end(CONSOLE_CLOSE.ended, 'the VNC server closed the connection'));
  remote.on('end', () => end(CONSOLE_CLOSE.ended, 'the VNC server closed the connection'));
  let paused = false;
  const afterSend = () => {
    if (paused && ws.bufferedAmount < LOW_WATER) {
      paused = false;
      remote.resume();
    }
  };
  remote.on('data', (chunk: Buffer) => {
    stats.bytesOut += chunk.length;
    ws.send(chunk, { binary: true }, afterSend);
    if (!paused && ws.bufferedAmount > HIGH_WATER) {
      paused = true;
      remote.pause();
    }
  });
  inbound(ws, remote, stats, (b) => remote.write(b));
  return { close: end };
}

/** A PTY on the far side: an SSH shell or exec channel with a window. */
export interface PtyStream extends Duplex {
  setWindow(rows: number, cols: number): void;
  /** ssh2 channels: exit status. */
  on(event: 'exit', listener: (code: number | null, signal?: string | null) => void): this;
  on(event: string | symbol, listener: (...args: never[]) => void): this;
  stderr?: NodeJS.ReadableStream;
}

/**
 * Joins a `skydeck.terminal.v1` WebSocket to a PTY: output as binary frames, paced by the browser's acks (at most
 * `window` bytes unacknowledged); input as binary frames; resize and ack as JSON text frames.
 */
export function bridgeTerminal(
  ws: WebSocket,
  pty: PtyStream,
  o: BridgeOptions & {
    title: string;
    window?: number;
    /**
     * Hold the browser's input until the remote side shows this (e.g. `virsh console`'s "Escape character" line: keys
     * typed before it attaches are lost), or until timeoutMs.
     */
    inputGate?: { until: RegExp; timeoutMs: number; settleMs?: number };
  },
): { close(code: number, reason: string): void } {
  const stats = o.stats ?? { bytesIn: 0, bytesOut: 0 };
  const window = o.window ?? TERMINAL_WINDOW_BYTES;
  const end = lifecycle(ws, pty, o);
  const sendJson = (m: TerminalServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  let exit: { code: number | null; signal: string | null } | null = null;
  pty.on('exit', (code: number | null, signal?: string | null) => {
    exit = { code: code ?? null, signal: signal ?? null };
  });
  const finish = () => {
    // Output already queued goes first; then the exit status; then a normal close.
    sendJson({ t: 'exit', code: exit?.code ?? null, signal: exit?.signal ?? null });
    end(CONSOLE_CLOSE.ended, exit ? `exited with ${exit.code ?? exit.signal}` : 'the session ended');
  };
  pty.on('close', finish);

  let unacked = 0;
  let paused = false;
  const out = (chunk: Buffer) => {
    stats.bytesOut += chunk.length;
    unacked += chunk.length;
    ws.send(chunk, { binary: true });
    if (!paused && unacked > window) {
      paused = true;
      pty.pause();
      (pty.stderr as unknown as { pause?(): void } | undefined)?.pause?.();
    }
  };
  pty.on('data', out);
  pty.stderr?.on('data', out);

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return;
    let msg;
    try {
      msg = terminalClientMessage.parse(JSON.parse(toBuffer(data).toString('utf8')));
    } catch {
      sendJson({ t: 'error', code: 'protocol', message: 'unknown control message' });
      return;
    }
    if (msg.t === 'resize') pty.setWindow(msg.rows, msg.cols);
    else {
      unacked = Math.max(0, unacked - msg.bytes);
      if (paused && unacked <= window / 2) {
        paused = false;
        pty.resume();
        (pty.stderr as unknown as { resume?(): void } | undefined)?.resume?.();
      }
    }
  });
  let held: Buffer[] | null = null;
  if (o.inputGate) {
    const gate = o.inputGate;
    held = [];
    let seen = '';
    const open = () => {
      if (!held) return;
      const queued = held;
      held = null;
      clearTimeout(timer);
      pty.off('data', watch);
      for (const b of queued) pty.write(b);
    };
    const watch = (chunk: Buffer) => {
      seen = (seen + chunk.toString('latin1')).slice(-4096);
      // The remote side may still be switching its terminal mode right after it printed the line: a short settle.
      if (gate.until.test(seen)) {
        pty.off('data', watch);
        setTimeout(open, gate.settleMs ?? 0).unref();
      }
    };
    const timer = setTimeout(open, gate.timeoutMs);
    timer.unref();
    pty.on('data', watch);
  }
  inbound(ws, pty, stats, (b) => {
    if (held) {
      held.push(b);
      return true;
    }
    return pty.write(b);
  });
  sendJson({ t: 'ready', title: o.title, window });
  return { close: end };
}
