// inventory-query: list and dashboard latency at 10k hosts and 100k guests, through the real headless server.
// - Seeds 10k hosts / 100k guests once (npm run seed; cached under the OS temp dir, keyed by the seed version), starts
//   out/main/serve.js on it and measures p50/p95 of GET /api/v1/guests (and hosts) pages: the first page, a deep page
//   (offset 90,000), several sort columns, filters (status, host_id, project_id, tag:env=prod), free-text search by
//   name and by IP, and POST /api/v1/inventory.summary (the dashboard roll-ups). 5 warm-up requests, then 40 measured.
// - Peer (a): the dashboard's capacity roll-up done naively, one query per host summed in JS, vs the summary's
//   aggregate SQL (host allocation kept by triggers), on the same database through better-sqlite3 directly.
// - Peer (b): the same list SQL (as runList builds it: count + a deferred-join page) through Debian's sqlite3 CLI vs better-sqlite3,
//   each one process/connection running it 30 times on a fresh connection (CLI: wall time minus process start).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { median, percentile } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..');
const BENCH = 'inventory-query';
const HOSTS = 10_000;
const GUESTS = 100_000;
const WARM = 5;
const N = 40;
const RUNS = 5;
const SQLITE3 = '/usr/bin/sqlite3';

/** The core as built (out/main/bench-entry.js, see main/bench/entry.ts); builds it when missing. */
async function loadBenchEntry() {
  const entry = join(ROOT, 'out/main/bench-entry.js');
  if (!existsSync(entry) || !existsSync(join(ROOT, 'out/main/seed.js'))) spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  return import(pathToFileURL(entry).href);
}

