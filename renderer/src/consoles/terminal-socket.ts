import { CONSOLE_CLOSE, TERMINAL_SUBPROTOCOL, TERMINAL_WINDOW_BYTES, type TerminalClientMessage, type TerminalServerMessage } from '@shared/contract/consoles';
import { closeProblem, type ConsoleProblem } from './problems';

/** What the terminal shows about its link. */
export type TerminalState = 'connecting' | 'connected' | 'exited' | 'closed' | 'error';

/** The part of a browser WebSocket the terminal uses (a fake one in tests). */
export interface SocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

const OPEN = 1;

export interface TerminalSocketOptions {
  url: string;
  /** Writes output to the terminal and calls `done` once it is written (xterm.js' write callback). */
  sink: (data: Uint8Array, done: () => void) => void;
  /** Every state change, with why for `error` and the exit status for `exited`. */
  onState?: (state: TerminalState, info: { problem: ConsoleProblem | null; exit: { code: number | null; signal: string | null } | null }) => void;
  /** The server's title for the session (from `ready`). */
  onTitle?: (title: string) => void;
  /** Defaults to the browser's WebSocket. */
  socket?: SocketFactory;
  /** Written bytes at which an ack goes out at once (default 64 KiB, at most a quarter of the window). */
  ackBytes?: number;
  /** Idle time after which written bytes below `ackBytes` are acked anyway (default 25 ms). */
  ackDelayMs?: number;
}

export const ACK_BYTES = 64 * 1024;

/**
 * One `skydeck.terminal.v1` connection (see shared/contract/consoles.ts). Output arrives as binary frames and goes to
 * the sink; what the sink reports written is acknowledged in batches, so the server never has more than its window in
 * flight and a `cat` of a large file is paced by the terminal's rendering. Input goes out as UTF-8 binary frames,
 * resizes and acks as JSON text frames. A terminal does not reconnect by itself: a new session needs a new ticket.
 */
export class TerminalSocket {
  private ws: SocketLike;
  private current: TerminalState = 'connecting';
  private problem: ConsoleProblem | null = null;
  private exit: { code: number | null; signal: string | null } | null = null;
  private ackBytes: number;
  private readonly ackDelayMs: number;
  private unackedWritten = 0;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private pendingSize: { cols: number; rows: number } | null = null;
  private lastSentSize: string | null = null;
  private readonly encoder = new TextEncoder();
  private ended = false;
  /** Bytes received, bytes the sink has written, bytes acknowledged (for tests and the status line). */
  readonly stats = { received: 0, written: 0, acked: 0 };

