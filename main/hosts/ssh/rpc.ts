/**
 * JSON-RPC 2.0 client over any byte stream (in practice the agent's Unix socket reached through SSH): newline-delimited
 * JSON, numeric ids, per-call timeouts, cancellation with `$/cancel {id}`, notifications to listeners. Agent errors become
 * ApiErrors that keep the agent's message (see rpcError below); when the stream ends, every pending call fails with
 * unreachable/closed.
 */
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ApiError, type ErrorCode } from '@shared/errors';
import {
  RPC_CANCELLED,
  RPC_HOST,
  RPC_INTERNAL,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIBVIRT,
  RPC_METHOD_NOT_FOUND,
  RPC_NOT_FOUND,
  RPC_PARSE_ERROR,
  RPC_STATE,
  RPC_TIMEOUT,
  type AgentMethod,
  type AgentNotifications,
  type AgentParams,
  type AgentResult,
  type RpcErrorBody,
} from '@shared/agent/protocol';
import type { Logger } from '../../log/logger';
import type { RpcCallOptions } from '../types';

export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
export const HELLO_TIMEOUT_MS = 10_000;
/** A line longer than this is a broken peer, not a big answer (domains.list of thousands of domains is a few MiB). */
export const MAX_LINE_BYTES = 64 << 20;

const CODE_BY_RPC: Record<number, ErrorCode> = {
  [RPC_NOT_FOUND]: 'not_found',
  [RPC_STATE]: 'conflict',
  [RPC_INVALID_PARAMS]: 'validation',
  [RPC_TIMEOUT]: 'timeout',
  [RPC_CANCELLED]: 'cancelled',
  // libvirt refused (details.virsh) or an operation on the host failed (qemu-img, I/O): the host's answer, not a bug.
  [RPC_LIBVIRT]: 'conflict',
  [RPC_HOST]: 'conflict',
  // An agent that does not know the method is older (or newer) than this app.
  [RPC_METHOD_NOT_FOUND]: 'not_supported',
  // Malformed traffic or a crash inside the agent: true bugs.
  [RPC_PARSE_ERROR]: 'internal',
  [RPC_INVALID_REQUEST]: 'internal',
  [RPC_INTERNAL]: 'internal',
};

const REASON_BY_RPC: Record<number, string> = {
  [RPC_NOT_FOUND]: 'not_found',
  [RPC_STATE]: 'state',
  [RPC_INVALID_PARAMS]: 'invalid_params',
  [RPC_TIMEOUT]: 'timeout',
  [RPC_CANCELLED]: 'cancelled',
  [RPC_LIBVIRT]: 'libvirt',
  [RPC_HOST]: 'host',
  [RPC_METHOD_NOT_FOUND]: 'agent_version',
  [RPC_PARSE_ERROR]: 'agent_protocol',
  [RPC_INVALID_REQUEST]: 'agent_protocol',
  [RPC_INTERNAL]: 'agent_internal',
};

/**
 * An agent error as an ApiError. The message is the agent's own (it names the domain, the pool, what libvirt said);
 * details carry the method, the RPC code and the agent's data (details.virsh for libvirt refusals). Unknown codes are
 * `internal`.
 */
export function rpcError(method: string, err: RpcErrorBody): ApiError {
  const code = CODE_BY_RPC[err.code] ?? 'internal';
  const data = err.data && typeof err.data === 'object' && !Array.isArray(err.data) ? (err.data as Record<string, unknown>) : err.data === undefined ? {} : { data: err.data };
  const details: Record<string, unknown> = { reason: REASON_BY_RPC[err.code] ?? 'agent_error', ...data, method, rpcCode: err.code };
  const message = typeof err.message === 'string' && err.message ? err.message : `the agent failed ${method} (code ${err.code})`;
  return new ApiError(code, message, details);
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: ApiError): void;
  timer: NodeJS.Timeout | undefined;
  cleanup(): void;
}

export interface RpcClientOptions {
  defaultTimeoutMs?: number;
  logger?: Logger;
  /** Name for log lines and error messages (e.g. the host). */
  name?: string;
}

