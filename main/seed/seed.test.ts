import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_KINDS, RESOURCE_KIND_NAMES } from '@shared/contract/inventory/kinds';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { runList } from '../db/list-query';
import { InventoryRepo } from '../inventory/repo';
import { SPECS } from '../inventory/specs';
import { tempDir } from '../test/helpers';
import { runSeed } from './run';
import { ORIGIN_KEY, seedInventory, type SeedResult } from './seed';

const AT = new Date('2026-11-20T08:00:00.000Z');
const dirs: { cleanup(): void }[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterAll(() => dirs.splice(0).forEach((d) => d.cleanup()));

function seeded(hosts: number, guests: number, seed = 1): { o: OpenedDatabase; r: SeedResult } {
  const o = openDatabase(dir(), 't');
  return { o, r: seedInventory(o.db, { hosts, guests, seed, at: AT }) };
}

/** Every inventory table in full, in id order (for determinism checks). */
function dump(db: Database.Database) {
  const tables = [...Object.values(SPECS).map((s) => s.table), 'tags', 'guest_nics', 'ip_allocations', 'security_group_rules'];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()]));
}

describe('seedInventory (50 hosts, 500 guests)', () => {
  let o: OpenedDatabase;
  let r: SeedResult;
  let db: Database.Database;
  const one = <T = Record<string, unknown>>(sql: string, ...a: unknown[]) => db.prepare(sql).get(...a) as T;
  const n = (sql: string, ...a: unknown[]) => one<{ n: number }>(sql, ...a).n;
  beforeAll(() => {
    ({ o, r } = seeded(50, 500));
    db = o.db;
  });
  afterAll(() => o.close());

  it('writes the requested hosts and guests, 10% of the guests in cloud accounts, and the rest of the model', () => {
    expect(n('SELECT count(*) AS n FROM hosts')).toBe(50);
    expect(n('SELECT count(*) AS n FROM guests')).toBe(500);
    expect(n('SELECT count(*) AS n FROM guests WHERE cloud_account_id IS NOT NULL')).toBe(50);
    expect(n(`SELECT count(*) AS n FROM guests WHERE provider IN ('kvm', 'esxi') AND host_id IS NOT NULL`)).toBe(450);
    expect(r).toMatchObject({ onPremGuests: 450, cloudGuests: 50, counts: { hosts: 50, guests: 500, projects: 24, cloudAccounts: 5 } });
    for (const t of ['regions', 'zones', 'storages', 'wires', 'networks', 'disks', 'snapshots', 'images', 'security_groups', 'eips', 'keypairs']) {
      expect(n(`SELECT count(*) AS n FROM ${t}`), t).toBeGreaterThan(0);
    }
    expect(new Set(db.prepare('SELECT DISTINCT provider FROM guests').pluck().all())).toEqual(new Set(['kvm', 'esxi', 'aws', 'aliyun', 'tencent', 'azure']));
    expect(new Set(db.prepare('SELECT DISTINCT hypervisor FROM hosts').pluck().all())).toEqual(new Set(['kvm', 'esxi', 'baremetal']));
    // Realistic names and mostly running guests.
    const names = db.prepare('SELECT name FROM guests').pluck().all() as string[];
    expect(names.every((x) => /^[a-z]+-(prod|staging|dev)-\d{4}$/.test(x))).toBe(true);
    expect(new Set(names).size).toBe(500);
    expect(n(`SELECT count(*) AS n FROM guests WHERE status = 'running'`)).toBeGreaterThan(300);
    expect(n(`SELECT count(DISTINCT status) AS n FROM guests`)).toBeGreaterThan(2);
    // User and provider tags.
    expect(n(`SELECT count(*) AS n FROM tags WHERE kind = 'guest' AND source = 'user' AND key = 'env'`)).toBeGreaterThan(400);
    expect(n(`SELECT count(*) AS n FROM tags WHERE kind = 'guest' AND source = 'provider' AND key = 'team'`)).toBe(50);
  });

  it('keeps every host\'s allocation equal to the sum of its guests, and storages and guests to their disks', () => {
    const off = db
      .prepare(
        `SELECT h.name FROM hosts h LEFT JOIN (SELECT host_id, count(*) AS c, sum(vcpu) AS v, sum(memory_mb) AS m, sum(disk_gb) AS d FROM guests GROUP BY host_id) g ON g.host_id = h.id
          WHERE h.guest_count <> coalesce(g.c, 0) OR h.cpu_allocated <> coalesce(g.v, 0) OR h.memory_allocated_mb <> coalesce(g.m, 0) OR abs(h.storage_allocated_gb - coalesce(g.d, 0)) > 0.001`,
      )
      .all();
    expect(off).toEqual([]);
    expect(n('SELECT sum(guest_count) AS n FROM hosts')).toBe(450);
    expect(n('SELECT count(*) AS n FROM guests g WHERE abs(g.disk_gb - (SELECT coalesce(sum(size_gb), 0) FROM disks WHERE guest_id = g.id)) > 0.001')).toBe(0);
    expect(n('SELECT count(*) AS n FROM storages s WHERE abs(s.used_gb - (SELECT coalesce(sum(size_gb), 0) FROM disks WHERE storage_id = s.id)) > 0.001')).toBe(0);
    // Hosts are not overcommitted beyond their ratios at this density.
    expect(n('SELECT count(*) AS n FROM hosts WHERE cpu_allocated > cpu_cores * cpu_overcommit OR memory_allocated_mb > memory_mb * memory_overcommit')).toBe(0);
  });

  it('gives every NIC a unique MAC and an allocated address inside its network', () => {
    expect(n('SELECT count(*) AS n FROM guest_nics')).toBe(r.side.nics);
    expect(n('SELECT count(DISTINCT mac) AS n FROM guest_nics')).toBe(r.side.nics);
    const bad = db
      .prepare(
        `SELECT nic.ip FROM guest_nics nic JOIN networks net ON net.id = nic.network_id
          LEFT JOIN ip_allocations a ON a.network_id = nic.network_id AND a.ip = nic.ip AND a.owner_kind = 'guest' AND a.owner_id = nic.guest_id
          WHERE a.ip IS NULL`,
      )
      .all();
    expect(bad).toEqual([]);
    expect(n('SELECT count(*) AS n FROM ip_allocations a JOIN networks net ON net.id = a.network_id WHERE a.ip_int < net.ip_start_int OR a.ip_int > net.ip_end_int')).toBe(0);
    expect(n(`SELECT count(*) AS n FROM ip_allocations WHERE kind = 'reserved' AND note = 'gateway'`)).toBe(n('SELECT count(*) AS n FROM networks'));
  });

  it('finds a guest by name and by IP through full-text search', () => {
    const g = one<{ id: string; name: string; ips: string }>(`SELECT id, name, ips FROM guests WHERE provider = 'kvm' AND ips <> '' ORDER BY id LIMIT 1`);
    const search = (q: string) => runList<{ id: string }, { id: string }>(db, SPECS.guests.list, { q, limit: 50, offset: 0, filter: [] }).items.map((x) => x.id);
    expect(search(g.name)).toContain(g.id);
    // Search is by prefix, so 10.0.0.2 also finds 10.0.0.20-29: the guest is among them, and every hit starts with it.
    const ip = g.ips.split(' ')[0]!;
    const hits = search(ip);
    expect(hits).toContain(g.id);
    const ipsOf = db.prepare('SELECT ips FROM guests WHERE id = ?').pluck();
    expect(hits.every((id) => (ipsOf.get(id) as string).split(' ').some((x) => x.startsWith(ip)))).toBe(true);
    const cloud = one<{ id: string; external_id: string; ips: string }>(`SELECT id, external_id, ips FROM guests WHERE provider = 'aws' ORDER BY id LIMIT 1`);
    expect(search(cloud.ips)).toContain(cloud.id);
    expect(search(cloud.external_id)).toEqual([cloud.id]);
  });

  it('marks every inventory row read-only and the data dir as seeded', () => {
    for (const s of Object.values(SPECS)) expect(n(`SELECT count(*) AS n FROM ${s.table} WHERE read_only <> 1`), s.table).toBe(0);
    const origin = JSON.parse(one<{ value: string }>('SELECT value FROM meta WHERE key = ?', ORIGIN_KEY).value);
    expect(origin).toEqual({ kind: 'seed', at: AT.toISOString(), hosts: 50, guests: 500, seed: 1, version: 1 });
  });

  it('keeps the few unreachable hosts\' guests as last known and stale', () => {
    expect(n(`SELECT count(*) AS n FROM hosts WHERE status = 'unreachable'`)).toBe(r.unreachableHosts);
    expect(n(`SELECT count(*) AS n FROM guests g JOIN hosts h ON h.id = g.host_id WHERE h.status = 'unreachable' AND g.stale = 0`)).toBe(0);
    expect(n(`SELECT count(*) AS n FROM guests g JOIN hosts h ON h.id = g.host_id WHERE h.status <> 'unreachable' AND g.stale = 1`)).toBe(0);
  });

  it('answers every kind through the API contract', () => {
    const repo = new InventoryRepo(db);
    for (const kind of RESOURCE_KIND_NAMES) {
      const page = repo.list(kind, { limit: 200, offset: 0, filter: [] });
      expect(page.total, kind).toBeGreaterThan(0);
      const parsed = RESOURCE_KINDS[kind].array().safeParse(page.items);
      expect(parsed.success ? 'ok' : JSON.stringify(parsed.error.issues.slice(0, 3)), kind).toBe('ok');
    }
    const quotas = db.prepare('SELECT quota_guests FROM projects').pluck().all();
    expect(quotas.filter((q) => q !== null).length).toBeGreaterThan(12);
  });
});

