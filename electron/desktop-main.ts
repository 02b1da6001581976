/**
 * The composition root of the desktop app, loaded by the Electron entry (electron/main.ts). It only wires the control
 * plane (main/core.ts, plain Node) to the Electron shell (electron/app.ts); see app.ts for the start-up and quit sequence.
 */
import { join } from 'node:path';
import { app, dialog } from 'electron';
import { openCore } from '../main/core';
import { resolveDataDir } from '../main/paths';
import { startDesktop } from './app';

/** `here` is out/main (inside app.asar when packaged). */
export function runDesktop(here: string): void {
  startDesktop({
    openCore,
    resolveDataDir,
    rendererDir: join(here, '..', 'renderer'),
    preloadPath: join(here, '..', 'preload', 'index.cjs'),
    iconPath: join(here, '..', '..', 'resources', 'icon.png'),
    assetsDir: app.isPackaged ? process.resourcesPath : join(here, '..'),
  }).catch((e: unknown) => {
    // Only a bug in the start-up code itself lands here; the core's own failures are reported by startDesktop.
    console.error(e);
    try {
      dialog.showErrorBox('Skydeck cannot start', e instanceof Error ? e.message : String(e));
    } finally {
      app.exit(1);
    }
  });
}
