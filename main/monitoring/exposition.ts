import { COUNTERS } from './ingest';
import type { MetricsDb } from './store';

/**
 * The newest value of every series in the Prometheus text exposition format (version 0.0.4): one family per metric,
 * `skydeck_<metric with . → _>` (counters as `…_total`), labels kind, id, name and host; pool metrics carry the pool as
 * a label. Values older than `maxAgeMs` are left out (a host that stopped reporting must not look current).
 */
export function exposition(mdb: MetricsDb, maxAgeMs = 600_000, now = Date.now()): string {
  const series = mdb.db
    .prepare(
      `SELECT s.id AS sid, s.kind AS kind, s.resource_id AS id, s.metric AS metric,
              coalesce(h.name, g.name) AS name, coalesce(h.id, g.host_id) AS host
       FROM metric_series s
       LEFT JOIN hosts h ON s.kind = 'host' AND h.id = s.resource_id
       LEFT JOIN guests g ON s.kind = 'guest' AND g.id = s.resource_id
       ORDER BY s.metric, s.kind, s.resource_id`,
    )
    .all() as { sid: number; kind: string; id: string; metric: string; name: string | null; host: string | null }[];
  const families = new Map<string, { type: 'gauge' | 'counter'; lines: string[] }>();
  for (const s of series) {
    // Latest values live in memory (MetricsDb).
    const l = mdb.latestOf(s.sid);
    if (!l || l.ts < now - maxAgeMs) continue;
    const r = { ...s, value: l.value, ts: l.ts };
    const labels: [string, string][] = [
      ['kind', r.kind],
      ['id', r.id],
    ];
    if (r.name) labels.push(['name', r.name]);
    if (r.host) labels.push(['host', r.host]);
    let metric = r.metric;
    const pool = /^pool\.(.+)\.(size_bytes|free_bytes)$/.exec(metric);
    if (pool) {
      metric = `pool.${pool[2]}`;
      labels.push(['pool', pool[1]!]);
    }
    const counter = COUNTERS.has(r.metric);
    const name = `skydeck_${metric.replace(/[^A-Za-z0-9_]/g, '_')}${counter ? '_total' : ''}`;
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: counter ? 'counter' : 'gauge', lines: [] }));
    f.lines.push(`${name}{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}} ${formatValue(r.value)} ${r.ts}`);
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    out.push(`# HELP ${name} Skydeck metric ${name.slice('skydeck_'.length)}`, `# TYPE ${name} ${f.type}`, ...f.lines);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatValue = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
