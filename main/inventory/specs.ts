import type { ResourceKind } from '@shared/contract/inventory/kinds';
import type { Tag } from '@shared/contract/inventory/base';
import type { ListSpec } from '../db/list-query';
import { usageOf } from './quota';

/**
 * How each kind is stored: its table, the API fields that can be sorted and filtered (API field → column), its free-text
 * search, and the explicit mapping of a row to the contract's item. Rows are not DTOs.
 */
export type Row = Record<string, unknown> & { id: string; rowid?: number };
export interface KindSpec {
  kind: ResourceKind;
  table: string;
  /** The tag kind stored in `tags.kind` (singular, stable). */
  tagKind: string;
  list: ListSpec<Row>;
  /** Row → item, given the row's tags and any per-kind extras loaded for the page. */
  map(row: Row, tags: Tag[], extra: Extras): unknown;
  /** Loads what a page of rows needs beyond the row (NICs, rules, usage), with one query per page. */
  extras?(db: import('better-sqlite3').Database, ids: string[]): Extras;
}
export type Extras = Record<string, Map<string, unknown>>;

const COMMON_FIELDS = {
  id: 'id',
  name: 'name',
  provider: 'provider',
  external_id: 'external_id',
  status: 'status',
  read_only: 'read_only',
  stale: 'stale',
  created_at: 'created_at',
  updated_at: 'updated_at',
  synced_at: 'synced_at',
};

const fields = (extra: string[]): Record<string, string> => ({ ...COMMON_FIELDS, ...Object.fromEntries(extra.map((c) => [c, c])) });

export function base(r: Row, tags: Tag[]) {
  return {
    id: r.id,
    name: r.name as string,
    provider: r.provider as never,
    externalId: (r.external_id as string | null) ?? null,
    status: r.status as string,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    syncedAt: (r.synced_at as string | null) ?? null,
    readOnly: r.read_only === 1,
    stale: r.stale === 1,
    tags,
  };
}

const json = <T>(v: unknown, fallback: T): T => {
  try {
    return typeof v === 'string' ? (JSON.parse(v) as T) : fallback;
  } catch {
    return fallback;
  }
};
const num = (v: unknown) => Number(v ?? 0);
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** Kinds whose tags are mirrored by rowid for fast tag filters (migration 0007): the table and its rowid column. */
const TAG_ROWIDS: Partial<Record<string, { table: string; column: string }>> = { guests: { table: 'guest_tag_rowids', column: 'guest_rowid' } };

function spec(kind: ResourceKind, table: string, tagKind: string, extraFields: string[], map: KindSpec['map'], search: ListSpec<Row>['search'] = { like: ['name', 'external_id'] }, extras?: KindSpec['extras']): KindSpec {
  const rowids = TAG_ROWIDS[table];
  return {
    kind,
    table,
    tagKind,
    list: {
      from: table,
      fields: fields(extraFields),
      defaultSort: 'name',
      tiebreak: 'rowid',
      search,
      tags: { kind: tagKind, idColumn: `${table}.id`, apiKind: kind, ...(rowids ? { rowids: { ...rowids, rowid: `${table}.rowid` } } : {}) },
      mapRow: (r) => r,
    },
    map,
    extras,
  };
}

const ZERO = { guests: 0, vcpu: 0, memoryMb: 0, storageGb: 0, ips: 0 };

