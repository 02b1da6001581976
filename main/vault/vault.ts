import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { PlatformPort } from '../platform/port';

/**
 * Secrets at rest (SSH keys, passwords, cloud keys): AES-256-GCM under a random master key. The master key is stored
 * only wrapped by the platform (the OS keychain on the desktop, a passphrase headless). Plaintext never leaves main/:
 * no command answers a secret, and the logger masks them.
 */
export class Vault {
  private key: Buffer | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly platform: PlatformPort,
  ) {}

  private async masterKey(): Promise<Buffer> {
    if (this.key) return this.key;
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'vault.master'`).get() as { value: string } | undefined;
    if (row) {
      try {
        this.key = await this.platform.unprotectSecret(Buffer.from(row.value, 'base64'));
      } catch (e) {
        throw new ApiError('forbidden', `the vault cannot be unlocked: ${(e as Error).message}`);
      }
    } else {
      const key = randomBytes(32);
      const wrapped = await this.platform.protectSecret(key);
      this.db.prepare(`INSERT INTO meta (key, value) VALUES ('vault.master', ?)`).run(wrapped.toString('base64'));
      this.key = key;
    }
    return this.key;
  }

  async put(id: string, purpose: string, plaintext: Buffer | string): Promise<void> {
    const key = await this.masterKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(id));
    const data = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext), cipher.final()]);
    const blob = Buffer.concat([iv, cipher.getAuthTag(), data]);
    const t = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO secrets (id, purpose, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET purpose = excluded.purpose, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      )
      .run(id, purpose, blob, t, t);
  }

  async get(id: string): Promise<Buffer | null> {
    const row = this.db.prepare('SELECT ciphertext FROM secrets WHERE id = ?').get(id) as { ciphertext: Buffer } | undefined;
    if (!row) return null;
    const key = await this.masterKey();
    const b = row.ciphertext;
    const decipher = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(b.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(b.subarray(28)), decipher.final()]);
    } catch {
      throw new ApiError('internal', `secret ${id} failed its integrity check`);
    }
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM secrets WHERE id = ?').run(id);
  }
}
