import type Database from 'better-sqlite3';
import type { SchedRequest } from '@shared/contract/scheduler';
import { QUOTA_KEYS, type QuotaKey, type Usage } from '@shared/contract/inventory/kinds';
import { usageOf } from '../inventory/quota';
import type { SGroup, SHost, SImage, SNetwork, SProject, SStorage, Snapshot, TagMap } from './types';

/**
 * Loads what a request needs in a handful of bulk queries (hosts; pending usage per host, storage and network; only
 * the tag keys the rules name; storages only when disks are asked for; networks and wires only when NICs are), never a
 * query per host. Call inside a transaction so that every query sees the same state.
 */

/** Reservations still in force: unexpired, and bound to no task or to a task that has not ended. */
const LIVE = `SELECT id FROM sched_reservations s WHERE (s.expires_at IS NULL OR s.expires_at > @now)
  AND (s.task_id IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.task_id AND t.status IN ('queued', 'running', 'cancelling')))`;
/** A host row stops counting once its guest row sits on that host (hosts.*_allocated then counts it). */
const HOST_UNABSORBED = `NOT EXISTS (SELECT 1 FROM guests g WHERE g.id = r.guest_id AND g.host_id = r.host_id)`;
/** An address row stops counting once the guest holds an address in that network. */
const IP_UNABSORBED = `NOT EXISTS (SELECT 1 FROM ip_allocations a WHERE a.owner_kind = 'guest' AND a.owner_id = r.guest_id AND a.network_id = r.network_id)`;

export const PENDING_SQL = {
  hosts: `WITH live AS (${LIVE})
    SELECT r.host_id AS hostId, count(*) AS guests, sum(r.vcpu) AS vcpu, sum(r.memory_mb) AS memoryMb, sum(r.storage_gb) AS storageGb
    FROM sched_host_reservations r JOIN live ON live.id = r.reservation_id WHERE ${HOST_UNABSORBED} GROUP BY r.host_id`,
  storages: `WITH live AS (${LIVE})
    SELECT r.storage_id AS storageId, sum(r.size_gb) AS gb FROM sched_storage_reservations r JOIN live ON live.id = r.reservation_id GROUP BY r.storage_id`,
  networks: `WITH live AS (${LIVE})
    SELECT r.network_id AS networkId, count(*) AS ips FROM sched_ip_reservations r JOIN live ON live.id = r.reservation_id WHERE ${IP_UNABSORBED} GROUP BY r.network_id`,
  projectHosts: `WITH live AS (${LIVE})
    SELECT count(*) AS guests, coalesce(sum(r.vcpu), 0) AS vcpu, coalesce(sum(r.memory_mb), 0) AS memoryMb, coalesce(sum(r.storage_gb), 0) AS storageGb
    FROM sched_host_reservations r JOIN live ON live.id = r.reservation_id WHERE r.project_id = @project AND ${HOST_UNABSORBED}`,
  projectIps: `WITH live AS (${LIVE})
    SELECT count(*) AS ips FROM sched_ip_reservations r JOIN live ON live.id = r.reservation_id WHERE r.project_id = @project AND ${IP_UNABSORBED}`,
  groupHosts: `WITH live AS (${LIVE})
    SELECT hostId, sum(n) AS n FROM (
      SELECT g.host_id AS hostId, count(*) AS n FROM instance_group_guests m JOIN guests g ON g.id = m.guest_id WHERE m.group_id = @group AND g.host_id IS NOT NULL GROUP BY g.host_id
      UNION ALL
      SELECT r.host_id AS hostId, count(*) AS n FROM sched_host_reservations r JOIN live ON live.id = r.reservation_id WHERE r.group_id = @group AND ${HOST_UNABSORBED} GROUP BY r.host_id
    ) GROUP BY hostId`,
};

