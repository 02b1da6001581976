import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { tempDir } from '../test/helpers';
import { runList } from '../db/list-query';
import { SPECS } from './specs';
import { GUEST_UNSYNCED_COLUMNS } from '../db/migrations/0017_guest_sync_digest';
import { lookupSql, markReachable, markUnreachable, markVanished, newResourceId, SyncSession, upsertPage, VANISHED_TAG, type SyncRow, type UpsertOptions } from './sync';

let dir: { path: string; cleanup(): void };
let opened: OpenedDatabase;
let db: Database.Database;
beforeEach(() => {
  dir = tempDir();
  opened = openDatabase(dir.path, 't');
  db = opened.db;
});
afterEach(() => {
  opened.close();
  dir.cleanup();
});

const T1 = '2026-11-01T10:00:00.000Z';
const T2 = '2026-11-01T10:15:00.000Z';
const T3 = '2026-11-01T10:30:00.000Z';

const one = <T = Record<string, unknown>>(sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as T;
const all = <T = Record<string, unknown>>(sql: string, ...args: unknown[]) => db.prepare(sql).all(...args) as T[];
const tagsOf = (kind: string, id: string) => all<{ key: string; value: string; source: string }>('SELECT key, value, source FROM tags WHERE kind = ? AND resource_id = ? ORDER BY key, source', kind, id);

/** An AWS account with a region and zone, and a KVM host with a local storage: parents for the rows under test. */
function world() {
  const [acc, acc2] = upsertPage(db, 'cloudAccounts', [
    { external_id: 'acc-1', name: 'aws-prod', status: 'enabled', regions: ['us-east-1'] },
    { external_id: 'acc-2', name: 'aws-dev', status: 'enabled' },
  ], { provider: 'aws', syncedAt: T1 }).ids;
  const [region] = upsertPage(db, 'regions', [{ external_id: 'acc-1:us-east-1', name: 'us-east-1', status: 'enabled' }], { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: acc! } }).ids;
  const [zone] = upsertPage(db, 'zones', [{ external_id: 'acc-1:us-east-1a', name: 'us-east-1a', status: 'enabled', region_id: region }], { provider: 'aws', syncedAt: T1 }).ids;
  const [host, host2] = upsertPage(db, 'hosts', [
    { external_id: 'uuid-h1', name: 'kvm-1', status: 'online', address: '10.0.0.11', cpu_cores: 32, memory_mb: 131072 },
    { external_id: 'uuid-h2', name: 'kvm-2', status: 'online', address: '10.0.0.12', cpu_cores: 32, memory_mb: 131072 },
  ], { provider: 'kvm', syncedAt: T1 }).ids;
  const [storage] = upsertPage(db, 'storages', [{ external_id: 'uuid-h1:local', name: 'kvm-1-local', status: 'online', type: 'local', capacity_gb: 2000 }], { provider: 'kvm', syncedAt: T1, scope: { hostId: host! } }).ids;
  return { acc: acc!, acc2: acc2!, region: region!, zone: zone!, host: host!, host2: host2!, storage: storage! };
}

const instance = (n: number, o: Partial<SyncRow> = {}): SyncRow => ({
  external_id: `i-${String(n).padStart(17, '0')}`,
  name: `web-prod-${String(n).padStart(4, '0')}`,
  status: 'running',
  vcpu: 2,
  memory_mb: 4096,
  os: 'Amazon Linux 2023',
  instance_type: 't3.large',
  ...o,
});

