import type { BaseWindow, MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  appName: string;
  isDev: boolean;
  platform: NodeJS.Platform;
  showAbout: () => void;
  /** File → Open Inventory Snapshot…: the file dialog, then a read-only window of its own. */
  openSnapshot?: () => void;
  /** File → Back to Live Inventory, from the focused window (a snapshot window closes). */
  backToLive?: (focused: BaseWindow | undefined) => void;
}

/** The application menu: File (open an inventory snapshot, back to the live inventory, Quit), Edit (clipboard shortcuts), View (reload, zoom; DevTools in dev), Help (About). */
export function buildMenuTemplate(opts: MenuOptions): MenuItemConstructorOptions[] {
  const mac = opts.platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: `About ${opts.appName}`, click: () => opts.showAbout() };
  const template: MenuItemConstructorOptions[] = [];
  if (mac) {
    template.push({
      label: opts.appName,
      submenu: [about, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
    });
  }
  const snapshots: MenuItemConstructorOptions[] = [];
  if (opts.openSnapshot) snapshots.push({ id: 'open-snapshot', label: 'Open Inventory Snapshot…', accelerator: 'CmdOrCtrl+O', click: () => opts.openSnapshot!() });
  if (opts.backToLive) snapshots.push({ id: 'back-to-live', label: 'Back to Live Inventory', click: (_item, focused) => opts.backToLive!(focused) });
  if (snapshots.length) snapshots.push({ type: 'separator' });
  template.push({ label: '&File', submenu: [...snapshots, mac ? { role: 'close' } : { role: 'quit' }] });
  // Without an Edit menu, copy/paste shortcuts do not work on macOS.
  template.push({
    label: '&Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  });
  template.push({
    label: '&View',
    submenu: [
      { role: 'reload' },
      ...(opts.isDev ? [{ role: 'toggleDevTools' } as MenuItemConstructorOptions] : []),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  });
  template.push({ role: 'help', label: '&Help', submenu: [about] });
  return template;
}

export function aboutText(v: { app: string; electron?: string; chrome?: string; node?: string }): string {
  return [`Version ${v.app}`, `Electron ${v.electron ?? '?'}`, `Chromium ${v.chrome ?? '?'}`, `Node ${v.node ?? '?'}`].join('\n');
}
