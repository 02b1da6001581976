import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ApiError } from '@shared/errors';
import type { SchedRequestInput } from '@shared/contract/scheduler';
import { openDatabase, DB_FILE } from '../db/open';
import { tempDir } from '../test/helpers';
import { reserve } from '../inventory/quota';
import { forecast, schedule } from './schedule';
import { bindReservation, listReservations, releaseReservation, releaseTaskReservations } from './reservations';
import { addGroup, addGuest, addHost, addImage, addNetwork, addProject, addStorage, addWire, addZone, allocate, tag } from './fixtures';

/** The scheduler on a real database: reservations, concurrency, quota, the forecast, errors. */

let dir: ReturnType<typeof tempDir>;
let opened: ReturnType<typeof openDatabase>;
let db: Database.Database;
beforeEach(() => {
  dir = tempDir();
  opened = openDatabase(dir.path, 'test');
  db = opened.db;
});
afterEach(() => {
  opened.close();
  dir.cleanup();
});

const req = (r: Partial<SchedRequestInput> = {}): SchedRequestInput => ({ vcpu: 2, memoryMb: 4096, ...r });

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

function addTask(id: string, status = 'running'): string {
  const t = new Date().toISOString();
  db.prepare(`INSERT INTO tasks (id, type, status, stage, params, created_by, created_at, updated_at) VALUES (?, 'guests.create', ?, 'onInit', '{}', 'test', ?, ?)`).run(id, status, t, t);
  return id;
}

const pendingRows = () => (db.prepare('SELECT count(*) AS n FROM sched_host_reservations').get() as { n: number }).n;

describe('forecast', () => {
  it('answers every host: a score, or each filter that rejected it with the numbers', () => {
    addHost(db, 'h-ok', { memoryMb: 65536 });
    addHost(db, 'h-full', { memoryMb: 65536, memoryAllocatedMb: 65536 - 3277 });
    addHost(db, 'h-off', { status: 'offline', enabled: false });
    addHost(db, 'h-esx', { hypervisor: 'esxi', memoryMb: 4096, memoryAllocatedMb: 4096 });
    const f = forecast(db, req({ memoryMb: 8192 }));
    expect(f).toMatchObject({ count: 1, fits: 1, totalHosts: 4, candidates: 1, strategy: 'spread', truncated: false, blockers: [] });
    expect(f.hosts.map((h) => h.hostId)).toEqual(['h-ok', 'h-esx', 'h-full', 'h-off']);
    const [ok, esx, full, off] = f.hosts;
    expect(ok).toMatchObject({ score: expect.any(Number), rejections: [], placed: 1 });
    expect(Object.keys(ok!.scores!)).toEqual(['cpu', 'memory', 'storage', 'creating', 'group', 'tags', 'preferred', 'known']);
    expect(full).toMatchObject({ score: null, rejections: [{ filter: 'memory', message: 'needs 8 GiB, 3.2 GiB free after overcommit 1.0 (64 GiB; 60.8 GiB allocated, 0 MiB pending)', numbers: { needMb: 8192, freeMb: 3277 } }] });
    expect(off!.rejections.map((r) => r.filter)).toEqual(['status']);
    expect(off!.rejections[0]!.message).toBe('host is offline, host is disabled');
    expect(esx!.rejections.map((r) => r.filter)).toEqual(['hypervisor', 'memory']);
    expect(f.byFilter).toEqual({ status: 1, hypervisor: 1, memory: 2 });
    expect(f.placements).toEqual([expect.objectContaining({ index: 0, hostId: 'h-ok', hostName: 'h-ok' })]);
    // A dry run reserves nothing.
    expect(pendingRows()).toBe(0);
  });

  it('a forecast of a batch says how many fit and where they would go', () => {
    addHost(db, 'a', { memoryMb: 16384 });
    addHost(db, 'b', { memoryMb: 16384 });
    const f = forecast(db, req({ memoryMb: 4096, count: 10 }));
    expect(f.fits).toBe(8);
    expect(f.hosts.map((h) => h.placed)).toEqual([4, 4]);
    expect(f.blockers).toEqual([]);
  });

  it('notes hosts whose wires are not recorded and scores them lower', () => {
    addZone(db, 'z');
    addHost(db, 'known', { zone: 'z' });
    addHost(db, 'unknown', { zone: 'z' });
    addWire(db, 'w', 'z', ['known']);
    addNetwork(db, 'n', 'w');
    const f = forecast(db, req({ networks: [{ networkId: 'n' }] }));
    expect(f.candidates).toBe(2);
    const [k, u] = f.hosts;
    expect(k!.hostId).toBe('known');
    expect(u).toMatchObject({ hostId: 'unknown', notes: ['network: no wires recorded for this host: whether it reaches n is unknown'], scores: { known: 0 } });
    expect(u!.score!).toBeLessThan(k!.score!);
  });

  it('a limit cuts the host list short and says so', () => {
    for (let i = 0; i < 5; i++) addHost(db, `h${i}`);
    const f = forecast(db, req(), { forecastLimit: 2 });
    expect(f.hosts).toHaveLength(2);
    expect(f.truncated).toBe(true);
    expect(f.totalHosts).toBe(5);
  });
});

