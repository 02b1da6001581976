import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, Notification, dialog, safeStorage, session, shell } from 'electron';
import type { OpenDialogOptions, SaveDialogOptions, Session } from 'electron';
import { ApiError } from '@shared/errors';
import type { FileFilter, Notice, PdfOptions, PlatformPort } from '../main/platform/port';
import type { Logger } from '../main/log/logger';

export interface ElectronPlatformOptions {
  /** The main window, as parent of dialogs and target of notification clicks; null when there is none. */
  getWindow?: () => BrowserWindow | null;
  logger?: Logger;
  /** Upper bound for rendering one PDF. */
  pdfTimeoutMs?: number;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || process.env.USERNAME || 'unknown';
  }
}

const PDF_PARTITION = 'skydeck-print'; // in-memory session (no "persist:" prefix), used only for printing

/**
 * The desktop implementation of the platform port (main/platform/port.ts): the OS keychain through safeStorage,
 * native notifications and dialogs, the user's browser, and Chromium's print engine.
 */
export class ElectronPlatform implements PlatformPort {
  readonly kind = 'desktop' as const;
  readonly electronVersion: string | null = process.versions.electron ?? null;
  readonly localActor = `desktop:${osUser()}`;

  private readonly notices = new Set<Notification>();
  private printSessionReady = false;

  constructor(private readonly opts: ElectronPlatformOptions = {}) {}

  private window(): BrowserWindow | null {
    const w = this.opts.getWindow?.() ?? null;
    return w && !w.isDestroyed() ? w : null;
  }

  // --- secrets -------------------------------------------------------------------------------------------------

  /**
   * safeStorage must be backed by a real OS keystore. On Linux without a Secret Service keyring (GNOME Keyring,
   * KWallet), Chromium falls back to its 'basic_text' backend, which "encrypts" with a hard-coded key: anyone who can
   * read the data dir could unwrap the vault key. We refuse rather than pretend.
   */
  private async assertKeystore(): Promise<void> {
    if (process.platform === 'linux') {
      const backend = safeStorage.getSelectedStorageBackend();
      if (backend === 'basic_text') {
        throw new ApiError(
          'not_supported',
          "No OS keyring is available to protect Skydeck's secrets. Electron's safeStorage fell back to its " +
            "'basic_text' backend, which uses a fixed, publicly known key, so anyone who can read the data folder " +
            'could decrypt your credentials. Install and unlock a Secret Service keyring (e.g. GNOME Keyring with ' +
            'libsecret, or KWallet), or start Skydeck with --password-store=gnome-libsecret (or kwallet5/kwallet6), ' +
            'then try again.',
          { reason: 'no_keyring', backend },
        );
      }
    }
    if (!(await safeStorage.isAsyncEncryptionAvailable())) {
      throw new ApiError(
        'not_supported',
        'OS encryption for secrets is not available (the system keychain could not be reached), so Skydeck ' +
          'cannot protect its vault key on this machine.',
        { reason: 'encryption_unavailable' },
      );
    }
  }

  // Electron 45 deprecates the synchronous encryptString/decryptString/isEncryptionAvailable in favour of the async
  // variants (same keystore; data from encryptString can still be read by decryptStringAsync), so we use those.
  async protectSecret(plain: Buffer): Promise<Buffer> {
    await this.assertKeystore();
    return Buffer.from(await safeStorage.encryptStringAsync(plain.toString('base64')));
  }

  async unprotectSecret(wrapped: Buffer): Promise<Buffer> {
    await this.assertKeystore();
    const { result, shouldReEncrypt } = await safeStorage.decryptStringAsync(wrapped);
    if (shouldReEncrypt) this.opts.logger?.info('the OS keystore rotated its key; the vault key should be re-wrapped');
    return Buffer.from(result, 'base64');
  }

  // --- notifications, browser, dialogs ---------------------------------------------------------------------

  notify(notice: Notice): void {
    if (!Notification.isSupported()) return;
    const n = new Notification({
      title: notice.title,
      body: notice.body,
      silent: notice.level === 'info' || notice.level === 'success',
      urgency: notice.level === 'error' ? 'critical' : 'normal',
    });
    // Keep a reference until the notification is gone, or its click handler can be garbage-collected.
    this.notices.add(n);
    const forget = () => this.notices.delete(n);
    n.on('click', () => {
      forget();
      const w = this.window();
      if (w) {
        if (w.isMinimized()) w.restore();
        w.show();
        w.focus();
      }
    });
    n.on('close', forget);
    n.on('failed', forget);
    n.show();
  }

