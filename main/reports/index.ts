import type Database from 'better-sqlite3';
import type { Settings } from '@shared/contract/settings';
import type { Handlers } from '../api/handlers';
import type { Logger } from '../log/logger';
import type { PlatformPort } from '../platform/port';
import type { TaskEngine } from '../tasks/engine';
import type { TaskType } from '../tasks/types';
import type { Vault } from '../vault/vault';
import { sendConfiguredMail, smtpSettings } from '../notify/smtp';
import { reportHandlers } from './handlers';
import { RatesRepo } from './rates';
import { guardReadOnly } from './read-only';
import { ReportFiles } from './retention';
import { reportRunTask } from './run-task';
import { MetricsDb } from '../monitoring/store';
import { ReportScheduler } from './schedules';
import { snapshotTask } from './snapshot';
import { snapshotOf } from './snapshot-meta';

/**
 * Reports as the composition root sees them: their task types, their handlers, the schedule timer, and whether this
 * database is an opened snapshot (then every changing command but a few is refused, and no schedule runs).
 */
export function reportsModule(o: { db: Database.Database; dataDir: string; dbFile: string; platform: PlatformPort; version: string; logger: Logger; engine: () => TaskEngine; vault?: Vault; settings: () => Settings }) {
  const rates = new RatesRepo(o.db);
  const snapshot = snapshotOf(o.db);
  const scheduler = new ReportScheduler({
    db: o.db,
    logger: o.logger,
    submit: (params, createdBy) => o.engine().submit('reports.run', params, { createdBy, concurrencyKey: 'reports' }),
    smtpReady: () => smtpSettings(o.db) !== null,
    mail: o.vault ? (msg) => sendConfiguredMail(o.db, o.vault!, msg) : undefined,
    watchTasks: (listener) => o.engine().onTaskUpdate(listener),
  });
  const files = new ReportFiles({ db: o.db, logger: o.logger, settings: o.settings });
  const track = files.track.bind(files);
  const taskTypes: TaskType<any>[] = [reportRunTask({ dataDir: o.dataDir, dbFile: o.dbFile, platform: o.platform, track, beforeRead: () => MetricsDb.existing(o.db)?.flush() }), snapshotTask({ dataDir: o.dataDir, dbFile: o.dbFile, version: o.version, track })];
  let unwatch: (() => void) | null = null;
  return {
    snapshot,
    scheduler,
    files,
    taskTypes,
    handlers: () => reportHandlers({ db: o.db, engine: o.engine(), platform: o.platform, rates, scheduler }),
    guard: (h: Handlers): Handlers => (snapshot ? guardReadOnly(h, snapshot) : h),
    start(): void {
      // Retention: at start, and after every report or snapshot that wrote a file (scheduled runs above all).
      files.prune();
      unwatch ??= o.engine().onTaskUpdate((t) => {
        if ((t.type === 'reports.run' || t.type === 'reports.snapshot') && t.status === 'succeeded') files.prune();
      });
      if (!snapshot) scheduler.start();
    },
    stop(): void {
      unwatch?.();
      unwatch = null;
      scheduler.stop();
    },
  };
}
