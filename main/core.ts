import { join } from 'node:path';
import { openDatabase, DB_FILE } from './db/open';
import { EventBus } from './events/bus';
import { createLogger } from './log/logger';
import { AuditRepo } from './audit/audit-repo';
import { SettingsRepo } from './settings/settings-repo';
import { TaskEngine } from './tasks/engine';
import { backupTask } from './system/backup-task';
import { createDispatcher } from './api/dispatch';
import type { Handlers } from './api/handlers';
import { systemHandlers } from './system/handlers';
import { settingsHandlers } from './settings/handlers';
import { taskHandlers } from './tasks/handlers';
import { auditHandlers } from './audit/handlers';
import { searchHandlers } from './search/handlers';
import { Vault } from './vault/vault';
import type { Core, CoreOptions } from './core-types';

export type { Core, CoreOptions, CallContext } from './core-types';

const DAY = 86_400_000;

/**
 * The composition root of the control plane: every service is built here, once, from the data directory and the
 * platform port. The Electron entry and the headless server both call it; nothing else constructs services.
 */
export async function openCore(o: CoreOptions): Promise<Core & { vault: Vault; engine: TaskEngine }> {
  const logger = o.logger ?? createLogger();
  const log = logger.scope('core');
  const opened = openDatabase(o.dataDir, o.version);
  const { db } = opened;
  const bus = new EventBus((e) => log.error('event listener failed', { error: e }));
  const settings = new SettingsRepo(db);
  const audit = new AuditRepo(db);
  const engine = new TaskEngine({
    db,
    bus,
    logger,
    types: [backupTask({ dataDir: o.dataDir, dbFile: join(o.dataDir, DB_FILE) })],
    concurrency: () => settings.get().taskConcurrency,
  });
  const vault = new Vault(db, o.platform);

  const handlers: Handlers = {
    ...systemHandlers({ db, engine, platform: o.platform, dataDir: o.dataDir, version: o.version, schemaVersion: opened.schemaVersion, startedAt: new Date() }),
    ...settingsHandlers(settings, bus),
    ...taskHandlers(engine),
    ...auditHandlers(audit),
    ...searchHandlers({ tasks: engine.repo, audit }),
  };
  const dispatch = createDispatcher(handlers, audit, logger);

  // Housekeeping: prune old history at start and daily.
  const prune = () => {
    const s = settings.get();
    const tasks = engine.repo.prune(new Date(Date.now() - s.taskRetentionDays * DAY).toISOString());
    const rows = audit.prune(new Date(Date.now() - s.auditRetentionDays * DAY).toISOString());
    if (tasks || rows) log.info('pruned history', { tasks, auditRows: rows });
  };
  prune();
  const pruneTimer = setInterval(prune, DAY);
  pruneTimer.unref();

  await engine.start();
  log.info('core ready', { dataDir: o.dataDir, schema: opened.schemaVersion, mode: o.platform.kind });

  let closed = false;
  return {
    dispatch,
    events: bus,
    dataDir: o.dataDir,
    logger,
    vault,
    engine,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(pruneTimer);
      await engine.stop();
      opened.close();
      log.info('core closed');
    },
  };
}
