import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testServer } from '../test/helpers';
import { insertGuest, insertHost } from '../test/inventory-fixtures';

type T = Awaited<ReturnType<typeof testServer>>;
let t: T;
beforeEach(async () => {
  t = await testServer();
});
afterEach(async () => {
  await t.close();
});

async function network(cidr = '10.20.0.0/24', extra: Record<string, unknown> = {}) {
  const zone = (await t.call('zones.create', { name: `z-${Math.random().toString(36).slice(2, 7)}` })).body;
  const wire = (await t.call('wires.create', { name: 'br0', zoneId: zone.id })).body;
  const net = await t.call('networks.create', { name: `net-${Math.random().toString(36).slice(2, 7)}`, wireId: wire.id, cidr, gateway: cidr.replace(/0\/\d+$/, '1'), ...extra });
  return { zone, wire, net };
}

describe('networks and IP allocation', () => {
  it('creates a network with its usable range and the gateway reserved', async () => {
    const { net } = await network();
    expect(net.status).toBe(200);
    expect(net.body).toMatchObject({ cidr: '10.20.0.0/24', ipStart: '10.20.0.1', ipEnd: '10.20.0.254', totalIps: 254, usedIps: 1 });
    const ips = (await t.call('networks.ips', { networkId: net.body.id })).body;
    expect(ips.items).toEqual([expect.objectContaining({ ip: '10.20.0.1', kind: 'reserved', note: 'gateway' })]);
  });

  it('allocates the lowest free address, never the same one twice, even under concurrent calls', async () => {
    const { net } = await network('10.30.0.0/26'); // 62 usable, gateway reserved: 61 free
    const results = await Promise.all(Array.from({ length: 70 }, (_, i) => t.call('networks.allocateIp', { networkId: net.body.id, ownerKind: 'guest', ownerId: `g${i}` })));
    const ok = results.filter((r) => r.status === 200).map((r) => r.body.ip as string);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(61);
    expect(new Set(ok).size).toBe(61);
    expect(ok).not.toContain('10.30.0.1');
    expect(refused).toHaveLength(9);
    expect(refused[0]!.body).toMatchObject({ code: 'conflict', details: { reason: 'exhausted' } });
    // A released address is the next one handed out.
    await t.call('networks.releaseIp', { networkId: net.body.id, ip: '10.30.0.7' });
    expect((await t.call('networks.allocateIp', { networkId: net.body.id })).body.ip).toBe('10.30.0.7');
  });

  it('refuses an address outside the network, one already taken, and reserves specific ones', async () => {
    const { net } = await network();
    const outside = await t.call('networks.allocateIp', { networkId: net.body.id, ip: '10.21.0.5' });
    expect(outside.status).toBe(400);
    expect(outside.body.details.issues[0]).toMatchObject({ path: 'ip', code: 'out_of_range' });
    expect((await t.call('networks.reserveIp', { networkId: net.body.id, ip: '10.20.0.50', note: 'printer' })).status).toBe(200);
    const taken = await t.call('networks.allocateIp', { networkId: net.body.id, ip: '10.20.0.50' });
    expect(taken.status).toBe(409);
    expect(taken.body.message).toMatch(/already reserved \(printer\)/);
    const bad = await t.call('networks.allocateIp', { networkId: net.body.id, ip: '10.20.0.300' });
    expect(bad.body.details.issues[0]).toMatchObject({ path: 'ip', message: 'not an IPv4 address' });
  });

  it('refuses overlapping CIDRs on one wire, host bits, and duplicate names', async () => {
    const { wire, net } = await network('10.40.0.0/16');
    const overlap = await t.call('networks.create', { name: 'other', wireId: wire.id, cidr: '10.40.8.0/24' });
    expect(overlap.status).toBe(409);
    expect(overlap.body.message).toMatch(/10\.40\.8\.0\/24 overlaps .* \(10\.40\.0\.0\/16\)/);
    const hostBits = await t.call('networks.create', { name: 'hb', wireId: wire.id, cidr: '10.41.0.5/24' });
    expect(hostBits.body.details.issues[0]).toMatchObject({ path: 'cidr' });
    expect(hostBits.body.message).toMatch(/did you mean 10\.41\.0\.0\/24/);
    const dup = await t.call('networks.create', { name: net.body.name, wireId: wire.id, cidr: '10.50.0.0/24' });
    expect(dup.status).toBe(409);
    expect(dup.body.details).toMatchObject({ reason: 'duplicate_name' });
    const range = await t.call('networks.create', { name: 'r', wireId: wire.id, cidr: '10.60.0.0/24', ipStart: '10.60.0.100', ipEnd: '10.60.1.5' });
    expect(range.body.details.issues[0]).toMatchObject({ path: 'ipEnd', code: 'out_of_range' });
  });

  it('refuses to delete a network with allocated addresses, then deletes it once they are released', async () => {
    const { net } = await network();
    const a = (await t.call('networks.allocateIp', { networkId: net.body.id })).body;
    const refused = await t.call('networks.delete', { id: net.body.id });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/still has 1 allocated IP addresses/);
    expect((await t.call('networks.get', { id: net.body.id })).status).toBe(200);
    await t.call('networks.releaseIp', { networkId: net.body.id, ip: a.ip });
    expect((await t.call('networks.delete', { id: net.body.id })).status).toBe(200);
    expect((await t.call('networks.get', { id: net.body.id })).status).toBe(404);
  });
});

