// metrics-ingest: the monitoring store (main/monitoring/store.ts, the product path: raw samples plus 1-minute and
// 1-hour rollups and the latest value, one transaction per collection round) against Debian's victoria-metrics fed the
// same samples in the same run.
// - ingest: 1M samples over 20k series (1,000 hosts × 20 metrics, 50 rounds 10 s apart) → samples/s, and the disk
//   each one uses for them (SQLite file after a checkpoint; VictoriaMetrics' data directory after a flush);
// - chart query: 24 h of one host's four chart metrics (CPU, memory, disk, network) with 24 h of 1-minute rollups
//   stored for 1,000 hosts (resolution auto → 1 m, 1,440 points a metric) → p50/p95 ms; and the fleet's CPU over
//   24 h at 1 h for all 1,000 hosts.
// Medians of 3 runs (each run a fresh store).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, percentile } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..');
const BENCH = 'metrics-ingest';
const HOSTS = 1000;
const METRICS = 20;
const ROUNDS = 50;
const RUNS = 3;
const VM = '/usr/bin/victoria-metrics';

async function loadBenchEntry() {
  const entry = join(ROOT, 'out/main/bench-entry.js');
  if (!existsSync(entry)) spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  return import(pathToFileURL(entry).href);
}

const du = (p) => {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, f) => n + du(join(p, f)), 0);
};

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Deterministic values: a slow wave per series plus a little noise, like real gauges. */
const valueOf = (series, round) => Math.round((50 + 40 * Math.sin((series + round) / 7) + ((series * 7919 + round * 104729) % 100) / 50) * 100) / 100;

function rounds(t0) {
  const out = [];
  for (let r = 0; r < ROUNDS; r++) {
    const ts = t0 + r * 10_000;
    const pts = new Array(HOSTS * METRICS);
    for (let h = 0; h < HOSTS; h++) for (let m = 0; m < METRICS; m++) pts[h * METRICS + m] = { kind: 'host', resourceId: `h-${h}`, metric: `m.${m}`, ts, value: valueOf(h * METRICS + m, r) };
    out.push(pts);
  }
  return out;
}

async function ours(e, data) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-metrics-'));
  const { db, close } = e.openDatabase(dir, e.VERSION);
  const mdb = new e.MetricsDb(db);
  const t0 = performance.now();
  for (const pts of data) mdb.insertMany(pts);
  const ms = performance.now() - t0;
  db.pragma('wal_checkpoint(TRUNCATE)');
  close();
  const bytes = du(dir);
  rmSync(dir, { recursive: true, force: true });
  return { rate: (ROUNDS * HOSTS * METRICS) / (ms / 1000), bytes };
}

async function victoria(bodies) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-vm-'));
  const port = await freePort();
  const proc = spawn(VM, [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', '-retentionPeriod=100y'], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      if (i > 200) throw new Error('victoria-metrics did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const t0 = performance.now();
    for (const body of bodies) {
      const r = await fetch(`${base}/api/v1/import/prometheus`, { method: 'POST', body });
      if (!r.ok) throw new Error(`import: HTTP ${r.status} ${await r.text()}`);
    }
    await fetch(`${base}/internal/force_flush`);
    const ms = performance.now() - t0;
    // Everything visible to queries: the number of series it holds.
    const series = await fetch(`${base}/api/v1/series/count`).then((r) => r.json());
    await fetch(`${base}/internal/force_merge`).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    const bytes = du(dir);
    return { rate: (ROUNDS * HOSTS * METRICS) / (ms / 1000), bytes, series: series?.data?.[0] ?? null };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function chartQuery(e) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-metrics-q-'));
  const { db, close } = e.openDatabase(dir, e.VERSION);
  const mdb = new e.MetricsDb(db);
  const CHART = ['cpu.util', 'mem.util', 'blk.rd_bytes_per_s', 'net.rx_bytes_per_s'];
  const now = Date.now();
  const start = now - 86_400_000;
  const m0 = start - (start % 60_000);
  // 24 h of 1-minute and 1-hour rollups for 1,000 hosts × 4 metrics, written straight into the rollup tables.
  const ins1m = db.prepare('INSERT INTO metric_1m (series_id, ts, min, max, sum, count, last, last_ts) VALUES (?, ?, ?, ?, ?, 6, ?, ?)');
  const ins1h = db.prepare('INSERT OR IGNORE INTO metric_1h (series_id, ts, min, max, sum, count, last, last_ts) VALUES (?, ?, ?, ?, ?, 360, ?, ?)');
  db.transaction(() => {
    for (let h = 0; h < HOSTS; h++)
      for (const m of CHART) {
        const id = mdb.seriesId('host', `h-${h}`, m);
        for (let i = 0; i <= 1440; i++) {
          const ts = m0 + i * 60_000;
          const v = valueOf(id, i);
          ins1m.run(id, ts, v - 1, v + 1, v * 6, v, ts + 50_000);
          if (i % 60 === 0) ins1h.run(id, ts - (ts % 3_600_000), v - 5, v + 5, v * 360, v, ts);
        }
      }
  })();
  const one = [];
  for (let i = 0; i < 200; i++) {
    const host = `h-${(i * 37) % HOSTS}`;
    const t0 = performance.now();
    const res = e.MetricsDb.pick(start, now, { rawDays: 2, m1Days: 30, h1Days: 400 }, now);
    let points = 0;
    for (const m of CHART) points += mdb.series('host', host, m, start, now, res).length;
    one.push(performance.now() - t0);
    if (points < 4 * 1440) throw new Error(`expected ${4 * 1440} points, got ${points}`);
  }
  const fleet = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    for (let h = 0; h < HOSTS; h++) mdb.series('host', `h-${h}`, 'cpu.util', start, now, '1h');
    fleet.push(performance.now() - t0);
  }
  close();
  rmSync(dir, { recursive: true, force: true });
  return { p50: percentile(one, 50), p95: percentile(one, 95), fleet: median(fleet) };
}

