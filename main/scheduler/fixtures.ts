import type Database from 'better-sqlite3';

/**
 * Rows for the scheduler's tests: hosts of any shape, storages, zones, wires, networks and what reaches each host,
 * tags, projects, images and instance groups, written the way syncs and the inventory write them.
 */
const t = '2026-11-01T00:00:00.000Z';

export interface HostOpts {
  name: string;
  zone: string | null;
  status: string;
  enabled: boolean;
  maintenance: boolean;
  hypervisor: string;
  provider: string;
  cores: number;
  memoryMb: number;
  storageGb: number;
  cpuOc: number;
  memOc: number;
  storageOc: number;
  cpuAllocated: number;
  memoryAllocatedMb: number;
  storageAllocatedGb: number;
  tags: Record<string, string>;
}

export function addHost(db: Database.Database, id: string, o: Partial<HostOpts> = {}): string {
  db.prepare(
    `INSERT INTO hosts (id, name, provider, status, created_at, updated_at, zone_id, hypervisor, enabled, maintenance, cpu_cores, memory_mb, storage_gb,
       cpu_overcommit, memory_overcommit, storage_overcommit, cpu_allocated, memory_allocated_mb, storage_allocated_gb)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    o.name ?? id,
    o.provider ?? 'kvm',
    o.status ?? 'online',
    t,
    t,
    o.zone ?? null,
    o.hypervisor ?? 'kvm',
    o.enabled === false ? 0 : 1,
    o.maintenance ? 1 : 0,
    o.cores ?? 32,
    o.memoryMb ?? 131072,
    o.storageGb ?? 2000,
    o.cpuOc ?? 4,
    o.memOc ?? 1,
    o.storageOc ?? 1,
    o.cpuAllocated ?? 0,
    o.memoryAllocatedMb ?? 0,
    o.storageAllocatedGb ?? 0,
  );
  tag(db, 'host', id, o.tags ?? {});
  return id;
}

export function tag(db: Database.Database, kind: string, id: string, tags: Record<string, string>, source: 'user' | 'provider' = 'user'): void {
  const ins = db.prepare('INSERT INTO tags (kind, resource_id, key, value, source) VALUES (?, ?, ?, ?, ?)');
  for (const [k, v] of Object.entries(tags)) ins.run(kind, id, k, v, source);
}

export function addZone(db: Database.Database, id: string, name = id): string {
  db.prepare('INSERT INTO zones (id, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(id, name, 'available', t, t);
  return id;
}

export function addStorage(db: Database.Database, id: string, o: { host?: string | null; zone?: string | null; type?: string; capacityGb?: number; usedGb?: number; status?: string; name?: string; tags?: Record<string, string> } = {}): string {
  db.prepare('INSERT INTO storages (id, name, status, created_at, updated_at, zone_id, host_id, type, capacity_gb, used_gb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    o.name ?? id,
    o.status ?? 'online',
    t,
    t,
    o.zone ?? null,
    o.host ?? null,
    o.type ?? 'local',
    o.capacityGb ?? 1000,
    o.usedGb ?? 0,
  );
  tag(db, 'storage', id, o.tags ?? {});
  return id;
}

export function addWire(db: Database.Database, id: string, zone: string | null, hosts: string[] = []): string {
  db.prepare('INSERT INTO wires (id, name, status, created_at, updated_at, zone_id) VALUES (?, ?, ?, ?, ?, ?)').run(id, id, 'available', t, t, zone);
  const hw = db.prepare('INSERT INTO host_wires (host_id, wire_id, bridge, updated_at) VALUES (?, ?, ?, ?)');
  for (const h of hosts) hw.run(h, id, 'br0', t);
  return id;
}

const ip = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** A network on the wire with addresses first..last of 10.<n>.0.0/24 (usable: 1..size). */
export function addNetwork(db: Database.Database, id: string, wire: string, o: { n?: number; size?: number; project?: string | null; tags?: Record<string, string> } = {}): string {
  const n = o.n ?? 1;
  const size = o.size ?? 250;
  const first = `10.${n}.0.1`;
  const last = `10.${n}.0.${size}`;
  db.prepare(
    `INSERT INTO networks (id, name, status, created_at, updated_at, wire_id, project_id, cidr, net_first, net_last, ip_start, ip_end, ip_start_int, ip_end_int)
     VALUES (?, ?, 'available', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, id, t, t, wire, o.project ?? null, `10.${n}.0.0/24`, ip(`10.${n}.0.0`), ip(`10.${n}.0.255`), first, last, ip(first), ip(last));
  tag(db, 'network', id, o.tags ?? {});
  return id;
}

/** Allocates `count` addresses of the network (from its first). */
export function allocate(db: Database.Database, network: string, count: number, owner?: { kind: string; id: string }): void {
  const r = db.prepare('SELECT ip_start_int FROM networks WHERE id = ?').get(network) as { ip_start_int: number };
  const used = (db.prepare('SELECT count(*) AS n FROM ip_allocations WHERE network_id = ?').get(network) as { n: number }).n;
  const ins = db.prepare(`INSERT INTO ip_allocations (network_id, ip_int, ip, kind, owner_kind, owner_id, created_at) VALUES (?, ?, ?, 'allocated', ?, ?, ?)`);
  for (let i = 0; i < count; i++) {
    const v = r.ip_start_int + used + i;
    ins.run(network, v, [v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255].join('.'), owner?.kind ?? null, owner?.id ?? null, t);
  }
}

export function addProject(db: Database.Database, id: string, quota: Partial<Record<'guests' | 'vcpu' | 'memory_mb' | 'storage_gb' | 'ips', number>> = {}): string {
  db.prepare(
    `INSERT INTO projects (id, name, status, created_at, updated_at, quota_guests, quota_vcpu, quota_memory_mb, quota_storage_gb, quota_ips) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, id, t, t, quota.guests ?? null, quota.vcpu ?? null, quota.memory_mb ?? null, quota.storage_gb ?? null, quota.ips ?? null);
  return id;
}

export function addImage(db: Database.Database, id: string, o: { hosts?: string[]; minDiskGb?: number; status?: string } = {}): string {
  db.prepare(`INSERT INTO images (id, name, status, created_at, updated_at, os, format, size_gb, min_disk_gb) VALUES (?, ?, ?, ?, ?, 'Debian 12', 'qcow2', 2, ?)`).run(id, id, o.status ?? 'active', t, t, o.minDiskGb ?? 0);
  const ins = db.prepare('INSERT INTO image_hosts (image_id, host_id, path, updated_at) VALUES (?, ?, ?, ?)');
  for (const h of o.hosts ?? []) ins.run(id, h, `/var/lib/libvirt/images/${id}.qcow2`, t);
  return id;
}

export function addGroup(db: Database.Database, id: string, o: { policy?: 'anti-affinity' | 'affinity'; limit?: number; force?: boolean; project?: string | null } = {}): string {
  db.prepare('INSERT INTO instance_groups (id, name, project_id, policy, per_host_limit, force, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    id,
    o.project ?? null,
    o.policy ?? 'anti-affinity',
    o.limit ?? 1,
    o.force === false ? 0 : 1,
    t,
    t,
  );
  return id;
}

export function addGuest(db: Database.Database, id: string, o: { host?: string | null; project?: string | null; vcpu?: number; memoryMb?: number; diskGb?: number; status?: string; group?: string } = {}): string {
  db.prepare(
    `INSERT INTO guests (id, name, provider, status, created_at, updated_at, host_id, project_id, vcpu, memory_mb, disk_gb) VALUES (?, ?, 'kvm', ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, id, o.status ?? 'running', t, t, o.host ?? null, o.project ?? null, o.vcpu ?? 2, o.memoryMb ?? 4096, o.diskGb ?? 20);
  if (o.group) db.prepare('INSERT INTO instance_group_guests (group_id, guest_id, created_at) VALUES (?, ?, ?)').run(o.group, id, t);
  return id;
}