interface HostRow {
  id: string;
  name: string;
  zone_id: string | null;
  status: string;
  status_reason: string | null;
  enabled: number;
  maintenance: number;
  read_only: number;
  linked: number;
  hypervisor: string;
  provider: string;
  cpu_cores: number;
  memory_mb: number;
  storage_gb: number;
  cpu_overcommit: number;
  memory_overcommit: number;
  storage_overcommit: number;
  cpu_allocated: number;
  memory_allocated_mb: number;
  storage_allocated_gb: number;
}

const stmtCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
function stmt(db: Database.Database, sql: string): Database.Statement {
  let m = stmtCache.get(db);
  if (!m) stmtCache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}

/** resource id → tag map, for the given keys of one kind. */
function loadTags(db: Database.Database, kind: string, keys: string[]): Map<string, TagMap> {
  const out = new Map<string, TagMap>();
  if (!keys.length) return out;
  const rows = db.prepare(`SELECT resource_id AS id, key, value FROM tags WHERE kind = ? AND key IN (${keys.map(() => '?').join(', ')})`).raw().all(kind, ...keys) as [string, string, string][];
  for (const [id, key, value] of rows) {
    let m = out.get(id);
    if (!m) out.set(id, (m = new Map()));
    const vs = m.get(key);
    if (vs) {
      if (!vs.includes(value)) vs.push(value);
    } else m.set(key, [value]);
  }
  return out;
}

const ruleKeys = (req: SchedRequest, on: 'host' | 'storage' | 'network') => [...new Set(req.tags.filter((t) => t.on === on).map((t) => t.key))];

