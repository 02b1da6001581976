import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { tempDir } from '../test/helpers';
import { exposition } from './exposition';
import { ingestSamples, samplePoints } from './ingest';
import { HOUR, MINUTE, MetricsDb } from './store';

let dir: ReturnType<typeof tempDir>;
let opened: OpenedDatabase;
let mdb: MetricsDb;

beforeEach(() => {
  dir = tempDir();
  opened = openDatabase(dir.path, '0.1.0-test');
  mdb = new MetricsDb(opened.db);
});
afterEach(() => {
  opened.close();
  dir.cleanup();
});

/** A deterministic pseudo-random sequence (xorshift), so the known data is the same on every run. */
function rng(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 10_000) / 100;
  };
}

describe('metrics store', () => {
  it('rolls up to 1-minute and 1-hour buckets exactly (min, max, avg, last), whatever the order and however often samples arrive', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
    const r = rng(42);
    // 3 hours at 7 s, so that minute buckets hold 8 or 9 samples and hour boundaries fall mid-stream.
    const samples = Array.from({ length: Math.floor((3 * HOUR) / 7000) }, (_, i) => ({ ts: t0 + 1234 + i * 7000, value: r() }));
    const shuffled = [...samples].sort((a, b) => ((a.ts * 7919) % 101) - ((b.ts * 7919) % 101));
    const pts = (list: typeof samples) => list.map((s) => ({ kind: 'host' as const, resourceId: 'h1', metric: 'cpu.util', ts: s.ts, value: s.value }));
    expect(mdb.insertMany(pts(shuffled))).toBe(samples.length);
    // Delivered again (an agent read twice after a crash): nothing changes.
    expect(mdb.insertMany(pts(samples.slice(100, 400)))).toBe(0);

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
    mdb.prune({ rawDays: 2, m1Days: 30, h1Days: 400 }, now);
    expect(mdb.series('host', 'h', 'load.1', old - HOUR, now, 'raw').map((p) => p[1])).toEqual([2]);
    expect(mdb.rollup('1m', 'host', 'h', 'load.1')).toHaveLength(2);
    mdb.prune({ rawDays: 1, m1Days: 1, h1Days: 1 }, now);
    expect(mdb.rollup('1m', 'host', 'h', 'load.1')).toHaveLength(1);
    expect(mdb.rollup('1h', 'host', 'h', 'load.1')).toHaveLength(1);
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
    const text = exposition(opened.db, 600_000, now);
    expect(text).toContain('# TYPE skydeck_cpu_util gauge\n');
    expect(text).toContain(`skydeck_cpu_util{kind="host",id="h1"} 12.5 ${now - 1000}\n`);
    expect(text).toContain(`skydeck_pool_free_bytes{kind="host",id="h1",pool="default"} 42 ${now - 1000}\n`);
    expect(text).toContain('# TYPE skydeck_net_rx_bytes_total counter\n');
    expect(text).not.toContain('id="old"');
    // Every sample line matches the format's grammar.
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) .+|[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\} \S+ \d+)$/);
  });
});
