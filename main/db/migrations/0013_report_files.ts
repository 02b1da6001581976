import type { Migration } from '../migrate';

/**
 * Files Skydeck wrote for reports (main/reports/retention.ts): one row per finished `reports.run` or
 * `reports.snapshot` task, with the file's path, size, modification time and schedule (NULL: an ad-hoc export). The retention pass
 * deletes only files named here, and records on the row when, why ('runs': beyond the last N runs of its schedule;
 * 'age': older than the retention in days) and how ('deleted', 'missing': the user had already removed it,
 * 'changed': the file is no longer the one Skydeck wrote, so it was left alone).
 * Task rows are pruned after a while; these rows outlive them, so a file is never forgotten while it exists.
 */
export const m0013: Migration = {
  id: 13,
  name: 'report_files',
  up(db) {
    db.exec(`
      CREATE TABLE report_files (
        task_id TEXT PRIMARY KEY,
        schedule_id TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('report', 'snapshot')),
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        pruned_at TEXT,
        prune_reason TEXT CHECK (prune_reason IN ('runs', 'age')),
        prune_outcome TEXT CHECK (prune_outcome IN ('deleted', 'missing', 'changed'))
      );
      CREATE INDEX report_files_live ON report_files (schedule_id, created_at) WHERE pruned_at IS NULL;
      CREATE INDEX report_files_path ON report_files (path) WHERE pruned_at IS NULL;
    `);
  },
};
