import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import type { Session, WebContents } from 'electron';
import { FakeSession, FakeWebContents, fakeEvent, resetFakes } from './fake-electron';
import { APP_ORIGIN } from './protocol';
import { CSP, cspFor, guardWebContents, installSessionSecurity, makeTrustedUrlCheck } from './security';

beforeEach(() => resetFakes());

const isTrustedUrl = makeTrustedUrlCheck([APP_ORIGIN]);

describe('trusted URL check', () => {
  it.each([
    ['app://skydeck/index.html', true],
    ['app://skydeck/', true],
    ['app://skydeck', true],
    ['app://skydeck.evil/index.html', false],
    ['app://skydeckx/index.html', false],
    ['app://other/index.html', false],
    ['https://skydeck/', false],
    ['file:///app/index.html', false],
    ['', false],
  ])('%s → %s', (url, ok) => expect(isTrustedUrl(url)).toBe(ok));

  it('handles null/undefined', () => {
    expect(isTrustedUrl(null)).toBe(false);
    expect(isTrustedUrl(undefined)).toBe(false);
  });
});

describe('CSP', () => {
  it('is the strict policy', () => {
    expect(CSP).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "font-src 'self' data:; connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(CSP).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
  });

  it('in development only adds the dev server to connect-src', () => {
    const dev = cspFor('http://localhost:5173/');
    expect(dev).toContain("connect-src 'self' ws://127.0.0.1:* http://localhost:5173 ws://localhost:5173");
    expect(dev.replace(' http://localhost:5173 ws://localhost:5173', '')).toBe(CSP);
    expect(cspFor(null)).toBe(CSP);
  });
});

describe('session security', () => {
  function install() {
    const ses = new FakeSession();
    installSessionSecurity(ses as unknown as Session, { isTrustedUrl, csp: CSP });
    return ses;
  }
  const headers = (ses: FakeSession, url: string, responseHeaders: Record<string, string[]>) => {
    let result: unknown;
    ses.headersHook!({ url, responseHeaders }, (r) => (result = r));
    return result as { responseHeaders?: Record<string, string[]> };
  };

  it("sets the CSP header on the app's own responses, replacing any other", () => {
    const ses = install();
    const r = headers(ses, 'app://skydeck/index.html', { 'content-type': ['text/html'], 'content-security-policy': ['default-src *'] });
    expect(r.responseHeaders).toEqual({ 'content-type': ['text/html'], 'Content-Security-Policy': [CSP] });
  });

  it('leaves other responses alone', () => {
    const ses = install();
    expect(headers(ses, 'https://example.com/', { a: ['b'] })).toEqual({});
  });

  it('grants clipboard-sanitized-write to the app and denies everything else', () => {
    const ses = install();
    const app = Object.assign(new FakeWebContents(), { url: 'app://skydeck/index.html' });
    const foreign = Object.assign(new FakeWebContents(), { url: 'https://evil.example/' });
    const ask = (wc: FakeWebContents, permission: string) => {
      let granted: boolean | undefined;
      ses.permissionRequestHandler!(wc, permission, (g: boolean) => (granted = g), {});
      return granted;
    };
    // Consoles: copy, paste on a shortcut, full screen.
    for (const p of ['clipboard-sanitized-write', 'clipboard-read', 'fullscreen']) expect(ask(app, p)).toBe(true);
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'hid', 'usb', 'serial']) {
      expect(ask(app, p)).toBe(false);
    }
    for (const p of ['clipboard-sanitized-write', 'clipboard-read', 'fullscreen']) expect(ask(foreign, p)).toBe(false);
    expect(ses.permissionCheckHandler!(app, 'clipboard-sanitized-write', 'app://skydeck', {})).toBe(true);
    expect(ses.permissionCheckHandler!(app, 'media', 'app://skydeck', {})).toBe(false);
    expect(ses.permissionCheckHandler!(null, 'clipboard-sanitized-write', '', {})).toBe(false);
  });
});

describe('web contents guard', () => {
  function guarded() {
    const wc = new FakeWebContents();
    const openExternal = vi.fn();
    guardWebContents(wc as unknown as WebContents, { isTrustedUrl, openExternal });
    return { wc, openExternal };
  }

  it('prevents navigation to a foreign URL and opens http(s) in the browser instead', () => {
    const { wc, openExternal } = guarded();
    const e = fakeEvent({ url: 'https://example.com/docs' });
    wc.emit('will-navigate', e, e.url);
    expect(e.defaultPrevented).toBe(true);
    expect(openExternal).toHaveBeenCalledWith('https://example.com/docs');
  });

  it.each(['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,<h1>x</h1>', 'app://skydeck.evil/'])('prevents navigation to %s without opening it', (url) => {
    const { wc, openExternal } = guarded();
    const e = fakeEvent({ url });
    wc.emit('will-navigate', e, url);
    expect(e.defaultPrevented).toBe(true);
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('allows navigation inside the app', () => {
    const { wc } = guarded();
    const e = fakeEvent({ url: 'app://skydeck/index.html' });
    wc.emit('will-navigate', e, e.url);
    expect(e.defaultPrevented).toBe(false);
  });

  it('prevents foreign frame navigations and redirects', () => {
    const { wc } = guarded();
    const f = fakeEvent({ url: 'https://evil.example/frame', isMainFrame: false });
    wc.emit('will-frame-navigate', f);
    expect(f.defaultPrevented).toBe(true);
    const r = fakeEvent({ url: 'https://evil.example/' });
    wc.emit('will-redirect', r);
    expect(r.defaultPrevented).toBe(true);
  });

  it('denies window.open but for console windows of our own pages, handing http(s) links to the browser', () => {
    const { wc, openExternal } = guarded();
    expect(wc.windowOpenHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledWith('https://example.com/');
    expect(wc.windowOpenHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler!({ url: 'app://skydeck/index.html' })).toEqual({ action: 'deny' });
    // …except a console in its own window, from our own pages only.
    expect(wc.windowOpenHandler!({ url: 'app://skydeck/console?kind=vnc&guestId=g1' })).toMatchObject({ action: 'allow' });
    expect(wc.windowOpenHandler!({ url: 'https://evil.example/console' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(2);
    expect(openExternal).toHaveBeenLastCalledWith('https://evil.example/console');
  });

  it('refuses <webview>', () => {
    const { wc } = guarded();
    const e = fakeEvent();
    wc.emit('will-attach-webview', e, {}, {});
    expect(e.defaultPrevented).toBe(true);
  });
});
