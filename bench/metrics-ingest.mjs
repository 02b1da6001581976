// metrics-ingest: the monitoring store (main/monitoring/store.ts, the product path: one transaction per collection round
// whose journal row makes that round's points durable, then the flush that turns them into compressed per-series blocks,
// merges the hourly rollups and writes the latest values; 1-minute rollups are computed from the raw blocks when queried
// and stored when the raw samples expire) against Debian's victoria-metrics fed the same samples in the same run.
// - ingest: 1M samples over 20k series (1,000 hosts × 20 metrics, 50 rounds 10 s apart) → samples/s, timed from the
//   first round to the end of the flush that puts all of them into blocks (the product flushes every 10 minutes of
//   wall clock; 50 rounds are 8.3 minutes of data, so one flush at the end is what the product would do), and the disk
//   each one uses for them (SQLite file after a checkpoint; VictoriaMetrics' data directory after a flush);
// - chart query: 24 h of one host's four chart metrics (CPU, memory, disk, network) with 24 h of samples (one a
//   minute, through the same ingest path, flushed every 10 minutes of data) stored for 1,000 hosts (resolution auto →
//   1 m, 1,440 points a metric) → p50/p95 ms; and the fleet's CPU over 24 h at 1 h for all 1,000 hosts.
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
  const mdb = e.MetricsDb.of(db);
  const t0 = performance.now();
  for (const pts of data) mdb.insertMany(pts);
  const tIns = performance.now();
  mdb.flush();
  const ms = performance.now() - t0;
  const flushMs = performance.now() - tIns;
  db.pragma('wal_checkpoint(TRUNCATE)');
  const free = db.pragma('freelist_count', { simple: true }) * db.pragma('page_size', { simple: true });
  close();
  const bytes = du(dir);
  rmSync(dir, { recursive: true, force: true });
  return { rate: (ROUNDS * HOSTS * METRICS) / (ms / 1000), bytes, flushMs, free };
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
  const mdb = e.MetricsDb.of(db);
  const CHART = ['cpu.util', 'mem.util', 'blk.rd_bytes_per_s', 'net.rx_bytes_per_s'];
  const now = Date.now();
  const start = now - 86_400_000;
  const m0 = start - (start % 60_000);
  // 24 h of samples, one a minute, for 1,000 hosts × 4 metrics through the product path (a transaction per round,
  // a flush every 10 rounds as the product does every 10 minutes), then what the last rounds left pending.
  for (let i = 0; i <= 1440; i++) {
    const ts = m0 + i * 60_000;
    const pts = [];
    for (let h = 0; h < HOSTS; h++) for (let m = 0; m < CHART.length; m++) pts.push({ kind: 'host', resourceId: `h-${h}`, metric: CHART[m], ts, value: valueOf(h * 4 + m, i) });
    mdb.insertMany(pts);
    if (i % 10 === 9) mdb.flush();
  }
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
  const flushMs = median(o.map((x) => x.flushMs));
  const free = median(o.map((x) => x.free));
  const n = ROUNDS * HOSTS * METRICS;
  const samples = `${n / 1e6}M samples over ${(HOSTS * METRICS) / 1000}k series`;
  if (hasVm) {
    const vrate = median(v.map((x) => x.rate));
    const vbytes = median(v.map((x) => x.bytes));
    rec.add({ bench: BENCH, metric: `ingest ${samples} (raw blocks + 1 h rollups + latest; 1 m from raw)`, value: rate, unit: 'samples/s', peer: 'victoria-metrics', peerValue: vrate, ratio: rate / vrate, target: '≥ 0.7x', runs: RUNS });
    rec.add({ bench: BENCH, metric: `disk for ${samples}`, value: bytes / 1048576, unit: 'MiB', peer: 'victoria-metrics', peerValue: vbytes / 1048576, ratio: bytes / vbytes, target: '≤ 3x', runs: RUNS });
  } else {
    rec.add({ bench: BENCH, metric: `ingest ${samples} (raw blocks + 1 h rollups + latest; 1 m from raw)`, value: rate, unit: 'samples/s', target: '≥ 0.7x victoria-metrics', runs: RUNS });
    rec.add({ bench: BENCH, metric: `disk for ${samples}`, value: bytes / 1048576, unit: 'MiB', runs: RUNS });
  }
  rec.add({ bench: BENCH, metric: `bytes per sample stored (raw blocks + 1 h rollups + latest + series)`, value: bytes / n, unit: 'B', runs: RUNS });
  rec.add({ bench: BENCH, metric: `of which the final flush into blocks (inside the timed ingest)`, value: flushMs, unit: 'ms', runs: RUNS });
  rec.add({ bench: BENCH, metric: `of the disk: free pages (the journal's, reused by the blocks)`, value: free / 1048576, unit: 'MiB', runs: RUNS });
  const q = await chartQuery(e);
  rec.add({ bench: BENCH, metric: `24 h chart of one host (4 metrics × 1,440 points at 1 m) with ${HOSTS} hosts stored, p50`, value: q.p50, unit: 'ms', runs: 200 });
  rec.add({ bench: BENCH, metric: `24 h chart of one host (4 metrics × 1,440 points at 1 m) with ${HOSTS} hosts stored, p95`, value: q.p95, unit: 'ms', target: '< 100 ms', runs: 200 });
  rec.add({ bench: BENCH, metric: `fleet: CPU of all ${HOSTS} hosts over 24 h at 1 h`, value: q.fleet, unit: 'ms', runs: 5 });
}