  async openExternal(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`Not a valid URL: ${url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`Only http and https links can be opened (refused ${parsed.protocol} URL)`);
    }
    await shell.openExternal(parsed.href);
  }

  async chooseSaveFile(options: { title: string; defaultPath?: string; filters?: FileFilter[] }): Promise<string | null> {
    const o: SaveDialogOptions = { title: options.title, properties: ['createDirectory', 'showOverwriteConfirmation'] };
    if (options.defaultPath !== undefined) o.defaultPath = options.defaultPath;
    if (options.filters) o.filters = options.filters;
    const w = this.window();
    const r = w ? await dialog.showSaveDialog(w, o) : await dialog.showSaveDialog(o);
    return r.canceled || !r.filePath ? null : r.filePath;
  }

  async chooseOpenFile(options: { title: string; filters?: FileFilter[] }): Promise<string | null> {
    const o: OpenDialogOptions = { title: options.title, properties: ['openFile'] };
    if (options.filters) o.filters = options.filters;
    const w = this.window();
    const r = w ? await dialog.showOpenDialog(w, o) : await dialog.showOpenDialog(o);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  }

  // --- PDF ----------------------------------------------------------------------------------------------------

  /**
   * The print window lives in its own in-memory session that may load only the document itself (and data:/blob:
   * URLs inside it): a report is self-contained, and printing must never fetch from the network or read other files.
   */
  private printSession(docUrl: () => string | null): Session {
    const ses = session.fromPartition(PDF_PARTITION);
    if (!this.printSessionReady) {
      const same = (a: string, b: string | null) => {
        if (b === null) return false;
        try {
          return decodeURI(a) === decodeURI(b);
        } catch {
          return a === b;
        }
      };
      ses.webRequest.onBeforeRequest((details, callback) => {
        const u = details.url;
        callback({ cancel: !(same(u, docUrl()) || u.startsWith('data:') || u.startsWith('blob:')) });
      });
      ses.setPermissionRequestHandler((_c, _p, cb) => cb(false));
      this.printSessionReady = true;
    }
    return ses;
  }

  private currentDoc: string | null = null;
  private printQueue: Promise<unknown> = Promise.resolve();

  /**
   * Renders `html` in a hidden, sandboxed window with JavaScript disabled. The document is written to a private
   * temp file rather than a data: URL, because Chromium caps URLs at 2 MB and reports embed charts as images.
   * Jobs run one at a time (the print session allows exactly the current document).
   */
  printToPdf(html: string, options: PdfOptions = {}): Promise<Buffer> {
    const job = this.printQueue.then(() => this.renderPdf(html, options));
    this.printQueue = job.catch(() => undefined);
    return job;
  }

  private async renderPdf(html: string, options: PdfOptions): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), 'skydeck-pdf-'));
    const file = join(dir, 'report.html');
    let win: BrowserWindow | null = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      await writeFile(file, html, { encoding: 'utf8', mode: 0o600 });
      this.currentDoc = pathToFileURL(file).href;
      const ses = this.printSession(() => this.currentDoc);
      win = new BrowserWindow({
        show: false,
        width: 1024,
        height: 768,
        webPreferences: {
          session: ses,
          sandbox: true,
          contextIsolation: true,
          nodeIntegration: false,
          javascript: false,
          webSecurity: true,
          spellcheck: false,
        },
      });
      const timeoutMs = this.opts.pdfTimeoutMs ?? 60_000;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ApiError('timeout', 'Rendering the PDF took too long')), timeoutMs);
      });
      const w = win;
      const render = (async () => {
        await w.loadFile(file);
        const pdf = await w.webContents.printToPDF({
          landscape: options.landscape ?? false,
          pageSize: options.pageSize ?? 'A4',
          printBackground: options.printBackground ?? true,
        });
        return Buffer.from(pdf);
      })();
      render.catch(() => undefined); // if the timeout wins, the abandoned render must not become an unhandled rejection
      return await Promise.race([render, timeout]);
    } finally {
      if (timer) clearTimeout(timer);
      this.currentDoc = null;
      if (win && !win.isDestroyed()) win.destroy();
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
