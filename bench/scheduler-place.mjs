// scheduler-place: the scheduler (main/scheduler) placing batches, as the app runs it.
// - Inventory: a generated region of hosts of mixed shapes (16–128 cores, 64 GiB–1 TiB, CPU overcommit 2–8, memory
//   1.0–1.5), 0–85% already allocated, ~5% offline / disabled / in maintenance, ~10% ESXi or bare metal; a local
//   storage per host (local or lvm) plus shared nfs/rbd per zone; 3 wires per zone with 2 networks each (some addresses
//   taken), each host on 1–2 wires (2% with none recorded); host tags rack, ssd, gpu, env, pool.
// - Requests: 2 vCPU / 4 GiB, a 40 GiB disk, one NIC on any network the host reaches, tag rules (exclude env=dev,
//   avoid gpu, prefer ssd): 200 guests on 70 hosts, and 1,000 guests on 5,000 hosts.
// - Ours: schedule() in one transaction: snapshot in bulk, filters once per host, batch placed from a max-heap, the
//   reservation written. Measured in-process (built code, out/main/bench-entry.js) and end to end through the real
//   headless server (POST /api/v1/scheduler.place: HTTP, schema check, audit). The reservation is released between runs.
// - Peer: a naive scheduler, in the same run on the same database: for every guest it re-reads every host with its
//   pending usage, storages and networks, runs every filter and weight on every host, picks the best and writes that
//   guest's reservation (the shape of the scheduler Cloudpods users waited ~4.5 minutes on for 200 VMs on 70 hosts).
//   At 5,000 hosts it places the first 100 guests and its rate is reported.
// - Both results are checked: every guest placed, and no host, storage or network holds more than it has.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..');
const BENCH = 'scheduler-place';
const RUNS = 5;
const NAIVE_CAP_5K = 100;

async function loadBenchEntry() {
  const entry = join(ROOT, 'out/main/bench-entry.js');
  if (!existsSync(entry)) spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  return import(pathToFileURL(entry).href);
}

// ---- inventory ------------------------------------------------------------------------------------------------------

function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)], chance: (p) => next() < p };
}

const T = '2026-11-01T00:00:00.000Z';
const ipInt = (s) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);

