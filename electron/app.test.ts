import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBus } from '../main/events/bus';
import type { Core, CoreOptions } from '../main/core-types';
import { createLogger } from '../main/log/logger';
import { startDesktop, type DesktopDeps } from './app';
import { fake, FakeBrowserWindow, fakeEvent, resetFakes } from './fake-electron';
import { INVOKE_CHANNEL } from './ipc';
import { CSP } from './security';

let dataDir: string;
type SignalListener = (...args: unknown[]) => void;
let signalListeners: Array<[NodeJS.Signals, SignalListener[]]> = [];

beforeEach(() => {
  signalListeners = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, process.listeners(s) as SignalListener[]]);
  resetFakes();
  dataDir = mkdtempSync(join(tmpdir(), 'skydeck-app-'));
  fake.app.paths.userData = dataDir;
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // keep the desktop logger quiet
});
afterEach(() => {
  vi.restoreAllMocks();
  // remove only the signal handlers startDesktop added
  for (const [signal, before] of signalListeners) {
    for (const l of process.listeners(signal) as SignalListener[]) if (!before.includes(l)) process.removeListener(signal, l);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function fakeCore(): Core & { close: ReturnType<typeof vi.fn> } {
  return {
    dispatch: vi.fn(async () => 'ok'),
    events: new EventBus(),
    dataDir,
    logger: createLogger({ sink: () => {} }),
    consoles: { handleUpgrade: vi.fn(), setOrigin: vi.fn() },
    close: vi.fn(async () => {}),
  };
}

function deps(over: Partial<DesktopDeps> = {}): DesktopDeps {
  return {
    openCore: vi.fn(async () => fakeCore()),
    resolveDataDir: () => null,
    rendererDir: '/app/out/renderer',
    preloadPath: '/app/out/preload/index.cjs',
    argv: ['electron', '.'],
    env: {},
    ...over,
  };
}

describe('startDesktop', () => {
  it('opens the core on the userData dir and one secure window on app://skydeck/', async () => {
    const d = deps();
    const started = await startDesktop(d);
    expect(started).not.toBeNull();
    const opts = vi.mocked(d.openCore).mock.calls[0]![0] as CoreOptions;
    expect(opts.dataDir).toBe(resolve(dataDir));
    expect(opts.version).toBe('1.2.3');
    expect(opts.platform.kind).toBe('desktop');
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const win = FakeBrowserWindow.instances[0]!;
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true });
    expect(win.loadURL).toHaveBeenCalledWith('app://skydeck/index.html');
    expect(fake.protocol.registerSchemesAsPrivileged).toHaveBeenCalled();
    expect(fake.protocol.handlers.has('app')).toBe(true);
    expect(fake.ipcMain.handlers.has(INVOKE_CHANNEL)).toBe(true);
    expect(fake.app.enableSandbox).toHaveBeenCalled();
    expect(fake.Menu.setApplicationMenu).toHaveBeenCalled();
  });

  it('guards every web contents and sets the CSP on the default session', async () => {
    await startDesktop(deps());
    const win = FakeBrowserWindow.instances[0]!;
    expect(win.webContents.windowOpenHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    const nav = fakeEvent({ url: 'https://evil.example/' });
    win.webContents.emit('will-navigate', nav, nav.url);
    expect(nav.defaultPrevented).toBe(true);
    let headers: unknown;
    fake.defaultSession.headersHook!({ url: 'app://skydeck/index.html', responseHeaders: {} }, (r) => (headers = r));
    expect(headers).toEqual({ responseHeaders: { 'Content-Security-Policy': [CSP] } });
  });

  it('forwards core events to the window', async () => {
    const core = fakeCore();
    await startDesktop(deps({ openCore: async () => core }));
    core.events.emit({ type: 'resource.changed', kind: 'host', id: 'h', action: 'updated' });
    expect(FakeBrowserWindow.instances[0]!.webContents.sent).toHaveLength(1);
  });

  it('shows an error box and exits non-zero when the core cannot open, without a window', async () => {
    const r = await startDesktop(deps({ openCore: async () => Promise.reject(new Error('database was written by a newer Skydeck (schema 9)')) }));
    expect(r).toBeNull();
    expect(fake.dialog.showErrorBox).toHaveBeenCalledTimes(1);
    const [title, text] = fake.dialog.showErrorBox.mock.calls[0]!;
    expect(title).toMatch(/cannot start/);
    expect(text).toContain('database was written by a newer Skydeck (schema 9)');
    expect(text).toContain(resolve(dataDir));
    expect(fake.app.exit).toHaveBeenCalledWith(1);
    expect(FakeBrowserWindow.instances).toHaveLength(0);
    expect(fake.ipcMain.handlers.size).toBe(0);
  });

  it('quits a second instance without opening the core', async () => {
    fake.app.lock = false;
    const d = deps();
    expect(await startDesktop(d)).toBeNull();
    expect(fake.app.quit).toHaveBeenCalled();
    expect(d.openCore).not.toHaveBeenCalled();
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });

  it('focuses the window when a second instance starts', async () => {
    await startDesktop(deps());
    const win = FakeBrowserWindow.instances[0]!;
    win.minimized = true;
    fake.app.emit('second-instance');
    expect(win.minimized).toBe(false);
  });

  it('uses --data-dir as the data dir and as userData (single-instance lock per data dir)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'skydeck-app-other-'));
    try {
      const d = deps({ resolveDataDir: () => other });
      await startDesktop(d);
      expect(fake.app.setPath).toHaveBeenCalledWith('userData', resolve(other));
      expect((vi.mocked(d.openCore).mock.calls[0]![0] as CoreOptions).dataDir).toBe(resolve(other));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('closes the core before quitting', async () => {
    const core = fakeCore();
    let release!: () => void;
    core.close.mockImplementation(() => new Promise<void>((r) => (release = r)));
    await startDesktop(deps({ openCore: async () => core }));
    const first = fakeEvent();
    fake.app.emit('before-quit', first);
    expect(first.defaultPrevented).toBe(true);
    expect(core.close).toHaveBeenCalledTimes(1);
    // Consoles were served on a loopback listener, announced to the core.
    expect(core.consoles.setOrigin).toHaveBeenCalledWith(expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/));
    fake.app.emit('before-quit', fakeEvent()); // a second quit request while closing does not close twice
    expect(core.close).toHaveBeenCalledTimes(1);
    expect(fake.app.quit).not.toHaveBeenCalled();
    release();
    await vi.waitFor(() => expect(fake.app.quit).toHaveBeenCalled());
    expect(fake.ipcMain.handlers.size).toBe(0);
    const last = fakeEvent();
    fake.app.emit('before-quit', last);
    expect(last.defaultPrevented).toBe(false);
  });

  it('loads the dev server in development only', async () => {
    await startDesktop(deps({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } }));
    expect(FakeBrowserWindow.instances[0]!.loadURL).toHaveBeenCalledWith('http://localhost:5173');
  });

  it('ignores ELECTRON_RENDERER_URL in a packaged app', async () => {
    fake.app.isPackaged = true;
    await startDesktop(deps({ env: { ELECTRON_RENDERER_URL: 'http://evil.example:5173' } }));
    const win = FakeBrowserWindow.instances[0]!;
    expect(win.loadURL).toHaveBeenCalledWith('app://skydeck/index.html');
    expect(win.options.webPreferences?.devTools).toBe(false);
  });
});
