import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError } from '@shared/errors';
import { createClient } from '@shared/client';
import type { SkydeckEvent } from '@shared/events';
import { HttpTransport, backoffDelay, codeForStatus, eventsUrl, type SocketState } from './http-transport';

const TOKEN = 'test-token-123';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A small stand-in for the headless server: real HTTP, real WebSocket, on 127.0.0.1 and a free port. */
class FakeServer {
  server!: Server;
  wss!: WebSocketServer;
  port = 0;
  seen: Seen[] = [];
  sockets = new Set<WebSocket>();
  wsUrls: string[] = [];
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, contentType: req.headers['content-type'], body });
        this.handler(req, body, res);
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/api/v1/events' || url.searchParams.get('token') !== TOKEN) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wsUrls.push(req.url ?? '');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  broadcast(event: unknown): void {
    const data = typeof event === 'string' ? event : JSON.stringify(event);
    for (const ws of this.sockets) ws.send(data);
  }

  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function until<T>(check: () => T | undefined | null | false, timeoutMs = 3000): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = check();
      if (v) return resolve(v);
      if (Date.now() - start > timeoutMs) return reject(new Error('timed out waiting'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const sample = {
  id: 't1',
  type: 'system.backup',
  target: null,
  status: 'running',
  stage: 'onCopy',
  progress: 40,
  message: 'copied 4 of 10 pages',
  params: {},
  result: null,
  error: null,
  attempts: 1,
  parentId: null,
  createdBy: 'api:127.0.0.1',
  createdAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:00.000Z',
  finishedAt: null,
  updatedAt: '2025-01-01T00:00:01.000Z',
};

describe('HttpTransport commands', () => {
  let srv: FakeServer;
  let transport: HttpTransport | null = null;

  beforeEach(async () => {
    srv = new FakeServer();
    await srv.start();
  });
  afterEach(async () => {
    transport?.close();
    transport = null;
    await srv.stop();
  });

  it('POSTs the input as JSON to /api/v1/<command> with the bearer token and answers the output', async () => {
    srv.handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [], total: 0 }));
    };
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN });
    const out = await transport.invoke('tasks.list', { limit: 5, filter: ['status:running'] });
    expect(out).toEqual({ items: [], total: 0 });
    expect(srv.seen).toHaveLength(1);
    const req = srv.seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v1/tasks.list');
    expect(req.auth).toBe(`Bearer ${TOKEN}`);
    expect(req.contentType).toContain('application/json');
    expect(JSON.parse(req.body)).toEqual({ limit: 5, filter: ['status:running'] });
  });

  it('sends {} when there is no input, through the shared client too', async () => {
    srv.handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ theme: 'dark' }));
    };
    transport = new HttpTransport({ baseUrl: `${srv.baseUrl}/`, token: TOKEN });
    const client = createClient(transport);
    await expect(client.call('settings.get')).resolves.toEqual({ theme: 'dark' });
    expect(srv.seen[0]!.url).toBe('/api/v1/settings.get');
    expect(JSON.parse(srv.seen[0]!.body)).toEqual({});
  });

  it('turns an error body into an ApiError with its code, message and issues', async () => {
    const body = {
      code: 'validation',
      message: 'destination must be an absolute path',
      details: { issues: [{ path: 'destination', message: 'destination must be an absolute path', code: 'invalid_format' }] },
    };
    srv.handler = (_req, _body, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN });
    const e = await rejection(transport.invoke('system.backup', { destination: 'relative/x.db' }));
    expect(ApiError.is(e)).toBe(true);
    const err = e as ApiError;
    expect(err.code).toBe('validation');
    expect(err.message).toBe('destination must be an absolute path');
    expect(err.details?.issues?.[0]?.path).toBe('destination');
  });

  it('maps a 401 body to unauthenticated', async () => {
    srv.handler = (_req, _body, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'unauthenticated', message: 'Missing or wrong API token' }));
    };
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: 'wrong' });
    const e = (await rejection(transport.invoke('system.info', {}))) as ApiError;
    expect(e.code).toBe('unauthenticated');
  });

  it('maps a non-JSON error page to an error code from the HTTP status', async () => {
    srv.handler = (_req, _body, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    };
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN });
    const e = (await rejection(transport.invoke('system.info', {}))) as ApiError;
    expect(ApiError.is(e)).toBe(true);
    expect(e.code).toBe('unreachable');
    expect(e.message).toContain('502');
  });

  it('refuses a 2xx answer that is not JSON', async () => {
    srv.handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
    };
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN });
    const e = (await rejection(transport.invoke('system.info', {}))) as ApiError;
    expect(e.code).toBe('internal');
  });

  it('reports a server that is gone as unreachable', async () => {
    const base = srv.baseUrl;
    await srv.stop();
    transport = new HttpTransport({ baseUrl: base, token: TOKEN });
    const e = (await rejection(transport.invoke('system.info', {}))) as ApiError;
    expect(ApiError.is(e)).toBe(true);
    expect(e.code).toBe('unreachable');
    // restart something on a fresh port so afterEach can stop it
    srv = new FakeServer();
    await srv.start();
  });

  it('reports a server that never answers as timeout', async () => {
    srv.handler = () => {
      /* never answer */
    };
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN, timeoutMs: 150 });
    const e = (await rejection(transport.invoke('system.info', {}))) as ApiError;
    expect(e.code).toBe('timeout');
  });
});

