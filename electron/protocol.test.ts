import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fake, resetFakes } from './fake-electron';
import { APP_INDEX_URL, createAppProtocolHandler, installAppProtocol, registerAppScheme, resolveAppPath } from './protocol';
import { CSP } from './security';

let base: string;
let root: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'skydeck-proto-'));
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Skydeck</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
  writeFileSync(join(base, 'renderer-evil.txt'), 'SIBLING');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeEach(() => resetFakes());

const get = (url: string, method = 'GET') => createAppProtocolHandler(root)(new Request(url, { method }));

describe('app:// scheme', () => {
  it('is registered as standard and secure, without CSP bypass', () => {
    registerAppScheme();
    const [schemes] = fake.protocol.registerSchemesAsPrivileged.mock.calls[0] as unknown as [Array<{ scheme: string; privileges: Record<string, boolean> }>];
    expect(schemes).toHaveLength(1);
    expect(schemes[0]!.scheme).toBe('app');
    expect(schemes[0]!.privileges).toMatchObject({ standard: true, secure: true });
    expect(schemes[0]!.privileges.bypassCSP).toBeFalsy();
    expect(schemes[0]!.privileges.corsEnabled).toBeFalsy();
  });

  it('installs a handler for the scheme', () => {
    installAppProtocol(root);
    expect(fake.protocol.handlers.has('app')).toBe(true);
  });
});

describe('protocol handler', () => {
  it('serves index.html with the CSP header', async () => {
    const r = await get(APP_INDEX_URL);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toContain('<title>Skydeck</title>');
  });

  it('serves / as index.html and assets with their MIME type', async () => {
    expect(await (await get('app://skydeck/')).text()).toContain('Skydeck');
    const js = await get('app://skydeck/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('falls back to index.html for client-side routes but 404s missing assets', async () => {
    const route = await get('app://skydeck/hosts/42');
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('Skydeck');
    expect((await get('app://skydeck/assets/missing.js')).status).toBe(404);
    expect((await get('app://skydeck/assets')).status).toBe(404); // a directory
  });

  it.each([
    'app://skydeck/%2e%2e/secret.txt',
    'app://skydeck/..%2fsecret.txt',
    'app://skydeck/assets/..%2f..%2fsecret.txt',
    'app://skydeck/%2E%2E%2Fsecret.txt',
    'app://skydeck/..%5csecret.txt',
    'app://skydeck/%2e%2e/renderer-evil.txt',
    'app://skydeck/%2fetc%2fpasswd',
    'app://skydeck/index.html%00.js',
    'app://skydeck/%E0%A4%A',
  ])('refuses path traversal: %s', async (url) => {
    const r = await get(url);
    const body = await r.text();
    // Refused, or (for an extension-less path that stays inside the root) the SPA fallback: never the file.
    if (r.status === 200) expect(body).toBe('<!doctype html><title>Skydeck</title>');
    else expect([403, 404]).toContain(r.status);
    expect(body).not.toContain('TOP SECRET');
    expect(body).not.toContain('SIBLING');
    expect(body).not.toContain('root:');
  });

  it('treats literal dot segments as staying inside the root (URL parsing removes them)', async () => {
    const r = await get('app://skydeck/../../secret.txt');
    expect(await r.text()).not.toContain('TOP SECRET');
  });

  it('refuses other hosts and methods', async () => {
    expect((await get('app://other/index.html')).status).toBe(403);
    expect((await get(APP_INDEX_URL, 'POST')).status).toBe(405);
  });

  it('answers HEAD without a body', async () => {
    const r = await get(APP_INDEX_URL, 'HEAD');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('');
  });

  it('resolveAppPath keeps results under the root', () => {
    expect(resolveAppPath(root, 'app://skydeck/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveAppPath(root, 'app://skydeck/..%2fsecret.txt')).toBeNull();
    expect(resolveAppPath(root, 'app://skydeck/assets/..%2f..%2f..%2fsecret.txt')).toBeNull();
    // %2e%2e is a dot segment to the URL parser itself: it is removed before we see the path, so it stays inside.
    expect(resolveAppPath(root, 'app://skydeck/%2e%2e/secret.txt')).toBe(join(root, 'secret.txt'));
    expect(resolveAppPath(root, 'https://skydeck/index.html')).toBeNull();
    expect(resolveAppPath(root, 'not a url')).toBeNull();
  });
});
