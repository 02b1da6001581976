import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testServer } from '../test/helpers';
import { addGuest, addHost, addZone } from './fixtures';
import { bindReservation } from './reservations';

/** The scheduler's commands through the real HTTP server, and reservations ending with their task in the real engine. */

type T = Awaited<ReturnType<typeof testServer>>;
let t: T;
beforeEach(async () => {
  t = await testServer();
  addZone(t.core.db, 'z');
  for (let i = 0; i < 3; i++) addHost(t.core.db, `h${i}`, { zone: 'z', memoryMb: 16384, cores: 8 });
});
afterEach(async () => {
  await t.close();
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('scheduler commands', () => {
  it('follows the placement setting when a request names no strategy: spread, then binpack', async () => {
    const hostsOf = async () => new Set(((await t.call('scheduler.forecast', { vcpu: 1, memoryMb: 1024, count: 2 })).body.placements as { hostId: string }[]).map((p) => p.hostId)).size;
    expect(await hostsOf()).toBe(2);
    expect((await t.call('settings.set', { patch: { schedulerStrategy: 'binpack' } })).status).toBe(200);
    expect(await hostsOf()).toBe(1);
    expect((await t.call('settings.set', { patch: { schedulerStrategy: 'tight' } })).status).toBe(400);
  });

  it('forecast, place, list and release', async () => {
    const f = await t.call('scheduler.forecast', { vcpu: 2, memoryMb: 8192, count: 7 });
    expect(f.status).toBe(200);
    expect(f.body).toMatchObject({ count: 7, fits: 6, totalHosts: 3, candidates: 3, blockers: [] });
    const p = await t.call('scheduler.place', { vcpu: 2, memoryMb: 8192, count: 4 });
    expect(p.status).toBe(200);
    expect(p.body.reservationId).toMatch(/^rsv-/);
    expect(p.body.placements).toHaveLength(4);
    expect(p.body.forecast).toBeNull();
    const list = await t.call('scheduler.reservations', { hostId: p.body.placements[0].hostId });
    expect(list.body.items).toEqual([expect.objectContaining({ id: p.body.reservationId, count: 4, createdBy: expect.stringMatching(/^api:/) })]);
    const over = await t.call('scheduler.place', { vcpu: 2, memoryMb: 8192, count: 3 });
    expect(over.status).toBe(409);
    expect(over.body.details).toMatchObject({ reason: 'no_capacity', fits: 2, forecast: { fits: 2 } });
    expect((await t.call('scheduler.release', { reservationId: p.body.reservationId })).body).toEqual({ released: 1 });
    expect((await t.call('scheduler.place', { vcpu: 2, memoryMb: 8192, count: 3, forecast: true })).body.forecast.hosts).toHaveLength(3);
    // Every place is audited.
    const audit = await t.call('audit.list', { filter: ['action:scheduler.place'] });
    expect(audit.body.items.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses count 0 and 10,001, unknown networks and conflicting rules, reserving nothing', async () => {
    const zero = await t.call('scheduler.place', { vcpu: 1, memoryMb: 512, count: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.details.issues).toEqual([{ path: 'count', message: 'count is 1–10,000', code: 'too_small' }]);
    expect((await t.call('scheduler.forecast', { vcpu: 1, memoryMb: 512, count: 10_001 })).body.details.issues[0].path).toBe('count');
    const net = await t.call('scheduler.place', { vcpu: 1, memoryMb: 512, networks: [{ networkId: 'net-nope' }] });
    expect(net.status).toBe(400);
    expect(net.body.details.issues).toEqual([{ path: 'networks.0.networkId', message: 'network net-nope does not exist', code: 'not_found' }]);
    expect(net.body.details.forecast.hosts).toHaveLength(3);
    const big = await t.call('scheduler.place', { vcpu: 1, memoryMb: 64 * 1024 });
    expect(big.body.message).toBe('memoryMb: needs 64 GiB, the largest kvm host (h0) has 16 GiB after overcommit 1.0');
    const tags = await t.call('scheduler.place', { vcpu: 1, memoryMb: 512, tags: [{ key: 'a', value: '1', strategy: 'require' }, { key: 'a', value: '2', strategy: 'require' }] });
    expect(tags.body.details.issues[0]).toMatchObject({ path: 'tags.1', code: 'conflicting_rules' });
    // The forecast answers the same request with its blockers instead of an error.
    const f = await t.call('scheduler.forecast', { vcpu: 1, memoryMb: 64 * 1024 });
    expect(f.status).toBe(200);
    expect(f.body).toMatchObject({ fits: 0, blockers: [{ filter: 'memory', path: 'memoryMb' }] });
    expect((await t.call('scheduler.reservations', {})).body.items).toEqual([]);
  });

  it('releases a reservation in the transaction that ends its task', async () => {
    const p = await t.call('scheduler.place', { vcpu: 2, memoryMb: 16384, count: 3 });
    expect(p.status).toBe(200);
    const task = t.core.engine.submit('inventory.export', { kind: 'hosts', query: {} }, { createdBy: 'test' });
    expect(bindReservation(t.core.db, p.body.reservationId, task.id)).toBe(true);
    await until(() => ['succeeded', 'failed'].includes(t.core.engine.repo.get(task.id)!.status));
    expect((await t.call('scheduler.reservations', {})).body.items).toEqual([]);
    expect((await t.call('scheduler.forecast', { vcpu: 2, memoryMb: 16384, count: 3 })).body.fits).toBe(3);
  });

  it('instance groups: create, add guests, list, and the scheduler honours them', async () => {
    const g = await t.call('instanceGroups.create', { name: 'web', perHostLimit: 1 });
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({ name: 'web', policy: 'anti-affinity', perHostLimit: 1, force: true, members: 0 });
    expect((await t.call('instanceGroups.create', { name: 'web' })).status).toBe(409);
    addGuest(t.core.db, 'vm-a', { host: 'h0' });
    const added = await t.call('instanceGroups.addGuests', { id: g.body.id, guestIds: ['vm-a'] });
    expect(added.body.members).toBe(1);
    const f = await t.call('scheduler.forecast', { vcpu: 1, memoryMb: 512, count: 3, instanceGroupId: g.body.id });
    expect(f.body.fits).toBe(2);
    expect(f.body.hosts.find((h: { hostId: string }) => h.hostId === 'h0').rejections[0].filter).toBe('group');
    expect((await t.call('instanceGroups.list', {})).body.items).toHaveLength(1);
    expect((await t.call('instanceGroups.removeGuests', { id: g.body.id, guestIds: ['vm-a'] })).body.members).toBe(0);
    expect((await t.call('instanceGroups.delete', { id: g.body.id })).body).toEqual({ ok: true });
  });
});