describe('HttpTransport events', () => {
  let srv: FakeServer;
  let transport: HttpTransport | null = null;

  beforeEach(async () => {
    srv = new FakeServer();
    await srv.start();
  });
  afterEach(async () => {
    transport?.close();
    transport = null;
    await srv.stop();
  });

  it('opens the event socket with the token on first subscribe and delivers each JSON event', async () => {
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN });
    const states: SocketState['status'][] = [];
    transport.onState((s) => states.push(s.status));
    const got: SkydeckEvent[] = [];
    transport.subscribe((e) => got.push(e));
    await until(() => srv.sockets.size === 1);
    await until(() => transport!.socketState.status === 'open');
    expect(srv.wsUrls[0]).toBe(`/api/v1/events?token=${TOKEN}`);

    srv.broadcast({ type: 'task.updated', task: sample });
    srv.broadcast('not json');
    srv.broadcast({ no: 'type' });
    srv.broadcast({ type: 'notification', level: 'info', title: 'Hi', body: 'there' });
    await until(() => got.length === 2);
    expect(got[0]).toEqual({ type: 'task.updated', task: sample });
    expect(got[1]!.type).toBe('notification');
    expect(states).toEqual(['idle', 'connecting', 'open']);
  });

  it('reconnects with backoff after a drop, says so, and keeps delivering', async () => {
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN, backoff: { initialMs: 20, maxMs: 100 } });
    const states: SocketState[] = [];
    transport.onState((s) => states.push(s));
    const got: SkydeckEvent[] = [];
    transport.subscribe((e) => got.push(e));
    await until(() => transport!.socketState.status === 'open');

    srv.dropSockets();
    await until(() => states.some((s) => s.status === 'closed'));
    const closed = states.find((s) => s.status === 'closed')!;
    expect(closed.attempts).toBe(1);
    expect(closed.retryAt).not.toBeNull();

    await until(() => srv.sockets.size === 1 && transport!.socketState.status === 'open');
    expect(transport.socketState.reconnected).toBe(true);

    srv.broadcast({ type: 'settings.changed', settings: { theme: 'dark' } });
    await until(() => got.length === 1);
    expect(got[0]!.type).toBe('settings.changed');
  });

  it('keeps retrying while the server is down and recovers when it is back on the same port', async () => {
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN, backoff: { initialMs: 20, maxMs: 60 } });
    transport.subscribe(() => {});
    await until(() => transport!.socketState.status === 'open');
    const port = srv.port;
    await srv.stop();
    await until(() => transport!.socketState.status === 'closed' && transport!.socketState.attempts >= 3);

    srv = new FakeServer();
    await srv.start(port);
    await until(() => transport!.socketState.status === 'open', 5000);
    expect(transport.socketState.reconnected).toBe(true);
    expect(transport.socketState.attempts).toBe(0);
  });

  it('stops for good on close()', async () => {
    transport = new HttpTransport({ baseUrl: srv.baseUrl, token: TOKEN, backoff: { initialMs: 10, maxMs: 10 } });
    transport.subscribe(() => {});
    await until(() => srv.sockets.size === 1);
    transport.close();
    await until(() => srv.sockets.size === 0);
    await new Promise((r) => setTimeout(r, 80));
    expect(srv.sockets.size).toBe(0);
    expect(transport.socketState.status).toBe('idle');
  });
});

describe('transport helpers', () => {
  it('builds the events URL with ws/wss and the token', () => {
    expect(eventsUrl('http://127.0.0.1:7070', 'a b')).toBe('ws://127.0.0.1:7070/api/v1/events?token=a+b');
    expect(eventsUrl('https://deck.example', 't')).toBe('wss://deck.example/api/v1/events?token=t');
  });

  it('backs off exponentially with jitter, capped', () => {
    const mid = () => 0.5;
    expect(backoffDelay(0, 500, 10_000, mid)).toBe(500);
    expect(backoffDelay(1, 500, 10_000, mid)).toBe(1000);
    expect(backoffDelay(3, 500, 10_000, mid)).toBe(4000);
    expect(backoffDelay(10, 500, 10_000, mid)).toBe(10_000);
    expect(backoffDelay(0, 500, 10_000, () => 0)).toBe(400);
    expect(backoffDelay(0, 500, 10_000, () => 1)).toBe(600);
  });

  it('maps HTTP statuses back to error codes', () => {
    expect(codeForStatus(400)).toBe('validation');
    expect(codeForStatus(404)).toBe('not_found');
    expect(codeForStatus(502)).toBe('unreachable');
    expect(codeForStatus(504)).toBe('timeout');
    expect(codeForStatus(503)).toBe('internal');
    expect(codeForStatus(418)).toBe('validation');
  });
});