type NotificationListener = (params: unknown, method: string) => void;

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<NotificationListener>>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  private readonly decoder = new StringDecoder('utf8');
  /** The current line's pieces so far (no newline seen yet). */
  private parts: string[] = [];
  private partsLength = 0;
  private closedReason: string | null = null;
  private readonly defaultTimeoutMs: number;
  private readonly name: string;

  constructor(
    private readonly stream: Duplex,
    private readonly opts: RpcClientOptions = {},
  ) {
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.name = opts.name ?? 'the agent';
    stream.on('data', (chunk: Buffer | string) => this.onData(chunk));
    stream.on('end', () => this.shutdown(`${this.name} closed the connection`));
    stream.on('close', () => this.shutdown(`${this.name} closed the connection`));
    stream.on('error', (e: Error) => this.shutdown(`connection to ${this.name} failed: ${e.message}`));
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** A typed agent call. */
  call<M extends AgentMethod>(method: M, params: AgentParams<M>, opts: RpcCallOptions = {}): Promise<AgentResult<M>> {
    const timeoutMs = opts.timeoutMs ?? (method === 'agent.hello' ? HELLO_TIMEOUT_MS : this.defaultTimeoutMs);
    return this.request(method, params, { ...opts, timeoutMs }) as Promise<AgentResult<M>>;
  }

  /** An untyped call (tests, methods newer than the protocol types). */
  request(method: string, params?: unknown, opts: RpcCallOptions = {}): Promise<unknown> {
    if (this.closedReason !== null) return Promise.reject(new ApiError('unreachable', this.closedReason, { reason: 'closed', method }));
    if (opts.signal?.aborted) return Promise.reject(cancelledError(method, opts.signal));
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        this.settle(id);
        this.notify('$/cancel', { id });
        reject(cancelledError(method, opts.signal));
      };
      const p: Pending = {
        method,
        resolve,
        reject,
        timer: undefined,
        cleanup: () => {
          clearTimeout(p.timer);
          opts.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          if (!this.pending.has(id)) return;
          this.settle(id);
          // The agent may still be working on it: tell it to stop.
          this.notify('$/cancel', { id });
          reject(new ApiError('timeout', `${this.name} did not answer ${method} within ${timeoutMs / 1000} s`, { reason: 'timeout', method }));
        }, timeoutMs);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, p);
      this.write({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  /** Sends a notification (no answer). */
  notify(method: string, params?: unknown): void {
    if (this.closedReason !== null) return;
    this.write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  onNotification<N extends keyof AgentNotifications>(method: N, cb: (params: AgentNotifications[N]) => void): () => void;
  onNotification(method: string, cb: NotificationListener): () => void;
  onNotification(method: string, cb: NotificationListener): () => void {
    let set = this.listeners.get(method);
    if (!set) this.listeners.set(method, (set = new Set()));
    set.add(cb);
    return () => {
      set.delete(cb);
      if (set.size === 0 && this.listeners.get(method) === set) this.listeners.delete(method);
    };
  }

  /** Every notification, whatever its method ('*'). */
  onAnyNotification(cb: NotificationListener): () => void {
    return this.onNotification('*', cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    if (this.closedReason !== null) {
      const r = this.closedReason;
      queueMicrotask(() => cb(r));
      return () => {};
    }
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  /** Ends the stream and fails pending calls. */
  close(reason = 'closed by Skydeck'): void {
    this.shutdown(reason);
    this.stream.end();
    this.stream.destroy();
  }

  private write(msg: object): void {
    try {
      this.stream.write(JSON.stringify(msg) + '\n');
    } catch (e) {
      this.shutdown(`cannot write to ${this.name}: ${(e as Error).message}`);
    }
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.cleanup();
    return p;
  }

  /** Splits the stream into lines; a line spread over many chunks is joined once (no quadratic re-scanning). */
  private onData(chunk: Buffer | string): void {
    if (this.closedReason !== null) return;
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      const piece = text.slice(start, nl);
      const line = this.parts.length ? this.parts.join('') + piece : piece;
      this.parts = [];
      this.partsLength = 0;
      start = nl + 1;
      if (line.trim()) this.onLine(line);
      if (this.closedReason !== null) return;
    }
    if (start < text.length) {
      this.parts.push(start === 0 ? text : text.slice(start));
      this.partsLength += text.length - start;
    }
    if (this.partsLength > MAX_LINE_BYTES) {
      this.opts.logger?.warn('agent sent an over-long line', { name: this.name, chars: this.partsLength });
      this.close(`${this.name} sent a message over ${MAX_LINE_BYTES >> 20} MiB without a newline`);
    }
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.opts.logger?.warn('agent sent a line that is not JSON', { name: this.name, line: line.slice(0, 200) });
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.method === 'string' && msg.id === undefined) {
      this.emit(msg.method, msg.params);
      return;
    }
    if (typeof msg.id !== 'number') {
      // An error without an id answers a request the agent could not parse: nothing to settle.
      if (msg.error) this.opts.logger?.warn('agent error without id', { name: this.name, error: msg.error });
      return;
    }
    const p = this.settle(msg.id);
    if (!p) return; // answered after a timeout or cancel
    if (msg.error && typeof msg.error === 'object') {
      const e = msg.error as RpcErrorBody;
      p.reject(rpcError(p.method, { code: typeof e.code === 'number' ? e.code : RPC_INTERNAL, message: String(e.message ?? ''), data: e.data }));
    } else p.resolve(msg.result);
  }

  private emit(method: string, params: unknown): void {
    for (const key of [method, '*']) {
      for (const cb of [...(this.listeners.get(key) ?? [])]) {
        try {
          cb(params, method);
        } catch (e) {
          this.opts.logger?.warn('notification listener failed', { method, error: (e as Error).message });
        }
      }
    }
  }

  private shutdown(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.decoder.end();
    this.parts = [];
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(new ApiError('unreachable', `${reason} (while waiting for ${p.method})`, { reason: 'closed', method: p.method }));
    }
    const cbs = [...this.closeListeners];
    this.closeListeners.clear();
    for (const cb of cbs) {
      try {
        cb(reason);
      } catch (e) {
        this.opts.logger?.warn('rpc onClose listener failed', { error: (e as Error).message });
      }
    }
  }
}

function cancelledError(method: string, signal?: AbortSignal): ApiError {
  const r: unknown = signal?.reason;
  if (ApiError.is(r) && r.code === 'cancelled') return r;
  return new ApiError('cancelled', `${method} was cancelled`, { reason: 'cancelled', method });
}
