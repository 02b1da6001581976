import type Database from 'better-sqlite3';
import { DEFAULT_SETTINGS, settingsPatchSchema, settingsSchema, type Settings } from '@shared/contract/settings';

/** Settings are rows of (key, JSON value); defaults fill what was never set. Rows from older versions that no longer parse fall back to defaults. */
export class SettingsRepo {
  /** Read on hot paths (the task engine asks for its limit on every pump); refreshed by every write below. */
  private cached: Settings | null = null;

  constructor(private readonly db: Database.Database) {}

  get(): Settings {
    this.cached ??= this.read();
    return this.cached;
  }

  private read(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const stored: Record<string, unknown> = {};
    for (const r of rows) {
      if (r.key in DEFAULT_SETTINGS) {
        try {
          stored[r.key] = JSON.parse(r.value);
        } catch {
          /* a damaged value reads as the default */
        }
      }
    }
    const parsed = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...stored });
    if (parsed.success) return parsed.data;
    // Keep every value that is still valid on its own.
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const [k, v] of Object.entries(stored)) {
      if (settingsPatchSchema.safeParse({ [k]: v }).success) out[k] = v;
    }
    return out as Settings;
  }

  /** Writes the patch in one transaction and answers the full settings after it. */
  set(patch: Partial<Settings>): Settings {
    const now = new Date().toISOString();
    const up = this.db.prepare(
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) up.run(k, JSON.stringify(v), now);
    })();
    this.cached = null;
    return this.get();
  }

  reset(keys?: readonly string[]): Settings {
    if (!keys) this.db.prepare('DELETE FROM settings').run();
    else {
      const del = this.db.prepare('DELETE FROM settings WHERE key = ?');
      this.db.transaction(() => keys.forEach((k) => del.run(k)))();
    }
    this.cached = null;
    return this.get();
  }
}
