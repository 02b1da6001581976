import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import type { ReportFile } from '@shared/contract/reports';
import { openCore } from '../main/core';
import type { Core, CoreOptions } from '../main/core-types';
import { EventBus } from '../main/events/bus';
import { createLogger } from '../main/log/logger';
import { call, reportFixture, runTask } from '../main/reports/testing';
import { tempDir, testCore } from '../main/test/helpers';
import { startDesktop, type DesktopApp, type DesktopDeps } from './app';
import { fake, FakeBrowserWindow, fakeEvent, resetFakes } from './fake-electron';
import { INVOKE_CHANNEL, type InvokeResult } from './ipc';
import { APP_ORIGIN } from './protocol';
import { snapshotFileFromArgv } from './snapshots';

/**
 * The desktop wiring of inventory snapshots, with the fake `electron` module and real cores: the live one is a fake,
 * every snapshot's core is the real composition root on a real `.sdsnap` written by the real export.
 */
let dir: { path: string; cleanup(): void };
let snapFile: string;
let corrupt: string;
let foreign: string;
let userData: string;
let tempRoot: string;
let started: DesktopApp | null = null;
let liveCore: Core & { dispatch: ReturnType<typeof vi.fn> };
type SignalListener = (...args: unknown[]) => void;
let signalListeners: Array<[NodeJS.Signals, SignalListener[]]> = [];

beforeAll(async () => {
  dir = tempDir('skydeck-desktop-snap-');
  const source = await testCore(join(dir.path, 'source'));
  try {
    reportFixture(source.db, { hosts: 4, guests: 12 });
    const t = await runTask(source, 'reports.exportSnapshot', { fileName: 'office' });
    expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
    snapFile = (t.result as ReportFile).path;
  } finally {
    await source.close();
  }
  corrupt = join(dir.path, 'damaged.sdsnap');
  writeFileSync(corrupt, Buffer.concat([Buffer.from('SKYDECK-SNAPSHOT\n'), Buffer.from('{"format":"skydeck.inventory-snapshot"')]));
  foreign = join(dir.path, 'holiday.sdsnap');
  writeFileSync(foreign, 'PK\u0003\u0004 not a snapshot at all');
}, 60_000);
afterAll(() => dir.cleanup());

