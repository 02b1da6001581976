import type Database from 'better-sqlite3';
import type { MetricKind, Resolution } from '@shared/contract/monitoring';

/**
 * The metrics store (migration 0010): series by integer id, raw values, and 1-minute / 1-hour rollups updated in the
 * same transaction as the raw insert. A sample already stored (same series and timestamp, e.g. read twice from an
 * agent) is ignored everywhere, so rollups stay exact however often samples are delivered.
 */

export interface StoredPoint {
  kind: MetricKind;
  resourceId: string;
  metric: string;
  ts: number;
  value: number;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface Retention {
  rawDays: number;
  m1Days: number;
  h1Days: number;
}

/** Counters arrive as running totals; they are stored as per-second rates under this name. */
export const rateName = (counter: string): string => `${counter}_per_s`;

export class MetricsDb {
  private readonly seriesIds = new Map<string, number>();
  private readonly st;

  constructor(readonly db: Database.Database) {
    const rollup = (t: string) =>
      db.prepare(
        `INSERT INTO ${t} (series_id, ts, min, max, sum, count, last, last_ts) VALUES (?, ?, ?, ?, ?, 1, ?, ?)
         ON CONFLICT (series_id, ts) DO UPDATE SET min = min(min, excluded.min), max = max(max, excluded.max), sum = sum + excluded.sum,
           count = count + 1, last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END, last_ts = max(last_ts, excluded.last_ts)`,
      );
    this.st = {
      seriesGet: db.prepare('SELECT id FROM metric_series WHERE kind = ? AND resource_id = ? AND metric = ?').pluck(),
      seriesAdd: db.prepare('INSERT INTO metric_series (kind, resource_id, metric) VALUES (?, ?, ?)'),
      raw: db.prepare('INSERT OR IGNORE INTO metric_raw (series_id, ts, value) VALUES (?, ?, ?)'),
      m1: rollup('metric_1m'),
      h1: rollup('metric_1h'),
      latest: db.prepare(
        `INSERT INTO metric_latest (series_id, ts, value) VALUES (?, ?, ?)
         ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value WHERE excluded.ts >= metric_latest.ts`,
      ),
      latestGet: db.prepare('SELECT ts, value FROM metric_latest WHERE series_id = ?'),
    };
  }

  seriesId(kind: string, resourceId: string, metric: string): number {
    const key = `${kind}\u0000${resourceId}\u0000${metric}`;
    let id = this.seriesIds.get(key);
    if (id !== undefined) return id;
    id = this.st.seriesGet.get(kind, resourceId, metric) as number | undefined;
    if (id === undefined) id = Number(this.st.seriesAdd.run(kind, resourceId, metric).lastInsertRowid);
    this.seriesIds.set(key, id);
    return id;
  }

  /** The newest stored value of a series (counters live only here). */
  latest(kind: string, resourceId: string, metric: string): { ts: number; value: number } | undefined {
    return this.st.latestGet.get(this.seriesId(kind, resourceId, metric)) as { ts: number; value: number } | undefined;
  }

  /** Remembers a counter's newest total without storing it as a series of its own. */
  setLatest(kind: string, resourceId: string, metric: string, ts: number, value: number): void {
    this.st.latest.run(this.seriesId(kind, resourceId, metric), ts, value);
  }

  /** Stores points (call inside a transaction for speed); answers how many were new. */
  insert(points: Iterable<StoredPoint>): number {
    let n = 0;
    for (const p of points) {
      if (!Number.isFinite(p.value) || !Number.isFinite(p.ts)) continue;
      const id = this.seriesId(p.kind, p.resourceId, p.metric);
      if (this.st.raw.run(id, p.ts, p.value).changes === 0) continue;
      this.st.m1.run(id, p.ts - (p.ts % MINUTE), p.value, p.value, p.value, p.value, p.ts);
      this.st.h1.run(id, p.ts - (p.ts % HOUR), p.value, p.value, p.value, p.value, p.ts);
      this.st.latest.run(id, p.ts, p.value);
      n++;
    }
    return n;
  }

  insertMany(points: StoredPoint[]): number {
    return this.db.transaction(() => this.insert(points))();
  }

  /** The resolution a range is drawn at: raw up to 3 h, 1-minute up to 3 days, then 1-hour — or coarser if retention already dropped the finer data at the range's start. */
  static pick(from: number, to: number, retention: Retention, now = Date.now()): Resolution {
    const span = to - from;
    if (span <= 3 * HOUR && from >= now - retention.rawDays * DAY) return 'raw';
    if (span <= 3 * DAY && from >= now - retention.m1Days * DAY) return '1m';
    return '1h';
  }

  series(kind: string, resourceId: string, metric: string, from: number, to: number, resolution: Resolution): [number, number, number, number][] {
    const id = this.st.seriesGet.get(kind, resourceId, metric) as number | undefined;
    if (id === undefined) return [];
    if (resolution === 'raw') {
      const rows = this.db.prepare('SELECT ts, value FROM metric_raw WHERE series_id = ? AND ts >= ? AND ts <= ? ORDER BY ts').raw().all(id, from, to) as [number, number][];
      return rows.map(([ts, v]) => [ts, v, v, v]);
    }
    const t = resolution === '1m' ? 'metric_1m' : 'metric_1h';
    const step = resolution === '1m' ? MINUTE : HOUR;
    return this.db
      .prepare(`SELECT ts, sum / count, min, max FROM ${t} WHERE series_id = ? AND ts >= ? AND ts <= ? ORDER BY ts`)
      .raw()
      .all(id, from - (from % step), to) as [number, number, number, number][];
  }

  /** Rollup rows as stored (for tests and exports). */
  rollup(resolution: '1m' | '1h', kind: string, resourceId: string, metric: string): { ts: number; min: number; max: number; avg: number; last: number; count: number }[] {
    const id = this.st.seriesGet.get(kind, resourceId, metric) as number | undefined;
    if (id === undefined) return [];
    return this.db.prepare(`SELECT ts, min, max, sum / count AS avg, last, count FROM ${resolution === '1m' ? 'metric_1m' : 'metric_1h'} WHERE series_id = ? ORDER BY ts`).all(id) as never;
  }

  /** Deletes what is older than each resolution's retention; answers rows deleted. */
  prune(r: Retention, now = Date.now()): number {
    let n = 0;
    n += this.db.prepare('DELETE FROM metric_raw WHERE ts < ?').run(now - r.rawDays * DAY).changes;
    n += this.db.prepare('DELETE FROM metric_1m WHERE ts < ?').run(now - r.m1Days * DAY).changes;
    n += this.db.prepare('DELETE FROM metric_1h WHERE ts < ?').run(now - r.h1Days * DAY).changes;
    return n;
  }

  /** Forgets every series of a resource (host or guest removed). */
  dropResource(kind: string, resourceId: string): void {
    this.db.transaction(() => {
      const ids = this.db.prepare('SELECT id FROM metric_series WHERE kind = ? AND resource_id = ?').pluck().all(kind, resourceId) as number[];
      for (const t of ['metric_raw', 'metric_1m', 'metric_1h', 'metric_latest']) {
        const del = this.db.prepare(`DELETE FROM ${t} WHERE series_id = ?`);
        for (const id of ids) del.run(id);
      }
      this.db.prepare('DELETE FROM metric_series WHERE kind = ? AND resource_id = ?').run(kind, resourceId);
    })();
    for (const k of [...this.seriesIds.keys()]) if (k.startsWith(`${kind}\u0000${resourceId}\u0000`)) this.seriesIds.delete(k);
  }
}
