import type Database from 'better-sqlite3';
import type { MetricKind, Resolution } from '@shared/contract/monitoring';
import { blockScale, decodeBuckets, decodeJournal, decodeSamples, encodeBuckets, encodeJournal, encodeSamples, mergeBucket, rollUp, type Bucket } from './codec';

/**
 * The metrics store (migrations 0010 and 0014).
 *
 * - Recent samples are kept in memory per series and made durable as one `metric_journal` row per transaction (a
 *   collection round: that round's points, ~4 bytes each), written in the caller's transaction — so the collector's
 *   cursor (metric_sources.last_seq) still advances in the same commit that makes its samples durable.
 * - A flush (every FLUSH_AGE_MS or MAX_PENDING points, at prune, stop and close) turns what is pending into compressed
 *   per-series blocks (`metric_blocks`: one row per series and flush, spanning less than an hour, codec.ts), merges the
 *   hourly rollups into `metric_1h` (one upsert per series and hour touched), writes the latest values to
 *   `metric_latest` and empties the journal, in one transaction.
 * - 1-minute rollups are a function of a block's raw samples: computed from them when queried while they are kept
 *   (exact; a day of 10 s samples decodes in about a millisecond), and stored in the block (`m1`) by prune() when the
 *   raw samples expire, so that they outlive them as before. Storing them at every flush as well doubled the blocks.
 * - Queries merge the blocks (and hourly rows) with what is pending, so the still-open buckets are answered too; the
 *   same bucket split over two blocks (two flushes within a minute) is merged exactly (min, max, sum, count, last by
 *   its timestamp).
 * - Latest values live in memory (loaded at open, journal replayed) and are persisted at each flush.
 * A sample already stored (same series and timestamp, e.g. read twice from an agent) is ignored everywhere, so rollups
 * stay exact however often samples are delivered. One MetricsDb per connection: use MetricsDb.of(db).
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
/** A block never spans more than this (t1 - t0 < BLOCK_SPAN), so a range query reads blocks from `from - BLOCK_SPAN`. */
export const BLOCK_SPAN = HOUR;
/** Pending samples are flushed into blocks once the oldest is this old (wall clock) … */
export const FLUSH_AGE_MS = 10 * MINUTE;
/** … or once this many are pending (memory bound: ~16 bytes each). */
export const MAX_PENDING = 2_000_000;

export interface Retention {
  rawDays: number;
  m1Days: number;
  h1Days: number;
}

/** Counters arrive as running totals; they are stored as per-second rates under this name. */
export const rateName = (counter: string): string => `${counter}_per_s`;

interface Pending {
  ts: number[];
  vs: number[];
  /** The newest timestamp pending. */
  max: number;
  sorted: boolean;
  /** Timestamps pending, built once samples arrive out of order (duplicate checks off the fast path). */
  set: Set<number> | null;
}

/** The earliest t0 of a block that can hold a sample at ts. */
const windowStart = (ts: number): number => ts - BLOCK_SPAN + 1;

const instances = new WeakMap<Database.Database, MetricsDb>();

export class MetricsDb {
  /** The store of a connection (the monitoring service's), created on first use. */
  static of(db: Database.Database): MetricsDb {
    return instances.get(db) ?? new MetricsDb(db);
  }

  /** The store of a connection if one was opened on it. */
  static existing(db: Database.Database): MetricsDb | undefined {
    return instances.get(db);
  }

  private readonly ids = new Map<string, Map<string, Map<string, number>>>();
  private lastKind = '';
  private lastResource = '';
  private lastMetrics: Map<string, number> | null = null;
  private latestTs = new Float64Array(0);
  private latestV = new Float64Array(0);
  /** Newest timestamp of each series already in blocks (NaN: none): a sample newer than that cannot be a duplicate. */
  private flushedMax = new Float64Array(0);
  /** Pending samples by series id (sparse). */
  private pending: (Pending | undefined)[] = [];
  private readonly pendingIds: number[] = [];
  private pendingCount = 0;
  private pendingSince = 0;
  /** Series whose latest value changed since the last flush: a flag per id and their list. */
  private dirty = new Uint8Array(0);
  private readonly dirtyIds: number[] = [];
  /** What the open transaction added, flat [sid, ts, value, flag]; null outside transaction(). */
  private stage: number[] | null = null;
  private readonly st;

