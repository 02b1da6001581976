import { rmSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { Settings } from '@shared/contract/settings';
import type { Logger } from '../log/logger';

/**
 * Retention of report files. Every file a `reports.run` or `reports.snapshot` task writes is recorded in
 * `report_files` (migration 0013) when the task finishes it; the pruning pass deletes only files recorded there (never
 * anything else in a schedule's folder, which is the user's): the files of each schedule beyond its last
 * `reportKeepRuns` runs, and any recorded file older than `reportRetentionDays` days (0 turns either rule off).
 * Each deletion is written on its row (when, why, and whether the file was deleted, already gone, or no longer the
 * file Skydeck wrote, which is then left alone); a file that cannot be deleted now (permissions) is tried again later.
 */
export interface TrackedFile {
  taskId: string;
  scheduleId: string | null;
  kind: 'report' | 'snapshot';
  path: string;
  createdAt: string;
}

export type PruneOutcome = 'deleted' | 'missing' | 'changed';

export interface PrunedFile {
  taskId: string;
  scheduleId: string | null;
  path: string;
  reason: 'runs' | 'age';
  outcome: PruneOutcome;
}

export interface PruneResult {
  pruned: PrunedFile[];
  /** Files due for deletion that could not be deleted this time (kept on record, tried at the next pass). */
  failed: { path: string; error: string }[];
}

const DAY = 86_400_000;

interface Row {
  task_id: string;
  schedule_id: string | null;
  path: string;
  bytes: number;
  mtime_ms: number;
  created_at: string;
}

const COLUMNS = 'task_id, schedule_id, path, bytes, mtime_ms, created_at';

export class ReportFiles {
  private readonly log: Logger;

  constructor(
    private readonly o: {
      db: Database.Database;
      logger: Logger;
      settings: () => Pick<Settings, 'reportKeepRuns' | 'reportRetentionDays'>;
      now?: () => Date;
      /** Deletes one file (tests make it fail). */
      remove?: (path: string) => void;
    },
  ) {
    this.log = o.logger.scope('reports');
  }

  /**
   * Records a file a task has just finished writing, with its size and modification time (so that a file the user
   * put in its place later is recognised); again after a resumed task rewrote it (one row per task).
   */
  track(f: TrackedFile): void {
    const st = statSync(f.path);
    this.o.db
      .prepare(
        `INSERT INTO report_files (task_id, schedule_id, kind, path, bytes, mtime_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id) DO UPDATE SET path = excluded.path, bytes = excluded.bytes, mtime_ms = excluded.mtime_ms, created_at = excluded.created_at,
           pruned_at = NULL, prune_reason = NULL, prune_outcome = NULL`,
      )
      .run(f.taskId, f.scheduleId, f.kind, f.path, st.size, Math.trunc(st.mtimeMs), f.createdAt);
  }

  /** The files due for deletion now, oldest first, with the rule that makes each due. */
  due(): { row: Row; reason: 'runs' | 'age' }[] {
    const { reportKeepRuns: keep, reportRetentionDays: days } = this.o.settings();
    const out = new Map<string, { row: Row; reason: 'runs' | 'age' }>();
    if (keep > 0) {
      const rows = this.o.db
        .prepare(
          `SELECT ${COLUMNS} FROM (
             SELECT *, row_number() OVER (PARTITION BY schedule_id ORDER BY created_at DESC, task_id DESC) AS n
               FROM report_files WHERE pruned_at IS NULL AND schedule_id IS NOT NULL)
            WHERE n > ? ORDER BY created_at`,
        )
        .all(keep) as Row[];
      for (const row of rows) out.set(row.task_id, { row, reason: 'runs' });
    }
    if (days > 0) {
      const before = new Date(this.now().getTime() - days * DAY).toISOString();
      const rows = this.o.db.prepare(`SELECT ${COLUMNS} FROM report_files WHERE pruned_at IS NULL AND created_at < ? ORDER BY created_at`).all(before) as Row[];
      for (const row of rows) if (!out.has(row.task_id)) out.set(row.task_id, { row, reason: 'age' });
    }
    return [...out.values()].sort((a, b) => a.row.created_at.localeCompare(b.row.created_at));
  }

  /** Deletes what is due and records it; never throws for a file (a run or the start-up must not fail on it). */
  prune(): PruneResult {
    const result: PruneResult = { pruned: [], failed: [] };
    const mark = this.o.db.prepare('UPDATE report_files SET pruned_at = ?, prune_reason = ?, prune_outcome = ? WHERE task_id = ?');
    // A name freed by a deleted file is used again by a later run: that file is the later run's, not this row's.
    const reused = this.o.db.prepare('SELECT 1 FROM report_files WHERE path = ? AND task_id <> ? AND pruned_at IS NULL AND created_at >= ?');
    const remove = this.o.remove ?? ((path: string) => rmSync(path));
    for (const { row, reason } of this.due()) {
      let outcome: PruneOutcome;
      try {
        const st = statSync(row.path, { throwIfNoEntry: false });
        if (!st) outcome = 'missing';
        else if (reused.get(row.path, row.task_id, row.created_at)) outcome = 'missing';
        else if (!st.isFile() || st.size !== row.bytes || Math.trunc(st.mtimeMs) !== row.mtime_ms) outcome = 'changed';
        else {
          remove(row.path);
          outcome = 'deleted';
        }
      } catch (e) {
        const error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        if (error === 'ENOENT') outcome = 'missing';
        else {
          result.failed.push({ path: row.path, error });
          continue;
        }
      }
      mark.run(this.now().toISOString(), reason, outcome, row.task_id);
      result.pruned.push({ taskId: row.task_id, scheduleId: row.schedule_id, path: row.path, reason, outcome });
    }
    if (result.pruned.length || result.failed.length) {
      const count = (o: PruneOutcome) => result.pruned.filter((p) => p.outcome === o).length;
      this.log.info('pruned report files', { deleted: count('deleted'), missing: count('missing'), changed: count('changed'), failed: result.failed, files: result.pruned.map((p) => p.path) });
    }
    return result;
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }
}
