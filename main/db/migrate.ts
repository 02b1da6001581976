import type Database from 'better-sqlite3';

/**
 * Append-only, numbered migrations, one file each (db/migrations/NNNN_name.ts). Each runs in its own transaction with
 * its row in `schema_migrations`; a failure rolls that migration back and stops start-up with a clear message.
 * `PRAGMA user_version` mirrors the newest applied number so that an older Skydeck can refuse a newer database before
 * touching it.
 */
export interface Migration {
  id: number;
  name: string;
  up(db: Database.Database): void;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((m, x) => Math.max(m, x.id), 0);
}

export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.id !== i + 1) throw new MigrationError(`migration list is out of order: position ${i + 1} holds ${m.id}_${m.name}`);
  });
}

/** Applies every pending migration; answers the numbers applied. */
export function migrate(db: Database.Database, migrations: readonly Migration[], appVersion: string): number[] {
  checkMigrationList(migrations);
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestVersion(migrations);
  if (current > latest) {
    throw new MigrationError(
      `this database was written by a newer Skydeck (schema ${current}; this version ${appVersion} knows up to ${latest}). ` +
        'Open it with that version or newer, or choose another data directory.',
    );
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL, app_version TEXT NOT NULL)`);
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.id <= current) continue;
    const run = db.transaction(() => {
      m.up(db);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at, app_version) VALUES (?, ?, ?, ?)').run(
        m.id,
        m.name,
        new Date().toISOString(),
        appVersion,
      );
      db.pragma(`user_version = ${m.id}`);
    });
    try {
      run();
    } catch (e) {
      throw new MigrationError(`migration ${String(m.id).padStart(4, '0')}_${m.name} failed: ${(e as Error).message}. Nothing of it was applied.`);
    }
    applied.push(m.id);
  }
  return applied;
}