export default async function metricsIngest(rec) {
  const e = await loadBenchEntry();
  const t0 = Date.now() - ROUNDS * 10_000;
  const data = rounds(t0);
  const bodies = data.map((pts) => pts.map((p) => `skydeck_${p.metric.replace('.', '_')}{host="${p.resourceId}"} ${p.value} ${p.ts}`).join('\n') + '\n');
  const hasVm = existsSync(VM);
  if (!hasVm) console.error(`${VM} is missing (apt-get install victoria-metrics): the peer is skipped`);
  const o = [];
  const v = [];
  for (let i = 0; i < RUNS; i++) {
    o.push(await ours(e, data));
    if (hasVm) v.push(await victoria(bodies));
  }
  const rate = median(o.map((x) => x.rate));
  const bytes = median(o.map((x) => x.bytes));
  const n = ROUNDS * HOSTS * METRICS;
  const samples = `${n / 1e6}M samples over ${(HOSTS * METRICS) / 1000}k series`;
  if (hasVm) {
    const vrate = median(v.map((x) => x.rate));
    const vbytes = median(v.map((x) => x.bytes));
    rec.add({ bench: BENCH, metric: `ingest ${samples} (raw + 1 m + 1 h rollups + latest)`, value: rate, unit: 'samples/s', peer: 'victoria-metrics', peerValue: vrate, ratio: rate / vrate, target: '≥ 0.7x', runs: RUNS });
    rec.add({ bench: BENCH, metric: `disk for ${samples}`, value: bytes / 1048576, unit: 'MiB', peer: 'victoria-metrics', peerValue: vbytes / 1048576, ratio: bytes / vbytes, target: '≤ 3x', runs: RUNS });
  } else {
    rec.add({ bench: BENCH, metric: `ingest ${samples} (raw + 1 m + 1 h rollups + latest)`, value: rate, unit: 'samples/s', target: '≥ 0.7x victoria-metrics', runs: RUNS });
    rec.add({ bench: BENCH, metric: `disk for ${samples}`, value: bytes / 1048576, unit: 'MiB', runs: RUNS });
  }
  rec.add({ bench: BENCH, metric: `bytes per sample stored (raw + rollups)`, value: bytes / n, unit: 'B', runs: RUNS });
  const q = await chartQuery(e);
  rec.add({ bench: BENCH, metric: `24 h chart of one host (4 metrics × 1,440 points at 1 m) with ${HOSTS} hosts stored, p50`, value: q.p50, unit: 'ms', runs: 200 });
  rec.add({ bench: BENCH, metric: `24 h chart of one host (4 metrics × 1,440 points at 1 m) with ${HOSTS} hosts stored, p95`, value: q.p95, unit: 'ms', target: '< 100 ms', runs: 200 });
  rec.add({ bench: BENCH, metric: `fleet: CPU of all ${HOSTS} hosts over 24 h at 1 h`, value: q.fleet, unit: 'ms', runs: 5 });
}
