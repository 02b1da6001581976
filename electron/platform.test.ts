import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname } from 'node:path';
import type { BrowserWindow } from 'electron';
import { ApiError } from '@shared/errors';
import { fake, FakeBrowserWindow, electronModule, resetFakes } from './fake-electron';
import { ElectronPlatform } from './platform';

const realPlatform = process.platform;
const setOs = (p: NodeJS.Platform) => Object.defineProperty(process, 'platform', { value: p, configurable: true });

beforeEach(() => resetFakes());
afterEach(() => setOs(realPlatform));

describe('ElectronPlatform identity', () => {
  it('is the desktop platform of the current OS user', () => {
    const p = new ElectronPlatform();
    expect(p.kind).toBe('desktop');
    expect(p.localActor).toMatch(/^desktop:.+/);
    expect(p.electronVersion).toBe(process.versions.electron ?? null);
  });
});

describe('openExternal', () => {
  it.each(['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'smb://host/share', 'not a url', ''])('refuses %s', async (url) => {
    await expect(new ElectronPlatform().openExternal(url)).rejects.toThrow(Error);
    expect(fake.shell.openExternal).not.toHaveBeenCalled();
  });

  it('opens http and https URLs', async () => {
    const p = new ElectronPlatform();
    await p.openExternal('https://example.com/a?b=1');
    await p.openExternal('http://example.com/');
    expect(fake.shell.openExternal.mock.calls).toEqual([['https://example.com/a?b=1'], ['http://example.com/']]);
  });
});

describe('secrets', () => {
  it('round-trips through safeStorage as base64', async () => {
    setOs('linux');
    const p = new ElectronPlatform();
    const secret = Buffer.from([0, 1, 2, 250, 255]);
    const wrapped = await p.protectSecret(secret);
    expect(fake.safeStorage.encryptStringAsync).toHaveBeenCalledWith(secret.toString('base64'));
    expect(await p.unprotectSecret(wrapped)).toEqual(secret);
  });

  it('refuses when encryption is unavailable', async () => {
    fake.safeStorage.available = false;
    const p = new ElectronPlatform();
    const err = await p.protectSecret(Buffer.from('k')).catch((e: unknown) => e);
    expect(ApiError.is(err) && err.code).toBe('not_supported');
    await expect(p.unprotectSecret(Buffer.from('enc:aw=='))).rejects.toThrow(/not available/);
    expect(fake.safeStorage.encryptStringAsync).not.toHaveBeenCalled();
    expect(fake.safeStorage.decryptStringAsync).not.toHaveBeenCalled();
  });

  it("refuses Linux's basic_text backend and says why", async () => {
    setOs('linux');
    fake.safeStorage.backend = 'basic_text';
    const err = await new ElectronPlatform().protectSecret(Buffer.from('k')).catch((e: unknown) => e);
    expect(ApiError.is(err)).toBe(true);
    const e = err as ApiError;
    expect(e.code).toBe('not_supported');
    expect(e.message).toMatch(/basic_text/);
    expect(e.message).toMatch(/keyring/i);
    expect(e.details).toMatchObject({ reason: 'no_keyring', backend: 'basic_text' });
    expect(fake.safeStorage.encryptStringAsync).not.toHaveBeenCalled();
  });

  it('does not ask for the Linux backend on other OSes', async () => {
    setOs('darwin');
    fake.safeStorage.backend = 'basic_text';
    await new ElectronPlatform().protectSecret(Buffer.from('k'));
    expect(fake.safeStorage.getSelectedStorageBackend).not.toHaveBeenCalled();
  });
});

describe('notify', () => {
  it('shows a native notification when supported', () => {
    new ElectronPlatform().notify({ level: 'error', title: 'Backup failed', body: 'disk full' });
    const shown = electronModule.FakeNotification.shown;
    expect(shown).toHaveLength(1);
    expect(shown[0]!.options).toMatchObject({ title: 'Backup failed', body: 'disk full', urgency: 'critical' });
  });

  it('focuses the window on click', () => {
    const win = new FakeBrowserWindow();
    win.minimized = true;
    new ElectronPlatform({ getWindow: () => win as unknown as BrowserWindow }).notify({ level: 'info', title: 't', body: 'b' });
    electronModule.FakeNotification.shown[0]!.emit('click');
    expect(win.minimized).toBe(false);
    expect(win.visible).toBe(true);
  });

  it('does nothing when notifications are unsupported', () => {
    electronModule.FakeNotification.supported = false;
    new ElectronPlatform().notify({ level: 'info', title: 't', body: 'b' });
    expect(electronModule.FakeNotification.shown).toHaveLength(0);
  });
});

