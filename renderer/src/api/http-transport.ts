import { ApiError, ERROR_CODES, HTTP_STATUS, type ErrorCode } from '@shared/errors';
import type { Transport } from '@shared/client';
import type { SkydeckEvent } from '@shared/events';

/** The state of the event socket, as the header's connection indicator shows it. */
export type SocketStatus = 'idle' | 'connecting' | 'open' | 'closed';

export interface SocketState {
  status: SocketStatus;
  /** Failed attempts since the socket was last open. */
  attempts: number;
  /** When the next attempt is due (ms since epoch) while `closed`; null otherwise. */
  retryAt: number | null;
  /** True on the `open` that follows a drop: whatever is on screen may be stale and should be fetched again. */
  reconnected: boolean;
}

/** The parts of the WebSocket API the transport uses (the browser's, or Node's global one in tests). */
export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface HttpTransportOptions {
  /** Origin of the headless server, e.g. `http://127.0.0.1:7070`. */
  baseUrl: string;
  token: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: the global WebSocket. */
  webSocket?: WebSocketFactory;
  /** Per-command timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Reconnect backoff: first delay and cap in ms (defaults 500 ms and 10 s). */
  backoff?: { initialMs: number; maxMs: number };
}

const API_PREFIX = '/api/v1';

/** Maps an HTTP status back to an error code when the body is not a Skydeck error (a proxy page, an empty 502). */
export function codeForStatus(status: number): ErrorCode {
  const exact = (Object.entries(HTTP_STATUS) as [ErrorCode, number][]).find(([, s]) => s === status);
  if (exact) return exact[0];
  return status >= 500 ? 'internal' : 'validation';
}

function isErrorBody(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const b = body as { code?: unknown; message?: unknown };
  return typeof b.code === 'string' && (ERROR_CODES as readonly string[]).includes(b.code) && typeof b.message === 'string';
}

/** `http://h:p` + `/api/v1/events?token=…` → `ws://h:p/api/v1/events?token=…`. */
export function eventsUrl(baseUrl: string, token: string): string {
  const u = new URL(`${API_PREFIX}/events`, baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('token', token);
  return u.toString();
}

/** Delay before reconnect attempt `n` (0-based): exponential with ±20 % jitter, capped. */
export function backoffDelay(n: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(n, 20));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * The transport of the headless server: `POST /api/v1/<command>` with a bearer token for commands, one WebSocket for
 * events that reconnects with backoff while anyone listens.
 */
export class HttpTransport implements Transport {
  private readonly baseUrl: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;
  private readonly wsFactory: WebSocketFactory;
  private readonly timeoutMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };

  private readonly listeners = new Set<(event: SkydeckEvent) => void>();
  private readonly stateListeners = new Set<(state: SocketState) => void>();
  private socket: WebSocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private wasOpen = false;
  private stopped = false;
  private state: SocketState = { status: 'idle', attempts: 0, retryAt: null, reconnected: false };

  constructor(options: HttpTransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.wsFactory = options.webSocket ?? ((url) => new globalThis.WebSocket(url) as unknown as WebSocketLike);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 10_000 };
  }

  async invoke(name: string, input: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${API_PREFIX}/${encodeURIComponent(name)}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, accept: 'application/json' },
        body: JSON.stringify(input ?? {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const name = (e as { name?: unknown })?.name;
      if (name === 'TimeoutError') throw new ApiError('timeout', `No answer from the Skydeck server within ${Math.round(this.timeoutMs / 1000)} s`);
      throw new ApiError('unreachable', `the connection to ${this.baseUrl} failed`);
    }
    const text = await res.text().catch(() => '');
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (res.ok) {
      if (body === undefined && text !== '') throw new ApiError('internal', 'The server answered with something other than JSON');
      return body ?? null;
    }
    if (isErrorBody(body)) throw ApiError.fromBody(body);
    throw new ApiError(codeForStatus(res.status), `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }

  /** GETs a file the server serves under /api/v1 (a finished report, `/api/v1/exports/<name>`), with the token. */
  async fetchFile(path: string): Promise<Blob> {
    if (!path.startsWith(`${API_PREFIX}/`)) throw new ApiError('not_found', `${path} is not served by the API`);
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    } catch {
      throw new ApiError('unreachable', `the connection to ${this.baseUrl} failed`);
    }
    if (!res.ok) {
      const body: unknown = await res.json().catch(() => undefined);
      if (isErrorBody(body)) throw ApiError.fromBody(body);
      throw new ApiError(codeForStatus(res.status), `HTTP ${res.status}`);
    }
    return res.blob();
  }

  subscribe(listener: (event: SkydeckEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.socket && !this.timer && !this.stopped) this.connect();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Follows the socket's state; called at once with the current state. */
  onState(listener: (state: SocketState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  get socketState(): SocketState {
    return this.state;
  }

  /** Retries at once instead of waiting for the backoff (the indicator's "retry now"). */
  reconnectNow(): void {
    if (this.stopped || this.state.status === 'open' || this.state.status === 'connecting') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  /** Closes the socket for good. */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      try {
        s.close(1000, 'client closed');
      } catch {
        /* already closed */
      }
    }
    this.setState({ status: 'idle', attempts: 0, retryAt: null, reconnected: false });
  }

  private setState(state: SocketState): void {
    this.state = state;
    for (const l of this.stateListeners) {
      try {
        l(state);
      } catch {
        /* a broken listener never stops the others */
      }
    }
  }

  private connect(): void {
    this.timer = null;
    let socket: WebSocketLike;
    try {
      socket = this.wsFactory(eventsUrl(this.baseUrl, this.token));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.setState({ status: 'connecting', attempts: this.state.attempts, retryAt: null, reconnected: false });
    socket.onopen = () => {
      const reconnected = this.wasOpen || this.state.attempts > 0;
      this.wasOpen = true;
      this.setState({ status: 'open', attempts: 0, retryAt: null, reconnected });
    };
    socket.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let event: unknown;
      try {
        event = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!event || typeof event !== 'object' || typeof (event as { type?: unknown }).type !== 'string') return;
      for (const l of this.listeners) {
        try {
          l(event as SkydeckEvent);
        } catch (e) {
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    };
    const lost = (): void => {
      if (this.socket !== socket) return;
      this.socket = null;
      socket.onclose = socket.onerror = socket.onmessage = socket.onopen = null;
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      if (!this.stopped) this.scheduleReconnect();
    };
    // Browsers follow an error with close; some runtimes (Node's WebSocket on a refused connection) never do.
    socket.onerror = lost;
    socket.onclose = lost;
  }

  private scheduleReconnect(): void {
    const attempts = this.state.attempts + 1;
    const delay = backoffDelay(attempts - 1, this.backoff.initialMs, this.backoff.maxMs);
    this.setState({ status: 'closed', attempts, retryAt: Date.now() + delay, reconnected: false });
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