describe('hosts, guests and lists', () => {
  it('keeps host allocation in step with its guests and refuses to delete a host with guests', async () => {
    insertHost(t.core.db, 'h1', { cores: 16 });
    insertGuest(t.core.db, 'g1', { host: 'h1', vcpu: 4, memoryMb: 8192, diskGb: 40 });
    insertGuest(t.core.db, 'g2', { host: 'h1', vcpu: 2, memoryMb: 2048, diskGb: 10 });
    expect((await t.call('hosts.get', { id: 'h1' })).body).toMatchObject({ cpuAllocated: 6, memoryAllocatedMb: 10240, storageAllocatedGb: 50, guestCount: 2 });
    t.core.db.prepare('UPDATE guests SET vcpu = 8 WHERE id = ?').run('g1');
    t.core.db.prepare('DELETE FROM guests WHERE id = ?').run('g2');
    expect((await t.call('hosts.get', { id: 'h1' })).body).toMatchObject({ cpuAllocated: 8, guestCount: 1 });
    const refused = await t.call('hosts.delete', { id: 'h1' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/still has 1 guests/);
  });

  it('pages, sorts, filters by field, range and tag, and searches by name and IP', async () => {
    insertHost(t.core.db, 'h1');
    for (let i = 0; i < 30; i++) insertGuest(t.core.db, `g${i}`, { name: `web-prod-${String(i).padStart(3, '0')}`, host: 'h1', memoryMb: 1024 * (i + 1), status: i % 3 === 0 ? 'running' : 'ready', ips: `10.0.0.${i + 10}` });
    await t.call('tags.set', { resources: [{ kind: 'guests', id: 'g3' }, { kind: 'guests', id: 'g4' }], tags: { env: 'prod', team: 'web' } });
    const page = (await t.call('guests.list', { limit: 5, offset: 5, sort: '-memory_mb' })).body;
    expect(page.total).toBe(30);
    expect(page.items.map((g: { memoryMb: number }) => g.memoryMb)).toEqual([25, 24, 23, 22, 21].map((x) => x * 1024));
    expect((await t.call('guests.list', { filter: ['status:running'] })).body.total).toBe(10);
    expect((await t.call('guests.list', { filter: ['memory_mb:>=20480'] })).body.total).toBe(11);
    const tagged = (await t.call('guests.list', { filter: ['tag:env=prod'] })).body;
    expect(tagged.items.map((g: { id: string }) => g.id).sort()).toEqual(['g3', 'g4']);
    expect(tagged.items[0].tags).toEqual(expect.arrayContaining([{ key: 'env', value: 'prod', source: 'user' }]));
    expect((await t.call('guests.list', { q: 'web-prod-017' })).body.items.map((g: { id: string }) => g.id)).toEqual(['g17']);
    expect((await t.call('guests.list', { q: '10.0.0.25' })).body.items.map((g: { id: string }) => g.id)).toEqual(['g15']);
    const bad = await t.call('guests.list', { filter: ['colour:blue'] });
    expect(bad.body.details.issues[0]).toMatchObject({ path: 'filter', code: 'unknown_field' });
  });

  it('rolls up the inventory for the dashboard', async () => {
    insertHost(t.core.db, 'h1', { cores: 16, memoryMb: 65536 });
    insertHost(t.core.db, 'h2', { cores: 32, memoryMb: 131072, status: 'unreachable' });
    insertGuest(t.core.db, 'g1', { host: 'h1', vcpu: 4, status: 'running' });
    insertGuest(t.core.db, 'g2', { host: 'h2', vcpu: 2 });
    const s = (await t.call('inventory.summary')).body;
    expect(s.counts).toMatchObject({ hosts: 2, guests: 2 });
    expect(s.capacity).toMatchObject({ cpuCores: 48, cpuAllocated: 6, memoryMb: 196608 });
    expect(s.hostsByStatus).toEqual({ online: 1, unreachable: 1 });
    expect(s.guestsByStatus).toEqual({ running: 1, ready: 1 });
  });
});

describe('projects and quotas', () => {
  it('refuses a request over quota with the exact numbers, counting pending reservations', async () => {
    const p = (await t.call('projects.create', { name: 'dev', quota: { vcpu: 10, guests: 3 } })).body;
    insertGuest(t.core.db, 'g1', { project: p.id, vcpu: 4 });
    const { reserve } = await import('./quota');
    reserve(t.core.db, p.id, null, { vcpu: 4, guests: 1 });
    expect(() => reserve(t.core.db, p.id, null, { vcpu: 4, guests: 1 })).toThrow('Over the vcpu quota of project dev: limit 10, in use 4, reserved by running tasks 4, requested 4');
    const usage = (await t.call('projects.usage', { id: p.id })).body;
    expect(usage).toEqual({ usage: { guests: 1, vcpu: 4, memoryMb: 4096, storageGb: 0, ips: 0 }, pending: { guests: 1, vcpu: 4, memoryMb: 0, storageGb: 0, ips: 0 } });
    expect((await t.call('projects.delete', { id: p.id })).body.message).toMatch(/still has 1 guests/);
  });

  it('counts allocated addresses against the project\'s IP quota', async () => {
    const p = (await t.call('projects.create', { name: 'small', quota: { ips: 2 } })).body;
    const { net } = await network();
    for (let i = 0; i < 2; i++) expect((await t.call('networks.allocateIp', { networkId: net.body.id, projectId: p.id })).status).toBe(200);
    const over = await t.call('networks.allocateIp', { networkId: net.body.id, projectId: p.id });
    expect(over.status).toBe(409);
    expect(over.body.message).toBe('Over the ips quota of project small: limit 2, in use 2, reserved by running tasks 0, requested 1');
  });

  it('refuses duplicate project names', async () => {
    await t.call('projects.create', { name: 'ops' });
    const dup = await t.call('projects.create', { name: 'ops' });
    expect(dup.status).toBe(409);
  });
});

describe('guest actions', () => {
  it('refuses an action its status does not allow, naming the status, and changes nothing', async () => {
    insertGuest(t.core.db, 'g1', { status: 'running' });
    const r = await t.call('guests.action', { id: 'g1', action: 'start' });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe('cannot start guest g1 while it is running (allowed from: ready, start_failed)');
    expect((await t.call('guests.get', { id: 'g1' })).body.status).toBe('running');
    expect((await t.call('tasks.list')).body.total).toBe(0);
  });

  it('refuses actions on read-only (imported) guests and on providers without a driver', async () => {
    insertGuest(t.core.db, 'ro', { readOnly: true });
    expect((await t.call('guests.action', { id: 'ro', action: 'start' })).body.code).toBe('forbidden');
    insertGuest(t.core.db, 'nodrv', { provider: 'esxi' });
    const r = await t.call('guests.action', { id: 'nodrv', action: 'start' });
    expect(r.body).toMatchObject({ code: 'not_supported' });
  });

  it('moves guests between projects with their disks and addresses, and tags them in bulk', async () => {
    const a = (await t.call('projects.create', { name: 'a' })).body;
    const b = (await t.call('projects.create', { name: 'b' })).body;
    insertGuest(t.core.db, 'g1', { project: a.id });
    insertGuest(t.core.db, 'g2', { project: a.id });
    const { taskId } = (await t.call('guests.bulk', { ids: ['g1', 'g2'], action: 'move', projectId: b.id })).body;
    const done = await t.core.engine.waitFor(taskId);
    expect(done).toMatchObject({ status: 'succeeded', result: { total: 2, succeeded: 2 } });
    expect((await t.call('tasks.list', { filter: [`parent_id:${taskId}`] })).body.total).toBe(2);
    expect((await t.call('guests.get', { id: 'g1' })).body.projectId).toBe(b.id);
    const bad = await t.call('guests.bulk', { ids: ['g1'], action: 'tag' });
    expect(bad.body.details.issues[0]).toMatchObject({ path: 'tags' });
  });
});

describe('moving guests between projects', () => {
  it('refuses a move that would break the target project\'s quota, with the numbers', async () => {
    const a = (await t.call('projects.create', { name: 'from' })).body;
    const b = (await t.call('projects.create', { name: 'to', quota: { vcpu: 4 } })).body;
    insertGuest(t.core.db, 'g1', { project: a.id, vcpu: 2 });
    insertGuest(t.core.db, 'g2', { project: a.id, vcpu: 4 });
    const r = await t.call('guests.move', { ids: ['g1', 'g2'], projectId: b.id });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe('Over the vcpu quota of project to: limit 4, in use 0, reserved by running tasks 0, requested 6');
    expect((await t.call('guests.get', { id: 'g1' })).body.projectId).toBe(a.id);
    expect((await t.call('guests.move', { ids: ['g1'], projectId: b.id })).body).toEqual({ moved: 1 });
  });
});

describe('export', () => {
  it('exports a filtered list to RFC 4180 CSV as a task, and serves the file with the token', async () => {
    for (let i = 0; i < 2500; i++) insertGuest(t.core.db, `g${i}`, { name: `vm-${i}`, status: i % 2 ? 'running' : 'ready', os: i === 4 ? 'Debian "bookworm", 12' : 'Debian 12' });
    const { taskId } = (await t.call('inventory.export', { kind: 'guests', query: { filter: ['status:ready'], sort: 'name' }, bom: true })).body;
    const done = await t.core.engine.waitFor(taskId);
    expect(done).toMatchObject({ status: 'succeeded', result: { rows: 1250 } });
    const url = `${t.base}${(done.result as { download: string }).download}`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${t.server.token}` } });
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="guests-.*\.csv"/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(1251);
    expect(lines[0]!.startsWith('id,name,provider,externalId,status')).toBe(true);
    expect(text).toContain('"Debian ""bookworm"", 12"');
    const bad = await t.call('inventory.export', { kind: 'guests', query: { sort: 'nope' } });
    expect(bad.status).toBe(400);
    expect((await fetch(`${t.base}/api/v1/exports/..%2f..%2fskydeck.db`, { headers: { Authorization: `Bearer ${t.server.token}` } })).status).toBe(404);
  });
});

describe('tag keys', () => {
  it('answers the keys in use for an API kind', async () => {
    insertGuest(t.core.db, 'g1');
    await t.call('tags.set', { resources: [{ kind: 'guests', id: 'g1' }], tags: { env: 'prod' } });
    expect((await t.call('tags.keys', { kind: 'guests' })).body.keys).toEqual([{ key: 'env', count: 1 }]);
  });
});