beforeEach(() => {
  signalListeners = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, process.listeners(s) as SignalListener[]]);
  resetFakes();
  userData = join(dir.path, `live-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(userData);
  fake.app.paths.userData = userData;
  tempRoot = join(userData, 'tmp');
  mkdirSync(tempRoot);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  liveCore = {
    dispatch: vi.fn(async () => 'live'),
    events: new EventBus(),
    dataDir: userData,
    logger: createLogger({ sink: () => {} }),
    consoles: { handleUpgrade: vi.fn(), setOrigin: vi.fn() },
    close: vi.fn(async () => {}),
  };
});
afterEach(async () => {
  await started?.snapshots.closeAll();
  started = null;
  vi.restoreAllMocks();
  for (const [signal, before] of signalListeners) {
    for (const l of process.listeners(signal) as SignalListener[]) if (!before.includes(l)) process.removeListener(signal, l);
  }
});

function deps(over: Partial<DesktopDeps> = {}): DesktopDeps & { openCore: ReturnType<typeof vi.fn> } {
  return {
    openCore: vi.fn(async (o: CoreOptions) => (o.dataDir === userData ? liveCore : openCore({ ...o, logger: createLogger({ sink: () => {} }) }))),
    resolveDataDir: () => null,
    rendererDir: '/app/out/renderer',
    preloadPath: '/app/out/preload/index.cjs',
    argv: ['skydeck'],
    env: {},
    ...over,
  } as DesktopDeps & { openCore: ReturnType<typeof vi.fn> };
}

async function start(over: Partial<DesktopDeps> = {}) {
  const d = deps(over);
  // Snapshots unpack under this test's folder (the app uses the OS temp folder).
  process.env.TMPDIR = tempRoot;
  started = await startDesktop(d);
  expect(started).not.toBeNull();
  return d;
}

function fileMenu(): MenuItemConstructorOptions[] {
  const template = fake.Menu.buildFromTemplate.mock.calls.at(-1)![0] as MenuItemConstructorOptions[];
  return template.find((m) => m.label === '&File')!.submenu as MenuItemConstructorOptions[];
}
const item = (id: string) => fileMenu().find((m) => m.id === id)!;

/** What the page in `win` gets when it calls a command. */
function invoke(win: FakeBrowserWindow, name: string, input: unknown = {}): Promise<InvokeResult> {
  const handler = fake.ipcMain.handlers.get(INVOKE_CHANNEL) as unknown as (e: unknown, name: unknown, input: unknown) => Promise<InvokeResult>;
  return handler({ sender: win.webContents, senderFrame: { url: `${APP_ORIGIN}/index.html`, parent: null } }, name, input);
}

const snapshotWindows = () => FakeBrowserWindow.instances.slice(1);

describe('inventory snapshots on the desktop', () => {
  it('File → Open Inventory Snapshot… asks for a .sdsnap through the platform dialog and opens it read-only in a window of its own', async () => {
    const d = await start();
    expect(item('open-snapshot')).toMatchObject({ label: 'Open Inventory Snapshot…', accelerator: 'CmdOrCtrl+O' });
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [snapFile] });
    (item('open-snapshot').click as () => void)();
    await vi.waitFor(() => expect(snapshotWindows()).toHaveLength(1), { timeout: 10_000 });
    const dialogOptions = fake.dialog.showOpenDialog.mock.calls[0]!.at(-1) as { filters: unknown; properties: string[] };
    expect(dialogOptions.filters).toEqual([{ name: 'Skydeck inventory snapshot', extensions: ['sdsnap'] }]);
    expect(dialogOptions.properties).toEqual(['openFile']);

    // The snapshot's core: a new data directory, the real composition root, read-only, with the snapshot's date.
    const snapOptions = d.openCore.mock.calls[1]![0] as CoreOptions;
    expect(snapOptions.dataDir.startsWith(join(tempRoot, 'skydeck-snapshot-'))).toBe(true);
    expect(snapOptions.platform.kind).toBe('desktop');
    const win = snapshotWindows()[0]!;
    expect(win.title).toMatch(/^Skydeck — inventory snapshot of \d{4}-\d\d-\d\d \d\d:\d\d UTC from .+ \(read-only\)$/);
    expect(win.loadURL).toHaveBeenCalledWith('app://skydeck/index.html');
    const titleEvent = fakeEvent();
    win.emit('page-title-updated', titleEvent, 'Skydeck');
    expect(titleEvent.defaultPrevented).toBe(true);
    const info = await invoke(win, 'system.info');
    expect(info).toMatchObject({ ok: true, value: { readOnly: true } });
    const caps = await invoke(win, 'system.capabilities');
    expect((caps as { value: { inventoryOrigin: { kind: string } } }).value.inventoryOrigin.kind).toBe('snapshot');
    const guests = (await invoke(win, 'guests.list', { limit: 5 })) as { ok: true; value: { total: number } };
    expect(guests.value.total).toBeGreaterThan(0);
    // Writes are refused as in headless mode.
    const refused = await invoke(win, 'projects.create', { name: 'nope' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden', details: { reason: 'read_only_snapshot' } } });
    // The live window still talks to the live core.
    expect(await invoke(FakeBrowserWindow.instances[0]!, 'system.info')).toEqual({ ok: true, value: 'live' });
    expect(liveCore.dispatch).toHaveBeenCalledTimes(1);

    // Opening the same file again brings its window forward; Back to Live Inventory closes it and removes its data.
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [snapFile] });
    expect(await started!.snapshots.chooseAndOpen()).toBe(win);
    expect(snapshotWindows()).toHaveLength(1);
    const main = FakeBrowserWindow.instances[0]!;
    main.minimized = true;
    (item('back-to-live').click as (i: unknown, w: unknown) => void)({}, win);
    expect(win.destroyed).toBe(true);
    expect(main.minimized).toBe(false);
    await vi.waitFor(() => expect(existsSync(snapOptions.dataDir)).toBe(false));
    expect(await invoke(win, 'system.info')).toMatchObject({ ok: false, error: { code: 'forbidden', details: { reason: 'snapshot_closed' } } });
    expect(liveCore.dispatch).toHaveBeenCalledTimes(1);
    expect(liveCore.close).not.toHaveBeenCalled();
  });

  it('answers a damaged or foreign file with the same clear error as headless mode, in a dialog, and leaves nothing behind', async () => {
    await start();
    for (const [file, why] of [
      [corrupt, /damaged\.sdsnap is damaged: its header is incomplete/],
      [foreign, /holiday\.sdsnap is not a Skydeck inventory snapshot/],
    ] as const) {
      fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [file] });
      (item('open-snapshot').click as () => void)();
      await vi.waitFor(() => expect(fake.dialog.showErrorBox).toHaveBeenCalledTimes(file === corrupt ? 1 : 2));
      const [title, text] = fake.dialog.showErrorBox.mock.calls.at(-1)!;
      expect(title).toBe('Skydeck cannot open the snapshot');
      expect(text).toMatch(why);
    }
    expect(snapshotWindows()).toHaveLength(0);
    expect(readdirSync(tempRoot)).toEqual([]);
    // A cancelled dialog does nothing.
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await started!.snapshots.chooseAndOpen()).toBeNull();
    expect(fake.dialog.showErrorBox).toHaveBeenCalledTimes(2);
  });

  it('opens a .sdsnap named on the command line, by a second instance, or by the OS (macOS open-file, even before ready)', async () => {
    fake.app.emit('open-file', fakeEvent(), snapFile); // before startDesktop: nobody listens yet, as before Electron's ready
    const early = fakeEvent();
    const d = deps({ argv: ['skydeck', '--enable-logging', snapFile] });
    process.env.TMPDIR = tempRoot;
    const pending = startDesktop(d);
    fake.app.emit('open-file', early, snapFile); // while starting: queued
    expect(early.defaultPrevented).toBe(true);
    started = await pending;
    // argv and open-file name the same file: one window.
    await vi.waitFor(() => expect(snapshotWindows()).toHaveLength(1), { timeout: 10_000 });
    await vi.waitFor(() => expect(d.openCore).toHaveBeenCalledTimes(2));
    // A second instance started with a relative path, from its own working directory.
    const other = join(dir.path, 'copy');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'b.sdsnap'), (await import('node:fs')).readFileSync(snapFile));
    fake.app.emit('second-instance', fakeEvent(), ['Skydeck', 'b.sdsnap'], other);
    await vi.waitFor(() => expect(snapshotWindows()).toHaveLength(2), { timeout: 10_000 });
    // One without a snapshot only focuses the live window.
    const main = FakeBrowserWindow.instances[0]!;
    main.minimized = true;
    fake.app.emit('second-instance', fakeEvent(), ['Skydeck'], other);
    expect(main.minimized).toBe(false);
    expect(snapshotWindows()).toHaveLength(2);
    // Quitting closes every snapshot core and removes its directory.
    fake.app.emit('before-quit', fakeEvent());
    await vi.waitFor(() => expect(fake.app.quit).toHaveBeenCalled());
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('finds the snapshot on a command line', () => {
    expect(snapshotFileFromArgv(['skydeck', '.', 'a.sdsnap'], '/home/u')).toBe('/home/u/a.sdsnap');
    expect(snapshotFileFromArgv(['Skydeck', 'X.SDSNAP'], '/w')).toBe('/w/X.SDSNAP');
    expect(snapshotFileFromArgv(['skydeck', '/abs/x.sdsnap', '--flag'], '/w')).toBe('/abs/x.sdsnap');
    expect(snapshotFileFromArgv(['skydeck', '--data-dir=/d', 'notes.txt'], '/w')).toBeNull();
    expect(snapshotFileFromArgv(['x.sdsnap'], '/w')).toBeNull(); // argv[0] is the program
  });
});

describe('snapshot mode on plain Node (the desktop path without Electron)', () => {
  it('opens a real exported snapshot read-only: reads answer, writes are refused', async () => {
    const { openSnapshotInNewDataDir } = await import('../main/reports/snapshot');
    const { dataDir, header } = await openSnapshotInNewDataDir(snapFile, tempDir().path);
    const viewer = await testCore(dataDir);
    try {
      expect((await call(viewer, 'system.info')).readOnly).toBe(true);
      expect((await call(viewer, 'system.capabilities')).inventoryOrigin).toMatchObject({ kind: 'snapshot', at: header.createdAt });
      await expect(call(viewer, 'projects.create', { name: 'x' })).rejects.toMatchObject({ code: 'forbidden', details: { reason: 'read_only_snapshot', snapshotAt: header.createdAt } });
    } finally {
      await viewer.close();
    }
  });
});
