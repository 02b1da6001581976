import { copyFileSync, existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { reports } from '@shared/contract/reports';
import type { Cell, ReportPreview } from '@shared/contract/reports';
import type { DomainHandlers } from '../api/handlers';
import type { TaskEngine } from '../tasks/engine';
import type { PlatformPort } from '../platform/port';
import { buildReport } from './definitions';
import type { RatesRepo } from './rates';
import type { ReportScheduler } from './schedules';
import { snapshotOf } from './snapshot-meta';

export interface ReportHandlerDeps {
  db: Database.Database;
  engine: TaskEngine;
  platform: PlatformPort;
  rates: RatesRepo;
  scheduler: ReportScheduler;
}

export function reportHandlers(d: ReportHandlerDeps): DomainHandlers<typeof reports> {
  return {
    'reports.preview': ({ report, locale, limit }) => {
      const built = buildReport({ db: d.db, spec: report, locale, now: new Date(), rateCard: d.rates.rateCard(), snapshotAt: snapshotOf(d.db)?.createdAt ?? null });
      const out: ReportPreview = {
        title: built.title,
        generatedAt: built.generatedAt,
        period: built.period,
        filters: built.filters,
        notes: built.notes,
        snapshotAt: built.snapshotAt,
        charts: built.charts(),
        sections: built.sections.map((s) => {
          const rows: Cell[][] = [];
          const it = s.rows();
          try {
            for (const r of it) {
              rows.push(r);
              if (rows.length >= limit) break;
            }
          } finally {
            it.return?.();
          }
          return { key: s.key, title: s.title, columns: s.columns, rows, total: s.count(), footer: s.footer() };
        }),
      };
      return out;
    },
    'reports.run': ({ report, format, locale, bom, fileName }, ctx) => {
      const task = d.engine.submit('reports.run', { report, format, locale, bom, ...(fileName ? { fileName } : {}) }, { createdBy: ctx.actor, concurrencyKey: 'reports' });
      return { taskId: task.id };
    },
    'reports.saveAs': async ({ taskId }) => {
      const task = d.engine.repo.get(taskId);
      if (!task || (task.type !== 'reports.run' && task.type !== 'reports.snapshot')) throw new ApiError('not_found', `no report task ${taskId}`, { taskId });
      if (task.status !== 'succeeded') throw new ApiError('conflict', `report task ${taskId} is ${task.status}: there is no file to save yet`, { status: task.status });
      const result = task.result as { path?: string; file?: string } | null;
      if (!result?.path || !existsSync(result.path)) throw new ApiError('not_found', `the file of report task ${taskId} is gone`, { taskId });
      const ext = result.path.split('.').pop() ?? '';
      const chosen = await d.platform.chooseSaveFile({ title: 'Save report', defaultPath: result.file, filters: [{ name: ext.toUpperCase(), extensions: [ext] }] });
      if (!chosen) return { path: null };
      copyFileSync(result.path, chosen);
      return { path: chosen };
    },
    'reports.getRateCard': () => d.rates.rateCard(),
    'reports.setRateCard': (input) => d.rates.setRateCard(input),
    'reports.listPrices': () => ({ items: d.rates.prices() }),
    'reports.setPrice': (input) => d.rates.setPrice(input, 'manual'),
    'reports.deletePrice': ({ provider, region, instanceType }) => {
      if (!d.rates.deletePrice(provider, region, instanceType)) throw new ApiError('not_found', `no price for ${provider} ${instanceType}${region ? ` in ${region}` : ''}`);
      return { ok: true as const };
    },
    'reports.listSchedules': () => ({ items: d.scheduler.list() }),
    'reports.createSchedule': (input) => d.scheduler.create(input),
    'reports.updateSchedule': ({ id, patch }) => d.scheduler.update(id, patch),
    'reports.deleteSchedule': ({ id }) => {
      d.scheduler.delete(id);
      return { ok: true as const };
    },
    'reports.runSchedule': ({ id }, ctx) => ({ taskId: d.scheduler.runNow(id, ctx.actor).id }),
    'reports.exportSnapshot': ({ fileName }, ctx) => {
      const task = d.engine.submit('reports.snapshot', fileName ? { fileName } : {}, { createdBy: ctx.actor, target: { kind: 'system', id: 'inventory-snapshot', name: 'inventory snapshot' } });
      return { taskId: task.id };
    },
  };
}
