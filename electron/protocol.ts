import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { protocol } from 'electron';
import { CSP } from './security';
import { MIME } from '../main/server/mime';

/**
 * The renderer is served from a custom privileged scheme, `app://skydeck/`, rather than with `loadFile`:
 * - the pages get a real, stable origin (`app://skydeck`), so the IPC sender check, the CSP's `'self'` and the
 *   navigation guard compare against something that no other local file shares (every `file://` page has the same
 *   opaque origin, so "comes from file://" proves nothing);
 * - ES-module scripts, `fetch` and history-mode routing behave as on a web server;
 * - we decide exactly which files are reachable: only files under the renderer build directory, no path traversal,
 *   no directory listings, and our CSP header on every response.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'skydeck';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Must run before the app's `ready` event (Electron's rule for privileged schemes). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      // standard: relative URLs and a real origin; secure: treated like https (secure context);
      // supportFetchAPI: fetch() of our own assets; no bypassCSP, no service workers, no CORS exceptions.
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
  ]);
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/**
 * Maps an `app://skydeck/...` URL to a file under `rootDir`, or null when the URL is foreign or escapes the root.
 * Exported for tests.
 */
export function resolveAppPath(rootDir: string, rawUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null; // malformed percent-encoding
  }
  // NUL bytes and backslashes (a Windows separator that URL parsing leaves alone) never appear in our assets.
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const root = resolve(rootDir);
  const file = resolve(join(root, pathname === '/' || pathname === '' ? 'index.html' : pathname));
  const rel = relative(root, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return file;
}

/**
 * The `protocol.handle` handler: GET/HEAD of files under `rootDir` only. Unknown extension-less paths fall back to
 * index.html so that client-side routes survive a reload.
 */
export function createAppProtocolHandler(rootDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'Method not allowed');
    const file = resolveAppPath(rootDir, request.url);
    if (!file) return plain(403, 'Forbidden');
    let target = file;
    try {
      const st = await stat(target);
      if (!st.isFile()) return plain(404, 'Not found');
    } catch {
      if (extname(file) !== '') return plain(404, 'Not found');
      target = join(resolve(rootDir), 'index.html'); // SPA fallback for client-side routes
    }
    try {
      const body = await readFile(target);
      const headers: Record<string, string> = {
        'content-type': MIME[extname(target).toLowerCase()] ?? 'application/octet-stream',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      };
      // The CSP is also added by the session's onHeadersReceived hook; setting it here too means it holds even if
      // webRequest hooks do not see custom-protocol responses.
      if (target.endsWith('.html')) headers['content-security-policy'] = CSP;
      return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
    } catch {
      return plain(404, 'Not found');
    }
  };
}

/** Serves `rootDir` (out/renderer) on app://skydeck/. Call after `ready`. */
export function installAppProtocol(rootDir: string): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rootDir));
}