describe('placing and reserving', () => {
  it('spreads a batch over hosts by default and packs it with binpack', () => {
    for (let i = 0; i < 4; i++) addHost(db, `h${i}`, { memoryMb: 65536 });
    const spread = schedule(db, req({ count: 4 }));
    expect(new Set(spread.placements.map((p) => p.hostId)).size).toBe(4);
    releaseReservation(db, spread.reservationId!);
    const pack = schedule(db, req({ count: 4, strategy: 'binpack' }));
    expect(new Set(pack.placements.map((p) => p.hostId)).size).toBe(1);
    const byDefault = schedule(db, req({ count: 2 }), { defaultStrategy: 'binpack' });
    expect(byDefault.placements[0]!.hostId).toBe(pack.placements[0]!.hostId);
  });

  it('reserved usage counts for later calls until released; nothing is double-booked', () => {
    addHost(db, 'a', { memoryMb: 16384 });
    addHost(db, 'b', { memoryMb: 16384 });
    const first = schedule(db, req({ memoryMb: 4096, count: 6 }));
    expect(first.placements).toHaveLength(6);
    expect(first.expiresAt).not.toBeNull();
    // 8 slots, 6 reserved: a batch of 3 does not fit, and reserves nothing.
    const e = caught(() => schedule(db, req({ memoryMb: 4096, count: 3 })));
    expect(e.code).toBe('conflict');
    expect(e.details).toMatchObject({ reason: 'no_capacity', count: 3, fits: 2 });
    expect(e.message).toBe('only 2 of 3 guests fit: the 2 candidate hosts ran out of room');
    expect(pendingRows()).toBe(6);
    const f = forecast(db, req({ memoryMb: 4096 }));
    expect(f.hosts[0]!.scores!.creating).toBeCloseTo(1 / 4);
    // Two more fit.
    const second = schedule(db, req({ memoryMb: 4096, count: 2 }));
    const third = caught(() => schedule(db, req({ memoryMb: 4096 })));
    expect(third.details).toMatchObject({ reason: 'no_host' });
    expect(third.message).toMatch(/^no host can take this guest: 2 hosts rejected \(2 by memory\) — a: memory: needs 4 GiB, 0 MiB free after overcommit 1.0 \(16 GiB; 0 MiB allocated, 16 GiB pending\)/);
    // Released: room again.
    expect(releaseReservation(db, first.reservationId!)).toBe(1);
    expect(schedule(db, req({ memoryMb: 4096, count: 6 })).placements).toHaveLength(6);
    expect(listReservations(db, { limit: 10 }).map((r) => r.id)).toContain(second.reservationId);
  });

  it('holds the write lock for the whole check-and-reserve: another connection waits, then sees the reservation', () => {
    addHost(db, 'a', { memoryMb: 8192 });
    const other = new Database(join(dir.path, DB_FILE));
    other.pragma('busy_timeout = 0');
    try {
      // While this connection is between its check and its write, the other cannot start its own check…
      db.exec('BEGIN IMMEDIATE');
      expect(() => schedule(other, req({ memoryMb: 8192 }))).toThrow(/database is locked/);
      schedule(db, req({ memoryMb: 8192 }));
      db.exec('COMMIT');
      // … and once it can, it sees the reservation: the host is full.
      expect(caught(() => schedule(other, req({ memoryMb: 8192 }))).details).toMatchObject({ reason: 'no_host' });
      expect(pendingRows()).toBe(1);
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      other.close();
    }
  });

  it('concurrent callers on separate connections never book more than there is', async () => {
    addHost(db, 'a', { memoryMb: 16384 });
    addHost(db, 'b', { memoryMb: 16384 });
    // Ten connections (as ten processes would have), each placing 2 × 4 GiB: 8 slots, so 4 calls succeed.
    const conns = Array.from({ length: 10 }, () => {
      const c = new Database(join(dir.path, DB_FILE));
      c.pragma('busy_timeout = 5000');
      return c;
    });
    try {
      const results = await Promise.all(
        conns.map(
          (c) =>
            new Promise<string>((resolve) =>
              setImmediate(() => {
                try {
                  schedule(c, req({ memoryMb: 4096, count: 2 }));
                  resolve('ok');
                } catch (e) {
                  resolve((e as ApiError).details?.reason as string);
                }
              }),
            ),
        ),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(4);
      const per = db.prepare('SELECT host_id AS h, sum(memory_mb) AS mb FROM sched_host_reservations GROUP BY host_id').all() as { h: string; mb: number }[];
      for (const p of per) expect(p.mb).toBeLessThanOrEqual(16384);
    } finally {
      for (const c of conns) c.close();
    }
  });

  it('a reservation bound to a task ends when the task ends; an unbound one lapses', () => {
    addHost(db, 'a', { memoryMb: 8192 });
    const r = schedule(db, req({ memoryMb: 8192 }));
    const task = addTask('t-1');
    expect(bindReservation(db, r.reservationId!, task)).toBe(true);
    expect(listReservations(db, { limit: 10 })[0]).toMatchObject({ id: r.reservationId, taskId: 't-1', expiresAt: null, hosts: [{ hostId: 'a', guests: 1, memoryMb: 8192 }] });
    // Far in the future, still held: bound reservations do not lapse.
    expect(caught(() => schedule(db, req({ memoryMb: 8192 }), { now: new Date(Date.now() + 86_400_000) })).details).toMatchObject({ reason: 'no_host' });
    expect(releaseTaskReservations(db, 't-1')).toBe(1);
    const again = schedule(db, req({ memoryMb: 8192 }), { ttlSeconds: 60 });
    // An unbound reservation lapses after its ttl.
    expect(caught(() => schedule(db, req({ memoryMb: 8192 }), { now: new Date(Date.now() + 30_000) })).details).toMatchObject({ reason: 'no_host' });
    expect(schedule(db, req({ memoryMb: 8192 }), { now: new Date(Date.now() + 61_000) }).placements).toHaveLength(1);
    expect(listReservations(db, { limit: 10 }).map((x) => x.id)).not.toContain(again.reservationId);
  });

  it('a reservation whose task already ended is released at once; one bound to a task that ended stops counting', () => {
    addHost(db, 'a', { memoryMb: 8192 });
    const r = schedule(db, req({ memoryMb: 8192 }));
    expect(bindReservation(db, r.reservationId!, addTask('t-done', 'failed'))).toBe(false);
    expect(pendingRows()).toBe(0);
    const task = addTask('t-2');
    const r2 = schedule(db, req({ memoryMb: 8192 }), { taskId: task });
    expect(r2.expiresAt).toBeNull();
    db.prepare(`UPDATE tasks SET status = 'succeeded' WHERE id = ?`).run(task);
    expect(forecast(db, req({ memoryMb: 8192 })).fits).toBe(1);
    expect(caught(() => schedule(db, req(), { taskId: 'nope' })).details?.issues).toEqual([{ path: 'taskId', message: 'task nope is not queued or running', code: 'custom' }]);
  });

  it("stops counting a guest's reservation once its row is on the host (no double count with the host allocation)", () => {
    addHost(db, 'a', { memoryMb: 16384 });
    const r = schedule(db, req({ memoryMb: 8192 }), { guestIds: ['vm-1'] });
    expect(r.placements[0]!.hostId).toBe('a');
    addGuest(db, 'vm-1', { host: 'a', memoryMb: 8192, status: 'creating' });
    // The host allocation now counts vm-1 (trigger); the reservation does not count it again: 8 GiB are still free.
    const f = forecast(db, req({ memoryMb: 8192 }));
    expect(f.fits).toBe(1);
    expect(f.hosts[0]!.scores!.creating).toBe(0.5);
    expect(caught(() => schedule(db, req(), { guestIds: ['x', 'y'] })).message).toBe('guestIds: 2 guest ids for a count of 1');
  });
});

describe('filters on real inventory', () => {
  it('storage: disks go to storages of the asked type with room, shared zone storages included', () => {
    addZone(db, 'z');
    addHost(db, 'a', { zone: 'z' });
    addHost(db, 'b', { zone: 'z' });
    addStorage(db, 'a-local', { host: 'a', type: 'local', capacityGb: 100 });
    addStorage(db, 'b-local', { host: 'b', type: 'local', capacityGb: 500 });
    addStorage(db, 'nfs', { zone: 'z', type: 'nfs', capacityGb: 1000, usedGb: 900 });
    const r = schedule(db, req({ disks: [{ sizeGb: 200 }, { sizeGb: 50, storageType: 'nfs' }] }));
    expect(r.placements[0]).toMatchObject({ hostId: 'b', storages: ['b-local', 'nfs'] });
    // The shared storage has 50 GiB left after the reservation: a second 60 GiB disk on it fits nowhere.
    const f = forecast(db, req({ disks: [{ sizeGb: 60, storageType: 'nfs' }] }));
    expect(f.candidates).toBe(0);
    expect(f.hosts[0]!.rejections[0]).toMatchObject({ filter: 'storage', message: 'disk 0 (60 GiB, nfs): nfs has 50 GiB free' });
    expect(forecast(db, req({ disks: [{ sizeGb: 10, storage: 'a-local' }] })).hosts.map((h) => [h.hostId, h.score === null])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });

  it('network: only hosts whose wires carry the network, while it has free addresses', () => {
    addZone(db, 'z');
    addHost(db, 'a', { zone: 'z' });
    addHost(db, 'b', { zone: 'z' });
    addWire(db, 'w1', 'z', ['a']);
    addWire(db, 'w2', 'z', ['b']);
    addNetwork(db, 'n1', 'w1', { n: 1, size: 5 });
    allocate(db, 'n1', 3);
    const f = forecast(db, req({ networks: [{ networkId: 'n1' }], count: 3 }));
    expect(f.fits).toBe(2);
    expect(f.hosts.find((h) => h.hostId === 'b')!.rejections[0]!.message).toBe("nic 0: network n1 is on wire w1, not on this host's wires (w2)");
    const r = schedule(db, req({ networks: [{ networkId: 'n1' }], count: 2 }), { guestIds: ['g1', 'g2'] });
    expect(r.placements.map((p) => p.networks)).toEqual([['n1'], ['n1']]);
    expect(forecast(db, req({ networks: [{ networkId: 'n1' }] })).hosts[0]!.rejections[0]!.message).toBe('nic 0: network n1 has no free address (5 in range, 3 allocated, 2 pending)');
    // The address reservation ends once the guest holds an address in the network (and the allocation counts instead).
    allocate(db, 'n1', 1, { kind: 'guest', id: 'g1' });
    expect(forecast(db, req({ networks: [{ networkId: 'n1' }] })).hosts[0]!.rejections[0]!.message).toBe('nic 0: network n1 has no free address (5 in range, 4 allocated, 1 pending)');
  });

  it('tags: require, exclude, prefer and avoid on hosts', () => {
    addHost(db, 'gpu', { tags: { gpu: 'a100' } });
    addHost(db, 'old', { tags: { gen: 'old' } });
    addHost(db, 'plain');
    tag(db, 'host', 'plain', { gen: 'new' }, 'provider');
    const need = forecast(db, req({ tags: [{ key: 'gpu', strategy: 'require' }] }));
    expect(need.hosts.filter((h) => h.score !== null).map((h) => h.hostId)).toEqual(['gpu']);
    const avoid = forecast(db, req({ tags: [{ key: 'gpu', strategy: 'exclude' }, { key: 'gen', value: 'old', strategy: 'avoid' }, { key: 'gen', value: 'new', strategy: 'prefer' }] }));
    expect(avoid.hosts.map((h) => [h.hostId, h.scores?.tags ?? null])).toEqual([
      ['plain', 1],
      ['old', 0],
      ['gpu', null],
    ]);
    expect(avoid.hosts[2]!.rejections[0]!.message).toBe('excludes tag gpu, has gpu=a100');
  });

  it('image: hosts that hold it', () => {
    addHost(db, 'a');
    addHost(db, 'b');
    addImage(db, 'img-1', { hosts: ['b'] });
    expect(schedule(db, req({ imageId: 'img-1' })).placements[0]!.hostId).toBe('b');
    addImage(db, 'img-2');
    expect(forecast(db, req({ imageId: 'img-2' })).candidates).toBe(2);
  });

  it('instance group: anti-affinity spreads a batch up to the per-host limit, counting existing and pending members', () => {
    for (const h of ['a', 'b', 'c']) addHost(db, h);
    addGroup(db, 'web', { limit: 2 });
    addGuest(db, 'old-1', { host: 'a', group: 'web' });
    addGuest(db, 'old-2', { host: 'a', group: 'web' });
    const r = schedule(db, req({ instanceGroupId: 'web', count: 3, strategy: 'binpack' }), { guestIds: ['n1', 'n2', 'n3'] });
    const per = r.placements.reduce<Record<string, number>>((m, p) => ({ ...m, [p.hostId]: (m[p.hostId] ?? 0) + 1 }), {});
    expect(per.a).toBeUndefined();
    expect(Object.values(per).every((n) => n <= 2)).toBe(true);
    // One slot left (pending members count); the next batch of 2 does not fit.
    const e = caught(() => schedule(db, req({ instanceGroupId: 'web', count: 2 })));
    expect(e.details).toMatchObject({ reason: 'no_capacity', fits: 1 });
    const f = e.details!.forecast as { hosts: { hostId: string; rejections: { message: string }[] }[] };
    expect(f.hosts.find((h) => h.hostId === 'a')!.rejections[0]!.message).toBe('instance group web allows 2 members per host, 2 already here');
    // Memberships of guests never created go with the reservation.
    expect((db.prepare(`SELECT count(*) AS n FROM instance_group_guests WHERE group_id = 'web'`).get() as { n: number }).n).toBe(5);
    releaseReservation(db, r.reservationId!);
    expect((db.prepare(`SELECT count(*) AS n FROM instance_group_guests WHERE group_id = 'web'`).get() as { n: number }).n).toBe(2);
  });

  it('instance group: affinity keeps a batch on the host that holds the group', () => {
    for (const h of ['a', 'b', 'c']) addHost(db, h);
    addGroup(db, 'db', { policy: 'affinity' });
    const r = schedule(db, req({ instanceGroupId: 'db', count: 3 }), { guestIds: ['d1', 'd2', 'd3'] });
    expect(new Set(r.placements.map((p) => p.hostId)).size).toBe(1);
    const f = forecast(db, req({ instanceGroupId: 'db' }));
    expect(f.candidates).toBe(1);
  });
});

describe('quota', () => {
  it('refuses a batch over the project quota with the numbers, counting running tasks and pending placements', () => {
    for (const h of ['a', 'b']) addHost(db, h);
    addProject(db, 'dev', { vcpu: 12 });
    reserve(db, 'dev', null, { vcpu: 2 });
    addGuest(db, 'g0', { host: 'a', project: 'dev', vcpu: 2 });
    const ok = schedule(db, req({ projectId: 'dev', vcpu: 2, count: 3 }));
    const e = caught(() => schedule(db, req({ projectId: 'dev', vcpu: 2, count: 2 })));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe('Over the vcpu quota of project dev: limit 12, in use 2, reserved by running tasks 8, requested 4 (2 guests × 2)');
    expect(e.details).toMatchObject({ reason: 'quota', quota: 'vcpu', limit: 12, used: 2, pending: 8, requested: 4, guestsThatFit: 1 });
    expect(schedule(db, req({ projectId: 'dev', vcpu: 2 })).placements).toHaveLength(1);
    releaseReservation(db, ok.reservationId!);
    expect(schedule(db, req({ projectId: 'dev', vcpu: 2, count: 3 })).placements).toHaveLength(3);
  });

  it('counts addresses against the IP quota', () => {
    addZone(db, 'z');
    addHost(db, 'a', { zone: 'z' });
    addWire(db, 'w', 'z', ['a']);
    addNetwork(db, 'n', 'w');
    addProject(db, 'p', { ips: 3 });
    schedule(db, req({ projectId: 'p', networks: [{ networkId: 'n' }], count: 2 }));
    expect(caught(() => schedule(db, req({ projectId: 'p', networks: [{ networkId: 'n' }], count: 2 }))).message).toBe(
      'Over the ips quota of project p: limit 3, in use 0, reserved by running tasks 2, requested 2 (2 guests × 1)',
    );
  });
});

describe('impossible requests', () => {
  beforeEach(() => {
    addZone(db, 'z');
    addHost(db, 'a', { zone: 'z', memoryMb: 65536, cores: 16 });
    addHost(db, 'b', { zone: 'z', memoryMb: 131072, cores: 32, memOc: 1.5 });
  });
  const issues = (e: ApiError) => e.details?.issues;

  it('more memory or vCPUs than any host has', () => {
    const e = caught(() => schedule(db, req({ memoryMb: 512 * 1024 })));
    expect(e.code).toBe('validation');
    expect(issues(e)).toEqual([{ path: 'memoryMb', message: 'needs 512 GiB, the largest kvm host (b) has 192 GiB after overcommit 1.5', code: 'impossible' }]);
    expect(e.details?.forecast).toMatchObject({ fits: 0, totalHosts: 2, candidates: 0, blockers: [{ filter: 'memory', path: 'memoryMb' }] });
    expect(caught(() => schedule(db, req({ vcpu: 64 }))).message).toBe('vcpu: needs 64 vCPUs, the largest kvm host (b) has 32 logical CPUs');
    expect(caught(() => schedule(db, req({ hypervisor: 'esxi' }))).message).toBe('hypervisor: no esxi host is known');
    expect(pendingRows()).toBe(0);
  });

  it('unknown network, image, project, group, host, storage', () => {
    const e = caught(() => schedule(db, req({ networks: [{ networkId: 'nope' }], imageId: 'img-x', projectId: 'p-x', instanceGroupId: 'g-x', hostId: 'h-x', disks: [{ sizeGb: 1, storage: 's-x' }] })));
    expect(issues(e)!.map((i: { path: string }) => i.path)).toEqual(['projectId', 'hostId', 'imageId', 'instanceGroupId', 'networks.0.networkId', 'disks.0.storage']);
    expect(issues(e)![4]).toEqual({ path: 'networks.0.networkId', message: 'network nope does not exist', code: 'not_found' });
    // The forecast shows why every host was rejected.
    const f = e.details!.forecast as { hosts: { rejections: { filter: string; message: string }[] }[] };
    expect(f.hosts[0]!.rejections.find((r) => r.filter === 'network')!.message).toBe('nic 0: network nope does not exist');
    expect(pendingRows()).toBe(0);
  });

  it('conflicting tag rules', () => {
    const e = caught(() => schedule(db, req({ tags: [{ key: 'env', value: 'prod', strategy: 'require' }, { key: 'env', value: 'prod', strategy: 'exclude' }] })));
    expect(e.code).toBe('validation');
    expect(issues(e)).toEqual([{ path: 'tags.1', message: 'tag rule exclude host env=prod conflicts with tags.0 (require host env=prod): no host can meet both', code: 'conflicting_rules' }]);
    expect((e.details!.forecast as { candidates: number }).candidates).toBe(0);
  });

  it('count 0 or 10,001', () => {
    expect(issues(caught(() => schedule(db, req({ count: 0 }))))).toEqual([{ path: 'count', message: 'count is 1–10,000', code: 'too_small' }]);
    expect(issues(caught(() => schedule(db, req({ count: 10_001 }))))).toEqual([{ path: 'count', message: 'count is 1–10,000', code: 'too_big' }]);
  });

  it('a requested host that cannot take the guest: an issue per field, with the numbers', () => {
    addHost(db, 'small', { zone: 'z', memoryMb: 8192, memoryAllocatedMb: 6144, cores: 4, cpuAllocated: 15 });
    const e = caught(() => schedule(db, req({ hostId: 'small', vcpu: 2, memoryMb: 4096 })));
    expect(e.code).toBe('validation');
    expect(issues(e)).toEqual([
      { path: 'vcpu', message: 'small: needs 2 vCPUs, 1 free after overcommit 4.0 (4 cores × 4.0 = 16; 15 allocated, 0 pending)', code: 'capacity' },
      { path: 'memoryMb', message: 'small: needs 4 GiB, 2 GiB free after overcommit 1.0 (8 GiB; 6 GiB allocated, 0 MiB pending)', code: 'capacity' },
    ]);
    expect((e.details!.forecast as { hosts: { hostId: string }[] }).hosts[0]!.hostId).toBe('small');
    expect(schedule(db, req({ hostId: 'a', count: 3 })).placements.map((p) => p.hostId)).toEqual(['a', 'a', 'a']);
  });
});

describe('scale', () => {
  it('places 200 guests on 70 hosts in one pass, well under a second', () => {
    addZone(db, 'z');
    for (let i = 0; i < 70; i++) addHost(db, `h${String(i).padStart(2, '0')}`, { zone: 'z', cores: 16 + (i % 4) * 16, memoryMb: 65536 * (1 + (i % 3)), tags: { rack: `r${i % 7}` } });
    const t0 = performance.now();
    const r = schedule(db, req({ vcpu: 2, memoryMb: 4096, count: 200, tags: [{ key: 'rack', value: 'r0', strategy: 'avoid' }] }));
    const ms = performance.now() - t0;
    expect(r.placements).toHaveLength(200);
    expect(r.placements.some((p) => p.hostId === 'h00')).toBe(false);
    expect(ms).toBeLessThan(1000);
  });
});