/** The seeded data dir, made once per seed version and reused (the server only reads the inventory). */
function seededDir(e) {
  const dir = join(tmpdir(), `skydeck-bench-inventory-seed${e.SEED_VERSION}-${HOSTS}x${GUESTS}`);
  if (existsSync(join(dir, 'skydeck.db'))) {
    const db = new Database(join(dir, 'skydeck.db'), { readonly: true });
    const ok = db.prepare('SELECT value FROM meta WHERE key = ?').get(e.ORIGIN_KEY);
    db.close();
    if (ok) return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`  seeding ${HOSTS} hosts / ${GUESTS} guests into ${dir} (once)\n`);
  const r = spawnSync(process.execPath, [join(ROOT, 'out/main/seed.js'), '--hosts', String(HOSTS), '--guests', String(GUESTS), '--data-dir', tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('seeding failed');
  renameSync(tmp, dir);
  return dir;
}

function startServer(dataDir) {
  const proc = spawn(process.execPath, [join(ROOT, 'out/main/serve.js'), '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, SKYDECK_LOG_LEVEL: 'warn', SKYDECK_VAULT_PASSPHRASE: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /Open (http:\/\/[^/\s]+)\/\?token=(\S+)/.exec(out);
      if (m) resolve({ proc, base: m[1], token: m[2] });
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
}

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export default async function inventoryQuery(rec) {
  const e = await loadBenchEntry();
  const dir = seededDir(e);
  const ro = new Database(join(dir, 'skydeck.db'), { readonly: true });
  const pick = (sql) => ro.prepare(sql).pluck().get();
  const busyHost = pick(`SELECT id FROM hosts ORDER BY guest_count DESC LIMIT 1`);
  const bigProject = pick(`SELECT project_id FROM guests GROUP BY project_id ORDER BY count(*) DESC LIMIT 1`);
  const someIp = pick(`SELECT ip FROM guest_nics WHERE ip LIKE '10.%' ORDER BY guest_id LIMIT 1 OFFSET 4321`);
  ro.close();

  const server = await startServer(dir);
  const auth = { Authorization: `Bearer ${server.token}` };
  const get = async (path) => {
    const res = await fetch(`${server.base}/api/v1/${path}`, { headers: auth });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  };
  const post = async (command, body = {}) => {
    const res = await fetch(`${server.base}/api/v1/${command}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const out = await res.json();
    if (res.status !== 200) throw new Error(`POST ${command}: ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
    return out;
  };

  const queries = [
    ['guests: first page (sort name)', () => get('guests?limit=100&offset=0')],
    ['guests: deep page, offset 90,000 (sort name)', () => get('guests?limit=100&offset=90000')],
    ['guests: deep page, offset 90,000, sort -memory_mb', () => get('guests?limit=100&offset=90000&sort=-memory_mb')],
    ['guests: sort -memory_mb', () => get('guests?limit=100&sort=-memory_mb')],
    ['guests: sort -created_at', () => get('guests?limit=100&sort=-created_at')],
    ['guests: sort vcpu', () => get('guests?limit=100&sort=vcpu')],
    ['guests: sort -disk_gb (no index)', () => get('guests?limit=100&sort=-disk_gb')],
    ['guests: filter status:running', () => get('guests?limit=100&filter=status:running')],
    ['guests: filter status:start_failed', () => get('guests?limit=100&filter=status:start_failed')],
    ['guests: filter host_id (busiest host)', () => get(`guests?limit=100&filter=host_id:${busyHost}`)],
    ['guests: filter project_id, sort -memory_mb', () => get(`guests?limit=100&sort=-memory_mb&filter=project_id:${bigProject}`)],
    ['guests: filter tag:env=prod', () => get('guests?limit=100&filter=tag:env=prod')],
    ['guests: filter tag:env=prod + status:running, offset 20,000', () => get('guests?limit=100&offset=20000&filter=tag:env=prod&filter=status:running')],
    ['guests: search q=db-staging', () => get('guests?limit=100&q=db-staging')],
    ['guests: search q=<IP>', () => get(`guests?limit=100&q=${encodeURIComponent(someIp)}`)],
    ['hosts: sort -memory_allocated_mb', () => get('hosts?limit=100&sort=-memory_allocated_mb')],
    ['hosts: deep page, offset 9,000, sort -cpu_allocated', () => get('hosts?limit=100&offset=9000&sort=-cpu_allocated')],
    ['inventory.summary (dashboard roll-ups)', () => post('inventory.summary')],
  ];
  let worstPage = 0;
  try {
    // Sanity: the server sees the whole seeded inventory.
    const first = await get('guests?limit=1');
    if (first.total !== GUESTS) throw new Error(`expected ${GUESTS} guests, the server lists ${first.total}`);
    for (const [name, q] of queries) {
      for (let i = 0; i < WARM; i++) await q();
      const ms = [];
      for (let i = 0; i < N; i++) ms.push(await timed(q));
      const p50 = percentile(ms, 50);
      const p95 = percentile(ms, 95);
      if (!name.startsWith('inventory.summary')) worstPage = Math.max(worstPage, p95);
      rec.add({ bench: BENCH, metric: `${name}: p50`, value: p50, unit: 'ms', runs: N });
      rec.add({ bench: BENCH, metric: `${name}: p95`, value: p95, unit: 'ms', target: name.startsWith('inventory.summary') ? undefined : '< 50 ms', runs: N });
    }
    rec.add({ bench: BENCH, metric: 'worst p95 of any page', value: worstPage, unit: 'ms', target: '< 50 ms' });
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
  }

  // ---- peer (a): roll-ups, naive per-host queries vs aggregate SQL --------------------------------------------------
  const db = new Database(join(dir, 'skydeck.db'), { readonly: true });
  const hostRows = db.prepare('SELECT id, zone_id, cpu_cores, memory_mb FROM hosts').all();
  const perHost = db.prepare('SELECT vcpu, memory_mb, disk_gb FROM guests WHERE host_id = ?');
  const naive = () => {
    const zones = new Map();
    const total = { cpuCores: 0, cpuAllocated: 0, memoryMb: 0, memoryAllocatedMb: 0, storageAllocatedGb: 0, guests: 0 };
    for (const h of hostRows) {
      let cpu = 0;
      let mem = 0;
      let disk = 0;
      let n = 0;
      for (const g of perHost.all(h.id)) {
        cpu += g.vcpu;
        mem += g.memory_mb;
        disk += g.disk_gb;
        n++;
      }
      total.cpuCores += h.cpu_cores;
      total.memoryMb += h.memory_mb;
      total.cpuAllocated += cpu;
      total.memoryAllocatedMb += mem;
      total.storageAllocatedGb += disk;
      total.guests += n;
      const z = zones.get(h.zone_id) ?? { hosts: 0, guests: 0, cpuAllocated: 0, memoryAllocatedMb: 0 };
      z.hosts++;
      z.guests += n;
      z.cpuAllocated += cpu;
      z.memoryAllocatedMb += mem;
      zones.set(h.zone_id, z);
    }
    return { total, zones };
  };
  const capacitySql = db.prepare(
    `SELECT coalesce(sum(cpu_cores), 0) AS cpuCores, coalesce(sum(cpu_allocated), 0) AS cpuAllocated, coalesce(sum(memory_mb), 0) AS memoryMb,
            coalesce(sum(memory_allocated_mb), 0) AS memoryAllocatedMb, coalesce(sum(storage_gb), 0) AS storageGb, coalesce(sum(storage_allocated_gb), 0) AS storageAllocatedGb FROM hosts`,
  );
  const byZoneSql = db.prepare(
    `SELECT h.zone_id AS zoneId, z.name AS zone, count(*) AS hosts, sum(h.guest_count) AS guests, sum(h.cpu_cores) AS cpuCores, sum(h.cpu_allocated) AS cpuAllocated,
            sum(h.memory_mb) AS memoryMb, sum(h.memory_allocated_mb) AS memoryAllocatedMb FROM hosts h LEFT JOIN zones z ON z.id = h.zone_id GROUP BY h.zone_id ORDER BY zone`,
  );
  const aggregate = () => ({ capacity: capacitySql.get(), byZone: byZoneSql.all() });
  const check = naive();
  const agg = aggregate();
  if (check.total.cpuAllocated !== agg.capacity.cpuAllocated || check.total.memoryAllocatedMb !== agg.capacity.memoryAllocatedMb) {
    throw new Error(`roll-ups disagree: naive ${JSON.stringify(check.total)} vs SQL ${JSON.stringify(agg.capacity)}`);
  }
  const runsOf = (fn) => {
    fn();
    const ms = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const naiveMs = runsOf(naive);
  const aggMs = runsOf(aggregate);
  const summaryMs = runsOf(() => e.inventorySummary(db));
  rec.add({ bench: BENCH, metric: 'capacity roll-up (totals + per zone): aggregate SQL', value: aggMs, unit: 'ms', peer: 'one query per host, summed in JS', peerValue: naiveMs, ratio: naiveMs / aggMs, target: '≥ 10x faster than naive', runs: RUNS });
  rec.add({ bench: BENCH, metric: 'whole inventory.summary() (all roll-ups) in-process', value: summaryMs, unit: 'ms', peer: 'naive capacity roll-up alone', peerValue: naiveMs, ratio: naiveMs / summaryMs, target: '≥ 10x faster than naive', runs: RUNS });

  // ---- peer (b): the same list SQL through the sqlite3 CLI vs better-sqlite3 ------------------------------------------
  db.close();
  const lists = [
    ['first page, sort name', '', 'name ASC, rowid ASC', 0],
    ['deep page offset 90,000, sort -memory_mb', '', 'memory_mb DESC, rowid DESC', 90000],
    ['filter status=start_failed', `WHERE status = 'start_failed'`, 'name ASC, rowid ASC', 0],
    // A tag filter reads the guest tag mirror by rowid (migration 0007); alone, it also gives the count.
    ['filter tag env=prod', `WHERE +guests.rowid IN (SELECT guest_rowid FROM guest_tag_rowids WHERE key = 'env' AND value = 'prod')`, 'name ASC, rowid ASC', 0, `SELECT count(DISTINCT guest_rowid) AS n FROM guest_tag_rowids WHERE key = 'env' AND value = 'prod'`],
    ['filter tag env=prod + status=running, offset 20,000', `WHERE +guests.rowid IN (SELECT guest_rowid FROM guest_tag_rowids WHERE key = 'env' AND value = 'prod') AND status = 'running'`, 'name ASC, rowid ASC', 20000],
    ['FTS q=db-staging', `WHERE guests.rowid IN (SELECT rowid FROM guests_fts WHERE guests_fts MATCH '"db-staging"*')`, 'name ASC, rowid ASC', 0],
  ];
  const REP = 30;
  const cliWall = (script) => {
    const ms = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = spawnSync(SQLITE3, ['-readonly', join(dir, 'skydeck.db')], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
      ms.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
    }
    return median(ms);
  };
  {
    const startMs = cliWall('.output /dev/null\nSELECT 1;\n');
    for (const [name, where, order, offset, countSql] of lists) {
      const count = countSql ?? `SELECT count(*) AS n FROM guests ${where}`;
      const page = `SELECT * FROM guests WHERE rowid IN (SELECT rowid FROM guests ${where} ORDER BY ${order} LIMIT 100 OFFSET ${offset}) ORDER BY ${order}`;
      const cliMs = (cliWall(`.output /dev/null\n${`${count};\n${page};\n`.repeat(REP)}`) - startMs) / REP;
      const bsMs = median(
        Array.from({ length: 3 }, () => {
          const c = new Database(join(dir, 'skydeck.db'), { readonly: true });
          const a = c.prepare(count);
          const b = c.prepare(page);
          const t0 = performance.now();
          for (let i = 0; i < REP; i++) {
            a.get();
            b.all();
          }
          const ms = (performance.now() - t0) / REP;
          c.close();
          return ms;
        }),
      );
      rec.add({ bench: BENCH, metric: `list SQL (count + page), ${name}: better-sqlite3`, value: bsMs, unit: 'ms', peer: 'sqlite3 CLI 3.40 (Debian)', peerValue: cliMs, ratio: cliMs / bsMs, runs: REP });
    }
  }
}