describe('determinism', () => {
  it('gives the same inventory for the same seed, and another one for another seed', () => {
    const a = seeded(30, 200, 7);
    const b = seeded(30, 200, 7);
    const c = seeded(30, 200, 8);
    try {
      expect(dump(a.o.db)).toEqual(dump(b.o.db));
      const names = (x: typeof a) => x.o.db.prepare('SELECT name FROM hosts ORDER BY id').pluck().all();
      expect(names(c)).not.toEqual(names(a));
    } finally {
      for (const x of [a, b, c]) x.o.close();
    }
  });
});

describe('runSeed (the CLI)', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
  };

  it('seeds a new data dir and reports counts and rows/s, then refuses to seed it again', () => {
    const d = join(dir(), 'new', 'data');
    const a = io();
    expect(runSeed(['--hosts', '20', '--guests', '100', '--data-dir', d], a.io)).toBe(0);
    expect(a.out.join('')).toMatch(/Seeded .*: 20 hosts .*100 guests \(90 on KVM\/ESXi, 10 in 5 cloud accounts\).* rows, [\d,]+ rows\/s\. Read-only/);
    const b = io();
    expect(runSeed(['--hosts', '20', '--guests', '100', '--data-dir', d], b.io)).toBe(1);
    expect(b.err.join('')).toMatch(/Cannot seed .*: it already holds an inventory seeded at .*; seed into a new --data-dir/);
  });

  it('refuses a data dir in use by a running Skydeck', () => {
    const d = dir();
    // The lock of a live process (our parent) that is not us.
    writeFileSync(join(d, 'skydeck.lock'), String(process.ppid));
    const a = io();
    expect(runSeed(['--hosts', '1', '--guests', '1', '--data-dir', d], a.io)).toBe(1);
    expect(a.err.join('')).toMatch(new RegExp(`Cannot seed: data directory .* is in use by another Skydeck \\(process ${process.ppid}\\)`));
  });

  it('refuses bad arguments with the usage', () => {
    const a = io();
    expect(runSeed(['--hosts', 'many', '--data-dir', dir()], a.io)).toBe(2);
    expect(a.err.join('')).toMatch(/--hosts must be an integer/);
    const b = io();
    expect(runSeed(['--hosts', '5'], b.io)).toBe(2);
    expect(b.err.join('')).toMatch(/--data-dir is required/);
    const c = io();
    expect(runSeed(['--frobnicate'], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/Usage: npm run seed/);
  });
});
