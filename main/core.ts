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
import { InventoryRepo } from './inventory/repo';
import { InventoryMutations } from './inventory/mutations';
import { inventoryHandlers } from './inventory/handlers';
import { viewHandlers } from './views/handlers';
import { kvmHandlers } from './kvm/handlers';
import { KvmService } from './kvm/service';
import { KvmDriver } from './kvm/driver';
import { hostBootstrapTask, hostRemoveTask, hostSyncTask } from './kvm/host-tasks';
import { guestCreateTask, guestOpTask } from './kvm/guest-tasks';
import { kvmAssetsIn } from './paths';
import { exportTask } from './inventory/export-task';
import { releaseTask } from './inventory/quota';
import { releaseTaskReservations } from './scheduler/reservations';
import { schedulerHandlers } from './scheduler/handlers';
import { DriverRegistry, type ComputeDriver } from './drivers/types';
import { guestActionTask } from './guests/action-task';
import { bulkTask, guestEditTask } from './guests/bulk-task';
import { ConsoleService } from './consoles/service';
import { consoleHandlers } from './consoles/handlers';
import { reportsModule } from './reports';
import { CloudService } from './clouds/service';
import { CloudRegistry, defaultCloudDrivers } from './clouds/registry';
import { cloudHandlers } from './clouds/handlers';
import { MonitoringService } from './monitoring/service';
import { CloudMetricSources } from './clouds/metrics-source';
import { monitoringHandlers } from './monitoring/handlers';
import { AlertEngine } from './monitoring/alerts';
import { alertHandlers } from './monitoring/alert-handlers';
import type { Core, CoreOptions } from './core-types';

export type { Core, CoreOptions, CallContext } from './core-types';

const DAY = 86_400_000;

/**
 * The composition root of the control plane: every service is built here, once, from the data directory and the
 * platform port. The Electron entry and the headless server both call it; nothing else constructs services.
 */