export function loadSnapshot(db: Database.Database, req: SchedRequest, now: string): Snapshot {
  const p = { now };
  const hostRows = stmt(
    db,
    `SELECT id, name, zone_id, status, status_reason, enabled, maintenance, read_only, EXISTS (SELECT 1 FROM host_links l WHERE l.host_id = hosts.id) AS linked,
       hypervisor, provider, cpu_cores, memory_mb, storage_gb, cpu_overcommit, memory_overcommit, storage_overcommit, cpu_allocated, memory_allocated_mb, storage_allocated_gb
     FROM hosts ORDER BY name, id`,
  ).all() as HostRow[];
  const pending = new Map<string, { guests: number; vcpu: number; memoryMb: number; storageGb: number }>();
  for (const r of stmt(db, PENDING_SQL.hosts).all(p) as { hostId: string; guests: number; vcpu: number; memoryMb: number; storageGb: number }[]) pending.set(r.hostId, r);
  const creating = new Map<string, number>();
  for (const r of stmt(db, `SELECT host_id AS hostId, count(*) AS n FROM guests WHERE status = 'creating' AND host_id IS NOT NULL GROUP BY host_id`).all() as { hostId: string; n: number }[]) creating.set(r.hostId, r.n);
  const hostTags = loadTags(db, 'host', ruleKeys(req, 'host'));

  const hosts: SHost[] = hostRows.map((r, i) => {
    const pd = pending.get(r.id);
    return {
      i,
      id: r.id,
      name: r.name,
      zoneId: r.zone_id,
      status: r.status,
      statusReason: r.status_reason,
      enabled: !!r.enabled,
      maintenance: !!r.maintenance,
      readOnly: !!r.read_only,
      linked: !!r.linked,
      hypervisor: r.hypervisor,
      provider: r.provider,
      cpuCores: r.cpu_cores,
      memoryMb: r.memory_mb,
      storageGb: r.storage_gb,
      cpuOc: r.cpu_overcommit,
      memOc: r.memory_overcommit,
      storageOc: r.storage_overcommit,
      cpuAlloc: r.cpu_allocated,
      memAlloc: r.memory_allocated_mb,
      storageAlloc: r.storage_allocated_gb,
      cpuPend: pd?.vcpu ?? 0,
      memPend: pd?.memoryMb ?? 0,
      storagePend: pd?.storageGb ?? 0,
      creating: (creating.get(r.id) ?? 0) + (pd?.guests ?? 0),
      tags: hostTags.get(r.id) ?? null,
      wires: null,
      storages: [],
      groupMembers: 0,
      placed: 0,
      planStorages: [],
      planNetworks: [],
    };
  });
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const missing: Snapshot['missing'] = { project: false, image: false, group: false, zone: false, host: false, networks: [], storages: [] };
  if (req.hostId && !byId.has(req.hostId)) missing.host = true;
  const zoneNames = new Map((stmt(db, 'SELECT id, name FROM zones').raw().all() as [string, string][]).map(([id, name]) => [id, name]));
  if (req.zoneId && !zoneNames.has(req.zoneId)) missing.zone = true;

  // Storages: each host's own, and those shared in its zone.
  const storages = new Map<string, SStorage>();
  const needsDisks = req.disks.some((d) => d.sizeGb > 0 || !!d.storageType || !!d.storage);
  if (needsDisks) {
    const tags = loadTags(db, 'storage', ruleKeys(req, 'storage'));
    const pend = new Map((stmt(db, PENDING_SQL.storages).raw().all(p) as [string, number][]).map(([id, gb]) => [id, gb]));
    const shared = new Map<string, SStorage[]>();
    const rows = stmt(db, 'SELECT id, name, type, host_id, zone_id, status, capacity_gb, used_gb FROM storages ORDER BY name, id').raw().all() as [string, string, string, string | null, string | null, string, number, number][];
    for (const [id, name, type, hostId, zoneId, status, cap, used] of rows) {
      const owner = hostId ? byId.get(hostId) : undefined;
      if (hostId && !owner) continue;
      const s: SStorage = { id, name, type, hostId, zoneId, status, online: status === 'online', capacityGb: cap, usedGb: used, pendingGb: pend.get(id) ?? 0, overcommit: owner ? owner.storageOc : 1, tags: tags.get(id) ?? null };
      storages.set(id, s);
      if (owner) owner.storages.push(s);
      else if (zoneId) {
        let l = shared.get(zoneId);
        if (!l) shared.set(zoneId, (l = []));
        l.push(s);
      }
    }
    if (shared.size) for (const h of hosts) if (h.zoneId) for (const s of shared.get(h.zoneId) ?? []) h.storages.push(s);
    req.disks.forEach((d, j) => {
      if (d.storage && !storages.has(d.storage) && ![...storages.values()].some((s) => s.name === d.storage)) missing.storages.push(j);
    });
  }

  // Networks, wires and what reaches each host.
  const networks = new Map<string, SNetwork>();
  const networksByWire = new Map<string, SNetwork[]>();
  const wireNames = new Map<string, string>();
  if (req.networks.length) {
    const named = req.networks.map((n) => n.networkId).filter((x): x is string => !!x);
    const onlyNamed = named.length === req.networks.length;
    const where = onlyNamed ? `WHERE n.id IN (${named.map(() => '?').join(', ')})` : '';
    const rows = db
      .prepare(
        `SELECT n.id, n.name, n.wire_id, n.project_id, n.ip_end_int - n.ip_start_int + 1 AS total,
           (SELECT count(*) FROM ip_allocations a WHERE a.network_id = n.id AND a.ip_int BETWEEN n.ip_start_int AND n.ip_end_int) AS used
         FROM networks n ${where} ORDER BY n.name`,
      )
      .raw()
      .all(...(onlyNamed ? named : [])) as [string, string, string | null, string | null, number, number][];
    const tags = loadTags(db, 'network', ruleKeys(req, 'network'));
    const pend = new Map((stmt(db, PENDING_SQL.networks).raw().all(p) as [string, number][]).map(([id, n]) => [id, n]));
    for (const [id, name, wireId, projectId, total, used] of rows) {
      const n: SNetwork = { id, name, wireId, projectId, total, used, pending: pend.get(id) ?? 0, tags: tags.get(id) ?? null };
      networks.set(id, n);
      if (wireId) {
        let l = networksByWire.get(wireId);
        if (!l) networksByWire.set(wireId, (l = []));
        l.push(n);
      }
    }
    req.networks.forEach((n, j) => {
      if (n.networkId && !networks.has(n.networkId)) missing.networks.push(j);
    });
    for (const [id, name] of stmt(db, 'SELECT id, name FROM wires').raw().all() as [string, string][]) wireNames.set(id, name);
    for (const [hostId, wireId] of stmt(db, 'SELECT host_id, wire_id FROM host_wires').raw().all() as [string, string][]) {
      const h = byId.get(hostId);
      if (h) (h.wires ??= []).push(wireId);
    }
  }

  let image: SImage | null = null;
  if (req.imageId) {
    const r = stmt(db, 'SELECT id, name, status, min_disk_gb FROM images WHERE id = ?').get(req.imageId) as { id: string; name: string; status: string; min_disk_gb: number } | undefined;
    if (!r) missing.image = true;
    else {
      const on = stmt(db, 'SELECT host_id FROM image_hosts WHERE image_id = ?').pluck().all(r.id) as string[];
      image = { id: r.id, name: r.name, status: r.status, minDiskGb: r.min_disk_gb, hostIds: on.length ? new Set(on) : null };
    }
  }

  let group: SGroup | null = null;
  if (req.instanceGroupId) {
    const r = stmt(db, 'SELECT id, name, project_id, policy, per_host_limit, force FROM instance_groups WHERE id = ?').get(req.instanceGroupId) as
      | { id: string; name: string; project_id: string | null; policy: SGroup['policy']; per_host_limit: number; force: number }
      | undefined;
    if (!r) missing.group = true;
    else {
      group = { id: r.id, name: r.name, projectId: r.project_id, policy: r.policy, perHostLimit: r.per_host_limit, force: !!r.force };
      for (const x of stmt(db, PENDING_SQL.groupHosts).all({ ...p, group: r.id }) as { hostId: string; n: number }[]) {
        const h = byId.get(x.hostId);
        if (h) h.groupMembers = x.n;
      }
    }
  }

  let project: SProject | null = null;
  if (req.projectId) {
    const r = stmt(db, 'SELECT id, name, quota_guests, quota_vcpu, quota_memory_mb, quota_storage_gb, quota_ips FROM projects WHERE id = ?').get(req.projectId) as Record<string, unknown> | undefined;
    if (!r) missing.project = true;
    else project = loadProject(db, r, now);
  }

  return { hosts, networks, networksByWire, storages, image, group, project, missing, zoneNames, wireNames };
}