describe('upsertPage', () => {
  it('inserts a page, then finds the same rows unchanged with the same ids, refreshing synced_at only', () => {
    const w = world();
    const rows = [1, 2, 3].map((n) => instance(n, { tags: { env: 'prod' } }));
    const first = upsertPage(db, 'guests', rows, { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: w.acc } });
    expect(first).toMatchObject({ inserted: 3, updated: 0, unchanged: 0 });
    expect(first.ids).toHaveLength(3);
    expect(new Set(first.ids).size).toBe(3);
    expect(first.ids.every((id) => /^vm-[0-9a-z]{17}$/.test(id))).toBe(true);
    const g = one('SELECT * FROM guests WHERE id = ?', first.ids[0]);
    expect(g).toMatchObject({ provider: 'aws', external_id: 'i-00000000000000001', cloud_account_id: w.acc, created_at: T1, updated_at: T1, synced_at: T1, stale: 0, read_only: 0, vcpu: 2 });

    const again = upsertPage(db, 'guests', rows, { provider: 'aws', syncedAt: T2, scope: { cloudAccountId: w.acc } });
    expect(again).toEqual({ inserted: 0, updated: 0, unchanged: 3, ids: first.ids });
    expect(one('SELECT created_at, updated_at, synced_at FROM guests WHERE id = ?', first.ids[0])).toEqual({ created_at: T1, updated_at: T1, synced_at: T2 });
    expect(one<{ n: number }>('SELECT count(*) AS n FROM guests').n).toBe(3);
  });

  it('writes only what changed, bumps updated_at, and keeps host allocation in step through the triggers', () => {
    const w = world();
    const kvm = (n: number, o: Partial<SyncRow> = {}) => ({ external_id: `dom-${n}`, name: `db-prod-${n}`, status: 'running', vcpu: 4, memory_mb: 8192, disk_gb: 40, ...o });
    const { ids } = upsertPage(db, 'guests', [kvm(1), kvm(2)], { provider: 'kvm', syncedAt: T1, scope: { hostId: w.host } });
    expect(one('SELECT cpu_allocated, memory_allocated_mb, storage_allocated_gb, guest_count FROM hosts WHERE id = ?', w.host)).toEqual({ cpu_allocated: 8, memory_allocated_mb: 16384, storage_allocated_gb: 80, guest_count: 2 });

    // One guest grows and moves to the other host; the other only changes status.
    const r = upsertPage(db, 'guests', [kvm(1, { vcpu: 8, host_id: w.host2 }), kvm(2, { status: 'suspended' })], { provider: 'kvm', syncedAt: T2, scope: { hostId: w.host } });
    expect(r).toEqual({ inserted: 0, updated: 2, unchanged: 0, ids });
    expect(one('SELECT status, updated_at, synced_at, created_at FROM guests WHERE id = ?', ids[1])).toEqual({ status: 'suspended', updated_at: T2, synced_at: T2, created_at: T1 });
    expect(one('SELECT cpu_allocated, memory_allocated_mb, guest_count FROM hosts WHERE id = ?', w.host)).toEqual({ cpu_allocated: 4, memory_allocated_mb: 8192, guest_count: 1 });
    expect(one('SELECT cpu_allocated, memory_allocated_mb, guest_count FROM hosts WHERE id = ?', w.host2)).toEqual({ cpu_allocated: 8, memory_allocated_mb: 8192, guest_count: 1 });
    const sum = one('SELECT sum(vcpu) AS v, sum(memory_mb) AS m FROM guests');
    expect(sum).toEqual({ v: 12, m: 16384 });
  });

  it('replaces provider tags (leaving user tags alone), leaves them when a row gives none, and removes them on {}', () => {
    const w = world();
    const scope = { cloudAccountId: w.acc };
    const [id] = upsertPage(db, 'guests', [instance(1, { tags: { env: 'prod', Name: 'web-1' } })], { provider: 'aws', syncedAt: T1, scope }).ids;
    db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, 'env', 'staging', 'user'), ('guest', ?, 'owner', 'alice', 'user')`).run(id, id);

    const changed = upsertPage(db, 'guests', [instance(1, { tags: { env: 'prod', team: 'payments' } })], { provider: 'aws', syncedAt: T2, scope });
    expect(changed).toMatchObject({ updated: 1, unchanged: 0 });
    expect(tagsOf('guest', id!)).toEqual([
      { key: 'env', value: 'prod', source: 'provider' },
      { key: 'env', value: 'staging', source: 'user' },
      { key: 'owner', value: 'alice', source: 'user' },
      { key: 'team', value: 'payments', source: 'provider' },
    ]);
    // A tags-only change still records when the row changed.
    expect(one('SELECT updated_at, synced_at FROM guests WHERE id = ?', id)).toEqual({ updated_at: T2, synced_at: T2 });

    expect(upsertPage(db, 'guests', [instance(1)], { provider: 'aws', syncedAt: T3, scope })).toMatchObject({ unchanged: 1 });
    expect(tagsOf('guest', id!).filter((t) => t.source === 'provider')).toHaveLength(2);
    expect(upsertPage(db, 'guests', [instance(1, { tags: {} })], { provider: 'aws', syncedAt: T3, scope })).toMatchObject({ updated: 1 });
    expect(tagsOf('guest', id!)).toEqual([
      { key: 'env', value: 'staging', source: 'user' },
      { key: 'owner', value: 'alice', source: 'user' },
    ]);
  });

  it('replaces a guest\'s NICs and fills its ips, so the FTS index finds it by address', () => {
    const w = world();
    const nic = (ip: string, mac: string) => ({ mac, ip });
    const [id] = upsertPage(db, 'guests', [instance(1, { nics: [nic('172.31.0.10', '0A:00:00:00:00:01')] })], { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: w.acc } }).ids;
    expect(all('SELECT idx, mac, ip FROM guest_nics WHERE guest_id = ?', id)).toEqual([{ idx: 0, mac: '0a:00:00:00:00:01', ip: '172.31.0.10' }]);
    const find = (q: string) => runList<{ id: string }, { id: string }>(db, SPECS.guests.list, { q, limit: 10, offset: 0, filter: [] }).items.map((r) => r.id);
    expect(find('172.31.0.10')).toEqual([id]);

    const r = upsertPage(db, 'guests', [instance(1, { nics: [nic('172.31.0.11', '0a:00:00:00:00:01'), nic('172.31.5.5', '0a:00:00:00:00:02')] })], { provider: 'aws', syncedAt: T2, scope: { cloudAccountId: w.acc } });
    expect(r).toMatchObject({ updated: 1 });
    expect(all('SELECT idx, ip FROM guest_nics WHERE guest_id = ? ORDER BY idx', id)).toEqual([{ idx: 0, ip: '172.31.0.11' }, { idx: 1, ip: '172.31.5.5' }]);
    expect(one('SELECT ips FROM guests WHERE id = ?', id)).toEqual({ ips: '172.31.0.11 172.31.5.5' });
    expect(find('172.31.0.10')).toEqual([]);
    expect(find('172.31.5.5')).toEqual([id]);
    expect(find('web-prod-0001')).toEqual([id]);
    // The same NICs again: unchanged.
    expect(upsertPage(db, 'guests', [instance(1, { nics: [nic('172.31.0.11', '0a:00:00:00:00:01'), nic('172.31.5.5', '0a:00:00:00:00:02')] })], { provider: 'aws', syncedAt: T3 })).toMatchObject({ unchanged: 1 });
  });

  it('keeps providers apart: the same external id from two providers is two rows', () => {
    world();
    const a = upsertPage(db, 'images', [{ external_id: 'img-1', name: 'ubuntu', status: 'active' }], { provider: 'aws', syncedAt: T1 });
    const b = upsertPage(db, 'images', [{ external_id: 'img-1', name: 'ubuntu', status: 'active' }], { provider: 'aliyun', syncedAt: T1 });
    expect(a.inserted + b.inserted).toBe(2);
    expect(a.ids[0]).not.toBe(b.ids[0]);
    expect(a.ids[0]).toMatch(/^img-/);
  });

  it('takes the later entry when one page lists a resource twice', () => {
    world();
    const r = upsertPage(db, 'images', [
      { external_id: 'img-1', name: 'ubuntu', status: 'saving' },
      { external_id: 'img-1', name: 'ubuntu', status: 'active' },
    ], { provider: 'aws', syncedAt: T1 });
    expect(r.inserted).toBe(1);
    expect(r.ids[0]).toBe(r.ids[1]);
    expect(all('SELECT status FROM images')).toEqual([{ status: 'active' }]);
  });

  it('converts booleans and arrays, uses newId and created_at on insert, and sets read_only when asked', () => {
    world();
    const r = upsertPage(db, 'cloudAccounts', [{ external_id: 'acc-3', name: 'azure', status: 'enabled', regions: ['westeurope', 'northeurope'], read_only: true, created_at: '2025-01-01T00:00:00.000Z' }], { provider: 'azure', syncedAt: T1, newId: (kind) => `${kind}-fixed` });
    expect(r.ids).toEqual(['cloudAccounts-fixed']);
    expect(one('SELECT regions, read_only, created_at FROM cloud_accounts WHERE id = ?', 'cloudAccounts-fixed')).toEqual({ regions: '["westeurope","northeurope"]', read_only: 1, created_at: '2025-01-01T00:00:00.000Z' });
  });

  it('refuses bad rows before writing anything, and rolls a failing page back as a whole', () => {
    const w = world();
    const scope = { cloudAccountId: w.acc };
    expect(() => upsertPage(db, 'guests', [instance(1), instance(2, { colour: 'blue' })], { provider: 'aws', scope })).toThrow(/guests row 1 .*guests has no column colour/);
    expect(() => upsertPage(db, 'guests', [instance(1, { id: 'mine' })], { provider: 'aws', scope })).toThrow(/id is set by the sync/);
    expect(() => upsertPage(db, 'guests', [instance(1, { stale: 1 })], { provider: 'aws', scope })).toThrow(/stale is set by the sync/);
    expect(() => upsertPage(db, 'guests', [{ name: 'x', status: 'running' } as unknown as SyncRow], { provider: 'aws', scope })).toThrow(/external_id is required/);
    expect(() => upsertPage(db, 'hosts', [{ external_id: 'h', name: 'h', status: 'online', nics: [] }], { provider: 'kvm' })).toThrow(/only guests have nics/);
    // The third row points at a project that does not exist: nothing of the page stays.
    expect(() => upsertPage(db, 'guests', [instance(1), instance(2), instance(3, { project_id: 'prj-missing' })], { provider: 'aws', scope })).toThrow(/FOREIGN KEY/);
    expect(one<{ n: number }>('SELECT count(*) AS n FROM guests').n).toBe(0);
    expect(upsertPage(db, 'guests', [], { provider: 'aws' })).toEqual({ inserted: 0, updated: 0, unchanged: 0, ids: [] });
  });

  it('joins a transaction the caller has open (rolled back with it)', () => {
    const w = world();
    expect(() =>
      db.transaction(() => {
        upsertPage(db, 'guests', [instance(1)], { provider: 'aws', scope: { cloudAccountId: w.acc } });
        expect(one<{ n: number }>('SELECT count(*) AS n FROM guests').n).toBe(1);
        throw new Error('later step failed');
      })(),
    ).toThrow('later step failed');
    expect(one<{ n: number }>('SELECT count(*) AS n FROM guests').n).toBe(0);
  });

  it('looks up a page\'s existing rows of every kind in its (provider, external_id) index, one search per listed id', () => {
    for (const spec of Object.values(SPECS)) {
      const plan = all<{ detail: string }>(`EXPLAIN QUERY PLAN ${lookupSql(spec.table, ['id'])}`, '[]', 'aws').map((r) => r.detail);
      expect(plan, spec.table).toEqual([expect.stringMatching(/^SCAN j VIRTUAL TABLE/), expect.stringMatching(new RegExp(`^SEARCH t USING (COVERING )?INDEX ${spec.table}_external \\(provider=\\? AND external_id=\\?\\)`))]);
    }
  });

  it('makes ids that ascend in creation order', () => {
    const ids = Array.from({ length: 2000 }, () => newResourceId('guests'));
    expect(new Set(ids).size).toBe(2000);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('markVanished', () => {
  function threeGuests() {
    const w = world();
    const scope = { cloudAccountId: w.acc };
    const { ids } = upsertPage(db, 'guests', [1, 2, 3].map((n) => instance(n, { tags: { Name: `web-${n}` } })), { provider: 'aws', syncedAt: T1, scope });
    // Another account's guest, and one of this account created by Skydeck after the listing started.
    const [other] = upsertPage(db, 'guests', [instance(9)], { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: w.acc2 } }).ids;
    return { w, scope, ids, other: other! };
  }

  it('marks guests the provider no longer lists as vanished with the reason, only within the scope', () => {
    const { scope, ids, other } = threeGuests();
    const [fresh] = upsertPage(db, 'guests', [instance(4, { created_at: T3 })], { provider: 'aws', syncedAt: T3, scope }).ids;
    db.prepare('UPDATE guests SET synced_at = NULL WHERE id = ?').run(fresh);
    db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, 'owner', 'bob', 'user')`).run(ids[1]);
    db.prepare(`INSERT INTO ip_allocations (network_id, ip_int, ip, kind, owner_kind, owner_id, created_at) SELECT id, 1, '0.0.0.1', 'allocated', 'guest', ?, ? FROM networks`).run(ids[1], T1);

    // The sync that started at T2 listed guest 1 only.
    upsertPage(db, 'guests', [instance(1)], { provider: 'aws', syncedAt: T2, scope });
    const r = markVanished(db, 'guests', 'aws', scope, T2, { now: T2, reason: 'not in DescribeInstances (us-east-1)' });
    expect(r).toEqual({ deleted: 0, vanished: 2 });
    const status = (id: string) => (one<{ status: string }>('SELECT status FROM guests WHERE id = ?', id) ?? { status: 'gone' }).status;
    expect([status(ids[0]!), status(ids[1]!), status(ids[2]!), status(other), status(fresh!)]).toEqual(['running', 'vanished', 'vanished', 'running', 'running']);
    expect(tagsOf('guest', ids[1]!)).toEqual(expect.arrayContaining([{ key: VANISHED_TAG, value: 'not in DescribeInstances (us-east-1)', source: 'provider' }, { key: 'owner', value: 'bob', source: 'user' }]));
    // Asking again changes nothing more.
    expect(markVanished(db, 'guests', 'aws', scope, T2, { now: T2 })).toEqual({ deleted: 0, vanished: 0 });
  });

  it('brings a vanished guest back under its id when it is listed again, without the reason', () => {
    const { scope, ids } = threeGuests();
    markVanished(db, 'guests', 'aws', scope, T2, { now: T2 });
    const back = upsertPage(db, 'guests', [instance(2)], { provider: 'aws', syncedAt: T3, scope });
    expect(back).toMatchObject({ updated: 1, ids: [ids[1]] });
    expect(one('SELECT status FROM guests WHERE id = ?', ids[1])).toEqual({ status: 'running' });
    expect(tagsOf('guest', ids[1]!).map((t) => t.key)).toEqual(['Name']);
  });

  it('deletes guests that stayed vanished past the grace period, with their tags and addresses', () => {
    const { scope, ids } = threeGuests();
    db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, 'owner', 'bob', 'user')`).run(ids[2]);
    markVanished(db, 'guests', 'aws', scope, T2, { now: T2, graceMs: 3_600_000 });
    // 30 minutes later: still in the grace period.
    expect(markVanished(db, 'guests', 'aws', scope, T3, { now: T3, graceMs: 3_600_000 })).toEqual({ deleted: 0, vanished: 0 });
    const later = '2026-11-01T12:00:00.000Z';
    expect(markVanished(db, 'guests', 'aws', scope, later, { now: later, graceMs: 3_600_000 })).toEqual({ deleted: 3, vanished: 0 });
    expect(one<{ n: number }>(`SELECT count(*) AS n FROM guests WHERE cloud_account_id = ?`, scope.cloudAccountId).n).toBe(0);
    expect(one<{ n: number }>(`SELECT count(*) AS n FROM tags WHERE kind = 'guest' AND resource_id IN (?, ?, ?)`, ...ids).n).toBe(0);
  });

  it('deletes other kinds at once, and keeps as vanished what others still depend on', () => {
    const w = world();
    upsertPage(db, 'guests', [{ external_id: 'dom-1', name: 'db-1', status: 'running', host_id: w.host2 }], { provider: 'kvm', syncedAt: T1 });
    upsertPage(db, 'images', [{ external_id: 'img-1', name: 'a', status: 'active', tags: { os: 'linux' } }, { external_id: 'img-2', name: 'b', status: 'active' }], { provider: 'kvm', syncedAt: T1 });
    upsertPage(db, 'images', [{ external_id: 'img-2', name: 'b', status: 'active' }], { provider: 'kvm', syncedAt: T2 });
    expect(markVanished(db, 'images', 'kvm', {}, T2, { now: T2 })).toEqual({ deleted: 1, vanished: 0 });
    expect(all('SELECT external_id FROM images')).toEqual([{ external_id: 'img-2' }]);
    expect(one<{ n: number }>(`SELECT count(*) AS n FROM tags WHERE kind = 'image'`).n).toBe(0);

    // Neither host is listed any more: kvm-1 (with only its storage) goes, kvm-2 still holds a guest.
    expect(markVanished(db, 'hosts', 'kvm', {}, T2, { now: T2 })).toEqual({ deleted: 1, vanished: 1 });
    expect(all('SELECT name, status FROM hosts')).toEqual([{ name: 'kvm-2', status: 'vanished' }]);
    expect(one<{ n: number }>('SELECT count(*) AS n FROM storages').n).toBe(0);
    // Once its guest has gone, the next sync deletes it.
    db.prepare('DELETE FROM guests').run();
    expect(markVanished(db, 'hosts', 'kvm', {}, T3, { now: T3 })).toEqual({ deleted: 1, vanished: 0 });
  });

  it('deletes a vanished network with its gateway reservation, but not one with allocated addresses', () => {
    world();
    const [wire] = upsertPage(db, 'wires', [{ external_id: 'w', name: 'bond0', status: 'available' }], { provider: 'kvm', syncedAt: T1 }).ids;
    const net = (n: number) => ({ external_id: `n${n}`, name: `vlan${n}`, status: 'available', wire_id: wire, cidr: `10.${n}.0.0/24`, net_first: 0, net_last: 0, ip_start: 'x', ip_end: 'x', ip_start_int: 0, ip_end_int: 0 });
    const [n1, n2] = upsertPage(db, 'networks', [net(1), net(2)], { provider: 'kvm', syncedAt: T1 }).ids;
    const alloc = db.prepare(`INSERT INTO ip_allocations (network_id, ip_int, ip, kind, created_at) VALUES (?, 1, '10.0.0.1', ?, ?)`);
    alloc.run(n1, 'reserved', T1);
    alloc.run(n2, 'allocated', T1);
    expect(markVanished(db, 'networks', 'kvm', {}, T2, { now: T2 })).toEqual({ deleted: 1, vanished: 1 });
    expect(all('SELECT id, status FROM networks')).toEqual([{ id: n2, status: 'vanished' }]);
    expect(all('SELECT network_id, kind FROM ip_allocations')).toEqual([{ network_id: n2, kind: 'allocated' }]);
  });

  it('scopes by account, region, zone and host, and refuses a scope a kind cannot be reached by', () => {
    const w = world();
    upsertPage(db, 'guests', [instance(1, { zone_id: w.zone })], { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: w.acc } });
    expect(markVanished(db, 'guests', 'aws', { regionId: 'elsewhere' }, T2, { now: T2 })).toEqual({ deleted: 0, vanished: 0 });
    expect(markVanished(db, 'guests', 'aws', { cloudAccountId: w.acc, regionId: w.region }, T2, { now: T2 })).toEqual({ deleted: 0, vanished: 1 });
    expect(markVanished(db, 'zones', 'aws', { cloudAccountId: w.acc2 }, T2, { now: T2 })).toEqual({ deleted: 0, vanished: 0 });
    expect(markVanished(db, 'storages', 'kvm', { hostId: w.host2 }, T2, { now: T2 })).toEqual({ deleted: 0, vanished: 0 });
    expect(markVanished(db, 'storages', 'kvm', { hostId: w.host }, T2, { now: T2 })).toEqual({ deleted: 1, vanished: 0 });
    expect(() => markVanished(db, 'keypairs', 'aws', { hostId: w.host }, T2)).toThrow(/keypairs cannot be scoped by host/);
  });
});

describe('markUnreachable / markReachable', () => {
  function hostWithGuests() {
    const w = world();
    const { ids } = upsertPage(db, 'guests', [1, 2].map((n) => ({ external_id: `dom-${n}`, name: `app-${n}`, status: n === 1 ? 'running' : 'suspended', vcpu: 2, memory_mb: 2048 })), { provider: 'kvm', syncedAt: T1, scope: { hostId: w.host } });
    const [other] = upsertPage(db, 'guests', [{ external_id: 'dom-9', name: 'app-9', status: 'running' }], { provider: 'kvm', syncedAt: T1, scope: { hostId: w.host2 } }).ids;
    const disks = upsertPage(db, 'disks', ids.map((g, i) => ({ external_id: `vol-${i}`, name: `app-${i}-sys`, status: 'ready', guest_id: g, storage_id: w.storage, size_gb: 20 })), { provider: 'kvm', syncedAt: T1 }).ids;
    const [snap] = upsertPage(db, 'snapshots', [{ external_id: 'snap-1', name: 's', status: 'ready', disk_id: disks[0] }], { provider: 'kvm', syncedAt: T1 }).ids;
    return { w, ids, other: other!, disks, snap: snap! };
  }

  it('marks an unreachable host and everything it holds stale, keeping last-known statuses; reachable clears it', () => {
    const { w, ids, other, disks, snap } = hostWithGuests();
    const r = markUnreachable(db, { hostId: w.host }, 'ssh: connect to host 10.0.0.11 port 22: No route to host', T2);
    // host + 2 guests + storage + 2 disks + snapshot
    expect(r).toEqual({ hosts: 1, accounts: 0, stale: 7 });
    expect(one('SELECT status, status_reason, stale, updated_at FROM hosts WHERE id = ?', w.host)).toEqual({ status: 'unreachable', status_reason: 'ssh: connect to host 10.0.0.11 port 22: No route to host', stale: 1, updated_at: T2 });
    expect(all('SELECT status, stale FROM guests WHERE host_id = ? ORDER BY name', w.host)).toEqual([{ status: 'running', stale: 1 }, { status: 'suspended', stale: 1 }]);
    expect(all('SELECT stale FROM disks')).toEqual([{ stale: 1 }, { stale: 1 }]);
    expect(one('SELECT stale FROM snapshots WHERE id = ?', snap)).toEqual({ stale: 1 });
    expect(one('SELECT stale FROM guests WHERE id = ?', other)).toEqual({ stale: 0 });
    expect(one('SELECT stale FROM hosts WHERE id = ?', w.host2)).toEqual({ stale: 0 });
    // The API shows it: stale flag and the reason.
    const host = runList<{ id: string; stale: number }, { id: string; stale: number }>(db, SPECS.hosts.list, { limit: 10, offset: 0, filter: ['status:unreachable'] }).items;
    expect(host.map((h) => [h.id, h.stale])).toEqual([[w.host, 1]]);
    // Again: nothing new goes stale.
    expect(markUnreachable(db, { hostId: w.host }, 'still down', T2).stale).toBe(1);

    const back = markReachable(db, { hostId: w.host }, { now: T3 });
    expect(back).toEqual({ hosts: 1, accounts: 0, stale: 7 });
    expect(one('SELECT status, status_reason, stale, last_seen_at FROM hosts WHERE id = ?', w.host)).toEqual({ status: 'online', status_reason: null, stale: 0, last_seen_at: T3 });
    expect(one<{ n: number }>('SELECT (SELECT sum(stale) FROM guests) + (SELECT sum(stale) FROM disks) + (SELECT sum(stale) FROM snapshots) + (SELECT sum(stale) FROM storages) AS n').n).toBe(0);
    void ids;
    void disks;
  });

  it('does not turn a host in another status online, and ignores a host that does not exist', () => {
    const { w } = hostWithGuests();
    db.prepare(`UPDATE hosts SET status = 'offline', status_reason = 'powered off' WHERE id = ?`).run(w.host2);
    expect(markReachable(db, { hostId: w.host2 })).toMatchObject({ hosts: 1, stale: 0 });
    expect(one('SELECT status, status_reason FROM hosts WHERE id = ?', w.host2)).toEqual({ status: 'offline', status_reason: 'powered off' });
    expect(markUnreachable(db, { hostId: 'host-nope' }, 'x')).toEqual({ hosts: 0, accounts: 0, stale: 0 });
  });

  it('marks a cloud account unhealthy and its regions, zones, instances, disks and EIPs stale', () => {
    const w = world();
    const scope = { cloudAccountId: w.acc };
    const { ids } = upsertPage(db, 'guests', [instance(1, { zone_id: w.zone }), instance(2)], { provider: 'aws', syncedAt: T1, scope });
    upsertPage(db, 'disks', [{ external_id: 'vol-1', name: 'v', status: 'ready', guest_id: ids[0] }], { provider: 'aws', syncedAt: T1 });
    upsertPage(db, 'eips', [{ external_id: 'eipalloc-1', name: 'e', status: 'in_use', ip: '54.1.2.3', guest_id: ids[0] }, { external_id: 'eipalloc-2', name: 'spare', status: 'available', ip: '54.1.2.4' }], { provider: 'aws', syncedAt: T1, scope });
    const [otherGuest] = upsertPage(db, 'guests', [instance(9)], { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: w.acc2 } }).ids;

    const r = markUnreachable(db, { cloudAccountId: w.acc }, 'AuthFailure: AWS was not able to validate the provided access credentials', T2);
    // account + region + zone + 2 guests + disk + 2 EIPs
    expect(r).toEqual({ hosts: 0, accounts: 1, stale: 8 });
    expect(one('SELECT health, last_error, stale, status FROM cloud_accounts WHERE id = ?', w.acc)).toEqual({ health: 'error', last_error: 'AuthFailure: AWS was not able to validate the provided access credentials', stale: 1, status: 'enabled' });
    expect(one('SELECT stale, status FROM guests WHERE id = ?', ids[0])).toEqual({ stale: 1, status: 'running' });
    expect(one('SELECT stale FROM guests WHERE id = ?', otherGuest)).toEqual({ stale: 0 });

    // A successful sync refreshes what it lists (stale = 0) ...
    upsertPage(db, 'guests', [instance(2)], { provider: 'aws', syncedAt: T3, scope });
    expect(one('SELECT stale FROM guests WHERE id = ?', ids[1])).toEqual({ stale: 0 });
    // ... and markReachable clears the rest.
    expect(markReachable(db, { cloudAccountId: w.acc }, { now: T3 })).toEqual({ hosts: 0, accounts: 1, stale: 7 });
    expect(one('SELECT health, last_error, stale FROM cloud_accounts WHERE id = ?', w.acc)).toEqual({ health: 'ok', last_error: null, stale: 0 });
    expect(one<{ n: number }>('SELECT (SELECT sum(stale) FROM guests) + (SELECT sum(stale) FROM eips) + (SELECT sum(stale) FROM regions) + (SELECT sum(stale) FROM zones) AS n').n).toBe(0);
  });
});

describe('bulk writes (multi-row INSERTs, SyncSession) against row by row', () => {
  type Write = (d: Database.Database, kind: 'guests', rows: SyncRow[], o: UpsertOptions) => void;
  const PATHS: Record<string, Write> = {
    'row by row': (d, kind, rows, o) => rows.forEach((r) => upsertPage(d, kind, [r], o)),
    'pages of 7': (d, kind, rows, o) => {
      for (let i = 0; i < rows.length; i += 7) upsertPage(d, kind, rows.slice(i, i + 7), o);
    },
    'one page': (d, kind, rows, o) => void upsertPage(d, kind, rows, o),
    'SyncSession, pages of 7 in batches of 50': (d, kind, rows, o) => {
      const s = new SyncSession(d, kind, { ...o, batchRows: 50 });
      for (let i = 0; i < rows.length; i += 7) s.page(rows.slice(i, i + 7));
      const r = s.finish();
      expect(r.ids).toHaveLength(rows.length);
      expect(r.batches).toBe(Math.ceil(Math.ceil(rows.length / 7) / Math.ceil(50 / 7)));
    },
  };
  const newId = (kind: string, row: SyncRow) => `${kind}-${row.external_id}`;

  const kvmGuest = (n: number, o: Partial<SyncRow> = {}): SyncRow => ({
    external_id: `dom-${n}`,
    name: `db-${n}`,
    status: n % 5 ? 'running' : 'ready',
    vcpu: 1 + (n % 8),
    memory_mb: 1024 * (1 + (n % 4)),
    disk_gb: 10 * (n % 3),
    boot_order: n % 2 ? ['hd'] : ['cdrom', 'hd'],
    nics: [{ mac: `52:54:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, ip: n % 4 ? `10.0.${n >> 8}.${n & 255}` : null, bridge: 'br0' }],
    ...o,
  });
  const cloudGuest = (n: number, o: Partial<SyncRow> = {}): SyncRow => ({
    ...instance(n, n % 3 ? { instance_type: `m6i.${n % 4}xlarge` } : {}),
    ...(n % 7 ? { tags: { Name: `web-${n}`, env: n % 2 ? 'prod' : 'dev', ...(n % 3 ? { team: 'payments' } : {}) } } : {}),
    ...(n % 11 ? { nics: [{ mac: `0A:00:00:01:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, ip: `172.31.${n >> 8}.${n & 255}` }] } : {}),
    ...(n % 13 === 0 ? { created_at: '2025-06-01T00:00:00.000Z' } : {}),
    ...o,
  });

  /** Two listings of a KVM host and two of an AWS account (with changes, duplicates, moved MACs and vanished rows), written by `write`. */
  function scenario(write: Write) {
    const d = tempDir();
    const o = openDatabase(d.path, 't');
    const x = o.db;
    const parent = { syncedAt: T1, newId };
    upsertPage(x, 'cloudAccounts', [{ external_id: 'acc', name: 'aws', status: 'enabled' }], { ...parent, provider: 'aws' });
    upsertPage(x, 'projects', [{ external_id: 'p', name: 'prj', status: 'active' }], { ...parent, provider: 'local' });
    upsertPage(x, 'hosts', [1, 2].map((n) => ({ external_id: `h${n}`, name: `kvm-${n}`, status: 'online', cpu_cores: 64, memory_mb: 262144 })), { ...parent, provider: 'kvm' });
    const kvm = { provider: 'kvm', newId, scope: { hostId: 'hosts-h1' } };
    const aws = { provider: 'aws', newId, scope: { cloudAccountId: 'cloudAccounts-acc' } };

    write(x, 'guests', Array.from({ length: 90 }, (_, i) => kvmGuest(i, i % 10 === 9 ? { host_id: 'hosts-h2' } : {})), { ...kvm, syncedAt: T1 });
    const first = Array.from({ length: 230 }, (_, i) => cloudGuest(i, { project_id: 'projects-p' }));
    first.splice(40, 0, cloudGuest(5, { status: 'stopped', project_id: 'projects-p' })); // listed twice, the later entry differs
    write(x, 'guests', first, { ...aws, syncedAt: T1 });
    x.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', 'guests-i-00000000000000003', 'owner', 'alice', 'user'), ('guest', 'guests-dom-4', 'env', 'lab', 'user')`).run();

    // 15 minutes later: changes, new rows, rows gone; a MAC moves from dom-3 to the new dom-200.
    const kvm2 = Array.from({ length: 80 }, (_, i) => kvmGuest(i, i % 6 === 0 ? { vcpu: 16, status: 'running' } : i === 3 ? { nics: [] } : {}));
    kvm2.push(kvmGuest(200, { nics: [kvmGuest(3).nics![0]!] }), kvmGuest(201));
    write(x, 'guests', kvm2, { ...kvm, syncedAt: T2 });
    const aws2 = Array.from({ length: 250 }, (_, i) => cloudGuest(i + 20, i % 9 === 0 ? { status: 'stopped' } : i % 10 === 0 ? { tags: { Name: `renamed-${i}` } } : {}));
    aws2.push(cloudGuest(21, { status: 'terminated' }));
    write(x, 'guests', aws2, { ...aws, syncedAt: T2 });
    markVanished(x, 'guests', 'kvm', kvm.scope, T2, { now: T2 });
    markVanished(x, 'guests', 'aws', aws.scope, T2, { now: T2 });

    // Later still: one vanished instance is back; the vanished past the grace period go.
    write(x, 'guests', [cloudGuest(3), cloudGuest(4, { tags: {} })], { ...aws, syncedAt: T3 });
    markVanished(x, 'guests', 'aws', aws.scope, T2, { now: '2026-11-03T00:00:00.000Z' });

    const q = (sql: string) => x.prepare(sql).all();
    const out = {
      guests: q('SELECT rowid AS _rowid, * FROM guests ORDER BY id'),
      tags: q('SELECT * FROM tags ORDER BY kind, resource_id, key, source'),
      nics: q('SELECT * FROM guest_nics ORDER BY guest_id, idx'),
      hosts: q('SELECT id, cpu_allocated, memory_allocated_mb, storage_allocated_gb, guest_count FROM hosts ORDER BY id'),
      search: Object.fromEntries(['db-1', 'web-prod-0021', '172.31.0.7', '10.0.0.9', 'amazon', 'db-200', 'i-0000000000000010'].map((w) => [w, runList<{ id: string }, { id: string }>(x, SPECS.guests.list, { q: w, limit: 500, offset: 0, filter: [] }).items.map((r) => r.id).sort()])),
    };
    x.exec(`INSERT INTO guests_fts (guests_fts) VALUES ('integrity-check')`);
    o.close();
    d.cleanup();
    return out;
  }

  it('leaves the same rows, tags, NICs, host allocation, search index and vanished rows', () => {
    const want = scenario(PATHS['row by row']!);
    // The scenario exercises what it should.
    expect(want.guests.length).toBeGreaterThan(250);
    expect(want.guests.some((g) => (g as { status: string }).status === 'vanished')).toBe(true);
    expect(want.hosts).toEqual([
      { id: 'hosts-h1', ...alloc(want.guests, 'hosts-h1') },
      { id: 'hosts-h2', ...alloc(want.guests, 'hosts-h2') },
    ]);
    expect(want.nics.find((n) => (n as { mac: string }).mac === kvmGuest(3).nics![0]!.mac)).toMatchObject({ guest_id: 'guests-dom-200' });
    for (const hits of Object.values(want.search)) expect(hits.length).toBeGreaterThan(0);
    for (const [name, write] of Object.entries(PATHS)) {
      if (name === 'row by row') continue;
      expect({ path: name, ...scenario(write) }).toEqual({ path: name, ...want });
    }
  });

  function alloc(guests: unknown[], host: string) {
    const on = (guests as { host_id: string | null; vcpu: number; memory_mb: number; disk_gb: number }[]).filter((g) => g.host_id === host);
    return { cpu_allocated: on.reduce((a, g) => a + g.vcpu, 0), memory_allocated_mb: on.reduce((a, g) => a + g.memory_mb, 0), storage_allocated_gb: on.reduce((a, g) => a + g.disk_gb, 0), guest_count: on.length };
  }

  it('writes a page of new rows with a few statements, whatever keys each row gives', () => {
    const w = world();
    const rows = Array.from({ length: 150 }, (_, i) => instance(i, i % 3 ? { instance_type: 'x' } : {}));
    const r = upsertPage(db, 'guests', rows, { provider: 'aws', syncedAt: T1, scope: { cloudAccountId: w.acc } });
    expect(r.inserted).toBe(150);
    expect(all('SELECT external_id FROM guests ORDER BY rowid').map((g) => g.external_id)).toEqual(rows.map((x) => x.external_id));
    expect(one<{ n: number }>(`SELECT count(*) AS n FROM guests WHERE instance_type = 'x'`).n).toBe(100);
  });

  it('SyncSession stamps one synced_at on the whole listing and refuses pages after finish', () => {
    const w = world();
    const s = new SyncSession(db, 'guests', { provider: 'aws', scope: { cloudAccountId: w.acc }, batchRows: 3 });
    s.page([instance(1), instance(2)]);
    expect(one<{ n: number }>('SELECT count(*) AS n FROM guests').n).toBe(0); // gathered, not yet written
    s.page([instance(3)]);
    expect(one<{ n: number }>('SELECT count(*) AS n FROM guests').n).toBe(3);
    s.page([instance(4)]);
    expect(s.finish()).toMatchObject({ inserted: 4, batches: 2 });
    expect(all('SELECT DISTINCT synced_at FROM guests')).toEqual([{ synced_at: s.syncedAt }]);
    expect(() => s.page([instance(5)])).toThrow(/finished/);
  });

  it('SyncSession writes synced_at of the rows it found unchanged once, at finish, and of changed rows with their batch', () => {
    const w = world();
    const o = { provider: 'aws', scope: { cloudAccountId: w.acc } };
    upsertPage(db, 'guests', [1, 2, 3, 4].map((n) => instance(n)), { ...o, syncedAt: T1 });
    const s = new SyncSession(db, 'guests', { ...o, syncedAt: T2, batchRows: 2 });
    s.page([instance(1), instance(2, { status: 'stopped' })]);
    s.page([instance(3), instance(4)]);
    const at = () => Object.fromEntries(all<{ external_id: string; synced_at: string }>('SELECT external_id, synced_at FROM guests ORDER BY external_id').map((g) => [g.external_id.slice(-1), g.synced_at]));
    expect(at()).toEqual({ 1: T1, 2: T2, 3: T1, 4: T1 }); // both batches written; the unchanged wait for finish
    expect(s.finish()).toMatchObject({ updated: 1, unchanged: 3, batches: 2 });
    expect(at()).toEqual({ 1: T2, 2: T2, 3: T2, 4: T2 });
    // A row deleted between its batch and finish() is not touched, nor is a row that took its rowid.
    const t = new SyncSession(db, 'guests', { ...o, syncedAt: T3, batchRows: 1 });
    t.page([instance(4)]);
    const rowid = one<{ r: number }>(`SELECT rowid AS r FROM guests WHERE external_id = ?`, instance(4).external_id).r;
    db.prepare('DELETE FROM guests WHERE rowid = ?').run(rowid);
    upsertPage(db, 'guests', [instance(5)], { ...o, syncedAt: T1 });
    expect(one<{ r: number }>(`SELECT rowid AS r FROM guests WHERE external_id = ?`, instance(5).external_id).r).toBe(rowid);
    t.finish();
    expect(one(`SELECT synced_at FROM guests WHERE external_id = ?`, instance(5).external_id)).toEqual({ synced_at: T1 });
  });

});

describe('sync digest (guests.sync_digest, migration 0017)', () => {
  const o = (acc: string, syncedAt: string) => ({ provider: 'aws', scope: { cloudAccountId: acc }, syncedAt });
  const vm = (n: number, x: Partial<SyncRow> = {}) =>
    instance(n, { tags: { Name: `web-${n}`, env: 'prod' }, nics: [{ idx: 0, mac: `0a:00:00:00:00:0${n}`, ip: `172.31.0.${n}` }, { idx: 1, mac: `0a:00:00:00:01:0${n}`, ip: null }], ...x });
  const digestOf = (ext: string) => one<{ d: number | null }>('SELECT sync_digest AS d FROM guests WHERE external_id = ?', ext).d;
  const state = (id: string) => ({
    row: one('SELECT name, status, vcpu, memory_mb, ips, project_id FROM guests WHERE id = ?', id),
    tags: tagsOf('guest', id),
    nics: all('SELECT idx, mac, ip FROM guest_nics WHERE guest_id = ? ORDER BY idx', id),
  });

  it('finds a listing the same as the last one unchanged from the digest, whatever order tags and NICs come in', () => {
    const w = world();
    const [id] = upsertPage(db, 'guests', [vm(1)], o(w.acc, T1)).ids;
    const d = digestOf(vm(1).external_id);
    const first = state(id!);
    expect(Number.isSafeInteger(d)).toBe(true);
    const shuffled = vm(1, { tags: { env: 'prod', Name: 'web-1' }, nics: [...vm(1).nics!].reverse() });
    expect(upsertPage(db, 'guests', [shuffled], o(w.acc, T2))).toMatchObject({ updated: 0, unchanged: 1 });
    expect(digestOf(vm(1).external_id)).toBe(d);
    // Any difference in what is listed is a different digest, and is written.
    const changes: Partial<SyncRow>[] = [{ status: 'stopped' }, { tags: { Name: 'web-1', env: 'dev' } }, { tags: { Name: 'web-1' } }, { nics: [vm(1).nics![0]!] }, { vcpu: 4 }];
    for (const [i, x] of changes.entries()) {
      expect(upsertPage(db, 'guests', [vm(1, x)], o(w.acc, T2)), `change ${i}`).toMatchObject({ updated: 1 });
      expect(digestOf(vm(1).external_id)).not.toBe(d);
      expect(upsertPage(db, 'guests', [vm(1)], o(w.acc, T2))).toMatchObject({ updated: 1 });
      expect(digestOf(vm(1).external_id)).toBe(d);
    }
    expect(state(id!)).toEqual(first);
  });

  it('is cleared by any change the sync did not make, so the next listing puts the guest back as the provider lists it', () => {
    const w = world();
    const ids = upsertPage(db, 'guests', [1, 2, 3, 4, 5, 6].map((n) => vm(n)), o(w.acc, T1)).ids;
    const want = ids.map((id) => state(id));
    db.prepare(`INSERT INTO projects (id, name, status, created_at, updated_at) VALUES ('p2', 'other', 'active', ?, ?)`).run(T1, T1);
    db.prepare(`UPDATE guests SET status = 'starting' WHERE id = ?`).run(ids[0]); // a task
    db.prepare(`UPDATE guests SET project_id = 'p2' WHERE id = ?`).run(ids[1]); // a move to another project
    db.prepare(`DELETE FROM tags WHERE resource_id = ? AND key = 'env'`).run(ids[2]);
    db.prepare(`UPDATE tags SET value = 'x' WHERE resource_id = ? AND key = 'Name'`).run(ids[3]);
    db.prepare(`DELETE FROM guest_nics WHERE guest_id = ? AND idx = 1`).run(ids[4]);
    db.prepare(`UPDATE guest_nics SET ip = '10.9.9.9' WHERE guest_id = ? AND idx = 0`).run(ids[5]);
    for (const id of ids) expect(one('SELECT sync_digest AS d FROM guests WHERE id = ?', id)).toEqual({ d: null });
    // vm(2) lists no project: the move stays, and the guest is found unchanged.
    expect(upsertPage(db, 'guests', [1, 2, 3, 4, 5, 6].map((n) => vm(n)), o(w.acc, T2))).toMatchObject({ updated: 5, unchanged: 1 });
    expect(ids.map((id) => state(id))).toEqual(want.map((s, i) => (i === 1 ? { ...s, row: { ...s.row, project_id: 'p2' } } : s)));
    for (const id of ids) expect(one<{ d: number | null }>('SELECT sync_digest AS d FROM guests WHERE id = ?', id).d).not.toBeNull();
    // User tags are not the sync's: changing them leaves the digest.
    db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, 'owner', 'alice', 'user')`).run(ids[0]);
    db.prepare(`DELETE FROM tags WHERE resource_id = ? AND source = 'user'`).run(ids[0]);
    expect(one<{ d: number | null }>('SELECT sync_digest AS d FROM guests WHERE id = ?', ids[0]).d).not.toBeNull();
  });

  it('compares row by row where no digest is known (guests from before the migration) and writes it without calling the row changed', () => {
    const w = world();
    const [id] = upsertPage(db, 'guests', [vm(1)], o(w.acc, T1)).ids;
    const d = digestOf(vm(1).external_id);
    db.prepare('UPDATE guests SET sync_digest = NULL').run();
    expect(upsertPage(db, 'guests', [vm(1)], o(w.acc, T2))).toMatchObject({ updated: 0, unchanged: 1 });
    expect(one('SELECT sync_digest AS d, updated_at, synced_at FROM guests WHERE id = ?', id)).toEqual({ d, updated_at: T1, synced_at: T2 });
  });

  it('is cleared by an UPDATE of every column a listing can set (a column added later must be added to the trigger)', () => {
    const sql = one<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'guests_digest_au'`).sql;
    const watched = /UPDATE OF (.*?) ON guests/s.exec(sql)![1]!.split(',').map((c) => c.trim());
    const columns = (db.pragma('table_info(guests)') as { name: string }[]).map((c) => c.name);
    expect([...watched, ...GUEST_UNSYNCED_COLUMNS].sort()).toEqual([...columns].sort());
  });
});
