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
      const items = db
        .prepare(
          `SELECT s.resource_id AS id, r.name AS name, ${hostCol} AS hostId, l.value AS value, l.ts AS ts
           FROM metric_series s JOIN metric_latest l ON l.series_id = s.id JOIN ${table} r ON r.id = s.resource_id
           WHERE s.kind = ? AND s.metric = ? AND l.ts >= ? ORDER BY l.value ${order === 'asc' ? 'ASC' : 'DESC'}, r.name LIMIT ?`,
        )
        .all(kind, metric, Date.now() - maxAgeSeconds * 1000, limit) as { id: string; name: string; hostId: string | null; value: number; ts: number }[];
      return { items: items.map((i) => ({ kind, ...i })) };
    },
    'monitoring.latest': ({ kind, id }) => {
      const rows = db
        .prepare('SELECT s.metric AS metric, l.value AS value, l.ts AS ts FROM metric_series s JOIN metric_latest l ON l.series_id = s.id WHERE s.kind = ? AND s.resource_id = ?')
        .all(kind, id) as { metric: string; value: number; ts: number }[];
      return { values: Object.fromEntries(rows.map((r) => [r.metric, { value: r.value, ts: r.ts }])) };
    },
    'monitoring.sources': () => ({ items: svc.sources() }),
    'monitoring.collect': async () => ({ samples: await svc.collectAll() }),
    'monitoring.exposition': () => ({ text: exposition(db) }),
  };
}