  constructor(readonly db: Database.Database) {
    // Two stores on one connection would each flush (and so empty) the journal of the other's pending samples.
    if (instances.has(db)) throw new Error('a MetricsDb is open on this connection already: use MetricsDb.of(db)');
    this.st = {
      seriesGet: db.prepare('SELECT id FROM metric_series WHERE kind = ? AND resource_id = ? AND metric = ?').pluck(),
      seriesAdd: db.prepare('INSERT INTO metric_series (kind, resource_id, metric) VALUES (?, ?, ?)'),
      journalAdd: db.prepare('INSERT INTO metric_journal (data) VALUES (?)'),
      journalClear: db.prepare('DELETE FROM metric_journal'),
      blockAdd: db.prepare('INSERT INTO metric_blocks (series_id, t0, t1, raw, m1) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      blockGet: db.prepare('SELECT t1, raw, m1 FROM metric_blocks WHERE series_id = ? AND t0 = ?'),
      // Blobs are read with their block's t0: their first time is stored against it.
      blockPut: db.prepare('UPDATE metric_blocks SET t1 = ?, raw = ?, m1 = ? WHERE series_id = ? AND t0 = ?'),
      blocksRaw: db.prepare('SELECT t0, raw FROM metric_blocks WHERE series_id = ? AND t0 >= ? AND t0 <= ? AND t1 >= ? ORDER BY t0').raw(),
      blocksM1: db.prepare('SELECT t0, raw, m1 FROM metric_blocks WHERE series_id = ? AND t0 >= ? AND t0 <= ? AND t1 >= ? ORDER BY t0').raw(),
      oldestRaw: db.prepare('SELECT t0 FROM metric_blocks WHERE series_id = ? AND raw IS NOT NULL ORDER BY t0 LIMIT 1').pluck(),
      h1: db.prepare(
        `INSERT INTO metric_1h (series_id, ts, min, max, sum, count, last, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id, ts) DO UPDATE SET min = min(min, excluded.min), max = max(max, excluded.max), sum = sum + excluded.sum,
           count = count + excluded.count, last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END, last_ts = max(last_ts, excluded.last_ts)`,
      ),
      h1Get: db.prepare('SELECT ts, min, max, sum, count, last, last_ts AS lastTs FROM metric_1h WHERE series_id = ? AND ts >= ? AND ts <= ? ORDER BY ts'),
      latestPut: db.prepare('INSERT OR REPLACE INTO metric_latest (series_id, ts, value) VALUES (?, ?, ?)'),
    };
    instances.set(db, this);
    this.load();
  }

  /** (Re)reads the persisted state: latest values, then the journal's pending samples. */
  private load(): void {
    this.pending = [];
    this.pendingIds.length = 0;
    this.pendingCount = 0;
    this.dirty.fill(0);
    this.dirtyIds.length = 0;
    this.latestTs.fill(NaN);
    this.flushedMax.fill(NaN);
    for (const [id, ts, value] of this.db.prepare('SELECT series_id, ts, value FROM metric_latest').raw().all() as [number, number, number][]) {
      this.grow(id);
      this.latestTs[id] = ts;
      this.latestV[id] = value;
      this.flushedMax[id] = ts;
    }
    const rows = this.db.prepare('SELECT data FROM metric_journal ORDER BY id').pluck().all() as Buffer[];
    for (const data of rows) decodeJournal(data, (sid, ts, v, flag) => (flag ? this.putLatest(sid, ts, v) : this.append(sid, ts, v)));
  }

  private grow(id: number): void {
    if (id < this.latestTs.length) return;
    const n = Math.max(1024, id * 2);
    const g = (a: Float64Array) => {
      const b = new Float64Array(n).fill(NaN);
      b.set(a);
      return b;
    };
    this.latestTs = g(this.latestTs);
    this.latestV = g(this.latestV);
    this.flushedMax = g(this.flushedMax);
    const d = new Uint8Array(n);
    d.set(this.dirty);
    this.dirty = d;
  }

  seriesId(kind: string, resourceId: string, metric: string): number {
    let byMetric: Map<string, number> | undefined;
    // A resource's points arrive together: remember the last resource's metrics.
    if (kind === this.lastKind && resourceId === this.lastResource) byMetric = this.lastMetrics!;
    else {
      let byRes = this.ids.get(kind);
      if (!byRes) this.ids.set(kind, (byRes = new Map()));
      byMetric = byRes.get(resourceId);
      if (!byMetric) byRes.set(resourceId, (byMetric = new Map()));
      this.lastKind = kind;
      this.lastResource = resourceId;
      this.lastMetrics = byMetric;
    }
    let id = byMetric.get(metric);
    if (id !== undefined) return id;
    id = this.st.seriesGet.get(kind, resourceId, metric) as number | undefined;
    if (id === undefined) id = Number(this.st.seriesAdd.run(kind, resourceId, metric).lastInsertRowid);
    this.grow(id);
    byMetric.set(metric, id);
    return id;
  }

  private forgetIds(): void {
    this.ids.clear();
    this.lastKind = '';
    this.lastMetrics = null;
  }

  /** A series' id if it exists (never creates one). */
  lookup(kind: string, resourceId: string, metric: string): number | undefined {
    const id = this.ids.get(kind)?.get(resourceId)?.get(metric);
    return id ?? (this.st.seriesGet.get(kind, resourceId, metric) as number | undefined);
  }

  /** The newest value of a series by id (counters' running totals included). */
  latestOf(id: number): { ts: number; value: number } | undefined {
    const ts = this.latestTs[id];
    return ts === undefined || Number.isNaN(ts) ? undefined : { ts, value: this.latestV[id]! };
  }

  /** The newest stored value of a series (counters live only here). */
  latest(kind: string, resourceId: string, metric: string): { ts: number; value: number } | undefined {
    return this.latestOf(this.seriesId(kind, resourceId, metric));
  }

  /** Remembers a counter's newest total without storing it as a series of its own. */
  setLatest(kind: string, resourceId: string, metric: string, ts: number, value: number): void {
    if (!this.stage) return this.transaction(() => this.setLatest(kind, resourceId, metric, ts, value));
    const id = this.seriesId(kind, resourceId, metric);
    if (this.putLatest(id, ts, value)) this.stage.push(id, ts, value, 1);
  }

  private putLatest(id: number, ts: number, value: number): boolean {
    this.grow(id);
    const cur = this.latestTs[id]!;
    if (!Number.isNaN(cur) && ts < cur) return false;
    this.latestTs[id] = ts;
    this.latestV[id] = value;
    if (!this.dirty[id]) {
      this.dirty[id] = 1;
      this.dirtyIds.push(id);
    }
    return true;
  }

  /**
   * Runs fn in a database transaction whose commit also writes what fn inserted as one journal row (durable with
   * whatever else fn wrote, e.g. the collector's cursor). Nested calls join the outer one. If fn throws, the in-memory
   * state is reloaded from the database.
   */
  transaction<T>(fn: () => T): T {
    if (this.stage) return fn();
    const stage: number[] = [];
    this.stage = stage;
    try {
      return this.db.transaction(() => {
        const r = fn();
        if (stage.length) this.st.journalAdd.run(encodeJournal(stage));
        return r;
      })();
    } catch (e) {
      this.stage = null;
      // Rolled back: series rows created inside are gone (their ids may be handed out again), and so are the samples.
      this.forgetIds();
      if (stage.length) this.load();
      throw e;
    } finally {
      this.stage = null;
    }
  }

  /** Stores points; answers how many were new. Joins the open transaction(), or runs in one of its own. */
  insert(points: Iterable<StoredPoint>): number {
    if (!this.stage) return this.transaction(() => this.insert(points));
    const stage = this.stage;
    let n = 0;
    for (const p of points) {
      const ts = p.ts;
      const v = p.value;
      if (!Number.isFinite(v) || !Number.isSafeInteger(ts)) continue;
      const id = this.seriesId(p.kind, p.resourceId, p.metric);
      if (ts <= this.flushedMax[id]! && this.inBlocks(id, ts)) continue;
      if (!this.append(id, ts, v)) continue;
      stage.push(id, ts, v, 0);
      n++;
    }
    return n;
  }

  insertMany(points: StoredPoint[]): number {
    return this.transaction(() => this.insert(points));
  }

  /** Adds a sample to the pending ones unless it is pending already; updates the latest value. */
  private append(id: number, ts: number, v: number): boolean {
    const p = this.pending[id];
    if (!p) {
      this.pending[id] = { ts: [ts], vs: [v], max: ts, sorted: true, set: null };
      this.pendingIds.push(id);
    } else if (ts > p.max) {
      p.ts.push(ts);
      p.vs.push(v);
      p.max = ts;
      p.set?.add(ts);
    } else {
      if (!p.set) p.set = new Set(p.ts);
      if (p.set.has(ts)) return false;
      p.set.add(ts);
      p.ts.push(ts);
      p.vs.push(v);
      p.sorted = false;
    }
    if (this.pendingCount++ === 0) this.pendingSince = Date.now();
    this.putLatest(id, ts, v);
    return true;
  }

  /** Whether a sample of this series at ts is in a block already (a block whose raw samples were pruned counts as yes). */
  private inBlocks(id: number, ts: number): boolean {
    for (const [t0, raw] of this.st.blocksRaw.all(id, windowStart(ts), ts, ts) as [number, Buffer | null][]) {
      if (!raw) return true;
      const s = decodeSamples(raw, t0);
      if (binarySearch(s.ts, ts) >= 0) return true;
    }
    return false;
  }

  /** Pending samples (not yet in blocks). */
  get pendingSamples(): number {
    return this.pendingCount;
  }

  /** Flushes when the oldest pending sample waited FLUSH_AGE_MS or MAX_PENDING are pending; answers samples flushed. */
  maybeFlush(now = Date.now()): number {
    if (this.pendingCount >= MAX_PENDING || (this.pendingCount > 0 && now - this.pendingSince >= FLUSH_AGE_MS)) return this.flush();
    if (!this.pendingCount && this.dirtyIds.length) return this.flush();
    return 0;
  }

  /**
   * Makes everything pending part of the blocks, hourly rollups and latest values, and empties the journal, in one
   * transaction. Answers the number of samples flushed.
   */
  flush(): number {
    if (this.stage) throw new Error('MetricsDb.flush inside a metrics transaction');
    if (!this.pendingCount && !this.dirtyIds.length) return 0;
    const n = this.pendingCount;
    const sids = [...this.pendingIds].sort((a, b) => a - b);
    this.db.transaction(() => {
      // The journal first: its pages are free again for the blocks written next.
      this.st.journalClear.run();
      for (const id of sids) {
        const p = this.pending[id]!;
        let { ts, vs } = p;
        if (!p.sorted) {
          const order = ts.map((_, i) => i).sort((a, b) => ts[a]! - ts[b]!);
          ts = order.map((i) => p.ts[i]!);
          vs = order.map((i) => p.vs[i]!);
        }
        for (let i = 0; i < ts.length; ) {
          const end = ts[i]! + BLOCK_SPAN;
          let j = i + 1;
          while (j < ts.length && ts[j]! < end) j++;
          this.writeBlock(id, ts, vs, i, j);
          i = j;
        }
      }
      for (const id of this.dirtyIds.sort((a, b) => a - b)) this.st.latestPut.run(id, this.latestTs[id], this.latestV[id]);
    })();
    for (const id of this.pendingIds) {
      const p = this.pending[id]!;
      if (!(p.max <= this.flushedMax[id]!)) this.flushedMax[id] = p.max;
    }
    this.pending = [];
    this.pendingIds.length = 0;
    this.pendingCount = 0;
    for (const id of this.dirtyIds) this.dirty[id] = 0;
    this.dirtyIds.length = 0;
    return n;
  }

  /**
   * Writes samples [i, j) of one series (spanning less than BLOCK_SPAN) as a block, and merges their hours into
   * metric_1h. The block's minute rollups are not stored while its raw samples are: they are a function of them
   * (computed when queried, exactly), stored by prune() when the raw samples expire.
   */
  private writeBlock(id: number, ts: number[], vs: number[], i: number, j: number): void {
    const scale = blockScale(vs, i, j);
    if (this.st.blockAdd.run(id, ts[i], ts[j - 1], encodeSamples(ts, vs, i, j, scale, ts[i]), null).changes === 0) {
      // A block starting at the same sample time exists (a late sample equal to a converted block's bucket start): merge.
      const old = this.st.blockGet.get(id, ts[i]) as { t1: number; raw: Buffer | null; m1: Buffer | null };
      const merged = new Map<number, number>();
      if (old.raw) {
        const s = decodeSamples(old.raw, ts[i]);
        s.ts.forEach((t, k) => merged.set(t, s.vs[k]!));
      }
      for (let k = i; k < j; k++) merged.set(ts[k]!, vs[k]!);
      const mt = [...merged.keys()].sort((a, b) => a - b);
      const mv = mt.map((t) => merged.get(t)!);
      const m1 = old.m1 ? encodeBuckets(mergeBuckets(decodeBuckets(old.m1, MINUTE, ts[i]), rollUp(ts, vs, MINUTE, i, j, scale)), MINUTE, ts[i]) : null;
      this.st.blockPut.run(Math.max(old.t1, ts[j - 1]!), encodeSamples(mt, mv, 0, mt.length, undefined, ts[i]), m1, id, ts[i]);
    }
    for (const h of rollUp(ts, vs, HOUR, i, j, scale)) this.st.h1.run(id, h.ts, h.min, h.max, h.sum, h.count, h.last, h.lastTs);
  }

  /** The resolution a range is drawn at: raw up to 3 h, 1-minute up to 3 days, then 1-hour — or coarser if retention already dropped the finer data at the range's start. */
  static pick(from: number, to: number, retention: Retention, now = Date.now()): Resolution {
    const span = to - from;
    if (span <= 3 * HOUR && from >= now - retention.rawDays * DAY) return 'raw';
    if (span <= 3 * DAY && from >= now - retention.m1Days * DAY) return '1m';
    return '1h';
  }

  /** Raw samples of a series in [from, to], in time order (blocks and pending merged). */
  raw(id: number, from: number, to: number): { ts: number[]; vs: number[] } {
    const pts: [number, number][] = [];
    let sorted = true;
    for (const [t0, raw] of this.st.blocksRaw.all(id, windowStart(from), to, from) as [number, Buffer | null][]) {
      if (!raw) continue;
      const s = decodeSamples(raw, t0);
      for (let k = binaryLowerBound(s.ts, from); k < s.ts.length && s.ts[k]! <= to; k++) {
        if (pts.length && s.ts[k]! < pts[pts.length - 1]![0]) sorted = false;
        pts.push([s.ts[k]!, s.vs[k]!]);
      }
    }
    const p = this.pending[id];
    if (p) {
      for (let k = 0; k < p.ts.length; k++) {
        const t = p.ts[k]!;
        if (t < from || t > to) continue;
        if (pts.length && t < pts[pts.length - 1]![0]) sorted = false;
        pts.push([t, p.vs[k]!]);
      }
    }
    if (!sorted) pts.sort((a, b) => a[0] - b[0]);
    return { ts: pts.map((x) => x[0]), vs: pts.map((x) => x[1]) };
  }

  /** Rollup buckets of a series whose start is in [from, to], in time order (stored and still-open ones merged). */
  buckets(id: number, resolution: '1m' | '1h', from: number, to: number): Bucket[] {
    const step = resolution === '1m' ? MINUTE : HOUR;
    const parts: Bucket[][] = [];
    if (resolution === '1m') {
      // A block's minute rollups: stored once its raw samples expired (or converted from the old schema), else
      // computed from its raw samples.
      for (const [t0, raw, m1] of this.st.blocksM1.all(id, windowStart(from), to, from) as [number, Buffer | null, Buffer | null][]) {
        if (m1) parts.push(decodeBuckets(m1, MINUTE, t0));
        else if (raw) parts.push(minuteRollups(raw, t0));
      }
    } else {
      parts.push(this.st.h1Get.all(id, from, to) as Bucket[]);
    }
    const p = this.pending[id];
    if (p) {
      let { ts, vs } = p;
      if (!p.sorted) {
        const order = ts.map((_, i) => i).sort((a, b) => ts[a]! - ts[b]!);
        ts = order.map((i) => p.ts[i]!);
        vs = order.map((i) => p.vs[i]!);
      }
      parts.push(rollUp(ts, vs, step, 0, ts.length, blockScale(vs, 0, vs.length)));
    }
    return mergeBuckets(...parts).filter((b) => b.ts >= from && b.ts <= to);
  }

  series(kind: string, resourceId: string, metric: string, from: number, to: number, resolution: Resolution): [number, number, number, number][] {
    const id = this.lookup(kind, resourceId, metric);
    if (id === undefined) return [];
    if (resolution === 'raw') {
      const r = this.raw(id, from, to);
      return r.ts.map((t, i) => [t, r.vs[i]!, r.vs[i]!, r.vs[i]!]);
    }
    const step = resolution === '1m' ? MINUTE : HOUR;
    return this.buckets(id, resolution, from - (from % step), to).map((b) => [b.ts, b.sum / b.count, b.min, b.max]);
  }

  /** Rollup rows (for tests and exports). */
  rollup(resolution: '1m' | '1h', kind: string, resourceId: string, metric: string): { ts: number; min: number; max: number; avg: number; last: number; count: number }[] {
    const id = this.lookup(kind, resourceId, metric);
    if (id === undefined) return [];
    return this.buckets(id, resolution, -8.64e15, 8.64e15).map((b) => ({ ts: b.ts, min: b.min, max: b.max, avg: b.sum / b.count, last: b.last, count: b.count }));
  }

  /** min, max and count of a series' raw samples in (from, to] (alert durations). */
  rawStats(id: number, from: number, to: number): { min: number | null; max: number | null; count: number } {
    const r = this.raw(id, from + 1, to);
    if (!r.vs.length) return { min: null, max: null, count: 0 };
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of r.vs) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    return { min: mn, max: mx, count: r.vs.length };
  }

