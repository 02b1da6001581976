import { rm } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { dialog, type BrowserWindow, type WebContents } from 'electron';
import { ApiError } from '@shared/errors';
import { SNAPSHOT_EXTENSION } from '@shared/contract/reports';
import type { Core, CoreOptions } from '../main/core-types';
import type { Logger } from '../main/log/logger';
import type { PlatformPort } from '../main/platform/port';
import { openSnapshotInNewDataDir, SNAPSHOT_OPEN_FAILED, type SnapshotHeader } from '../main/reports/snapshot';

/**
 * Inventory snapshots in the desktop app. Each opened `.sdsnap` gets a window of its own with a core of its own, on a
 * new temporary data directory the file is unpacked into (main/reports/snapshot.ts, exactly as `serve --snapshot`),
 * so the live inventory's core, its tasks and schedules keep running untouched beside it. That core knows it is a
 * snapshot (its database says so): every change is refused (`read_only_snapshot`) and the UI shows the snapshot's date.
 * Closing the window closes its core and removes its directory; "Back to live inventory" closes it and brings the
 * main window forward.
 */
export const SNAPSHOT_FILTERS = [{ name: 'Skydeck inventory snapshot', extensions: [SNAPSHOT_EXTENSION] }];

export interface SnapshotWindowsOptions {
  /** Opens a core on a data directory (the same composition root as the live one). */
  openCore: (options: CoreOptions) => Promise<Core>;
  /** Everything but the data directory, as for the live core. */
  coreOptions: Omit<CoreOptions, 'dataDir'>;
  platform: Pick<PlatformPort, 'chooseOpenFile'>;
  /** Opens the app's UI in a new window served by `core`. */
  createWindow: (core: Core, title: string) => BrowserWindow;
  logger: Logger;
  /** Where snapshots are unpacked (default: the OS temp folder). */
  tempRoot?: string;
}

interface Opened {
  file: string;
  core: Core;
  dataDir: string;
  win: BrowserWindow;
  closed: Promise<void>;
}

/** A `.sdsnap` file named on a command line (the OS passes the file it opens), made absolute against `cwd`. */
export function snapshotFileFromArgv(argv: readonly string[], cwd: string): string | null {
  for (let i = argv.length - 1; i >= 1; i--) {
    const a = argv[i]!;
    if (a.startsWith('-')) continue;
    if (a.toLowerCase().endsWith(`.${SNAPSHOT_EXTENSION}`)) return isAbsolute(a) ? a : resolve(cwd, a);
  }
  return null;
}

export function snapshotWindowTitle(h: Pick<SnapshotHeader, 'createdAt' | 'source'>): string {
  return `Skydeck — inventory snapshot of ${h.createdAt.slice(0, 16).replace('T', ' ')} UTC from ${h.source.host} (read-only)`;
}

export class SnapshotWindows {
  private readonly open = new Map<WebContents, Opened>();
  /** Files being unpacked: asked again meanwhile (argv and open-file both name it), they answer the same window. */
  private readonly opening = new Map<string, Promise<BrowserWindow | null>>();
  /** Senders that belonged to a snapshot window (their core may be closed): never routed to the live core. */
  private readonly everSnapshot = new WeakSet<WebContents>();
  private readonly log: Logger;

  constructor(private readonly o: SnapshotWindowsOptions) {
    this.log = o.logger.scope('snapshots');
  }

  /** The core behind a snapshot window; null for any other sender (the live core answers those). */
  coreFor(sender: WebContents): Pick<Core, 'dispatch'> | null {
    const o = this.open.get(sender);
    if (o) return o.core;
    if (this.everSnapshot.has(sender)) {
      return {
        dispatch: () => Promise.reject(new ApiError('forbidden', 'This inventory snapshot has been closed', { reason: 'snapshot_closed' })),
      };
    }
    return null;
  }

  isSnapshotWindow(win: BrowserWindow | null | undefined): boolean {
    return !!win && !win.isDestroyed() && this.open.has(win.webContents);
  }

  /** The file dialog (filtered to .sdsnap, through the platform port), then open(). */
  async chooseAndOpen(): Promise<BrowserWindow | null> {
    const file = await this.o.platform.chooseOpenFile({ title: 'Open inventory snapshot', filters: SNAPSHOT_FILTERS });
    return file ? this.openFile(file) : null;
  }

  /**
   * Opens `file` read-only in a window of its own (or brings forward the window that has it open). A file that is
   * not a snapshot, is damaged or comes from a newer Skydeck is answered with an error dialog saying so.
   */
  openFile(file: string): Promise<BrowserWindow | null> {
    const path = resolve(file);
    const inFlight = this.opening.get(path);
    if (inFlight) return inFlight;
    const p = this.openPath(path).finally(() => this.opening.delete(path));
    this.opening.set(path, p);
    return p;
  }

  private async openPath(path: string): Promise<BrowserWindow | null> {
    for (const o of this.open.values()) {
      if (o.file === path && !o.win.isDestroyed()) {
        if (o.win.isMinimized()) o.win.restore();
        o.win.show();
        o.win.focus();
        return o.win;
      }
    }
    let unpacked: { dataDir: string; header: SnapshotHeader } | null = null;
    let core: Core;
    try {
      unpacked = await openSnapshotInNewDataDir(path, this.o.tempRoot);
      core = await this.o.openCore({ ...this.o.coreOptions, dataDir: unpacked.dataDir });
    } catch (e) {
      this.log.warn('a snapshot could not be opened', { file: path, error: e });
      if (unpacked) await rm(unpacked.dataDir, { recursive: true, force: true }).catch(() => undefined);
      dialog.showErrorBox(SNAPSHOT_OPEN_FAILED, e instanceof Error ? e.message : String(e));
      return null;
    }
    const win = this.o.createWindow(core, snapshotWindowTitle(unpacked.header));
    const contents = win.webContents;
    this.everSnapshot.add(contents);
    let done!: () => void;
    const opened: Opened = { file: path, core, dataDir: unpacked.dataDir, win, closed: new Promise<void>((r) => (done = r)) };
    this.open.set(contents, opened);
    win.once('closed', () => {
      void this.dispose(contents).finally(done);
    });
    this.log.info('inventory snapshot opened', { file: path, createdAt: unpacked.header.createdAt, dataDir: unpacked.dataDir });
    return win;
  }

  /** Closes a snapshot window; its core and directory go with it. */
  async close(win: BrowserWindow): Promise<void> {
    const o = this.open.get(win.webContents);
    if (!o) return;
    if (!win.isDestroyed()) win.close();
    await o.closed;
  }

  /** Closes every snapshot's core and removes its directory (quitting). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((c) => this.dispose(c)));
  }

  private async dispose(contents: WebContents): Promise<void> {
    const o = this.open.get(contents);
    if (!o) return;
    this.open.delete(contents);
    try {
      await o.core.close();
    } catch (e) {
      this.log.error('closing a snapshot core failed', { error: e });
    }
    await rm(o.dataDir, { recursive: true, force: true }).catch((e: unknown) => this.log.warn('a snapshot directory was not removed', { dataDir: o.dataDir, error: e }));
    this.log.info('inventory snapshot closed', { file: o.file });
  }
}
