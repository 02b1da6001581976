/**
 * The platform port: every OS service the control plane needs, behind one interface. electron/ implements it with
 * Electron (safeStorage, Notification, dialog, shell, printToPDF); the headless server implements it without Electron.
 * main/ never imports `electron`.
 */
export interface Notice {
  level: 'info' | 'success' | 'warning' | 'error';
  title: string;
  body: string;
}

export interface FileFilter {
  name: string;
  extensions: string[];
}

export interface PdfOptions {
  landscape?: boolean;
  pageSize?: 'A4' | 'Letter' | 'A3';
  /** Print CSS backgrounds (charts, table stripes). */
  printBackground?: boolean;
}

export interface PlatformPort {
  readonly kind: 'desktop' | 'headless';
  /** Electron's version in the desktop app; null headless. */
  readonly electronVersion: string | null;
  /** Who is at the keyboard, for the audit log (`desktop:<os user>`); headless callers are named per request. */
  readonly localActor: string;

  /**
   * Wraps a small secret (the vault's master key) so that only this user on this machine can unwrap it: the OS
   * keychain through safeStorage on the desktop, a passphrase-derived key headless.
   */
  protectSecret(plain: Buffer): Promise<Buffer>;
  unprotectSecret(wrapped: Buffer): Promise<Buffer>;

  /** A desktop notification (headless: logged and sent to connected browsers as a `notification` event). */
  notify(notice: Notice): void;

  /** Opens a URL in the user's browser. Only http(s) URLs are allowed. */
  openExternal(url: string): Promise<void>;

  /** Native file dialogs; headless answers null (the browser downloads or uploads instead). */
  chooseSaveFile(options: { title: string; defaultPath?: string; filters?: FileFilter[] }): Promise<string | null>;
  chooseOpenFile(options: { title: string; filters?: FileFilter[] }): Promise<string | null>;

  /** Renders a self-contained HTML document to PDF with Chromium's print engine. */
  printToPdf(html: string, options?: PdfOptions): Promise<Buffer>;
}