  /** The oldest raw sample's time of a series, or null. */
  oldestRaw(id: number): number | null {
    const stored = this.st.oldestRaw.get(id) as number | undefined;
    const p = this.pending[id];
    let oldest = stored ?? null;
    if (p) for (const t of p.ts) if (oldest === null || t < oldest) oldest = t;
    return oldest;
  }

  /**
   * Deletes what is older than each resolution's retention (a block goes once its newest sample is, so up to one
   * block window more is kept); answers blocks and rows changed. Flushes first.
   */
  prune(r: Retention, now = Date.now()): number {
    this.flush();
    const rawCut = now - r.rawDays * DAY;
    const m1Cut = now - r.m1Days * DAY;
    const h1Cut = now - r.h1Days * DAY;
    let n = 0;
    this.db.transaction(() => {
      // Raw samples past their retention: their minute rollups are stored in their place, unless those expired too.
      // Both through the partial indexes on t0 (t1 < t0 + BLOCK_SPAN), so only what expires is read.
      const expiring = this.db.prepare('SELECT series_id, t0, t1, raw, m1 FROM metric_blocks WHERE raw IS NOT NULL AND t0 < @cut AND t1 < @cut LIMIT 5000').raw();
      const toRollups = this.db.prepare('UPDATE metric_blocks SET raw = NULL, m1 = ? WHERE series_id = ? AND t0 = ?');
      const drop = this.db.prepare('DELETE FROM metric_blocks WHERE series_id = ? AND t0 = ?');
      for (;;) {
        const rows = expiring.all({ cut: rawCut }) as [number, number, number, Buffer, Buffer | null][];
        for (const [id, t0, t1, raw, m1] of rows) {
          if (t1 < m1Cut) drop.run(id, t0);
          else toRollups.run(m1 ?? encodeBuckets(minuteRollups(raw, t0), MINUTE, t0), id, t0);
        }
        n += rows.length;
        if (rows.length < 5000) break;
      }
      n += this.db.prepare('DELETE FROM metric_blocks WHERE m1 IS NOT NULL AND t0 < @cut AND t1 < @cut AND raw IS NULL').run({ cut: m1Cut }).changes;
      n += this.db.prepare('UPDATE metric_blocks SET m1 = NULL WHERE m1 IS NOT NULL AND t0 < @cut AND t1 < @cut').run({ cut: m1Cut }).changes;
      n += this.db.prepare('DELETE FROM metric_1h WHERE ts < ?').run(h1Cut).changes;
    })();
    return n;
  }

