import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { tempDir, xorshift } from '../test/helpers';
import { exposition } from './exposition';
import { ingestSamples, samplePoints } from './ingest';
import { HOUR, MINUTE, MetricsDb } from './store';
import { MIGRATIONS } from '../db/migrations';

let dir: ReturnType<typeof tempDir>;
let opened: OpenedDatabase;
let mdb: MetricsDb;

beforeEach(() => {
  dir = tempDir();
  opened = openDatabase(dir.path, '0.1.0-test');
  mdb = MetricsDb.of(opened.db);
});
afterEach(() => {
  opened.close();
  dir.cleanup();
});

/** A deterministic pseudo-random sequence (xorshift), so the known data is the same on every run. */
function rng(seed: number) {
  const next = xorshift(seed);
  return () => (next() % 10_000) / 100;
}

describe('metrics store', () => {
  // Pending only (the journal and memory), all flushed into blocks, or flushed in the middle of the stream (so that
  // minute and hour buckets are split between two blocks, or between a block and what is pending).
  it.each(['never', 'at the end', 'in the middle'] as const)('rolls up to 1-minute and 1-hour buckets exactly (min, max, avg, last), whatever the order and however often samples arrive; flushed %s', (flush) => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
    const r = rng(42);
    // 3 hours at 7 s, so that minute buckets hold 8 or 9 samples and hour boundaries fall mid-stream.
    const samples = Array.from({ length: Math.floor((3 * HOUR) / 7000) }, (_, i) => ({ ts: t0 + 1234 + i * 7000, value: r() }));
    const shuffled = [...samples].sort((a, b) => ((a.ts * 7919) % 101) - ((b.ts * 7919) % 101));
    const pts = (list: typeof samples) => list.map((s) => ({ kind: 'host' as const, resourceId: 'h1', metric: 'cpu.util', ts: s.ts, value: s.value }));
    if (flush === 'in the middle') {
      const half = shuffled.length >> 1;
      expect(mdb.insertMany(pts(shuffled.slice(0, half)))).toBe(half);
      mdb.flush();
      expect(mdb.insertMany(pts(shuffled.slice(half)))).toBe(samples.length - half);
    } else expect(mdb.insertMany(pts(shuffled))).toBe(samples.length);
    if (flush === 'at the end') mdb.flush();
    // Delivered again (an agent read twice after a crash): nothing changes, whether the samples are in blocks or pending.
    expect(mdb.insertMany(pts(samples.slice(100, 400)))).toBe(0);
    expect(mdb.insertMany(pts(samples.filter((_, i) => i % 5 === 0)))).toBe(0);

    for (const [res, step] of [
      ['1m', MINUTE],
      ['1h', HOUR],
    ] as const) {
      const want = new Map<number, number[]>();
      for (const s of samples) {
        const b = s.ts - (s.ts % step);
        want.set(b, [...(want.get(b) ?? []), s.value]);
      }
      const got = mdb.rollup(res, 'host', 'h1', 'cpu.util');
      expect(got.length).toBe(want.size);
      for (const g of got) {
        const vals = want.get(g.ts)!;
        expect(g.count).toBe(vals.length);
        expect(g.min).toBe(Math.min(...vals));
        expect(g.max).toBe(Math.max(...vals));
        expect(g.avg).toBeCloseTo(vals.reduce((a, b) => a + b, 0) / vals.length, 9);
        expect(g.last).toBe(vals.at(-1)); // the value with the newest timestamp, not the one inserted last
      }
    }
    expect(mdb.latest('host', 'h1', 'cpu.util')).toEqual({ ts: samples.at(-1)!.ts, value: samples.at(-1)!.value });
    // A query answers [ts, avg, min, max] at the resolution asked.
    const hourly = mdb.series('host', 'h1', 'cpu.util', t0, t0 + 3 * HOUR, '1h');
    expect(hourly).toHaveLength(3);
    expect(mdb.series('host', 'h1', 'cpu.util', t0, t0 + 10 * MINUTE, 'raw').length).toBe(samples.filter((s) => s.ts <= t0 + 10 * MINUTE).length);
  });

  it('keeps what a committed round added through a crash, and nothing of a round that failed (journal replay, open buckets)', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 5);
    const r = rng(7);
    opened.db.prepare("INSERT INTO metric_sources (source_id, kind) VALUES ('kvm:h', 'kvm')").run();
    const cursor = opened.db.prepare("UPDATE metric_sources SET last_seq = ? WHERE source_id = 'kvm:h'");
    const want: { ts: number; value: number }[] = [];
    // Rounds as the collector writes them: the points and the cursor in one transaction; a flush after round 30.
    for (let round = 1; round <= 50; round++) {
      const ts = t0 + round * 10_000;
      const value = Math.round(r() * 10_000) / 100;
      mdb.transaction(() => {
        mdb.insert([{ kind: 'host', resourceId: 'h', metric: 'cpu.util', ts, value }]);
        mdb.setLatest('host', 'h', 'net.rx_bytes', ts, round * 1000);
        cursor.run(round);
      });
      want.push({ ts, value });
      if (round === 30) mdb.flush();
    }
    // A round that fails after inserting: rolled back, in the database and in memory.
    expect(() =>
      mdb.transaction(() => {
        mdb.insert([{ kind: 'host', resourceId: 'h', metric: 'cpu.util', ts: t0 + 51 * 10_000, value: 1 }]);
        mdb.setLatest('host', 'h', 'net.rx_bytes', t0 + 51 * 10_000, 1);
        throw new Error('agent went away');
      }),
    ).toThrow('agent went away');
    // A failed round that created a series: the series is gone, and a later round creates it properly.
    expect(() =>
      mdb.transaction(() => {
        mdb.insert([{ kind: 'host', resourceId: 'h', metric: 'new.metric', ts: t0, value: 1 }]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(mdb.lookup('host', 'h', 'new.metric')).toBeUndefined();
    expect(mdb.insertMany([{ kind: 'host', resourceId: 'h', metric: 'new.metric', ts: t0, value: 1 }])).toBe(1);
    expect(mdb.series('host', 'h', 'new.metric', 0, 8.64e15, 'raw')).toEqual([[t0, 1, 1, 1]]);
    const before = { m1: mdb.rollup('1m', 'host', 'h', 'cpu.util'), h1: mdb.rollup('1h', 'host', 'h', 'cpu.util'), raw: mdb.series('host', 'h', 'cpu.util', 0, 8.64e15, 'raw') };
    expect(before.raw.map((p) => p[0])).toEqual(want.map((w) => w.ts));
    expect(mdb.latest('host', 'h', 'net.rx_bytes')).toEqual({ ts: t0 + 50 * 10_000, value: 50_000 });
    expect(mdb.pendingSamples).toBe(21); // rounds 31–50 and the new metric

    // Crash: the process dies without flushing (the connection is simply dropped), and starts again.
    opened.close();
    opened = openDatabase(dir.path, '0.1.0-test');
    mdb = MetricsDb.of(opened.db);
    expect(opened.db.prepare("SELECT last_seq FROM metric_sources WHERE source_id = 'kvm:h'").pluck().get()).toBe(50);
    expect(mdb.pendingSamples).toBe(21); // rounds 31–50 and the new metric
    const after = { m1: mdb.rollup('1m', 'host', 'h', 'cpu.util'), h1: mdb.rollup('1h', 'host', 'h', 'cpu.util'), raw: mdb.series('host', 'h', 'cpu.util', 0, 8.64e15, 'raw') };
    expect(after).toEqual(before);
    expect(mdb.latest('host', 'h', 'cpu.util')).toEqual(want.at(-1));
    expect(mdb.latest('host', 'h', 'net.rx_bytes')).toEqual({ ts: t0 + 50 * 10_000, value: 50_000 });
    // The rounds after the cursor are read again from the agent: stored once.
    expect(mdb.insertMany(want.slice(25).map((w) => ({ kind: 'host', resourceId: 'h', metric: 'cpu.util', ...w })))).toBe(0);
    // The open minute buckets, answered from the replayed journal, are exact: the minute of round 50 holds rounds 49–50
    // (t0 is 10:00:05; the minute 10:08 holds :15, :25 … 10:08:55).
    const sums = new Map<number, number[]>();
    for (const w of want) sums.set(w.ts - (w.ts % MINUTE), [...(sums.get(w.ts - (w.ts % MINUTE)) ?? []), w.value]);
    for (const b of after.m1) {
      const vals = sums.get(b.ts)!;
      expect([b.count, b.min, b.max, b.last]).toEqual([vals.length, Math.min(...vals), Math.max(...vals), vals.at(-1)]);
    }
    // Flushed after the restart: the same answers from blocks, and the journal is empty.
    mdb.flush();
    expect(opened.db.prepare('SELECT count(*) FROM metric_journal').pluck().get()).toBe(0);
    expect({ m1: mdb.rollup('1m', 'host', 'h', 'cpu.util'), h1: mdb.rollup('1h', 'host', 'h', 'cpu.util'), raw: mdb.series('host', 'h', 'cpu.util', 0, 8.64e15, 'raw') }).toEqual(before);
  });

  it('converts the rows of the old schema (migration 0014) into blocks with the same answers', () => {
    opened.close();
    const old = tempDir();
    try {
      const o = openDatabase(old.path, '0.1.0-test', MIGRATIONS.slice(0, 13));
      const t0 = Date.UTC(2026, 0, 1, 10, 59, 0);
      o.db.prepare("INSERT INTO metric_series (id, kind, resource_id, metric) VALUES (1, 'host', 'h', 'cpu.util'), (2, 'host', 'h', 'load.1')").run();
      const raw = o.db.prepare('INSERT INTO metric_raw (series_id, ts, value) VALUES (?, ?, ?)');
      const m1 = o.db.prepare('INSERT INTO metric_1m (series_id, ts, min, max, sum, count, last, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      // Series 1: raw samples across an hour boundary, with their minute rollups; series 2: minute rollups only (raw pruned).
      const vals = [1.5, 2.25, 0.1 + 0.2, 7, 3.5, 4];
      vals.forEach((v, i) => raw.run(1, t0 + i * 30_000, v));
      for (let k = 0; k < 3; k++) m1.run(1, t0 + k * MINUTE, Math.min(vals[2 * k]!, vals[2 * k + 1]!), Math.max(vals[2 * k]!, vals[2 * k + 1]!), vals[2 * k]! + vals[2 * k + 1]!, 2, vals[2 * k + 1]!, t0 + (2 * k + 1) * 30_000);
      m1.run(2, t0 - 10 * MINUTE, 0.5, 0.75, 1.25, 2, 0.75, t0 - 10 * MINUTE + 40_000);
      o.db.prepare('INSERT INTO metric_latest (series_id, ts, value) VALUES (1, ?, 4)').run(t0 + 150_000);
      o.close();
      const n = openDatabase(old.path, '0.1.0-test');
      const m = MetricsDb.of(n.db);
      expect(m.series('host', 'h', 'cpu.util', 0, 8.64e15, 'raw').map((p) => p[1])).toEqual(vals);
      expect(m.rollup('1m', 'host', 'h', 'cpu.util').map((b) => [b.ts, b.min, b.max, b.count, b.last])).toEqual([0, 1, 2].map((k) => [t0 + k * MINUTE, Math.min(vals[2 * k]!, vals[2 * k + 1]!), Math.max(vals[2 * k]!, vals[2 * k + 1]!), 2, vals[2 * k + 1]!]));
      expect(m.rollup('1m', 'host', 'h', 'load.1')).toEqual([{ ts: t0 - 10 * MINUTE, min: 0.5, max: 0.75, avg: 0.625, last: 0.75, count: 2 }]);
      expect(m.latest('host', 'h', 'cpu.util')).toEqual({ ts: t0 + 150_000, value: 4 });
      // A sample already converted is recognised; a new one is not.
      expect(m.insertMany([{ kind: 'host', resourceId: 'h', metric: 'cpu.util', ts: t0 + 60_000, value: 0.1 + 0.2 }])).toBe(0);
      expect(m.insertMany([{ kind: 'host', resourceId: 'h', metric: 'cpu.util', ts: t0 + 61_000, value: 9 }])).toBe(1);
      expect(n.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name IN ('metric_raw', 'metric_1m')").pluck().get()).toBe(0);
      n.close();
    } finally {
      old.cleanup();
      opened = openDatabase(dir.path, '0.1.0-test');
    }
  });

  it('picks the resolution that fits the range and the retention', () => {
    const now = Date.UTC(2026, 5, 1);
    const ret = { rawDays: 2, m1Days: 30, h1Days: 400 };
    expect(MetricsDb.pick(now - HOUR, now, ret, now)).toBe('raw');
    expect(MetricsDb.pick(now - 24 * HOUR, now, ret, now)).toBe('1m');
    expect(MetricsDb.pick(now - 7 * 24 * HOUR, now, ret, now)).toBe('1h');
    expect(MetricsDb.pick(now - 30 * 24 * HOUR, now, ret, now)).toBe('1h');
    // An hour three days ago: raw is gone by then, the minute rollups are not.
    expect(MetricsDb.pick(now - 72 * HOUR, now - 71 * HOUR, ret, now)).toBe('1m');
    expect(MetricsDb.pick(now - 40 * 24 * HOUR, now - 40 * 24 * HOUR + HOUR, ret, now)).toBe('1h');
  });

  it('prunes each resolution by its own retention', () => {
    const now = Date.UTC(2026, 5, 1);
    const old = now - 5 * 86_400_000;
    mdb.insertMany([
      { kind: 'host', resourceId: 'h', metric: 'load.1', ts: old, value: 1 },
      { kind: 'host', resourceId: 'h', metric: 'load.1', ts: now - 1000, value: 2 },
    ]);
    // Half an hour of old samples at 7 s: their minute rollups, computed from the raw block, are stored when it expires.
    mdb.insertMany(Array.from({ length: 250 }, (_, i) => ({ kind: 'host' as const, resourceId: 'h', metric: 'load.1', ts: old + 1000 + i * 7000, value: (i % 13) / 4 })));
    mdb.flush();
    const minutes = mdb.rollup('1m', 'host', 'h', 'load.1');
    expect(minutes.length).toBeGreaterThan(25);
    mdb.prune({ rawDays: 2, m1Days: 30, h1Days: 400 }, now);
    expect(mdb.series('host', 'h', 'load.1', old - HOUR, now, 'raw').map((p) => p[1])).toEqual([2]);
    expect(mdb.rollup('1m', 'host', 'h', 'load.1')).toEqual(minutes);
    mdb.prune({ rawDays: 1, m1Days: 1, h1Days: 1 }, now);
    expect(mdb.rollup('1m', 'host', 'h', 'load.1')).toHaveLength(1);
    expect(mdb.rollup('1h', 'host', 'h', 'load.1')).toHaveLength(1);
    expect(opened.db.prepare('SELECT count(*) FROM metric_blocks').pluck().get()).toBe(1);
  });

  it('turns counters into per-second rates, derives mem.util and disk.*, and skips a counter that went back', () => {
    const t = 1_700_000_000_000;
    const host = (ts: number, rx: number) => ({ ts, values: { 'net.rx_bytes': rx, 'mem.total_bytes': 1000, 'mem.used_bytes': 250, 'pool.default.size_bytes': 400, 'pool.default.free_bytes': 100, 'pool.b.size_bytes': 600, 'pool.b.free_bytes': 400 } });
    const first = samplePoints(mdb, 'host', 'h', host(t, 1000).ts, host(t, 1000).values);
    expect(first.find((p) => p.metric === 'net.rx_bytes_per_s')).toBeUndefined();
    expect(Object.fromEntries(first.map((p) => [p.metric, p.value]))).toMatchObject({ 'mem.util': 25, 'disk.size_bytes': 1000, 'disk.free_bytes': 500, 'disk.util': 50 });
    const second = samplePoints(mdb, 'host', 'h', t + 2000, host(t + 2000, 5000).values);
    expect(second.find((p) => p.metric === 'net.rx_bytes_per_s')?.value).toBe(2000);
    expect(samplePoints(mdb, 'host', 'h', t + 4000, host(t + 4000, 10).values).find((p) => p.metric === 'net.rx_bytes_per_s')).toBeUndefined();
    expect(mdb.latest('host', 'h', 'net.rx_bytes')).toEqual({ ts: t + 4000, value: 10 });
  });

  it('counts samples of scopes it cannot place instead of inventing resources', () => {
    const r = ingestSamples(mdb, [
      { seq: 1, ts: 1000, scope: 'host', values: { 'load.1': 0.5 } },
      { seq: 2, ts: 1000, scope: 'unknown-uuid', values: { 'cpu.util': 3 } },
    ], (s) => (s === 'host' ? { kind: 'host', id: 'h' } : null));
    expect(r).toEqual({ stored: 1, unknown: 1 });
  });

  it('writes the Prometheus text exposition of current values', () => {
    const now = Date.now();
    mdb.insertMany([
      { kind: 'host', resourceId: 'h1', metric: 'cpu.util', ts: now - 1000, value: 12.5 },
      { kind: 'host', resourceId: 'h1', metric: 'pool.default.free_bytes', ts: now - 1000, value: 42 },
      { kind: 'host', resourceId: 'old', metric: 'cpu.util', ts: now - 3_600_000, value: 99 },
    ]);
    mdb.setLatest('host', 'h1', 'net.rx_bytes', now - 1000, 777);
    const text = exposition(mdb, 600_000, now);
    expect(text).toContain('# TYPE skydeck_cpu_util gauge\n');
    expect(text).toContain(`skydeck_cpu_util{kind="host",id="h1"} 12.5 ${now - 1000}\n`);
    expect(text).toContain(`skydeck_pool_free_bytes{kind="host",id="h1",pool="default"} 42 ${now - 1000}\n`);
    expect(text).toContain('# TYPE skydeck_net_rx_bytes_total counter\n');
    expect(text).not.toContain('id="old"');
    // Every sample line matches the format's grammar.
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) .+|[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\} \S+ \d+)$/);
  });
});