const QUOTA_COLUMN: Record<QuotaKey, string> = { guests: 'quota_guests', vcpu: 'quota_vcpu', memoryMb: 'quota_memory_mb', storageGb: 'quota_storage_gb', ips: 'quota_ips' };

function loadProject(db: Database.Database, r: Record<string, unknown>, now: string): SProject {
  const id = r.id as string;
  const { usage, pending } = usageOf(db, id);
  const sched = schedulerPendingUsage(db, id, now);
  const quota = Object.fromEntries(QUOTA_KEYS.map((k) => [k, (r[QUOTA_COLUMN[k]] as number | null) ?? null])) as Record<QuotaKey, number | null>;
  const sum = Object.fromEntries(QUOTA_KEYS.map((k) => [k, pending[k] + sched[k]])) as Usage;
  return { id, name: r.name as string, quota, usage, pending: sum };
}

/** The scheduler's pending usage of a project: placed, not yet created guests and their addresses. */
export function schedulerPendingUsage(db: Database.Database, projectId: string, now = new Date().toISOString()): Usage {
  const h = stmt(db, PENDING_SQL.projectHosts).get({ now, project: projectId }) as { guests: number; vcpu: number; memoryMb: number; storageGb: number };
  const i = stmt(db, PENDING_SQL.projectIps).get({ now, project: projectId }) as { ips: number };
  return { guests: h.guests, vcpu: h.vcpu, memoryMb: h.memoryMb, storageGb: h.storageGb, ips: i.ips };
}
