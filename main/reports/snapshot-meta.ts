import type Database from 'better-sqlite3';

/** What an opened snapshot knows about itself (meta key `snapshot`, written when it was exported). */
export interface SnapshotMeta {
  id: string;
  createdAt: string;
  app: string;
  schemaVersion: number;
  source: { host: string };
}

export const SNAPSHOT_META_KEY = 'snapshot';

/** The snapshot this database is, or null for a workstation's own database. */
export function snapshotOf(db: Database.Database): SnapshotMeta | null {
  let row: { value: string } | undefined;
  try {
    row = db.prepare('SELECT value FROM meta WHERE key = ?').get(SNAPSHOT_META_KEY) as { value: string } | undefined;
  } catch {
    return null;
  }
  if (!row) return null;
  try {
    const v = JSON.parse(row.value) as SnapshotMeta;
    return typeof v.createdAt === 'string' ? v : null;
  } catch {
    return null;
  }
}
