import { describe, expect, it } from 'vitest';
import type { SchedRequestInput } from '@shared/contract/scheduler';
import type { SHost, SNetwork, SStorage, Snapshot, TagMap } from './types';
import { makeCtx, run, tagConflicts } from './core';
import { parseRequest } from './schedule';
import { cpuFilter, groupFilter, hostFilter, hypervisorFilter, imageFilter, memoryFilter, networkFilter, statusFilter, storageFilter, tagsFilter, zoneFilter } from './filters';
import { cpuWeight, creatingWeight, groupWeight, knownWeight, memoryWeight, preferredWeight, storageWeight, tagsWeight } from './weights';

/** Each filter and weight on its own, on hand-made snapshots (no database). */

const tags = (o: Record<string, string>): TagMap => new Map(Object.entries(o).map(([k, v]) => [k, [v]]));

function host(id: string, o: Partial<SHost> = {}): SHost {
  return {
    i: 0,
    id,
    name: id,
    zoneId: 'z1',
    status: 'online',
    statusReason: null,
    enabled: true,
    maintenance: false,
    readOnly: false,
    linked: false,
    hypervisor: 'kvm',
    provider: 'kvm',
    cpuCores: 16,
    memoryMb: 65536,
    storageGb: 1000,
    cpuOc: 4,
    memOc: 1,
    storageOc: 1,
    cpuAlloc: 0,
    memAlloc: 0,
    storageAlloc: 0,
    cpuPend: 0,
    memPend: 0,
    storagePend: 0,
    creating: 0,
    tags: null,
    wires: null,
    storages: [],
    groupMembers: 0,
    placed: 0,
    planStorages: [],
    planNetworks: [],
    ...o,
  };
}

function storage(id: string, o: Partial<SStorage> = {}): SStorage {
  return { id, name: id, type: 'local', hostId: 'h1', zoneId: 'z1', status: 'online', online: true, capacityGb: 500, usedGb: 0, pendingGb: 0, overcommit: 1, tags: null, ...o };
}

function network(id: string, o: Partial<SNetwork> = {}): SNetwork {
  return { id, name: id, wireId: 'w1', projectId: null, total: 100, used: 0, pending: 0, tags: null, ...o };
}

function snap(hosts: SHost[], o: Partial<Snapshot> = {}): Snapshot {
  hosts.forEach((h, i) => (h.i = i));
  const networks = o.networks ?? new Map<string, SNetwork>();
  const byWire = new Map<string, SNetwork[]>();
  for (const n of networks.values()) if (n.wireId) byWire.set(n.wireId, [...(byWire.get(n.wireId) ?? []), n]);
  return {
    hosts,
    networks,
    networksByWire: byWire,
    storages: new Map(),
    image: null,
    group: null,
    project: null,
    missing: { project: false, image: false, group: false, zone: false, host: false, networks: [], storages: [] },
    zoneNames: new Map([
      ['z1', 'zone-a'],
      ['z2', 'zone-b'],
    ]),
    wireNames: new Map([
      ['w1', 'wire-1'],
      ['w2', 'wire-2'],
    ]),
    ...o,
  };
}

const base: SchedRequestInput = { vcpu: 2, memoryMb: 4096 };
const ctxOf = (s: Snapshot, r: Partial<SchedRequestInput> = {}, strategy: 'spread' | 'binpack' = 'spread') => makeCtx(s, parseRequest({ ...base, ...r }), strategy);

