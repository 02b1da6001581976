/**
 * A small fake of the `electron` module for unit tests (the Electron binary is not needed, nor available in CI).
 * Use it with:
 *
 *   vi.mock('electron', async () => (await import('./fake-electron')).electronModule);
 *   import { fake, resetFakes } from './fake-electron';
 *
 * Only what electron/ uses is faked; objects record what was done to them so tests can assert on it.
 */
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import { vi } from 'vitest';

type AnyFn = (...args: never[]) => unknown;

/** An Electron-style event: `preventDefault()` and `defaultPrevented`, plus any details (url, ...). */
export function fakeEvent<T extends object>(details: T = {} as T): T & { preventDefault(): void; defaultPrevented: boolean } {
  const e = {
    ...details,
    defaultPrevented: false,
    preventDefault() {
      e.defaultPrevented = true;
    },
  };
  return e;
}

export class FakeWebContents extends EventEmitter {
  url = '';
  destroyed = false;
  sent: Array<[string, unknown]> = [];
  windowOpenHandler: ((d: { url: string }) => { action: 'allow' | 'deny'; overrideBrowserWindowOptions?: unknown }) | null = null;
  printToPDF = vi.fn(async (_options: unknown) => Buffer.from('%PDF-1.7 fake'));
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getURL(): string {
    return this.url;
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'allow' | 'deny'; overrideBrowserWindowOptions?: unknown }): void {
    this.windowOpenHandler = h;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static instances: FakeBrowserWindow[] = [];
  /** Called for every new window, e.g. to make its printToPDF fail. */
  static onCreate: ((w: FakeBrowserWindow) => void) | null = null;
  readonly webContents = new FakeWebContents();
  destroyed = false;
  maximized = false;
  minimized = false;
  visible = false;
  bounds = { x: 10, y: 20, width: 1200, height: 800 };
  loadURL = vi.fn(async (url: string) => {
    this.webContents.url = url;
  });
  loadFile = vi.fn(async (file: string) => {
    this.webContents.url = pathToFileURL(file).href;
  });
  title = '';
  setTitle = vi.fn((title: string) => {
    this.title = title;
  });

  constructor(readonly options: Record<string, unknown> & { webPreferences?: Record<string, unknown> } = {}) {
    super();
    FakeBrowserWindow.instances.push(this);
    FakeBrowserWindow.onCreate?.(this);
    fake.app.emit('web-contents-created', {}, this.webContents);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
  /** Like a user closing the window: 'close', then 'closed'. */
  close(): void {
    this.emit('close', fakeEvent());
    this.destroy();
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {}
  restore(): void {
    this.minimized = false;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  maximize(): void {
    this.maximized = true;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  getNormalBounds() {
    return { ...this.bounds };
  }
}

export class FakeSession {
  headersHook: ((details: unknown, cb: (r: unknown) => void) => void) | null = null;
  beforeRequestHook: ((details: unknown, cb: (r: unknown) => void) => void) | null = null;
  permissionRequestHandler: ((...a: unknown[]) => void) | null = null;
  permissionCheckHandler: ((...a: unknown[]) => boolean) | null = null;
  webRequest = {
    onHeadersReceived: (fn: (details: unknown, cb: (r: unknown) => void) => void) => {
      this.headersHook = fn;
    },
    onBeforeRequest: (fn: (details: unknown, cb: (r: unknown) => void) => void) => {
      this.beforeRequestHook = fn;
    },
  };
  setPermissionRequestHandler(fn: (...a: unknown[]) => void): void {
    this.permissionRequestHandler = fn;
  }
  setPermissionCheckHandler(fn: (...a: unknown[]) => boolean): void {
    this.permissionCheckHandler = fn;
  }
}

class FakeNotification extends EventEmitter {
  static supported = true;
  static shown: FakeNotification[] = [];
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  constructor(readonly options: Record<string, unknown>) {
    super();
  }
  show(): void {
    FakeNotification.shown.push(this);
  }
}

class FakeApp extends EventEmitter {
  isPackaged = false;
  lock = true;
  paths: Record<string, string> = { userData: '/tmp/skydeck-fake-userdata' };
  version = '1.2.3';
  quit = vi.fn(() => {
    this.emit('before-quit', fakeEvent());
  });
  exit = vi.fn((_code?: number) => {});
  enableSandbox = vi.fn();
  setAppUserModelId = vi.fn();
  requestSingleInstanceLock = vi.fn(() => this.lock);
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  getPath(name: string): string {
    return this.paths[name] ?? `/tmp/fake-${name}`;
  }
  setPath = vi.fn((name: string, value: string) => {
    this.paths[name] = value;
  });
  getVersion(): string {
    return this.version;
  }
}

function makeState() {
  const ipcRenderer = Object.assign(new EventEmitter(), {
    invoke: vi.fn(async (..._a: unknown[]): Promise<unknown> => ({ ok: true, value: null })),
    send: vi.fn((..._a: unknown[]) => {}),
  });
  return {
    app: new FakeApp(),
    ipcMain: {
      handlers: new Map<string, AnyFn>(),
      handle: vi.fn((channel: string, fn: AnyFn) => {
        fakeState.ipcMain.handlers.set(channel, fn);
      }),
      removeHandler: vi.fn((channel: string) => {
        fakeState.ipcMain.handlers.delete(channel);
      }),
    },
    ipcRenderer,
    contextBridge: {
      exposed: {} as Record<string, unknown>,
      exposeInMainWorld: vi.fn((key: string, api: unknown) => {
        fakeState.contextBridge.exposed[key] = api;
      }),
    },
    safeStorage: {
      available: true,
      backend: 'gnome_libsecret' as string,
      isAsyncEncryptionAvailable: vi.fn(async () => fakeState.safeStorage.available),
      isEncryptionAvailable: vi.fn(() => fakeState.safeStorage.available),
      getSelectedStorageBackend: vi.fn(() => fakeState.safeStorage.backend),
      encryptStringAsync: vi.fn(async (s: string) => Buffer.from(`enc:${s}`)),
      decryptStringAsync: vi.fn(async (b: Buffer) => ({ result: b.toString().replace(/^enc:/, ''), shouldReEncrypt: false })),
    },
    shell: { openExternal: vi.fn(async (_url: string) => {}) },
    dialog: {
      showErrorBox: vi.fn((_title: string, _content: string) => {}),
      showSaveDialog: vi.fn(async (..._a: unknown[]) => ({ canceled: false, filePath: '/tmp/out.pdf' })),
      showOpenDialog: vi.fn(async (..._a: unknown[]) => ({ canceled: false, filePaths: ['/tmp/in.json'] })),
      showMessageBox: vi.fn(async (..._a: unknown[]) => ({ response: 0, checkboxChecked: false })),
    },
    protocol: {
      registerSchemesAsPrivileged: vi.fn(),
      handlers: new Map<string, AnyFn>(),
      handle: vi.fn((scheme: string, fn: AnyFn) => {
        fakeState.protocol.handlers.set(scheme, fn);
      }),
    },
    defaultSession: new FakeSession(),
    partitions: new Map<string, FakeSession>(),
    Menu: { buildFromTemplate: vi.fn((t: unknown) => t), setApplicationMenu: vi.fn() },
    nativeTheme: { shouldUseDarkColors: false },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
  };
}

let fakeState = makeState();

/** The current fakes; replaced by resetFakes(), so read `fake.x` at use time. */
export const fake = new Proxy({} as ReturnType<typeof makeState>, { get: (_t, k) => fakeState[k as keyof typeof fakeState] });

export function resetFakes(): void {
  fakeState = makeState();
  FakeBrowserWindow.instances = [];
  FakeBrowserWindow.onCreate = null;
  FakeNotification.supported = true;
  FakeNotification.shown = [];
}

/** The module object `vi.mock('electron', ...)` returns. Getters, so resetFakes() takes effect. */
export const electronModule = {
  get app() {
    return fakeState.app;
  },
  get ipcMain() {
    return fakeState.ipcMain;
  },
  get ipcRenderer() {
    return fakeState.ipcRenderer;
  },
  get contextBridge() {
    return fakeState.contextBridge;
  },
  get safeStorage() {
    return fakeState.safeStorage;
  },
  get shell() {
    return fakeState.shell;
  },
  get dialog() {
    return fakeState.dialog;
  },
  get protocol() {
    return fakeState.protocol;
  },
  get Menu() {
    return fakeState.Menu;
  },
  get nativeTheme() {
    return fakeState.nativeTheme;
  },
  get screen() {
    return fakeState.screen;
  },
  session: {
    get defaultSession() {
      return fakeState.defaultSession;
    },
    fromPartition(name: string): FakeSession {
      let s = fakeState.partitions.get(name);
      if (!s) fakeState.partitions.set(name, (s = new FakeSession()));
      return s;
    },
  },
  BrowserWindow: FakeBrowserWindow,
  Notification: FakeNotification,
  FakeNotification,
};
