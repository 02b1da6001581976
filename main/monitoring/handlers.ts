import type { monitoring as monitoringContract } from '@shared/contract/monitoring';
import type { DomainHandlers } from '../api/handlers';
import { exposition } from './exposition';
import type { MonitoringService } from './service';
import { MetricsDb, HOUR, MINUTE } from './store';

export function monitoringHandlers(svc: MonitoringService): DomainHandlers<typeof monitoringContract> {
  const db = svc.mdb.db;
  return {
    'monitoring.series': ({ kind, id, metrics, from, to, resolution }) => {
      const res = resolution === 'auto' ? MetricsDb.pick(from, to, svc.retention()) : resolution;
      return {
        resolution: res,
        stepMs: res === 'raw' ? svc.intervalMs : res === '1m' ? MINUTE : HOUR,
        series: metrics.map((metric) => ({ metric, points: svc.mdb.series(kind, id, metric, from, to, res) })),
      };
    },
    'monitoring.top': ({ kind, metric, limit, order, maxAgeSeconds }) => {
      const table = kind === 'host' ? 'hosts' : 'guests';
      const hostCol = kind === 'host' ? 'r.id' : 'r.host_id';
      const since = Date.now() - maxAgeSeconds * 1000;
      // Latest values live in memory (MetricsDb): the series and their resources from SQL, ordered here as before.
      const rows = db
        .prepare(`SELECT s.id AS sid, s.resource_id AS id, r.name AS name, ${hostCol} AS hostId FROM metric_series s JOIN ${table} r ON r.id = s.resource_id WHERE s.kind = ? AND s.metric = ?`)
        .all(kind, metric) as { sid: number; id: string; name: string; hostId: string | null }[];
      const dir = order === 'asc' ? 1 : -1;
      const items = rows
        .flatMap(({ sid, ...r }) => {
          const l = svc.mdb.latestOf(sid);
          return l && l.ts >= since ? [{ ...r, value: l.value, ts: l.ts }] : [];
        })
        .sort((a, b) => (a.value !== b.value ? (a.value - b.value) * dir : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .slice(0, limit);
      return { items: items.map((i) => ({ kind, ...i })) };
    },
    'monitoring.latest': ({ kind, id }) => {
      const rows = db.prepare('SELECT id AS sid, metric FROM metric_series WHERE kind = ? AND resource_id = ?').all(kind, id) as { sid: number; metric: string }[];
      const values: Record<string, { value: number; ts: number }> = {};
      for (const r of rows) {
        const l = svc.mdb.latestOf(r.sid);
        if (l) values[r.metric] = { value: l.value, ts: l.ts };
      }
      return { values };
    },
    'monitoring.sources': () => ({ items: svc.sources() }),
    'monitoring.collect': async () => ({ samples: await svc.collectAll() }),
    'monitoring.exposition': () => ({ text: exposition(svc.mdb) }),
  };
}
