import { join, resolve } from 'node:path';
import { BrowserWindow, Menu, app, dialog, nativeTheme, screen, session, shell } from 'electron';
import type { Core, CoreOptions } from '../main/core-types';
import type { Logger } from '../main/log/logger';
import { kvmAssetsIn } from '../main/paths';
import { forwardEvents, registerIpc } from './ipc';
import { createDesktopLogger } from './log';
import { aboutText, buildMenuTemplate } from './menu';
import { ElectronPlatform } from './platform';
import { APP_INDEX_URL, APP_ORIGIN, installAppProtocol, registerAppScheme } from './protocol';
import { cspFor, guardWebContents, installSessionSecurity, isHttpUrl, makeTrustedUrlCheck } from './security';
import { SnapshotWindows, snapshotFileFromArgv } from './snapshots';
import { mainWindowOptions } from './window';
import { WINDOW_STATE_FILE, loadWindowState, trackWindowState } from './window-state';
import { startConsoleListener } from '../main/consoles/listener';

export interface DesktopDeps {
  openCore: (options: CoreOptions) => Promise<Core>;
  resolveDataDir: (argv: string[], env: NodeJS.ProcessEnv) => string | null;
  /** out/renderer: the built UI, served on app://skydeck/. */
  rendererDir: string;
  /** out/preload/index.cjs */
  preloadPath: string;
  /** Where the agent bundle and the Node runtimes for KVM hosts are: out/ in development, the resources folder packaged. */
  assetsDir?: string;
  /** The window icon (Linux/Windows in development; packaged builds use the installer's icon). */
  iconPath?: string;
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface DesktopApp {
  core: Core;
  /** Inventory snapshots opened read-only, each in a window with a core of its own. */
  snapshots: SnapshotWindows;
  logger: Logger;
  dataDir: string;
  getWindow(): BrowserWindow | null;
}

/** The text of the error box when the core cannot open: its message, where the data is, and how to pick another. */
export function startupFailureMessage(e: unknown, dataDir: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (
    `${msg}\n\nData folder: ${dataDir}\n\n` +
    'Skydeck has not changed anything. Fix the problem above, or start Skydeck with another data folder ' +
    '(--data-dir=FOLDER or the SKYDECK_DATA_DIR environment variable).'
  );
}

/**
 * Starts the desktop app. Everything that has to happen before `ready` (privileged scheme, sandbox, data dir as
 * userData, single-instance lock) happens synchronously on the first call; the rest after `ready`.
 * Resolves with the running app, or null when this process is quitting (second instance, or the core failed to open).
 */
export async function startDesktop(d: DesktopDeps): Promise<DesktopApp | null> {
  const argv = d.argv ?? process.argv;
  const env = d.env ?? process.env;

  registerAppScheme();
  app.enableSandbox();

  // --data-dir / SKYDECK_DATA_DIR also becomes Chromium's userData, so that the single-instance lock is per data
  // folder and browser state lives beside the database, exactly as with the default (dataDir = userData).
  const override = d.resolveDataDir(argv, env);
  if (override) app.setPath('userData', resolve(override));

  if (!app.requestSingleInstanceLock()) {
    app.quit(); // the running instance is focused through its 'second-instance' event
    return null;
  }

  let mainWindow: BrowserWindow | null = null;
  const focusWindow = () => {
    if (!mainWindow || mainWindow.isDestroyed()) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  };
  // A .sdsnap the OS asks us to open: named on a second instance's command line (Windows, Linux) or in 'open-file'
  // (macOS, also before 'ready' when it starts the app for the file). Until the app is ready they wait here.
  let openSnapshot: ((file: string) => void) | null = null;
  const pendingSnapshots: string[] = [];
  const snapshotRequested = (file: string) => (openSnapshot ? openSnapshot(file) : pendingSnapshots.push(file));
  app.on('second-instance', (_event, secondArgv: string[] = [], workingDirectory = process.cwd()) => {
    const file = snapshotFileFromArgv(secondArgv, workingDirectory);
    if (file) snapshotRequested(file);
    else focusWindow();
  });
  app.on('open-file', (event, path: string) => {
    event.preventDefault();
    snapshotRequested(path);
  });

  const isDev = !app.isPackaged;
  // Only an unpackaged app may load its UI from the electron-vite dev server.
  const devUrl = isDev && env.ELECTRON_RENDERER_URL ? env.ELECTRON_RENDERER_URL : null;
  const isTrustedUrl = makeTrustedUrlCheck(devUrl ? [APP_ORIGIN, new URL(devUrl).origin] : [APP_ORIGIN]);

  app.on('web-contents-created', (_event, contents) => {
    guardWebContents(contents, {
      isTrustedUrl,
      openExternal: (url) => {
        if (isHttpUrl(url)) void shell.openExternal(url);
      },
    });
  });
  if (process.platform === 'win32') app.setAppUserModelId('dev.skydeck.app');

  await app.whenReady();

  const dataDir = resolve(override ?? app.getPath('userData'));
  const desktopLog = createDesktopLogger(dataDir);
  const logger = desktopLog.logger;
  const log = logger.scope('app');
  const platform = new ElectronPlatform({ getWindow: () => mainWindow, logger: logger.scope('platform') });

  let core: Core;
  try {
    core = await d.openCore({ dataDir, platform, version: app.getVersion(), logger, ...(d.assetsDir ? { kvmAssets: kvmAssetsIn(d.assetsDir) } : {}) });
  } catch (e) {
    log.error('the core could not be opened', { error: e, dataDir });
    dialog.showErrorBox('Skydeck cannot start', startupFailureMessage(e, dataDir));
    await desktopLog.close();
    app.exit(1);
    return null;
  }

  // Consoles (noVNC, xterm.js) need a WebSocket: a loopback listener that takes only console tickets from our pages.
  const consoleListener = await startConsoleListener(core.consoles, { allowedOrigins: devUrl ? [APP_ORIGIN, new URL(devUrl).origin] : [APP_ORIGIN] }).catch((e: unknown) => {
    log.error('the console listener could not start: consoles are unavailable', { error: e });
    return null;
  });

  installSessionSecurity(session.defaultSession, { isTrustedUrl, csp: cspFor(devUrl) });
  installAppProtocol(d.rendererDir);
  // Each opened inventory snapshot: a window with a core of its own (see snapshots.ts).
  const snapshots = new SnapshotWindows({
    openCore: d.openCore,
    coreOptions: { platform, version: app.getVersion(), logger, ...(d.assetsDir ? { kvmAssets: kvmAssetsIn(d.assetsDir) } : {}) },
    platform,
    createWindow: (c, title) => createWindow({ core: c, title }),
    logger,
  });
  const unregisterIpc = registerIpc({ core, actor: platform.localActor, isTrustedUrl, logger, coreFor: (sender) => snapshots.coreFor(sender) });

  const showAbout = () => {
    const options = {
      type: 'info' as const,
      title: 'About Skydeck',
      message: `Skydeck ${app.getVersion()}`,
      detail: aboutText({ app: app.getVersion(), electron: process.versions.electron, chrome: process.versions.chrome, node: process.versions.node }),
      buttons: ['OK'],
    };
    void (mainWindow && !mainWindow.isDestroyed() ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options));
  };
  const backToLive = (focused: unknown) => {
    if (snapshots.isSnapshotWindow(focused as BrowserWindow | undefined)) void snapshots.close(focused as BrowserWindow);
    if (!mainWindow || mainWindow.isDestroyed()) mainWindow = createWindow();
    else focusWindow();
  };
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate({ appName: 'Skydeck', isDev, platform: process.platform, showAbout, openSnapshot: () => void snapshots.chooseAndOpen(), backToLive }),
    ),
  );

  /** The live inventory's window (its size and place remembered), or a snapshot's (served by that snapshot's core). */
  const createWindow = (snapshot?: { core: Core; title: string }): BrowserWindow => {
    const stateFile = join(dataDir, WINDOW_STATE_FILE);
    const saved = loadWindowState(stateFile, screen.getAllDisplays().map((s) => s.workArea));
    const state = snapshot ? { width: saved.width, height: saved.height, maximized: false } : saved;
    const win = new BrowserWindow(
      mainWindowOptions({ state, preloadPath: d.preloadPath, isDev, dark: nativeTheme.shouldUseDarkColors, ...(d.iconPath ? { iconPath: d.iconPath } : {}) }),
    );
    if (state.maximized) win.maximize();
    if (snapshot) {
      // The title says what this window shows, whatever the page calls itself.
      win.setTitle(snapshot.title);
      win.on('page-title-updated', (e) => e.preventDefault());
    } else trackWindowState(win, stateFile);
    forwardEvents(snapshot?.core ?? core, win);
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    win.webContents.on('render-process-gone', (_e, details) => log.error('the renderer process is gone', { reason: details.reason }));
    win.webContents.on('did-fail-load', (_e, code, description, url) => log.error('the UI failed to load', { code, description, url }));
    win.loadURL(devUrl ?? APP_INDEX_URL).catch((e: unknown) => log.error('loading the UI failed', { error: e }));
    return win;
  };
  mainWindow = createWindow();

  openSnapshot = (file) => void snapshots.openFile(file);
  const fromArgv = snapshotFileFromArgv(argv, process.cwd());
  for (const file of [...(fromArgv ? [fromArgv] : []), ...pendingSnapshots.splice(0)]) openSnapshot(file);

  // macOS keeps the app (and its running tasks) alive without windows; elsewhere closing the window quits.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (!mainWindow || mainWindow.isDestroyed()) mainWindow = createWindow();
    else focusWindow();
  });

  // Quit only after the core has closed: running tasks are checkpointed and resume at the next start.
  let phase: 'running' | 'closing' | 'closed' = 'running';
  app.on('before-quit', (event) => {
    if (phase === 'closed') return;
    event.preventDefault();
    if (phase === 'closing') return;
    phase = 'closing';
    void (async () => {
      try {
        await Promise.all([core.close(), snapshots.closeAll()]);
        await consoleListener?.close();
      } catch (e) {
        log.error('closing the core failed', { error: e });
      }
      unregisterIpc();
      await desktopLog.close();
      phase = 'closed';
      app.quit();
    })();
  });
  const quitOnSignal = () => app.quit();
  process.once('SIGINT', quitOnSignal);
  process.once('SIGTERM', quitOnSignal);

  log.info('desktop app started', { dataDir, version: app.getVersion(), electron: process.versions.electron, dev: isDev });
  return { core, snapshots, logger, dataDir, getWindow: () => mainWindow };
}