export async function openCore(o: CoreOptions & { drivers?: ComputeDriver[] }): Promise<Core & { vault: Vault; engine: TaskEngine; db: import('better-sqlite3').Database; drivers: DriverRegistry; kvm: KvmService; consoles: ConsoleService; clouds: CloudService; monitoring: MonitoringService; alerts: AlertEngine }> {
  const logger = o.logger ?? createLogger();
  const log = logger.scope('core');
  const opened = openDatabase(o.dataDir, o.version, undefined, { onCheckpointError: (message) => log.warn('WAL checkpoint failed', { message }) });
  const { db } = opened;
  const bus = new EventBus((e) => log.error('event listener failed', { error: e }));
  const settings = new SettingsRepo(db);
  const audit = new AuditRepo(db);
  const drivers = new DriverRegistry();
  const inventory = new InventoryRepo(db);
  const mutations = new InventoryMutations(db, inventory, bus);
  const vault = new Vault(db, o.platform);
  const kvm = new KvmService({
    db,
    vault,
    bus,
    mutations,
    logger,
    appVersion: o.version,
    assets: o.kvmAssets ?? kvmAssetsIn(join(process.cwd(), 'out')),
    sshAuthSock: o.sshAuthSock !== undefined ? o.sshAuthSock : (process.env.SSH_AUTH_SOCK ?? null),
  });
  drivers.register(new KvmDriver(kvm));
  let engineRef: TaskEngine | null = null;
  const clouds = new CloudService({ db, vault, engine: () => engineRef!, mutations, repo: inventory, logger, registry: new CloudRegistry(defaultCloudDrivers()) });
  for (const d of clouds.computeDrivers()) drivers.register(d);
  for (const d of o.drivers ?? []) drivers.register(d);
  const reports = reportsModule({ db, dataDir: o.dataDir, dbFile: join(o.dataDir, DB_FILE), platform: o.platform, version: o.version, logger, engine: () => engineRef!, vault, settings: () => settings.get() });
  const engine = new TaskEngine({
    db,
    bus,
    logger,
    types: [
      backupTask({ dataDir: o.dataDir, dbFile: join(o.dataDir, DB_FILE) }),
      guestActionTask({ db, drivers, mutations }),
      guestEditTask(mutations),
      bulkTask({ db, engine: () => engineRef!, drivers }),
      exportTask({ repo: inventory, dataDir: o.dataDir }),
      hostBootstrapTask(kvm),
      hostSyncTask(kvm),
      hostRemoveTask(kvm),
      guestCreateTask(kvm),
      guestOpTask(kvm),
      clouds.syncTask(),
      clouds.opTask(),
      ...reports.taskTypes,
    ],
    concurrency: () => settings.get().taskConcurrency,
    onFinish: (id) => {
      releaseTask(db, id);
      releaseTaskReservations(db, id);
    },
  });
  engineRef = engine;
  kvm.onAgentOutdated = (hostId, agentVersion) => {
    const busy = db.prepare(`SELECT 1 FROM tasks WHERE type = 'hosts.bootstrap' AND target_id = ? AND status IN ('queued', 'running', 'cancelling')`).get(hostId);
    if (busy) return;
    log.info('agent outdated: upgrading in place', { hostId, agentVersion, appVersion: o.version });
    engine.submit('hosts.bootstrap', { hostId, mode: 'upgrade' }, { createdBy: 'system', target: { kind: 'host', id: hostId }, concurrencyKey: `host:${hostId}` });
  };

  const monitoring = new MonitoringService({ db, kvm, settings: () => settings.get(), logger });
  const alerts = new AlertEngine({ db, vault, platform: o.platform, logger });
  monitoring.onCollected = () => alerts.evaluate();
  const cloudMetrics = new CloudMetricSources({ db, clouds, monitoring, logger });
  cloudMetrics.refresh();
  const offCloudMetrics = bus.on((e) => {
    if (e.type === 'resource.changed' && e.kind === 'cloudAccounts') cloudMetrics.refresh();
  });
  const consoles = new ConsoleService({ db, kvm, vault, clouds, logger, sshAuthSock: o.sshAuthSock !== undefined ? o.sshAuthSock : (process.env.SSH_AUTH_SOCK ?? null) });
  const handlers: Handlers = reports.guard({
    ...systemHandlers({ db, engine, platform: o.platform, dataDir: o.dataDir, version: o.version, schemaVersion: opened.schemaVersion, startedAt: new Date(), readOnly: reports.snapshot !== null }),
    ...settingsHandlers(settings, bus),
    ...taskHandlers(engine),
    ...auditHandlers(audit),
    ...searchHandlers({ tasks: engine.repo, audit }),
    ...inventoryHandlers({ db, repo: inventory, mutations, engine, drivers }),
    ...viewHandlers({ db, drivers }),
    ...kvmHandlers({ db, kvm, engine, repo: inventory, mutations, schedulerStrategy: () => settings.get().schedulerStrategy }),
    ...schedulerHandlers({ db, strategy: () => settings.get().schedulerStrategy }),
    ...consoleHandlers(consoles),
    ...cloudHandlers({ db, svc: clouds, mutations }),
    ...reports.handlers(),
    ...monitoringHandlers(monitoring),
    ...alertHandlers(alerts),
  });
  const dispatch = createDispatcher(handlers, audit, logger, (id) => bus.emit({ type: 'resource.changed', kind: 'audit', id: String(id), action: 'created' }));

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
  kvm.start();
  // A read-only inventory snapshot has no credentials to sync with.
  if (reports.snapshot === null) clouds.start();
  reports.start();
  if (reports.snapshot === null) monitoring.start();
  log.info('core ready', { dataDir: o.dataDir, schema: opened.schemaVersion, mode: o.platform.kind });

  let closed = false;
  return {
    dispatch,
    events: bus,
    dataDir: o.dataDir,
    logger,
    vault,
    engine,
    db,
    drivers,
    kvm,
    consoles,
    clouds,
    monitoring,
    alerts,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(pruneTimer);
      reports.stop();
      offCloudMetrics();
      monitoring.stop();
      consoles.closeAll();
      clouds.stop();
      await engine.stop();
      await kvm.close();
      opened.close();
      log.info('core closed');
    },
  };
}