describe('filters', () => {
  it('host and zone: only the requested ones', () => {
    const h = host('h1');
    const s = snap([h]);
    expect(hostFilter.check(h, ctxOf(s, { hostId: 'h1' }))).toBeNull();
    expect(hostFilter.check(h, ctxOf(s, { hostId: 'h2' }))).toMatchObject({ filter: 'host', message: 'not the requested host' });
    expect(zoneFilter.check(h, ctxOf(s, { zoneId: 'z1' }))).toBeNull();
    expect(zoneFilter.check(h, ctxOf(s, { zoneId: 'z2' }))?.message).toBe('in zone zone-a, the request asks for zone zone-b');
  });

  it('status: online, enabled, not in maintenance', () => {
    const s = snap([]);
    expect(statusFilter.check(host('h1'), ctxOf(s))).toBeNull();
    expect(statusFilter.check(host('h1', { status: 'offline', statusReason: 'no route to host' }), ctxOf(s))?.message).toBe('host is offline (no route to host)');
    expect(statusFilter.check(host('h1', { enabled: false, maintenance: true }), ctxOf(s))).toMatchObject({ message: 'host is disabled, host is in maintenance', numbers: { enabled: 0, maintenance: 1 } });
    expect(statusFilter.check(host('h1', { readOnly: true }), ctxOf(s))?.message).toBe('host is read-only (imported inventory)');
    expect(statusFilter.check(host('h1'), ctxOf(s, { linkedOnly: true }))?.message).toBe('host was not added over SSH (no agent link)');
    expect(statusFilter.check(host('h1', { linked: true }), ctxOf(s, { linkedOnly: true }))).toBeNull();
  });

  it('hypervisor and provider match', () => {
    const s = snap([]);
    expect(hypervisorFilter.check(host('h1', { hypervisor: 'esxi' }), ctxOf(s))?.message).toBe('runs esxi, the request needs kvm');
    expect(hypervisorFilter.check(host('h1', { provider: 'local' }), ctxOf(s, { provider: 'kvm' }))?.message).toBe('is a local host, the request needs a kvm host');
    expect(hypervisorFilter.check(host('h1'), ctxOf(s, { provider: 'kvm' }))).toBeNull();
  });

  it('cpu: logical CPUs and free vCPUs after the host overcommit, pending included', () => {
    const s = snap([]);
    expect(cpuFilter.check(host('h1', { cpuCores: 4 }), ctxOf(s, { vcpu: 8 }))).toMatchObject({ message: 'needs 8 vCPUs, the host has 4 logical CPUs', numbers: { needVcpu: 8, cores: 4 } });
    const busy = host('h1', { cpuCores: 16, cpuOc: 4, cpuAlloc: 60, cpuPend: 2 });
    expect(cpuFilter.check(busy, ctxOf(s, { vcpu: 4 }))).toMatchObject({
      filter: 'cpu',
      message: 'needs 4 vCPUs, 2 free after overcommit 4.0 (16 cores × 4.0 = 64; 60 allocated, 2 pending)',
      numbers: { needVcpu: 4, freeVcpu: 2, overcommit: 4, allocated: 60, pending: 2 },
    });
    expect(cpuFilter.check(busy, ctxOf(s, { vcpu: 2 }))).toBeNull();
    expect(cpuFilter.check(host('h1', { cpuCores: 0 }), ctxOf(s))?.message).toMatch(/capacity unknown/);
  });

  it('memory: free after the host overcommit, with the numbers', () => {
    const s = snap([]);
    const h = host('h1', { memoryMb: 65536, memOc: 1, memAlloc: 65536 - 3277 - 1024, memPend: 1024 });
    const r = memoryFilter.check(h, ctxOf(s, { memoryMb: 8192 }));
    expect(r?.message).toBe('needs 8 GiB, 3.2 GiB free after overcommit 1.0 (64 GiB; 59.8 GiB allocated, 1 GiB pending)');
    expect(r?.numbers).toMatchObject({ needMb: 8192, freeMb: 3277, totalMb: 65536, overcommit: 1 });
    expect(memoryFilter.check(host('h1', { memoryMb: 65536, memOc: 1.5, memAlloc: 90000 }), ctxOf(s, { memoryMb: 8192 }))).toBeNull();
  });

  it('storage: each disk on a storage of its type with room; several disks add up on one storage', () => {
    const h = host('h1', { storages: [storage('ssd', { type: 'lvm', capacityGb: 100, usedGb: 20 }), storage('hdd', { type: 'local', capacityGb: 1000 })] });
    const s = snap([h]);
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 50, storageType: 'lvm' }] }))).toBeNull();
    expect(h.planStorages.map((x) => x?.id)).toEqual(['ssd']);
    const two = storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 50, storageType: 'lvm' }, { sizeGb: 50, storageType: 'lvm' }] }));
    expect(two).toMatchObject({ filter: 'storage', message: 'disk 1 (50 GiB, lvm): ssd has 30 GiB free', numbers: { disksFailed: 1, needGb: 50, bestFreeGb: 30 } });
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10, storageType: 'rbd' }] }))?.message).toBe('disk 0 (10 GiB, rbd): no rbd storage on this host or shared in its zone');
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10, storage: 'hdd' }] }))).toBeNull();
    expect(h.planStorages[0]?.id).toBe('hdd');
    // Spread takes the storage with the most room, binpack the fullest one that fits.
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10 }] }))).toBeNull();
    expect(h.planStorages[0]?.id).toBe('hdd');
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10 }] }, 'binpack'))).toBeNull();
    expect(h.planStorages[0]?.id).toBe('ssd');
  });

  it('storage: an offline storage is skipped; no storages recorded means the host total, noted', () => {
    const h = host('h1', { storages: [storage('s1', { status: 'offline', online: false })] });
    expect(storageFilter.check(h, ctxOf(snap([h]), { disks: [{ sizeGb: 10 }] }))?.message).toBe('disk 0 (10 GiB): s1 is offline');
    const bare = host('h2', { storageGb: 100, storageAlloc: 80 });
    const ctx = ctxOf(snap([bare]), { disks: [{ sizeGb: 30, storageType: 'lvm' }] });
    ctx.notes = [];
    expect(storageFilter.check(bare, ctx)?.message).toBe('needs 30 GiB, 20 GiB free after overcommit 1.0 (host total 100 GiB; 80 GiB allocated, 0 GiB pending; no storages recorded)');
    expect(ctx.notes[0]).toBe('storage: no storages recorded for this host: lvm not checked');
  });

  it('network: the host wires carry the network and it has a free address; unknown wires are noted, not rejected', () => {
    const full = network('n-full', { total: 10, used: 9, pending: 1 });
    const n1 = network('n1');
    const other = network('n2', { wireId: 'w2' });
    const s = snap([], { networks: new Map([n1, other, full].map((n) => [n.id, n])) });
    const h = host('h1', { wires: ['w1'] });
    expect(networkFilter.check(h, ctxOf(s, { networks: [{ networkId: 'n1' }] }))).toBeNull();
    expect(h.planNetworks[0]?.id).toBe('n1');
    expect(networkFilter.check(h, ctxOf(s, { networks: [{ networkId: 'n2' }] }))?.message).toBe("nic 0: network n2 is on wire wire-2, not on this host's wires (wire-1)");
    expect(networkFilter.check(h, ctxOf(s, { networks: [{ networkId: 'n-full' }] }))?.message).toBe('nic 0: network n-full has no free address (10 in range, 9 allocated, 1 pending)');
    // Without a network named: the one with the most free addresses on the host's wires.
    expect(networkFilter.check(h, ctxOf(s, { networks: [{}] }))).toBeNull();
    expect(h.planNetworks[0]?.id).toBe('n1');
    const unknown = host('h2', { wires: null });
    const ctx = ctxOf(s, { networks: [{ networkId: 'n2' }] });
    ctx.notes = [];
    expect(networkFilter.check(unknown, ctx)).toBeNull();
    expect(ctx.notes).toEqual(['network: no wires recorded for this host: whether it reaches n2 is unknown']);
  });

  it('network: two NICs on one network need two addresses', () => {
    const n = network('n1', { total: 10, used: 9 });
    const s = snap([], { networks: new Map([[n.id, n]]) });
    const h = host('h1', { wires: ['w1'] });
    expect(networkFilter.check(h, ctxOf(s, { networks: [{ networkId: 'n1' }] }))).toBeNull();
    expect(networkFilter.check(h, ctxOf(s, { networks: [{ networkId: 'n1' }, { networkId: 'n1' }] }))?.message).toMatch(/^nic 1: network n1 has no free address/);
  });

  it('image: only hosts that hold it, when that is recorded', () => {
    const s = snap([], { image: { id: 'img', name: 'debian-12', status: 'active', minDiskGb: 0, hostIds: new Set(['h1', 'h3']) } });
    expect(imageFilter.check(host('h1'), ctxOf(s))).toBeNull();
    expect(imageFilter.check(host('h2'), ctxOf(s))?.message).toBe('image debian-12 is not on this host (it is on 2 hosts)');
    expect(imageFilter.check(host('h2'), ctxOf(snap([], { image: { id: 'img', name: 'x', status: 'active', minDiskGb: 0, hostIds: null } })))).toBeNull();
  });

  it('tags: require and exclude on hosts', () => {
    const s = snap([]);
    const gpu = host('h1', { tags: tags({ gpu: 'a100', env: 'prod' }) });
    const plain = host('h2', { tags: tags({ env: 'dev' }) });
    const require = { tags: [{ key: 'gpu', value: 'a100', strategy: 'require' as const }] };
    expect(tagsFilter.check(gpu, ctxOf(s, require))).toBeNull();
    expect(tagsFilter.check(plain, ctxOf(s, require))?.message).toBe('requires tag gpu=a100, has no tag gpu');
    const exclude = { tags: [{ key: 'env', value: 'prod', strategy: 'exclude' as const }] };
    expect(tagsFilter.check(gpu, ctxOf(s, exclude))?.message).toBe('excludes tag env=prod, has env=prod');
    expect(tagsFilter.check(plain, ctxOf(s, exclude))).toBeNull();
    // prefer/avoid never reject.
    expect(tagsFilter.check(plain, ctxOf(s, { tags: [{ key: 'gpu', strategy: 'prefer' }] }))).toBeNull();
  });

  it('tags: rules on storages and networks narrow what is chosen on the host', () => {
    const fast = storage('fast', { tags: tags({ tier: 'ssd' }), capacityGb: 100 });
    const slow = storage('slow', { tags: tags({ tier: 'hdd' }), capacityGb: 1000 });
    const h = host('h1', { storages: [fast, slow] });
    const s = snap([h]);
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10 }], tags: [{ on: 'storage', key: 'tier', value: 'ssd', strategy: 'require' }] }))).toBeNull();
    expect(h.planStorages[0]?.id).toBe('fast');
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10 }], tags: [{ on: 'storage', key: 'tier', value: 'ssd', strategy: 'prefer' }] }))).toBeNull();
    expect(h.planStorages[0]?.id).toBe('fast');
    expect(storageFilter.check(h, ctxOf(s, { disks: [{ sizeGb: 10 }], tags: [{ on: 'storage', key: 'tier', strategy: 'exclude' }] }))?.message).toBe('disk 0 (10 GiB): fast excludes tag tier, has tier=ssd; slow excludes tag tier, has tier=hdd');
    const pub = network('pub', { tags: tags({ zone: 'dmz' }), total: 10 });
    const priv = network('priv', { total: 200 });
    const ns = snap([], { networks: new Map([pub, priv].map((n) => [n.id, n])) });
    const hw = host('h1', { wires: ['w1'] });
    expect(networkFilter.check(hw, ctxOf(ns, { networks: [{}], tags: [{ on: 'network', key: 'zone', value: 'dmz', strategy: 'prefer' }] }))).toBeNull();
    expect(hw.planNetworks[0]?.id).toBe('pub');
    expect(networkFilter.check(hw, ctxOf(ns, { networks: [{}], tags: [{ on: 'network', key: 'zone', strategy: 'avoid' }] }))).toBeNull();
    expect(hw.planNetworks[0]?.id).toBe('priv');
    expect(networkFilter.check(hw, ctxOf(ns, { networks: [{ networkId: 'priv' }], tags: [{ on: 'network', key: 'zone', value: 'dmz', strategy: 'require' }] }))?.message).toBe('nic 0: network priv requires tag zone=dmz, has no tag zone');
  });

  it('group: anti-affinity with a per-host limit; affinity keeps members together', () => {
    const anti = snap([], { group: { id: 'g', name: 'web', projectId: null, policy: 'anti-affinity', perHostLimit: 2, force: true } });
    expect(groupFilter.check(host('h1', { groupMembers: 1 }), ctxOf(anti))).toBeNull();
    expect(groupFilter.check(host('h1', { groupMembers: 2 }), ctxOf(anti))).toMatchObject({ message: 'instance group web allows 2 members per host, 2 already here', numbers: { limit: 2, members: 2 } });
    const soft = snap([], { group: { id: 'g', name: 'web', projectId: null, policy: 'anti-affinity', perHostLimit: 1, force: false } });
    expect(groupFilter.check(host('h1', { groupMembers: 5 }), ctxOf(soft))).toBeNull();
    const hosts = [host('h1', { groupMembers: 1 }), host('h2')];
    const aff = snap(hosts, { group: { id: 'g', name: 'db', projectId: null, policy: 'affinity', perHostLimit: 1, force: true } });
    const ctx = ctxOf(aff);
    expect(groupFilter.check(hosts[0]!, ctx)).toBeNull();
    expect(groupFilter.check(hosts[1]!, ctx)?.message).toBe('instance group db keeps its members together, on 1 other host');
  });
});