export const SPECS: Record<ResourceKind, KindSpec> = {
  projects: spec('projects', 'projects', 'project', ['description'], (r, t, x) => ({
    ...base(r, t),
    description: r.description as string,
    quota: { guests: r.quota_guests ?? null, vcpu: r.quota_vcpu ?? null, memoryMb: r.quota_memory_mb ?? null, storageGb: r.quota_storage_gb ?? null, ips: r.quota_ips ?? null },
    usage: (x.usage?.get(r.id) as typeof ZERO | undefined) ?? ZERO,
    pending: (x.pending?.get(r.id) as typeof ZERO | undefined) ?? ZERO,
  }), { like: ['name', 'description'] }, (db, ids) => {
    const usage = new Map<string, unknown>();
    const pending = new Map<string, unknown>();
    for (const id of ids) {
      const u = usageOf(db, id);
      usage.set(id, u.usage);
      pending.set(id, u.pending);
    }
    return { usage, pending };
  }),
  cloudAccounts: spec('cloudAccounts', 'cloud_accounts', 'cloud_account', ['health', 'last_sync_at', 'sync_interval_minutes'], (r, t) => ({
    ...base(r, t),
    regions: json<string[]>(r.regions, []),
    health: r.health as never,
    lastError: str(r.last_error),
    lastSyncAt: str(r.last_sync_at),
    syncIntervalMinutes: num(r.sync_interval_minutes),
  })),
  regions: spec('regions', 'regions', 'region', ['cloud_account_id'], (r, t) => ({ ...base(r, t), cloudAccountId: str(r.cloud_account_id) })),
  zones: spec('zones', 'zones', 'zone', ['region_id'], (r, t) => ({ ...base(r, t), regionId: str(r.region_id), description: r.description as string })),
  hosts: spec(
    'hosts',
    'hosts',
    'host',
    ['zone_id', 'address', 'hypervisor', 'enabled', 'maintenance', 'cpu_model', 'cpu_cores', 'memory_mb', 'storage_gb', 'cpu_allocated', 'memory_allocated_mb', 'storage_allocated_gb', 'guest_count', 'agent_version', 'last_seen_at', 'cpu_overcommit', 'memory_overcommit'],
    (r, t) => ({
      ...base(r, t),
      zoneId: str(r.zone_id),
      address: r.address as string,
      hypervisor: r.hypervisor as never,
      enabled: r.enabled === 1,
      maintenance: r.maintenance === 1,
      statusReason: str(r.status_reason),
      cpuModel: r.cpu_model as string,
      cpuCores: num(r.cpu_cores),
      memoryMb: num(r.memory_mb),
      storageGb: num(r.storage_gb),
      cpuOvercommit: num(r.cpu_overcommit),
      memoryOvercommit: num(r.memory_overcommit),
      storageOvercommit: num(r.storage_overcommit),
      cpuAllocated: num(r.cpu_allocated),
      memoryAllocatedMb: num(r.memory_allocated_mb),
      storageAllocatedGb: num(r.storage_allocated_gb),
      guestCount: num(r.guest_count),
      agentVersion: str(r.agent_version),
      lastSeenAt: str(r.last_seen_at),
    }),
    { fts: 'hosts_fts', rowid: 'hosts.rowid' },
  ),
  storages: spec('storages', 'storages', 'storage', ['zone_id', 'host_id', 'type', 'capacity_gb', 'used_gb'], (r, t) => ({
    ...base(r, t),
    zoneId: str(r.zone_id),
    hostId: str(r.host_id),
    type: r.type as never,
    capacityGb: num(r.capacity_gb),
    usedGb: num(r.used_gb),
  })),
  wires: spec('wires', 'wires', 'wire', ['zone_id', 'bandwidth_mbps'], (r, t) => ({ ...base(r, t), zoneId: str(r.zone_id), bandwidthMbps: num(r.bandwidth_mbps), description: r.description as string })),
  networks: spec(
    'networks',
    'networks',
    'network',
    ['wire_id', 'project_id', 'cidr', 'vlan', 'gateway'],
    (r, t, x) => ({
      ...base(r, t),
      wireId: str(r.wire_id),
      projectId: str(r.project_id),
      cidr: r.cidr as string,
      gateway: str(r.gateway),
      vlan: r.vlan === null || r.vlan === undefined ? null : num(r.vlan),
      dns: json<string[]>(r.dns, []),
      ipStart: r.ip_start as string,
      ipEnd: r.ip_end as string,
      totalIps: num(r.ip_end_int) - num(r.ip_start_int) + 1,
      usedIps: (x.used?.get(r.id) as number | undefined) ?? 0,
    }),
    { like: ['name', 'cidr'] },
    (db, ids) => {
      const used = new Map<string, unknown>();
      if (ids.length) {
        const rows = db.prepare(`SELECT network_id, count(*) AS n FROM ip_allocations WHERE network_id IN (${ids.map(() => '?').join(',')}) GROUP BY network_id`).all(...ids) as { network_id: string; n: number }[];
        for (const r of rows) used.set(r.network_id, r.n);
      }
      return { used };
    },
  ),
  guests: spec(
    'guests',
    'guests',
    'guest',
    ['host_id', 'project_id', 'zone_id', 'cloud_account_id', 'vcpu', 'memory_mb', 'disk_gb', 'os', 'instance_type', 'ips'],
    (r, t, x) => ({
      ...base(r, t),
      hostId: str(r.host_id),
      projectId: str(r.project_id),
      zoneId: str(r.zone_id),
      cloudAccountId: str(r.cloud_account_id),
      vcpu: num(r.vcpu),
      memoryMb: num(r.memory_mb),
      diskGb: num(r.disk_gb),
      os: r.os as string,
      instanceType: str(r.instance_type),
      bootOrder: json<string[]>(r.boot_order, ['hd']),
      ips: r.ips ? String(r.ips).split(' ').filter(Boolean) : [],
      nics: (x.nics?.get(r.id) as unknown[] | undefined) ?? [],
      vncPort: r.vnc_port === null || r.vnc_port === undefined ? null : num(r.vnc_port),
    }),
    { fts: 'guests_fts', rowid: 'guests.rowid' },
    (db, ids) => {
      const nics = new Map<string, unknown>();
      if (ids.length) {
        const rows = db.prepare(`SELECT * FROM guest_nics WHERE guest_id IN (${ids.map(() => '?').join(',')}) ORDER BY guest_id, idx`).all(...ids) as Row[];
        for (const n of rows) {
          const list = (nics.get(n.guest_id as string) as unknown[] | undefined) ?? [];
          list.push({ index: num(n.idx), mac: n.mac as string, ip: str(n.ip), networkId: str(n.network_id), bridge: str(n.bridge) });
          nics.set(n.guest_id as string, list);
        }
      }
      return { nics };
    },
  ),
  disks: spec('disks', 'disks', 'disk', ['guest_id', 'storage_id', 'project_id', 'size_gb', 'format'], (r, t) => ({
    ...base(r, t),
    guestId: str(r.guest_id),
    storageId: str(r.storage_id),
    projectId: str(r.project_id),
    sizeGb: num(r.size_gb),
    format: r.format as string,
    index: r.idx === null || r.idx === undefined ? null : num(r.idx),
    bootable: r.bootable === 1,
  })),
  snapshots: spec('snapshots', 'snapshots', 'snapshot', ['disk_id', 'guest_id', 'size_gb'], (r, t) => ({ ...base(r, t), diskId: str(r.disk_id), guestId: str(r.guest_id), sizeGb: num(r.size_gb) })),
  images: spec('images', 'images', 'image', ['os', 'format', 'size_gb'], (r, t) => ({ ...base(r, t), os: r.os as string, format: r.format as string, sizeGb: num(r.size_gb), minDiskGb: num(r.min_disk_gb) })),
  securityGroups: spec(
    'securityGroups',
    'security_groups',
    'security_group',
    ['project_id'],
    (r, t, x) => ({ ...base(r, t), projectId: str(r.project_id), description: r.description as string, rules: (x.rules?.get(r.id) as unknown[] | undefined) ?? [] }),
    { like: ['name', 'description'] },
    (db, ids) => {
      const rules = new Map<string, unknown>();
      if (ids.length) {
        const rows = db.prepare(`SELECT * FROM security_group_rules WHERE group_id IN (${ids.map(() => '?').join(',')}) ORDER BY group_id, priority, id`).all(...ids) as Row[];
        for (const r of rows) {
          const list = (rules.get(r.group_id as string) as unknown[] | undefined) ?? [];
          list.push({ id: r.id, direction: r.direction, protocol: r.protocol, ports: r.ports, cidr: r.cidr, action: r.action, priority: num(r.priority), description: r.description });
          rules.set(r.group_id as string, list);
        }
      }
      return { rules };
    },
  ),
  eips: spec('eips', 'eips', 'eip', ['ip', 'guest_id', 'cloud_account_id', 'bandwidth_mbps'], (r, t) => ({ ...base(r, t), ip: r.ip as string, bandwidthMbps: num(r.bandwidth_mbps), guestId: str(r.guest_id), cloudAccountId: str(r.cloud_account_id) }), { like: ['name', 'ip'] }),
  keypairs: spec('keypairs', 'keypairs', 'keypair', ['fingerprint', 'project_id'], (r, t) => ({ ...base(r, t), fingerprint: r.fingerprint as string, publicKey: r.public_key as string, projectId: str(r.project_id) }), { like: ['name', 'fingerprint'] }),
};

/** The tag kind for an API kind, and back. */
export const TAG_KIND: Record<ResourceKind, string> = Object.fromEntries(Object.values(SPECS).map((s) => [s.kind, s.tagKind])) as Record<ResourceKind, string>;
