import type { Session, WebContents } from 'electron';

/**
 * The Content-Security-Policy of the app's own pages. Scripts only from the app itself (no inline, no eval); inline
 * styles are allowed because the UI library sets style attributes; images and fonts may be data:/blob: URLs;
 * connections only to the app and to a local Skydeck server (ws://127.0.0.1); no plugins, no <base>, no framing.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * In development the renderer comes from the electron-vite dev server (http://localhost:5173); its HMR client needs
 * a WebSocket back to that server, so connect-src also names it. Everything else stays as strict.
 */
export function cspFor(devServerUrl?: string | null): string {
  if (!devServerUrl) return CSP;
  const u = new URL(devServerUrl);
  const ws = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
  return CSP.replace("connect-src 'self' ws://127.0.0.1:*", `connect-src 'self' ws://127.0.0.1:* ${u.origin} ${ws}`);
}

/** True for URLs of the app's own pages: same origin as one of `origins` (e.g. `app://skydeck`). */
export function makeTrustedUrlCheck(origins: readonly string[]): (url: string | null | undefined) => boolean {
  const prefixes = origins.map((o) => o.replace(/\/+$/, '') + '/');
  return (url) => typeof url === 'string' && prefixes.some((p) => url === p.slice(0, -1) || url.startsWith(p));
}

export function isHttpUrl(url: string): boolean {
  try {
    const p = new URL(url).protocol;
    return p === 'http:' || p === 'https:';
  } catch {
    return false;
  }
}

/** The only permission the UI may have: writing sanitized text to the clipboard ("copy" buttons). */
/** Writing the clipboard (copy from a terminal), reading it on a paste shortcut, and full screen for consoles. */
export const ALLOWED_PERMISSIONS: readonly string[] = ['clipboard-sanitized-write', 'clipboard-read', 'fullscreen'];

/** The one kind of window the UI may open: a console in a window of its own (the route /console of our own pages). */
export function isConsoleWindowUrl(url: string, isTrustedUrl: (u: string) => boolean): boolean {
  if (!isTrustedUrl(url)) return false;
  try {
    return new URL(url).pathname === '/console';
  } catch {
    return false;
  }
}

export interface SessionSecurityOptions {
  isTrustedUrl: (url: string | null | undefined) => boolean;
  csp: string;
}

/** CSP on the app's own responses, and every permission request denied except clipboard-sanitized-write. */
export function installSessionSecurity(ses: Session, opts: SessionSecurityOptions): void {
  ses.webRequest.onHeadersReceived((details, callback) => {
    if (!opts.isTrustedUrl(details.url)) {
      callback({});
      return;
    }
    const headers: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(details.responseHeaders ?? {})) {
      if (k.toLowerCase() !== 'content-security-policy') headers[k] = v;
    }
    headers['Content-Security-Policy'] = [opts.csp];
    callback({ responseHeaders: headers });
  });

  ses.setPermissionRequestHandler((contents, permission, callback) => {
    callback(ALLOWED_PERMISSIONS.includes(permission) && opts.isTrustedUrl(contents.getURL()));
  });
  ses.setPermissionCheckHandler((contents, permission) => {
    return ALLOWED_PERMISSIONS.includes(permission) && opts.isTrustedUrl(contents?.getURL());
  });
}

export interface ContentsGuardOptions {
  isTrustedUrl: (url: string | null | undefined) => boolean;
  /** Opens an http(s) URL in the user's browser. */
  openExternal: (url: string) => void;
}

/**
 * Applied to every webContents the app creates (app.on('web-contents-created')): no navigation away from the app
 * (http(s) links go to the browser instead), no new windows but console windows of our own pages, no <webview>.
 */
export function guardWebContents(contents: WebContents, opts: ContentsGuardOptions): void {
  const onNavigate = (event: { preventDefault(): void; url?: string }, legacyUrl?: string) => {
    const url = event.url ?? legacyUrl ?? '';
    if (opts.isTrustedUrl(url)) return;
    event.preventDefault();
    if (isHttpUrl(url)) opts.openExternal(url);
  };
  contents.on('will-navigate', (event, url) => onNavigate(event, url));
  contents.on('will-frame-navigate', (event) => {
    if (!opts.isTrustedUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!opts.isTrustedUrl(event.url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    // A console in its own window: our page, with the opener's (sandboxed, isolated) web preferences.
    if (isConsoleWindowUrl(url, opts.isTrustedUrl)) return { action: 'allow', overrideBrowserWindowOptions: { width: 1100, height: 800, autoHideMenuBar: true } };
    if (isHttpUrl(url)) opts.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