describe('file dialogs', () => {
  it('returns the chosen paths, or null when cancelled', async () => {
    const p = new ElectronPlatform();
    expect(await p.chooseSaveFile({ title: 'Save', defaultPath: 'report.pdf', filters: [{ name: 'PDF', extensions: ['pdf'] }] })).toBe('/tmp/out.pdf');
    expect(await p.chooseOpenFile({ title: 'Open' })).toBe('/tmp/in.json');
    fake.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await p.chooseSaveFile({ title: 'Save' })).toBeNull();
    expect(await p.chooseOpenFile({ title: 'Open' })).toBeNull();
  });

  it('parents dialogs to the main window', async () => {
    const win = new FakeBrowserWindow();
    await new ElectronPlatform({ getWindow: () => win as unknown as BrowserWindow }).chooseOpenFile({ title: 'Open' });
    expect(fake.dialog.showOpenDialog.mock.calls[0]![0]).toBe(win);
  });
});

describe('printToPdf', () => {
  it('renders in a hidden sandboxed window without JavaScript, then destroys it and its temp file', async () => {
    const pdf = await new ElectronPlatform().printToPdf('<h1>Report</h1>', { landscape: true, pageSize: 'Letter', printBackground: false });
    expect(pdf.toString()).toContain('%PDF');
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const win = FakeBrowserWindow.instances[0]!;
    expect(win.options.show).toBe(false);
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, javascript: false, contextIsolation: true, nodeIntegration: false });
    expect(win.options.webPreferences?.preload).toBeUndefined();
    expect(win.webContents.printToPDF).toHaveBeenCalledWith({ landscape: true, pageSize: 'Letter', printBackground: false });
    expect(win.isDestroyed()).toBe(true);
    const file = win.loadFile.mock.calls[0]![0];
    expect(existsSync(dirname(file))).toBe(false);
  });

  it('destroys the window when printing fails', async () => {
    FakeBrowserWindow.onCreate = (w) => w.webContents.printToPDF.mockRejectedValueOnce(new Error('print failed'));
    await expect(new ElectronPlatform().printToPdf('<p>x</p>')).rejects.toThrow('print failed');
    expect(FakeBrowserWindow.instances[0]!.isDestroyed()).toBe(true);
  });

  it('the print session only lets the document itself load', async () => {
    const allowedDuringJob: unknown[] = [];
    FakeBrowserWindow.onCreate = (w) => {
      expect(w.options.webPreferences?.session).toBe(fake.partitions.get('skydeck-print'));
      w.loadFile.mockImplementationOnce(async (f: string) => {
        const hook = fake.partitions.get('skydeck-print')!.beforeRequestHook!;
        hook({ url: pathToFileURL(f).href }, (r) => allowedDuringJob.push(r));
        hook({ url: pathToFileURL(f + '.other').href }, (r) => allowedDuringJob.push(r));
        w.webContents.url = pathToFileURL(f).href;
      });
    };
    const p = new ElectronPlatform();
    await p.printToPdf('<p>x</p>');
    expect(allowedDuringJob).toEqual([{ cancel: false }, { cancel: true }]);
    const ses = fake.partitions.get('skydeck-print')!;
    const file = FakeBrowserWindow.instances[0]!.loadFile.mock.calls[0]![0];
    expect(fileURLToPath(FakeBrowserWindow.instances[0]!.webContents.url)).toBe(file);
    const decide = (url: string) => {
      let r: unknown;
      ses.beforeRequestHook!({ url }, (x) => (r = x));
      return r;
    };
    // after the job no document is current: everything but data:/blob: is cancelled
    expect(decide('https://example.com/tracker.png')).toEqual({ cancel: true });
    expect(decide('file:///etc/passwd')).toEqual({ cancel: true });
    expect(decide('data:image/png;base64,AAAA')).toEqual({ cancel: false });
  });

  it('destroys the window when loading hangs past the timeout', async () => {
    FakeBrowserWindow.onCreate = (w) => w.loadFile.mockImplementationOnce(() => new Promise(() => {}));
    await expect(new ElectronPlatform({ pdfTimeoutMs: 20 }).printToPdf('<p>x</p>')).rejects.toMatchObject({ code: 'timeout' });
    expect(FakeBrowserWindow.instances[0]!.isDestroyed()).toBe(true);
  });

  it('runs one job at a time', async () => {
    let maxAlive = 0;
    FakeBrowserWindow.onCreate = () => {
      maxAlive = Math.max(maxAlive, FakeBrowserWindow.instances.filter((w) => !w.isDestroyed()).length);
    };
    const p = new ElectronPlatform();
    const [a, b] = await Promise.all([p.printToPdf('<p>a</p>'), p.printToPdf('<p>b</p>')]);
    expect(a && b).toBeTruthy();
    expect(maxAlive).toBe(1);
    expect(FakeBrowserWindow.instances.map((w) => w.isDestroyed())).toEqual([true, true]);
  });

  it('uses A4 and backgrounds by default', async () => {
    await new ElectronPlatform().printToPdf('<p>x</p>');
    expect(FakeBrowserWindow.instances[0]!.webContents.printToPDF).toHaveBeenCalledWith({ landscape: false, pageSize: 'A4', printBackground: true });
  });
});
