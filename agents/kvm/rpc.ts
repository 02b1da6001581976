import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { RPC_CANCELLED, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND, RPC_PARSE_ERROR, type RpcErrorBody } from '@shared/agent/protocol';
import { toErrorBody } from './errors';
import type { Logger } from './log';

/**
 * Newline-delimited JSON-RPC 2.0 over stream sockets (the agent's Unix socket, or the `connect` relay). Every
 * connection may have many requests running at once; `$/cancel {id}` aborts one (its handler sees the AbortSignal and
 * the client gets RPC_CANCELLED at once). A client that hangs up (EOF: the socket is not half-open) cancels what it
 * left running. Notifications go to every connected client.
 */
export interface RequestContext {
  method: string;
  signal: AbortSignal;
}
export type Handler = (params: unknown, ctx: RequestContext) => unknown;

export interface RpcServerOptions {
  log: Logger;
  /** A line longer than this (no newline yet) closes the connection: nothing legitimate is that big. */
  maxLineBytes?: number;
  /** Notifications to a client whose unsent output is above this are dropped (it is not reading). */
  maxNotifyBacklogBytes?: number;
}

type Id = number | string;

export class RpcServer {
  private readonly handlers = new Map<string, Handler>();
  private readonly connections = new Set<Connection>();

  constructor(readonly o: RpcServerOptions) {}

  register(method: string, handler: Handler): void {
    this.handlers.set(method, handler);
  }

  handler(method: string): Handler | undefined {
    return this.handlers.get(method);
  }

  /** Serves one connected socket until it closes. */
  attach(socket: Socket): void {
    const c = new Connection(this, socket);
    this.connections.add(c);
    socket.once('close', () => {
      this.connections.delete(c);
      c.abortAll();
    });
  }

  notify(method: string, params: unknown): void {
    const line = `${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`;
    for (const c of this.connections) c.notify(line);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Aborts running requests and ends every connection (after what is already written has been flushed). */
  closeAll(): void {
    for (const c of this.connections) {
      c.abortAll();
      c.end();
    }
  }
}

class Connection {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private readonly inflight = new Map<Id, AbortController>();
  private paused = false;
  private droppedNotifications = 0;

  constructor(
    private readonly server: RpcServer,
    private readonly socket: Socket,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => server.o.log.debug('connection error', { error: e.message }));
  }

  private onData(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
    }
    if (this.buffer.length > (this.server.o.maxLineBytes ?? 64 * 1024 * 1024)) {
      this.send({ jsonrpc: '2.0', id: null, error: { code: RPC_PARSE_ERROR, message: 'message too large' } });
      this.buffer = '';
      this.end();
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.send({ jsonrpc: '2.0', id: null, error: { code: RPC_PARSE_ERROR, message: `parse error: ${(e as Error).message}` } });
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.replyError(null, RPC_INVALID_REQUEST, 'a message must be a JSON object');
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    if (m.jsonrpc !== '2.0') return this.replyError(id, RPC_INVALID_REQUEST, 'jsonrpc must be "2.0"');
    if (typeof m.method !== 'string') return this.replyError(id, RPC_INVALID_REQUEST, 'method must be a string');
    if (m.method === '$/cancel') {
      const target = (m.params as { id?: unknown } | undefined)?.id;
      if (typeof target === 'number' || typeof target === 'string') this.cancel(target);
      if (id !== null) this.send({ jsonrpc: '2.0', id, result: null });
      return;
    }
    if (m.id === undefined) {
      this.server.o.log.debug('ignored notification', { method: m.method });
      return;
    }
    if (id === null) return this.replyError(null, RPC_INVALID_REQUEST, 'id must be a number or a string');
    if (this.inflight.has(id)) return this.replyError(id, RPC_INVALID_REQUEST, `request ${id} is already running`);
    const handler = this.server.handler(m.method);
    if (!handler) return this.replyError(id, RPC_METHOD_NOT_FOUND, `unknown method ${m.method}`);
    void this.run(id, m.method, handler, m.params);
  }

  private async run(id: Id, method: string, handler: Handler, params: unknown): Promise<void> {
    const controller = new AbortController();
    this.inflight.set(id, controller);
    const started = performance.now();
    let error: RpcErrorBody | undefined;
    let result: unknown;
    try {
      result = await handler(params, { method, signal: controller.signal });
    } catch (e) {
      error = toErrorBody(e);
    }
    const ms = Math.round(performance.now() - started);
    // A cancelled request was answered by cancel(); whatever the handler came to is dropped.
    if (this.inflight.get(id) !== controller) {
      this.server.o.log.info('rpc', { method, ms, code: RPC_CANCELLED });
      return;
    }
    this.inflight.delete(id);
    if (error) {
      this.server.o.log.info('rpc', { method, ms, code: error.code, error: error.message.slice(0, 300) });
      this.send({ jsonrpc: '2.0', id, error });
    } else {
      this.server.o.log.info('rpc', { method, ms });
      this.send({ jsonrpc: '2.0', id, result: result ?? null });
    }
  }

  private cancel(id: Id): void {
    const controller = this.inflight.get(id);
    if (!controller) return;
    this.inflight.delete(id);
    controller.abort();
    this.replyError(id, RPC_CANCELLED, 'cancelled');
  }

  private replyError(id: Id | null, code: number, message: string): void {
    this.send({ jsonrpc: '2.0', id, error: { code, message } });
  }

  private send(msg: object): void {
    let line: string;
    try {
      line = `${JSON.stringify(msg)}\n`;
    } catch (e) {
      const id = (msg as { id?: Id | null }).id ?? null;
      line = `${JSON.stringify({ jsonrpc: '2.0', id, error: toErrorBody(e) })}\n`;
    }
    this.write(line);
  }

  notify(line: string): void {
    if (this.socket.writableLength > (this.server.o.maxNotifyBacklogBytes ?? 4 * 1024 * 1024)) {
      if (this.droppedNotifications++ === 0) this.server.o.log.warn('client is not reading: dropping notifications');
      return;
    }
    this.droppedNotifications = 0;
    this.write(line);
  }

  /** Writes, and stops reading new requests while the client does not take our output (back-pressure). */
  private write(line: string): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (!this.socket.write(line) && !this.paused) {
      this.paused = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.paused = false;
        this.socket.resume();
      });
    }
  }

  abortAll(): void {
    for (const c of this.inflight.values()) c.abort();
    this.inflight.clear();
  }

  end(): void {
    this.socket.end();
  }
}