  /** Forgets every series of a resource (host or guest removed). */
  dropResource(kind: string, resourceId: string): void {
    this.flush();
    const ids = this.db.prepare('SELECT id FROM metric_series WHERE kind = ? AND resource_id = ?').pluck().all(kind, resourceId) as number[];
    this.db.transaction(() => {
      for (const t of ['metric_blocks', 'metric_1h', 'metric_latest']) {
        const del = this.db.prepare(`DELETE FROM ${t} WHERE series_id = ?`);
        for (const id of ids) del.run(id);
      }
      this.db.prepare('DELETE FROM metric_series WHERE kind = ? AND resource_id = ?').run(kind, resourceId);
    })();
    for (const id of ids) {
      this.latestTs[id] = NaN;
      this.flushedMax[id] = NaN;
    }
    this.forgetIds();
  }
}

/** The minute rollups of a raw block. */
function minuteRollups(raw: Buffer, t0: number): Bucket[] {
  const s = decodeSamples(raw, t0);
  return rollUp(s.ts, s.vs, MINUTE, 0, s.ts.length, blockScale(s.vs, 0, s.vs.length));
}

/** Merges bucket lists (each sorted) into one sorted list, the same bucket from several lists merged. */
function mergeBuckets(...parts: Bucket[][]): Bucket[] {
  const nonEmpty = parts.filter((p) => p.length);
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const byTs = new Map<number, Bucket>();
  for (const part of nonEmpty)
    for (const b of part) {
      const had = byTs.get(b.ts);
      if (had) mergeBucket(had, b);
      else byTs.set(b.ts, { ...b });
    }
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

function binaryLowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function binarySearch(a: ArrayLike<number>, x: number): number {
  const i = binaryLowerBound(a, x);
  return i < a.length && a[i] === x ? i : -1;
}