describe('weights', () => {
  it('cpu and memory: spread prefers the most free after the guest, binpack the least', () => {
    const empty = host('h1');
    const half = host('h2', { memAlloc: 32768, cpuAlloc: 32 });
    const s = snap([empty, half]);
    const spread = ctxOf(s, { memoryMb: 8192, vcpu: 4 });
    expect(memoryWeight.score(empty, spread)).toBeCloseTo(1 - 8192 / 65536);
    expect(memoryWeight.score(half, spread)).toBeCloseTo(0.5 - 8192 / 65536);
    expect(cpuWeight.score(empty, spread)).toBeGreaterThan(cpuWeight.score(half, spread));
    const binpack = ctxOf(s, { memoryMb: 8192, vcpu: 4 }, 'binpack');
    expect(memoryWeight.score(half, binpack)).toBeGreaterThan(memoryWeight.score(empty, binpack));
    expect(cpuWeight.score(half, binpack)).toBeGreaterThan(cpuWeight.score(empty, binpack));
  });

  it('storage: the free share of the chosen storage, or of the host total', () => {
    const st = storage('s', { capacityGb: 100, usedGb: 50 });
    const h = host('h1', { storages: [st] });
    const ctx = ctxOf(snap([h]), { disks: [{ sizeGb: 10 }] });
    storageFilter.check(h, ctx);
    expect(storageWeight.score(h, ctx)).toBeCloseTo(0.4);
    const bare = host('h2', { storageGb: 1000, storageAlloc: 500 });
    const c2 = ctxOf(snap([bare]), { disks: [{ sizeGb: 100 }] });
    storageFilter.check(bare, c2);
    expect(storageWeight.score(bare, c2)).toBeCloseTo(0.4);
    expect(storageWeight.score(bare, ctxOf(snap([bare])))).toBe(1);
  });

  it('creating: fewer guests being created on the host', () => {
    const s = snap([]);
    expect(creatingWeight.score(host('h1'), ctxOf(s))).toBe(1);
    expect(creatingWeight.score(host('h1', { creating: 3 }), ctxOf(s))).toBe(0.25);
  });

  it('group: avoid the same host for anti-affinity, join it for affinity', () => {
    const anti = snap([], { group: { id: 'g', name: 'web', projectId: null, policy: 'anti-affinity', perHostLimit: 3, force: false } });
    expect(groupWeight.score(host('h1'), ctxOf(anti))).toBe(1);
    expect(groupWeight.score(host('h1', { groupMembers: 2 }), ctxOf(anti))).toBe(0.5);
    const hosts = [host('h1', { groupMembers: 1 }), host('h2')];
    const aff = snap(hosts, { group: { id: 'g', name: 'db', projectId: null, policy: 'affinity', perHostLimit: 1, force: false } });
    expect(groupWeight.score(hosts[0]!, ctxOf(aff))).toBe(1);
    expect(groupWeight.score(hosts[1]!, ctxOf(aff))).toBe(0);
    expect(groupWeight.score(host('h3'), ctxOf(snap([host('x')], { group: aff.group })))).toBe(0.5);
  });

  it('tags: prefer and avoid rules met by the host', () => {
    const s = snap([]);
    const rules = { tags: [{ key: 'ssd', strategy: 'prefer' as const }, { key: 'old', strategy: 'avoid' as const }] };
    expect(tagsWeight.score(host('h1', { tags: tags({ ssd: 'yes' }) }), ctxOf(s, rules))).toBe(1);
    expect(tagsWeight.score(host('h1', { tags: tags({ ssd: 'yes', old: 'yes' }) }), ctxOf(s, rules))).toBe(0.5);
    expect(tagsWeight.score(host('h1', { tags: tags({ old: 'yes' }) }), ctxOf(s, rules))).toBe(0);
    expect(tagsWeight.score(host('h1'), ctxOf(s))).toBe(1);
  });

  it('preferred: the preferred host and zone', () => {
    const s = snap([]);
    expect(preferredWeight.score(host('h1'), ctxOf(s, { preferHostId: 'h1' }))).toBe(1);
    expect(preferredWeight.score(host('h2'), ctxOf(s, { preferHostId: 'h1' }))).toBe(0);
    expect(preferredWeight.score(host('h2', { zoneId: 'z2' }), ctxOf(s, { preferHostId: 'h1', preferZoneId: 'z2' }))).toBe(0.5);
  });

  it('known: hosts whose wires or storages are not recorded score lower', () => {
    const s = snap([]);
    const r = { networks: [{}], disks: [{ sizeGb: 10 }] };
    expect(knownWeight.score(host('h1', { wires: ['w1'], storages: [storage('s')] }), ctxOf(s, r))).toBe(1);
    expect(knownWeight.score(host('h1', { wires: null, storages: [storage('s')] }), ctxOf(s, r))).toBe(0.5);
    expect(knownWeight.score(host('h1'), ctxOf(s))).toBe(1);
  });

  it('weights are configurable: zero turns one off, a large one dominates', () => {
    const a = host('a', { memAlloc: 60000 }); // little memory free, CPU idle
    const b = host('b', { cpuAlloc: 60 }); // memory free, CPU busy
    const byMem = run(snap([a, b]), parseRequest({ ...base, weights: { cpu: 0, memory: 10 } }), { strategy: 'spread' });
    expect(byMem.placements[0]?.hostId).toBe('b');
    const a2 = host('a', { memAlloc: 60000 });
    const b2 = host('b', { cpuAlloc: 60 });
    const byCpu = run(snap([a2, b2]), parseRequest({ ...base, weights: { cpu: 10, memory: 0 } }), { strategy: 'spread' });
    expect(byCpu.placements[0]?.hostId).toBe('a');
  });
});

