import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { aboutText, buildMenuTemplate } from './menu';
import { mainWindowOptions } from './window';
import { DEFAULT_WINDOW_STATE, MIN_WIDTH, loadWindowState, saveWindowState } from './window-state';

const dir = mkdtempSync(join(tmpdir(), 'skydeck-winstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('main window options', () => {
  const opts = (isDev: boolean) => mainWindowOptions({ state: DEFAULT_WINDOW_STATE, preloadPath: '/app/out/preload/index.cjs', isDev, dark: false });

  it('has secure webPreferences', () => {
    const w = opts(false).webPreferences!;
    expect(w.contextIsolation).toBe(true);
    expect(w.nodeIntegration).toBe(false);
    expect(w.nodeIntegrationInWorker).toBe(false);
    expect(w.nodeIntegrationInSubFrames).toBe(false);
    expect(w.sandbox).toBe(true);
    expect(w.webSecurity).toBe(true);
    expect(w.allowRunningInsecureContent).toBe(false);
    expect(w.webviewTag).toBe(false);
    expect(w.preload).toBe('/app/out/preload/index.cjs');
  });

  it('allows DevTools only in development', () => {
    expect(opts(false).webPreferences!.devTools).toBe(false);
    expect(opts(true).webPreferences!.devTools).toBe(true);
  });

  it('starts hidden (shown on ready-to-show) and applies the saved bounds', () => {
    const o = mainWindowOptions({ state: { x: 5, y: 6, width: 1000, height: 700, maximized: false }, preloadPath: 'p', isDev: false, dark: true });
    expect(o).toMatchObject({ show: false, x: 5, y: 6, width: 1000, height: 700 });
  });
});

describe('window state', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];

  it('round-trips', () => {
    const f = join(dir, 'a.json');
    saveWindowState(f, { x: 100, y: 50, width: 1300, height: 900, maximized: true });
    expect(loadWindowState(f, screen)).toEqual({ x: 100, y: 50, width: 1300, height: 900, maximized: true });
  });

  it('gives defaults for a missing or corrupt file', () => {
    expect(loadWindowState(join(dir, 'missing.json'), screen)).toEqual(DEFAULT_WINDOW_STATE);
    const f = join(dir, 'corrupt.json');
    writeFileSync(f, '{not json');
    expect(loadWindowState(f, screen)).toEqual(DEFAULT_WINDOW_STATE);
    writeFileSync(f, '{"width":"huge","height":-5,"x":"1"}');
    const s = loadWindowState(f, screen);
    expect(s.width).toBe(DEFAULT_WINDOW_STATE.width);
    expect(s.height).toBeGreaterThanOrEqual(600);
    expect(s.x).toBeUndefined();
  });

  it('drops a position that is on no display and clamps tiny sizes', () => {
    const f = join(dir, 'off.json');
    writeFileSync(f, JSON.stringify({ x: 5000, y: 5000, width: 100, height: 100, maximized: false }));
    const s = loadWindowState(f, screen);
    expect(s.x).toBeUndefined();
    expect(s.y).toBeUndefined();
    expect(s.width).toBe(MIN_WIDTH);
  });

  it('saving to an unwritable place does not throw', () => {
    const f = join(dir, 'file-not-dir');
    writeFileSync(f, '');
    expect(() => saveWindowState(join(f, 'state.json'), DEFAULT_WINDOW_STATE)).not.toThrow();
    expect(readFileSync(f, 'utf8')).toBe('');
  });
});

describe('application menu', () => {
  const roles = (t: MenuItemConstructorOptions[]): string[] =>
    t.flatMap((i) => [...(i.role ? [String(i.role)] : []), ...(Array.isArray(i.submenu) ? roles(i.submenu) : [])]);
  const labels = (t: MenuItemConstructorOptions[]): string[] =>
    t.flatMap((i) => [...(i.label ? [i.label] : []), ...(Array.isArray(i.submenu) ? labels(i.submenu) : [])]);

  it('has File/Quit, View with reload and zoom, Help/About', () => {
    let about = 0;
    const t = buildMenuTemplate({ appName: 'Skydeck', isDev: false, platform: 'linux', showAbout: () => about++ });
    expect(t.map((i) => i.label)).toEqual(['&File', '&Edit', '&View', '&Help']);
    expect(roles(t)).toEqual(expect.arrayContaining(['quit', 'reload', 'resetZoom', 'zoomIn', 'zoomOut', 'copy', 'paste']));
    const item = (t[3]!.submenu as MenuItemConstructorOptions[]).find((i) => i.label === 'About Skydeck')!;
    (item.click as () => void)();
    expect(about).toBe(1);
  });

  it('offers DevTools only in development', () => {
    expect(roles(buildMenuTemplate({ appName: 'Skydeck', isDev: false, platform: 'win32', showAbout: () => {} }))).not.toContain('toggleDevTools');
    expect(roles(buildMenuTemplate({ appName: 'Skydeck', isDev: true, platform: 'win32', showAbout: () => {} }))).toContain('toggleDevTools');
  });

  it('has the app menu on macOS', () => {
    const t = buildMenuTemplate({ appName: 'Skydeck', isDev: false, platform: 'darwin', showAbout: () => {} });
    expect(t[0]!.label).toBe('Skydeck');
    expect(labels(t)).toContain('About Skydeck');
    expect(roles(t)).toContain('quit');
  });

  it('about text names the versions', () => {
    expect(aboutText({ app: '1.2.3', electron: '45.5.0', chrome: '140', node: '22' })).toContain('Version 1.2.3');
  });
});