  constructor(private readonly opts: TerminalSocketOptions) {
    this.ackBytes = Math.min(opts.ackBytes ?? ACK_BYTES, TERMINAL_WINDOW_BYTES / 4);
    this.ackDelayMs = opts.ackDelayMs ?? 25;
    const make: SocketFactory = opts.socket ?? ((url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike);
    this.ws = make(opts.url, [TERMINAL_SUBPROTOCOL]);
    this.ws.binaryType = 'arraybuffer';
    this.ws.addEventListener('open', () => this.onOpen());
    this.ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    this.ws.addEventListener('close', (ev) => this.onClose(ev.code, ev.reason));
    this.ws.addEventListener('error', () => {
      /* a close event follows with the code */
    });
  }

  get state(): TerminalState {
    return this.current;
  }

  /** Keys and pastes from the terminal (xterm.js onData): UTF-8 in one binary frame. */
  input(text: string): void {
    if (!text || !this.isOpen()) return;
    this.ws.send(this.encoder.encode(text));
  }

  /** Raw bytes (xterm.js onBinary: some mouse reports), one byte per char code. */
  inputBinary(data: string): void {
    if (!data || !this.isOpen()) return;
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
    this.ws.send(bytes);
  }

  /** The terminal's size; sent now when open (and changed), else as soon as the socket opens. */
  resize(cols: number, rows: number): void {
    const c = Math.max(2, Math.min(1000, Math.floor(cols)));
    const r = Math.max(1, Math.min(1000, Math.floor(rows)));
    if (!Number.isFinite(c) || !Number.isFinite(r)) return;
    this.pendingSize = { cols: c, rows: r };
    if (this.isOpen()) this.sendSize();
  }

  /** Closes on purpose (tab closed, reconnect): no error is reported afterwards. */
  close(): void {
    if (this.ended) return;
    this.flushAck();
    this.ended = true;
    this.clearAckTimer();
    try {
      this.ws.close(1000, 'closed by the user');
    } catch {
      /* already closing */
    }
    this.problem = null;
    if (this.current !== 'exited') this.setState('closed');
  }

  private isOpen(): boolean {
    return !this.ended && this.ws.readyState === OPEN;
  }

  private sendJson(m: TerminalClientMessage): void {
    if (this.isOpen()) this.ws.send(JSON.stringify(m));
  }

  private sendSize(): void {
    if (!this.pendingSize) return;
    const key = `${this.pendingSize.cols}x${this.pendingSize.rows}`;
    if (key === this.lastSentSize) return;
    this.lastSentSize = key;
    this.sendJson({ t: 'resize', ...this.pendingSize });
  }

  private onOpen(): void {
    if (this.ended) return;
    this.sendSize();
  }

  private onMessage(data: unknown): void {
    if (this.ended) return;
    if (typeof data === 'string') {
      let msg: TerminalServerMessage;
      try {
        msg = JSON.parse(data) as TerminalServerMessage;
      } catch {
        return;
      }
      this.onControl(msg);
      return;
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    if (!bytes) return;
    const n = bytes.byteLength;
    this.stats.received += n;
    let called = false;
    this.opts.sink(bytes, () => {
      if (called) return;
      called = true;
      this.written(n);
    });
  }

  private onControl(msg: TerminalServerMessage): void {
    switch (msg.t) {
      case 'ready':
        if (typeof msg.window === 'number' && msg.window > 0) this.ackBytes = Math.max(1, Math.min(this.ackBytes, Math.floor(msg.window / 4)));
        if (msg.title) this.opts.onTitle?.(msg.title);
        this.setState('connected');
        break;
      case 'exit':
        this.exit = { code: msg.code ?? null, signal: msg.signal ?? null };
        this.setState('exited');
        break;
      case 'error':
        // A protocol complaint: the session goes on, but say so if the close follows.
        this.problem = { key: 'consoles.term.serverError', detail: `${msg.code}: ${msg.message}` };
        break;
    }
  }

  private written(n: number): void {
    this.stats.written += n;
    if (this.ended) return;
    this.unackedWritten += n;
    if (this.unackedWritten >= this.ackBytes) {
      this.flushAck();
      return;
    }
    if (!this.ackTimer) this.ackTimer = setTimeout(() => this.flushAck(), this.ackDelayMs);
  }

  private clearAckTimer(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  private flushAck(): void {
    this.clearAckTimer();
    if (this.unackedWritten <= 0 || !this.isOpen()) return;
    const bytes = this.unackedWritten;
    this.unackedWritten = 0;
    this.stats.acked += bytes;
    this.sendJson({ t: 'ack', bytes });
  }

  private onClose(code: number, reason: string): void {
    this.clearAckTimer();
    if (this.ended) return;
    this.ended = true;
    if (this.current === 'exited') return;
    const quiet = code === 1000 || code === CONSOLE_CLOSE.ended || code === CONSOLE_CLOSE.closedByUser;
    if (quiet && !this.problem) {
      // Closed on purpose elsewhere (consoles.close, the app quitting) says so; a plain end needs no words.
      this.problem = code === CONSOLE_CLOSE.closedByUser ? closeProblem(code, reason) : null;
      this.setState('closed');
      return;
    }
    if (!quiet) this.problem = closeProblem(code, reason);
    this.setState('error');
  }

  private setState(s: TerminalState): void {
    this.current = s;
    this.opts.onState?.(s, { problem: s === 'error' || s === 'closed' ? this.problem : null, exit: s === 'exited' ? this.exit : null });
  }
}