describe('request checks', () => {
  it('finds conflicting tag rules', () => {
    const rules = (t: SchedRequestInput['tags']) => tagConflicts(parseRequest({ ...base, tags: t }).tags).map((b) => b.message);
    expect(rules([{ key: 'env', value: 'prod', strategy: 'require' }, { key: 'env', value: 'prod', strategy: 'exclude' }])).toEqual(['tag rule exclude host env=prod conflicts with tags.0 (require host env=prod): no host can meet both']);
    expect(rules([{ key: 'env', value: 'prod', strategy: 'require' }, { key: 'env', strategy: 'exclude' }])).toHaveLength(1);
    expect(rules([{ key: 'env', value: 'a', strategy: 'require' }, { key: 'env', value: 'b', strategy: 'require' }])).toHaveLength(1);
    expect(rules([{ key: 'ssd', strategy: 'prefer' }, { key: 'ssd', strategy: 'avoid' }])).toHaveLength(1);
    // Not conflicts: other values, other kinds of resource.
    expect(rules([{ key: 'env', value: 'prod', strategy: 'require' }, { key: 'env', value: 'dev', strategy: 'exclude' }])).toEqual([]);
    expect(rules([{ key: 'env', strategy: 'require' }, { on: 'storage', key: 'env', strategy: 'exclude' }])).toEqual([]);
  });

  it('places a batch in one pass, each host taking what fits', () => {
    const hosts = [host('a', { memoryMb: 16384 }), host('b', { memoryMb: 16384 }), host('c', { memoryMb: 8192 })];
    const r = run(snap(hosts), parseRequest({ ...base, memoryMb: 4096, count: 10 }), { strategy: 'spread' });
    expect(r.placements).toHaveLength(10);
    const per = Object.fromEntries(hosts.map((h) => [h.id, r.placements.filter((p) => p.hostId === h.id).length]));
    expect(per).toEqual({ a: 4, b: 4, c: 2 });
    expect(r.forecast.fits).toBe(10);
    const over = run(snap([host('a', { memoryMb: 16384 })]), parseRequest({ ...base, memoryMb: 4096, count: 5 }), { strategy: 'spread' });
    expect(over.placements).toHaveLength(4);
  });
});
