import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { listRoutes } from '@shared/contract';
import { ApiError, HTTP_STATUS, type ErrorBody } from '@shared/errors';
import type { Core } from '../core-types';
import type { Logger } from '../log/logger';
import { openApiDocument } from '../api/openapi';
import { MIME } from './mime';

/**
 * The headless transport: `POST /api/v1/<command>`, `GET /api/v1/<resource>` for lists, a WebSocket of events at
 * `/api/v1/events`, the OpenAPI document, and the built renderer. It holds no logic of its own: every call goes to
 * `core.dispatch`. Loopback only by default, every API call behind a random bearer token, Host and Origin checked
 * against DNS rebinding.
 */
export interface HttpServerOptions {
  core: Core;
  logger: Logger;
  version: string;
  host?: string;
  port?: number;
  /** Fixed token (e.g. for a shared team server); default: 32 random bytes per start. */
  token?: string;
  /** The built renderer (out/renderer). */
  staticDir?: string;
  maxBodyBytes?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  token: string;
  server: Server;
  close(): Promise<void>;
}

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
  "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Console WebSockets: /api/v1/consoles/<one-time ticket>. */
const CONSOLE_PATH = '/api/v1/consoles/';

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > max) {
      reject(new BodyTooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startHttpServer(o: HttpServerOptions): Promise<RunningServer> {
  const log = o.logger.scope('http');
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? randomBytes(32).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const maxBody = o.maxBodyBytes ?? 1024 * 1024;
  const staticDir = o.staticDir ? resolve(o.staticDir) : null;
  let openapi: string | null = null;

  const tokenOk = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const b = Buffer.from(candidate);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  const bearer = (req: IncomingMessage): string | null => {
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    return m ? m[1]! : null;
  };
  /** On loopback, only loopback host names may address us: a page on another site cannot rebind its name to 127.0.0.1. */
  const hostOk = (req: IncomingMessage): boolean => {
    if (!isLoopback(host)) return true;
    const h = req.headers.host ?? '';
    const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.split(':')[0]!;
    return isLoopback(name);
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length, 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...headers });
    res.end(data);
  };
  const sendError = (res: ServerResponse, err: ApiError, headers: Record<string, string> = {}) => {
    const body: ErrorBody = err.toBody();
    send(res, HTTP_STATUS[err.code], body, headers);
  };

  const actorOf = (req: IncomingMessage) => `api:${req.socket.remoteAddress ?? 'unknown'}`;

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice('/api/v1/'.length);
    if (req.method === 'GET' && path === 'openapi.json') {
      openapi ??= JSON.stringify(openApiDocument(o.version));
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
      res.end(openapi);
      return;
    }
    if (req.method === 'GET' && path === 'health') return send(res, 200, { ok: true });
    if (!tokenOk(bearer(req))) {
      return sendError(res, new ApiError('unauthenticated', 'Missing or wrong API token: send Authorization: Bearer <token> (printed by `npm run serve`)'), {
        'WWW-Authenticate': 'Bearer realm="skydeck"',
      });
    }
    const ctx = { actor: actorOf(req), transport: 'http' as const };

    if (req.method === 'GET' && path === 'metrics') {
      // Prometheus text exposition of current values (scrape with metrics_path /api/v1/metrics and the bearer token).
      const { text } = (await o.core.dispatch('monitoring.exposition', {}, ctx)) as { text: string };
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
      res.end(text);
      return;
    }
    if (req.method === 'GET' && path.startsWith('exports/')) {
      // Files written by export tasks, downloaded by the browser (the desktop app opens them from disk).
      const name = path.slice('exports/'.length);
      const file = join(o.core.dataDir, 'exports', name);
      if (!/^[A-Za-z0-9._-]+\.(csv|xlsx|pdf|sdsnap)$/.test(name) || !existsSync(file)) throw new ApiError('not_found', `No export ${name}`);
      res.writeHead(200, {
        'Content-Type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : name.endsWith('.pdf') ? 'application/pdf' : 'application/octet-stream',
        'Content-Length': statSync(file).size,
        'Content-Disposition': `attachment; filename="${name}"`,
        'Cache-Control': 'no-store',
        ...SECURITY_HEADERS,
      });
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
      return;
    }
    if (req.method === 'GET') {
      const command = listRoutes[path];
      if (!command) throw new ApiError('not_found', `No resource list ${path}`, { resource: path });
      const input: Record<string, unknown> = {};
      const filter = url.searchParams.getAll('filter');
      if (filter.length) input.filter = filter;
      for (const [k, v] of url.searchParams) {
        if (k === 'filter') continue;
        if (k in input) throw new ApiError('validation', `query parameter ${k} given twice`, { issues: [{ path: k, message: 'given twice', code: 'duplicate' }] });
        else input[k] = v;
      }
      return send(res, 200, await o.core.dispatch(command, input, ctx));
    }
    if (req.method !== 'POST') {
      return sendError(res, new ApiError('not_found', `${req.method} is not served here: commands are POST /api/v1/<command>`), { Allow: 'GET, POST' });
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        res.setHeader('Connection', 'close');
        return sendError(res, new ApiError('payload_too_large', `Request body over the limit of ${maxBody} bytes`, { limit: maxBody }));
      }
      throw e;
    }
    let input: unknown = {};
    if (body.length > 0) {
      if (type !== 'application/json') {
        throw new ApiError('unsupported_media_type', `Send the input as application/json (got ${type || 'no content type'})`);
      }
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch (e) {
        throw new ApiError('validation', `Malformed JSON: ${(e as Error).message}`, { issues: [{ path: '', message: 'malformed JSON', code: 'invalid_json' }] });
      }
    }
    send(res, 200, await o.core.dispatch(path, input, ctx));
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, url: URL): void {
    try {
      serveFile(req, res, url);
    } catch (e) {
      // e.g. out/ is being rebuilt under us: answer, never crash the server.
      log.warn('static file failed', { path: url.pathname, error: e });
      if (!res.headersSent) res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' }).end('The UI files are not readable right now; retry in a moment.');
      else res.destroy();
    }
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (!staticDir) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('The renderer is not built: run `npm run build`.');
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = normalize(join(staticDir, rel));
    if (file !== staticDir && !file.startsWith(staticDir + sep)) {
      res.writeHead(403).end();
      return;
    }
    // The app's routes (history mode) all answer the single page.
    if (!existsSync(file) || statSync(file).isDirectory()) {
      if (extname(rel)) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
        return;
      }
      file = join(staticDir, 'index.html');
    }
    const isAsset = rel.startsWith('/assets/');
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'Content-Security-Policy': CSP,
      ...SECURITY_HEADERS,
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!hostOk(req)) {
      sendError(res, new ApiError('forbidden', `Host ${req.headers.host} is not allowed: use 127.0.0.1`));
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      if (!url.pathname.startsWith('/api/v1/')) {
        sendError(res, new ApiError('not_found', `Unknown API path ${url.pathname}: this server speaks /api/v1/`));
        return;
      }
      handleApi(req, res, url).catch((e: unknown) => {
        const err = ApiError.is(e) ? e : new ApiError('internal', 'Internal error');
        if (!ApiError.is(e)) log.error('request failed', { path: url.pathname, error: e });
        if (!res.headersSent) sendError(res, err);
        else res.end();
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    serveStatic(req, res, url);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;

  // Events: one WebSocket per browser tab. The token rides in the query string (browsers cannot set headers on it).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const isConsole = url.pathname.startsWith(CONSOLE_PATH);
    if (url.pathname !== '/api/v1/events' && !isConsole) return reject(404, 'Not Found');
    if (!hostOk(req)) return reject(403, 'Forbidden');
    const origin = req.headers.origin;
    if (origin && !sameOrigin(origin, req.headers.host)) return reject(403, 'Forbidden');
    // A console's one-time ticket (from the authenticated consoles.open) is its credential.
    if (isConsole) return o.core.consoles.handleUpgrade(req, socket, head);
    if (!tokenOk(url.searchParams.get('token') ?? bearer(req))) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
      // Events flow one way; anything a client sends is ignored.
    });
  });
  const offEvents = o.core.events.on((event) => {
    if (clients.size === 0) return;
    const data = JSON.stringify(event);
    for (const ws of clients) {
      // A tab that stopped reading must not grow our memory without bound: drop it; it reconnects and refetches.
      if (ws.bufferedAmount > 8 * 1024 * 1024) ws.terminate();
      else ws.send(data);
    }
  });
  const ping = setInterval(() => clients.forEach((ws) => ws.ping()), 30_000);
  ping.unref();

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${boundPort}/?token=${token}`;
  log.info('listening', { host, port: boundPort });
  return {
    url,
    port: boundPort,
    host,
    token,
    server,
    async close() {
      offEvents();
      clearInterval(ping);
      for (const ws of clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