function populate(db, nHosts, seed) {
  const r = rng(seed);
  const zones = Math.max(1, Math.min(4, Math.round(nHosts / 35)));
  const q = (sql) => db.prepare(sql);
  const zone = q(`INSERT INTO zones (id, name, status, created_at, updated_at) VALUES (?, ?, 'available', ?, ?)`);
  const host = q(`INSERT INTO hosts (id, name, provider, status, created_at, updated_at, zone_id, hypervisor, enabled, maintenance, cpu_cores, memory_mb, storage_gb,
      cpu_overcommit, memory_overcommit, storage_overcommit, cpu_allocated, memory_allocated_mb, storage_allocated_gb, guest_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`);
  const storage = q(`INSERT INTO storages (id, name, status, created_at, updated_at, zone_id, host_id, type, capacity_gb, used_gb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const wire = q(`INSERT INTO wires (id, name, status, created_at, updated_at, zone_id) VALUES (?, ?, 'available', ?, ?, ?)`);
  const net = q(`INSERT INTO networks (id, name, status, created_at, updated_at, wire_id, cidr, net_first, net_last, ip_start, ip_end, ip_start_int, ip_end_int)
      VALUES (?, ?, 'available', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const alloc = q(`INSERT INTO ip_allocations (network_id, ip_int, ip, kind, created_at) VALUES (?, ?, ?, 'allocated', ?)`);
  const hostWire = q(`INSERT INTO host_wires (host_id, wire_id, bridge, updated_at) VALUES (?, ?, 'br0', ?)`);
  const tag = q(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES (?, ?, ?, ?, 'user')`);
  db.transaction(() => {
    const wiresOf = [];
    let netN = 0;
    for (let z = 0; z < zones; z++) {
      zone.run(`zone-${z}`, `zone-${z}`, T, T);
      const ws = [];
      for (let w = 0; w < 3; w++) {
        const wid = `wire-${z}-${w}`;
        wire.run(wid, wid, T, T, `zone-${z}`);
        ws.push(wid);
        for (let k = 0; k < 2; k++) {
          const n = netN++;
          const base = `10.${n >> 2}.${(n & 3) * 64}.0`;
          const first = ipInt(base) + 1;
          const last = ipInt(base) + 64 * 256 - 2;
          const nid = `net-${z}-${w}-${k}`;
          net.run(nid, nid, T, T, wid, `${base}/18`, ipInt(base), last + 1, base, base, first, last);
          const used = r.int(0, 4000);
          for (let i = 0; i < used; i++) alloc.run(nid, first + i, String(first + i), T);
        }
      }
      wiresOf.push(ws);
      storage.run(`nfs-${z}`, `nfs-${z}`, 'online', T, T, `zone-${z}`, null, 'nfs', 200_000, r.int(50_000, 150_000));
      storage.run(`rbd-${z}`, `rbd-${z}`, 'online', T, T, `zone-${z}`, null, 'rbd', 500_000, r.int(100_000, 400_000));
    }
    for (let i = 0; i < nHosts; i++) {
      const id = `host-${String(i).padStart(5, '0')}`;
      const z = i % zones;
      const hv = r.chance(0.07) ? 'esxi' : r.chance(0.03) ? 'baremetal' : 'kvm';
      const cores = r.pick([16, 32, 32, 48, 64, 64, 96, 128]);
      const memGb = Math.min(1024, cores * r.pick([4, 8, 8, 16]));
      const cpuOc = r.pick([2, 4, 4, 8]);
      const memOc = r.pick([1, 1, 1.2, 1.5]);
      const storGb = r.pick([2000, 4000, 8000, 20000]);
      const load = r.next() * 0.85;
      const status = r.chance(0.02) ? 'offline' : 'online';
      const enabled = r.chance(0.015) ? 0 : 1;
      const maint = r.chance(0.015) ? 1 : 0;
      host.run(id, id, hv === 'kvm' ? 'kvm' : hv, status, T, T, `zone-${z}`, hv, enabled, maint, cores, memGb * 1024, storGb, cpuOc, memOc,
        Math.floor(cores * cpuOc * load), Math.floor(memGb * 1024 * memOc * load), Math.floor(storGb * load), Math.floor(cores * load));
      storage.run(`${id}-local`, `${id}-local`, 'online', T, T, `zone-${z}`, id, r.pick(['local', 'lvm']), storGb, Math.floor(storGb * load * 0.7));
      if (!r.chance(0.02)) {
        const ws = wiresOf[z];
        const a = r.int(0, 2);
        hostWire.run(id, ws[a], T);
        if (r.chance(0.5)) hostWire.run(id, ws[(a + 1) % 3], T);
      }
      tag.run('host', id, 'rack', `r${Math.floor(i / 40)}`);
      tag.run('host', id, 'env', r.chance(0.2) ? 'dev' : 'prod');
      tag.run('host', id, 'pool', r.pick(['general', 'general', 'db', 'ci']));
      if (r.chance(0.4)) tag.run('host', id, 'ssd', 'yes');
      if (r.chance(0.05)) tag.run('host', id, 'gpu', r.pick(['a100', 't4']));
    }
  })();
}

const REQUEST = {
  vcpu: 2,
  memoryMb: 4096,
  disks: [{ sizeGb: 40 }],
  networks: [{}],
  hypervisor: 'kvm',
  tags: [
    { key: 'env', value: 'dev', strategy: 'exclude' },
    { key: 'gpu', strategy: 'avoid' },
    { key: 'ssd', value: 'yes', strategy: 'prefer' },
  ],
};

// ---- the naive peer -------------------------------------------------------------------------------------------------

/** For every guest: re-read every host with its pending usage, storages and networks; filter and score every host; write. */
function naivePlace(db, req, count) {
  const hostsSql = db.prepare(`SELECT h.*, coalesce(p.vcpu, 0) AS p_vcpu, coalesce(p.mem, 0) AS p_mem, coalesce(p.gb, 0) AS p_gb, coalesce(p.n, 0) AS p_n
    FROM hosts h LEFT JOIN (SELECT host_id, sum(vcpu) AS vcpu, sum(memory_mb) AS mem, sum(storage_gb) AS gb, count(*) AS n FROM sched_host_reservations GROUP BY host_id) p ON p.host_id = h.id ORDER BY h.name`);
  const storSql = db.prepare(`SELECT s.*, coalesce(p.gb, 0) AS p_gb FROM storages s LEFT JOIN (SELECT storage_id, sum(size_gb) AS gb FROM sched_storage_reservations GROUP BY storage_id) p ON p.storage_id = s.id`);
  const netSql = db.prepare(`SELECT n.id, n.wire_id, n.ip_end_int - n.ip_start_int + 1 AS total, (SELECT count(*) FROM ip_allocations a WHERE a.network_id = n.id) AS used,
      (SELECT count(*) FROM sched_ip_reservations r WHERE r.network_id = n.id) AS pending FROM networks n`);
  const tagSql = db.prepare(`SELECT resource_id, key, value FROM tags WHERE kind = 'host'`);
  const wireSql = db.prepare('SELECT host_id, wire_id FROM host_wires');
  db.prepare(`INSERT INTO sched_reservations (id, task_id, project_id, group_id, count, created_by, created_at, expires_at) VALUES ('naive', NULL, NULL, NULL, ?, 'naive', ?, NULL)`).run(count, T);
  const insHost = db.prepare(`INSERT INTO sched_host_reservations (reservation_id, idx, host_id, vcpu, memory_mb, storage_gb) VALUES ('naive', ?, ?, ?, ?, ?)`);
  const insStor = db.prepare(`INSERT INTO sched_storage_reservations (reservation_id, idx, disk, storage_id, size_gb) VALUES ('naive', ?, 0, ?, ?)`);
  const insIp = db.prepare(`INSERT INTO sched_ip_reservations (reservation_id, idx, nic, network_id) VALUES ('naive', ?, 0, ?)`);
  const disk = req.disks[0].sizeGb;
  const placed = [];
  for (let k = 0; k < count; k++) {
    const hit = db.transaction(() => {
      const hosts = hostsSql.all();
      const tags = new Map();
      for (const t of tagSql.all()) tags.set(`${t.resource_id}\u0000${t.key}`, t.value);
      const has = (id, key, value) => {
        const v = tags.get(`${id}\u0000${key}`);
        return v !== undefined && (value === undefined || v === value);
      };
      // Indexed per rescan (storages by host and by zone, networks by wire): linear in the inventory, not quadratic.
      const own = new Map();
      const shared = new Map();
      for (const x of storSql.all()) {
        if (x.status !== 'online') continue;
        const m = x.host_id ? own : shared;
        const k = x.host_id ?? x.zone_id;
        m.set(k, [...(m.get(k) ?? []), x]);
      }
      const wires = new Map();
      for (const w of wireSql.all()) wires.set(w.host_id, [...(wires.get(w.host_id) ?? []), w.wire_id]);
      const netsByWire = new Map();
      for (const x of netSql.all()) netsByWire.set(x.wire_id, [...(netsByWire.get(x.wire_id) ?? []), x]);
      let best = null;
      for (const h of hosts) {
        if (h.status !== 'online' || !h.enabled || h.maintenance || h.hypervisor !== req.hypervisor) continue;
        if (req.tags.some((t) => (t.strategy === 'require' && !has(h.id, t.key, t.value)) || (t.strategy === 'exclude' && has(h.id, t.key, t.value)))) continue;
        const cpuFree = h.cpu_cores * h.cpu_overcommit - h.cpu_allocated - h.p_vcpu;
        const memFree = h.memory_mb * h.memory_overcommit - h.memory_allocated_mb - h.p_mem;
        if (req.vcpu > h.cpu_cores || cpuFree < req.vcpu || memFree < req.memoryMb) continue;
        let s = null;
        for (const x of [...(own.get(h.id) ?? []), ...(shared.get(h.zone_id) ?? [])]) {
          const free = x.capacity_gb * (x.host_id ? h.storage_overcommit : 1) - x.used_gb - x.p_gb;
          if (free >= disk && (!s || free > s.free)) s = { id: x.id, free, cap: x.capacity_gb };
        }
        if (!s) continue;
        const hw = wires.get(h.id);
        let n = null;
        if (hw) {
          for (const w of hw) {
            for (const x of netsByWire.get(w) ?? []) {
              const free = x.total - x.used - x.pending;
              if (free > 0 && (!n || free > n.free)) n = { id: x.id, free };
            }
          }
          if (!n) continue;
        }
        const soft = req.tags.filter((t) => t.strategy === 'prefer' || t.strategy === 'avoid');
        const tagScore = soft.length ? soft.filter((t) => (t.strategy === 'prefer') === has(h.id, t.key, t.value)).length / soft.length : 1;
        const score =
          ((cpuFree - req.vcpu) / (h.cpu_cores * h.cpu_overcommit)) * 1 +
          ((memFree - req.memoryMb) / (h.memory_mb * h.memory_overcommit)) * 2 +
          ((s.free - disk) / s.cap) * 1 +
          (1 / (1 + h.p_n)) * 1 +
          tagScore * 3 +
          (hw ? 1 : 0) * 2;
        if (!best || score > best.score) best = { h, s, n, score };
      }
      if (!best) return null;
      insHost.run(k, best.h.id, req.vcpu, req.memoryMb, disk);
      insStor.run(k, best.s.id, disk);
      if (best.n) insIp.run(k, best.n.id);
      return best.h.id;
    }).immediate();
    if (!hit) break;
    placed.push(hit);
  }
  db.prepare(`DELETE FROM sched_reservations WHERE id = 'naive'`).run();
  return placed.length;
}

// ---- checks ---------------------------------------------------------------------------------------------------------

/** Nothing holds more than it has (allocated + reserved ≤ capacity × overcommit), for hosts, storages and networks. */
function checkNoOverbooking(db) {
  const hosts = db
    .prepare(`SELECT h.name, h.cpu_cores * h.cpu_overcommit - h.cpu_allocated - sum(r.vcpu) AS cpu, h.memory_mb * h.memory_overcommit - h.memory_allocated_mb - sum(r.memory_mb) AS mem
      FROM sched_host_reservations r JOIN hosts h ON h.id = r.host_id GROUP BY h.id HAVING cpu < 0 OR mem < 0`)
    .all();
  const stor = db
    .prepare(`SELECT s.name FROM sched_storage_reservations r JOIN storages s ON s.id = r.storage_id LEFT JOIN hosts h ON h.id = s.host_id
      GROUP BY s.id HAVING s.capacity_gb * coalesce(h.storage_overcommit, 1) - s.used_gb - sum(r.size_gb) < 0`)
    .all();
  const nets = db
    .prepare(`SELECT n.name FROM sched_ip_reservations r JOIN networks n ON n.id = r.network_id GROUP BY n.id
      HAVING n.ip_end_int - n.ip_start_int + 1 - (SELECT count(*) FROM ip_allocations a WHERE a.network_id = n.id) - count(*) < 0`)
    .all();
  if (hosts.length || stor.length || nets.length) throw new Error(`overbooked: hosts ${JSON.stringify(hosts)}, storages ${JSON.stringify(stor)}, networks ${JSON.stringify(nets)}`);
}

// ---- the headless server ---------------------------------------------------------------------------------------------

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

async function post(server, command, body) {
  const res = await fetch(`${server.base}/api/v1/${command}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const out = await res.json();
  if (res.status !== 200) throw new Error(`POST ${command}: ${res.status} ${JSON.stringify(out).slice(0, 400)}`);
  return out;
}

// ---- the runs -------------------------------------------------------------------------------------------------------

async function scenario(e, rec, { hosts, guests, label, naiveCap, target }) {
  const dir = mkdtempSync(join(tmpdir(), `skydeck-bench-sched-${hosts}-`));
  try {
    const o = e.openDatabase(dir, e.VERSION);
    const db = o.db;
    populate(db, hosts, 42 + hosts);
    const req = { ...REQUEST, count: guests };

    // Ours, in-process.
    let last;
    const once = () => {
      const t0 = performance.now();
      const r = e.schedule(db, req, { actor: 'bench' });
      const ms = performance.now() - t0;
      if (r.placements.length !== guests) throw new Error(`placed ${r.placements.length} of ${guests}`);
      checkNoOverbooking(db);
      e.releaseReservation(db, r.reservationId);
      last = r;
      return { ms, core: r.forecast.elapsedMs };
    };
    once();
    const runs = Array.from({ length: RUNS }, once);
    const ms = median(runs.map((x) => x.ms));
    const coreMs = median(runs.map((x) => x.core));
    const fcMs = median(Array.from({ length: RUNS }, () => {
      const t0 = performance.now();
      e.forecast(db, { ...req, count: 1 });
      return performance.now() - t0;
    }));
    const spreadHosts = new Set(last.placements.map((p) => p.hostId)).size;

    // The naive peer, same database, same request.
    const n = Math.min(guests, naiveCap);
    const t0 = performance.now();
    const naivePlaced = naivePlace(db, req, n);
    const naiveMs = performance.now() - t0;
    if (naivePlaced !== n) throw new Error(`naive placed ${naivePlaced} of ${n}`);
    const naiveRate = (n / naiveMs) * 1000;
    const naiveTotalMs = (guests / naiveRate) * 1000;
    o.close();

    // End to end through the real server.
    const server = await startServer(dir);
    let httpMs;
    try {
      const one = async () => {
        const t1 = performance.now();
        const r = await post(server, 'scheduler.place', req);
        const t = performance.now() - t1;
        if (r.placements.length !== guests) throw new Error(`HTTP placed ${r.placements.length} of ${guests}`);
        await post(server, 'scheduler.release', { reservationId: r.reservationId });
        return t;
      };
      await one();
      const xs = [];
      for (let i = 0; i < RUNS; i++) xs.push(await one());
      httpMs = median(xs);
    } finally {
      server.proc.kill('SIGTERM');
      await new Promise((r) => server.proc.once('exit', r));
    }

    const rate = (guests / ms) * 1000;
    rec.add({ bench: BENCH, metric: `${label}: schedule() in-process (snapshot + filters + batch + reservation write)`, value: ms, unit: 'ms', peer: `naive rescan per guest${n < guests ? ` (${n} placed, projected to ${guests})` : ''}`, peerValue: naiveTotalMs, ratio: naiveTotalMs / ms, target: target.ms, runs: RUNS });
    rec.add({ bench: BENCH, metric: `${label}: placements per second in-process`, value: rate, unit: 'placements/s', peer: 'naive rescan per guest', peerValue: naiveRate, ratio: rate / naiveRate, target: target.rate, runs: RUNS });
    rec.add({ bench: BENCH, metric: `${label}: end to end, POST scheduler.place through the headless server`, value: httpMs, unit: 'ms', peer: 'naive rescan per guest (in-process)', peerValue: naiveTotalMs, ratio: naiveTotalMs / httpMs, target: target.ms, runs: RUNS });
    rec.add({ bench: BENCH, metric: `${label}: of which the pure core (filters, scores, heap, forecast of every host)`, value: coreMs, unit: 'ms', runs: RUNS });
    rec.add({ bench: BENCH, metric: `${label}: forecast of one guest, every host explained (dry run)`, value: fcMs, unit: 'ms', runs: RUNS });
    rec.add({ bench: BENCH, metric: `${label}: hosts used by the batch (spread), of ${last.forecast.candidates} candidates`, value: spreadHosts, unit: 'hosts' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function schedulerPlace(rec) {
  const e = await loadBenchEntry();
  await scenario(e, rec, { hosts: 70, guests: 200, label: '200 guests on 70 hosts', naiveCap: 200, target: { ms: '< 1000 ms', rate: undefined } });
  await scenario(e, rec, { hosts: 5000, guests: 1000, label: '1,000 guests on 5,000 hosts', naiveCap: NAIVE_CAP_5K, target: { ms: undefined, rate: '≥ 1,000 placements/s' } });
}
