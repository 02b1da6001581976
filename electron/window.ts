import type { BrowserWindowConstructorOptions } from 'electron';
import { MIN_HEIGHT, MIN_WIDTH, type WindowState } from './window-state';

export interface MainWindowConfig {
  state: WindowState;
  preloadPath: string;
  isDev: boolean;
  dark: boolean;
  iconPath?: string;
}

/**
 * The options of the one app window. The page gets no Node, runs in Chromium's sandbox with its own JavaScript world
 * (contextIsolation) and talks to the core only through the two functions of the preload.
 */
export function mainWindowOptions(c: MainWindowConfig): BrowserWindowConstructorOptions {
  const o: BrowserWindowConstructorOptions = {
    title: 'Skydeck',
    width: c.state.width,
    height: c.state.height,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    show: false, // shown on ready-to-show: no white flash
    backgroundColor: c.dark ? '#0b1220' : '#f6f8fb',
    autoHideMenuBar: false,
    webPreferences: {
      preload: c.preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      devTools: c.isDev,
      spellcheck: true,
    },
  };
  if (c.state.x !== undefined && c.state.y !== undefined) {
    o.x = c.state.x;
    o.y = c.state.y;
  }
  if (c.iconPath) o.icon = c.iconPath;
  return o;
}
