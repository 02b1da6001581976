import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log/logger';
import type { EventBus } from '../events/bus';
import type { FileFilter, Notice, PdfOptions, PlatformPort } from './port';

export interface HeadlessOptions {
  dataDir: string;
  logger: Logger;
  /** Unlocks the vault. When absent, a random key in `<data dir>/vault.key` (mode 0600) is used and a warning logged. */
  passphrase?: string;
  /** Chromium for printToPdf; default: $SKYDECK_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome. */
  chromium?: string;
  /** Connected browsers get notifications as events. */
  bus?: EventBus;
}

const MAGIC = Buffer.from('SDV1');

/** The platform port without Electron: for `npm run serve` and for tests on plain Node. */
export class HeadlessPlatform implements PlatformPort {
  readonly kind = 'headless' as const;
  readonly electronVersion = null;
  readonly localActor = `headless:${userInfo().username}`;
  private readonly log: Logger;
  bus: EventBus | undefined;

  constructor(private readonly o: HeadlessOptions) {
    this.log = o.logger.scope('platform');
    this.bus = o.bus;
  }

  private wrappingKey(salt: Buffer): Buffer {
    if (this.o.passphrase) return scryptSync(this.o.passphrase, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const file = join(this.o.dataDir, 'vault.key');
    if (!existsSync(file)) {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
      this.log.warn('no vault passphrase given (SKYDECK_VAULT_PASSPHRASE): secrets are protected by the key file vault.key and its file permissions only');
    }
    return scryptSync(Buffer.from(readFileSync(file, 'utf8'), 'base64'), salt, 32, { N: 1 << 14, r: 8, p: 1 });
  }

  async protectSecret(plain: Buffer): Promise<Buffer> {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.wrappingKey(salt), iv);
    const data = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([MAGIC, salt, iv, c.getAuthTag(), data]);
  }

  async unprotectSecret(w: Buffer): Promise<Buffer> {
    if (!w.subarray(0, 4).equals(MAGIC)) throw new Error('the stored key was not wrapped by the headless platform');
    const salt = w.subarray(4, 20);
    const d = createDecipheriv('aes-256-gcm', this.wrappingKey(salt), w.subarray(20, 32));
    d.setAuthTag(w.subarray(32, 48));
    try {
      return Buffer.concat([d.update(w.subarray(48)), d.final()]);
    } catch {
      throw new Error('wrong vault passphrase');
    }
  }

  notify(n: Notice): void {
    this.log.info('notification', { level: n.level, title: n.title });
    this.bus?.emit({ type: 'notification', ...n });
  }

  async openExternal(url: string): Promise<void> {
    if (!/^https?:\/\//i.test(url)) throw new Error(`refusing to open ${url}: only http(s) links are opened`);
    // Headless: the browser that shows the UI opens links itself.
  }

  async chooseSaveFile(_o: { title: string; defaultPath?: string; filters?: FileFilter[] }): Promise<string | null> {
    return null;
  }

  async chooseOpenFile(_o: { title: string; filters?: FileFilter[] }): Promise<string | null> {
    return null;
  }

  private chromium(): string {
    const candidates = [this.o.chromium, process.env.SKYDECK_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
    const found = candidates.find((c): c is string => !!c && existsSync(c));
    if (!found) throw new Error('printing to PDF needs Chromium: install it (Debian: apt-get install chromium) or set SKYDECK_CHROMIUM');
    return found;
  }

  /** Chromium's own print engine, run once per document with `--print-to-pdf`; page size and orientation go in as @page CSS. */
  async printToPdf(html: string, options: PdfOptions = {}): Promise<Buffer> {
    const exe = this.chromium();
    const dir = mkdtempSync(join(tmpdir(), 'skydeck-pdf-'));
    try {
      const page = `<style>@page { size: ${options.pageSize ?? 'A4'} ${options.landscape ? 'landscape' : 'portrait'}; }${
        options.printBackground === false ? '' : ' html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }'
      }</style>`;
      // The page rules go into the document's head (before a doctype they would put Chromium in quirks mode).
      const doc = /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => m + page) : /<!doctype[^>]*>/i.test(html) ? html.replace(/<!doctype[^>]*>/i, (m) => m + page) : page + html;
      writeFileSync(join(dir, 'doc.html'), doc);
      const out = join(dir, 'doc.pdf');
      const args = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--no-pdf-header-footer',
        `--print-to-pdf=${out}`,
        `file://${join(dir, 'doc.html')}`,
      ];
      await new Promise<void>((resolve, reject) => {
        const p = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
        const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
        p.on('error', reject);
        p.on('exit', (code) => {
          clearTimeout(timer);
          if (code === 0 && existsSync(out)) resolve();
          else reject(new Error(`Chromium could not print the document (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`));
        });
      });
      return readFileSync(out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
