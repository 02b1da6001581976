import type { ResourceKind } from '@shared/contract/inventory/kinds';

/**
 * How each resource kind shows in a list: its columns (label key, width, the API field it sorts by, how a cell is
 * drawn), which are shown by default, and the statuses offered by its status filter. Cells are drawn by
 * components/inventory/cells.ts from the `cell` type; nothing here is framework code.
 */
export type CellType =
  | 'name'
  | 'text'
  | 'mono'
  | 'status'
  | 'provider'
  | 'number'
  | 'mb'
  | 'gb'
  | 'date'
  | 'age'
  | 'bool'
  | 'tags'
  | 'list'
  | 'ref'
  | 'hostCpu'
  | 'hostMemory'
  | 'hostStorage'
  | 'storageUsage'
  | 'ipUsage'
  | 'quota'
  | 'count'
  | 'health'
  | 'mbps';

export interface ColumnDef {
  /** Stable id (kept in saved views and local storage): the item's field, or a derived name. */
  key: string;
  /** Message key of the header. */
  label: string;
  width: number;
  cell: CellType;
  /** The item field the cell reads (default: key). */
  field?: string;
  /** For `ref` cells: the kind the id points at. For `quota`: the quota key. */
  ref?: ResourceKind;
  quota?: 'guests' | 'vcpu' | 'memoryMb' | 'storageGb' | 'ips';
  /** API sort field (snake_case); absent = not sortable. */
  sort?: string;
  align?: 'left' | 'right' | 'center';
  /** Shown until the user chooses otherwise. */
  visible?: boolean;
}

const c = (key: string, label: string, width: number, cell: CellType, more: Partial<ColumnDef> = {}): ColumnDef => ({ key, label, width, cell, ...more });

// Columns every kind has.
const name = c('name', 'inv.col.name', 180, 'name', { sort: 'name', visible: true });
const status = c('status', 'inv.col.status', 120, 'status', { sort: 'status', visible: true });
const provider = c('provider', 'inv.col.provider', 100, 'provider', { sort: 'provider' });
const tags = c('tags', 'inv.col.tags', 200, 'tags');
const synced = c('syncedAt', 'inv.col.syncedAt', 125, 'age', { sort: 'synced_at', visible: true });
const created = c('createdAt', 'inv.col.createdAt', 170, 'date', { sort: 'created_at' });
const updated = c('updatedAt', 'inv.col.updatedAt', 170, 'date', { sort: 'updated_at' });
const id = c('id', 'inv.col.id', 200, 'mono', { sort: 'id' });
const externalId = c('externalId', 'inv.col.externalId', 180, 'mono', { sort: 'external_id' });
const tail = [tags, synced, created, updated, id, externalId];
const show = (col: ColumnDef, visible = true): ColumnDef => ({ ...col, visible });

export const KIND_COLUMNS: Record<ResourceKind, ColumnDef[]> = {
  projects: [
    name,
    status,
    c('description', 'inv.col.description', 240, 'text', { sort: 'description', visible: true }),
    c('quotaGuests', 'inv.col.quotaGuests', 170, 'quota', { quota: 'guests', visible: true }),
    c('quotaVcpu', 'inv.col.quotaVcpu', 170, 'quota', { quota: 'vcpu', visible: true }),
    c('quotaMemory', 'inv.col.quotaMemory', 170, 'quota', { quota: 'memoryMb', visible: true }),
    c('quotaStorage', 'inv.col.quotaStorage', 170, 'quota', { quota: 'storageGb' }),
    c('quotaIps', 'inv.col.quotaIps', 170, 'quota', { quota: 'ips' }),
    show(tags),
    show(created),
    updated,
    id,
  ],
  cloudAccounts: [
    name,
    show(provider),
    status,
    c('health', 'inv.col.health', 110, 'health', { sort: 'health', visible: true }),
    c('regions', 'inv.col.regions', 200, 'list', { visible: true }),
    c('lastSyncAt', 'inv.col.lastSyncAt', 150, 'age', { sort: 'last_sync_at', visible: true }),
    c('syncIntervalMinutes', 'inv.col.syncInterval', 120, 'number', { sort: 'sync_interval_minutes', align: 'right' }),
    c('lastError', 'inv.col.lastError', 240, 'text'),
    ...tail.filter((x) => x !== synced),
  ],
  regions: [name, status, provider, c('cloudAccountId', 'inv.col.cloudAccount', 180, 'ref', { ref: 'cloudAccounts', sort: 'cloud_account_id', visible: true }), ...tail],
  zones: [
    name,
    status,
    c('description', 'inv.col.description', 260, 'text', { visible: true }),
    c('regionId', 'inv.col.region', 160, 'ref', { ref: 'regions', sort: 'region_id' }),
    provider,
    show(tags),
    show(created),
    updated,
    id,
  ],
  hosts: [
    name,
    status,
    c('address', 'inv.col.address', 140, 'mono', { sort: 'address', visible: true }),
    c('zoneId', 'inv.col.zone', 130, 'ref', { ref: 'zones', sort: 'zone_id', visible: true }),
    c('cpu', 'inv.col.cpu', 170, 'hostCpu', { sort: 'cpu_allocated', visible: true }),
    c('memory', 'inv.col.memory', 170, 'hostMemory', { sort: 'memory_allocated_mb', visible: true }),
    c('storage', 'inv.col.storage', 170, 'hostStorage', { sort: 'storage_allocated_gb' }),
    c('guestCount', 'inv.col.guestCount', 90, 'number', { sort: 'guest_count', align: 'right', visible: true }),
    c('enabled', 'inv.col.enabled', 90, 'bool', { sort: 'enabled', align: 'center', visible: true }),
    c('maintenance', 'inv.col.maintenance', 110, 'bool', { sort: 'maintenance', align: 'center' }),
    c('hypervisor', 'inv.col.hypervisor', 110, 'text', { sort: 'hypervisor' }),
    c('cpuModel', 'inv.col.cpuModel', 200, 'text', { sort: 'cpu_model' }),
    c('agentVersion', 'inv.col.agentVersion', 110, 'mono', { sort: 'agent_version' }),
    c('lastSeenAt', 'inv.col.lastSeenAt', 140, 'age', { sort: 'last_seen_at' }),
    provider,
    ...tail,
  ],
  storages: [
    name,
    status,
    c('type', 'inv.col.storageType', 100, 'text', { sort: 'type', visible: true }),
    c('usage', 'inv.col.usage', 190, 'storageUsage', { sort: 'used_gb', visible: true }),
    c('capacityGb', 'inv.col.capacity', 110, 'gb', { sort: 'capacity_gb', align: 'right' }),
    c('hostId', 'inv.col.host', 160, 'ref', { ref: 'hosts', sort: 'host_id', visible: true }),
    c('zoneId', 'inv.col.zone', 130, 'ref', { ref: 'zones', sort: 'zone_id' }),
    show(provider),
    ...tail,
  ],
  wires: [
    name,
    status,
    c('zoneId', 'inv.col.zone', 150, 'ref', { ref: 'zones', sort: 'zone_id', visible: true }),
    c('bandwidthMbps', 'inv.col.bandwidth', 120, 'mbps', { sort: 'bandwidth_mbps', align: 'right', visible: true }),
    c('description', 'inv.col.description', 220, 'text', { visible: true }),
    provider,
    ...tail,
  ],
  networks: [
    name,
    status,
    c('cidr', 'inv.col.cidr', 150, 'mono', { sort: 'cidr', visible: true }),
    c('gateway', 'inv.col.gateway', 130, 'mono', { sort: 'gateway', visible: true }),
    c('vlan', 'inv.col.vlan', 80, 'number', { sort: 'vlan', align: 'right', visible: true }),
    c('wireId', 'inv.col.wire', 140, 'ref', { ref: 'wires', sort: 'wire_id', visible: true }),
    c('projectId', 'inv.col.project', 140, 'ref', { ref: 'projects', sort: 'project_id' }),
    c('ipUsage', 'inv.col.ipUsage', 170, 'ipUsage', { visible: true }),
    c('dns', 'inv.col.dns', 180, 'list'),
    provider,
    ...tail,
  ],
  guests: [
    name,
    status,
    show(provider),
    c('hostId', 'inv.col.host', 140, 'ref', { ref: 'hosts', sort: 'host_id', visible: true }),
    c('projectId', 'inv.col.project', 120, 'ref', { ref: 'projects', sort: 'project_id', visible: true }),
    c('vcpu', 'inv.col.vcpu', 70, 'number', { sort: 'vcpu', align: 'right', visible: true }),
    c('memoryMb', 'inv.col.memory', 90, 'mb', { sort: 'memory_mb', align: 'right', visible: true }),
    c('diskGb', 'inv.col.disk', 90, 'gb', { sort: 'disk_gb', align: 'right' }),
    c('ips', 'inv.col.ips', 130, 'list', { sort: 'ips', visible: true }),
    c('os', 'inv.col.os', 130, 'text', { sort: 'os' }),
    c('zoneId', 'inv.col.zone', 130, 'ref', { ref: 'zones', sort: 'zone_id' }),
    c('instanceType', 'inv.col.instanceType', 130, 'text', { sort: 'instance_type' }),
    c('cloudAccountId', 'inv.col.cloudAccount', 150, 'ref', { ref: 'cloudAccounts', sort: 'cloud_account_id' }),
    ...tail,
  ],
  disks: [
    name,
    status,
    c('sizeGb', 'inv.col.size', 100, 'gb', { sort: 'size_gb', align: 'right', visible: true }),
    c('format', 'inv.col.format', 100, 'text', { sort: 'format', visible: true }),
    c('guestId', 'inv.col.guest', 160, 'ref', { ref: 'guests', sort: 'guest_id', visible: true }),
    c('storageId', 'inv.col.storage', 160, 'ref', { ref: 'storages', sort: 'storage_id', visible: true }),
    c('projectId', 'inv.col.project', 140, 'ref', { ref: 'projects', sort: 'project_id' }),
    c('bootable', 'inv.col.bootable', 90, 'bool', { align: 'center' }),
    provider,
    ...tail,
  ],
  snapshots: [
    name,
    status,
    c('sizeGb', 'inv.col.size', 100, 'gb', { sort: 'size_gb', align: 'right', visible: true }),
    c('diskId', 'inv.col.disk', 160, 'ref', { ref: 'disks', sort: 'disk_id', visible: true }),
    c('guestId', 'inv.col.guest', 160, 'ref', { ref: 'guests', sort: 'guest_id', visible: true }),
    provider,
    tags,
    synced,
    show(created),
    updated,
    id,
    externalId,
  ],
  images: [
    name,
    status,
    c('os', 'inv.col.os', 150, 'text', { sort: 'os', visible: true }),
    c('format', 'inv.col.format', 100, 'text', { sort: 'format', visible: true }),
    c('sizeGb', 'inv.col.size', 100, 'gb', { sort: 'size_gb', align: 'right', visible: true }),
    c('minDiskGb', 'inv.col.minDisk', 110, 'gb', { align: 'right' }),
    show(provider),
    ...tail,
  ],
  securityGroups: [
    name,
    status,
    c('description', 'inv.col.description', 240, 'text', { visible: true }),
    c('projectId', 'inv.col.project', 150, 'ref', { ref: 'projects', sort: 'project_id', visible: true }),
    c('rules', 'inv.col.rules', 90, 'count', { align: 'right', visible: true }),
    provider,
    show(tags),
    synced,
    created,
    updated,
    id,
    externalId,
  ],
  eips: [
    name,
    status,
    c('ip', 'inv.col.ip', 140, 'mono', { sort: 'ip', visible: true }),
    c('bandwidthMbps', 'inv.col.bandwidth', 120, 'mbps', { sort: 'bandwidth_mbps', align: 'right', visible: true }),
    c('guestId', 'inv.col.guest', 160, 'ref', { ref: 'guests', sort: 'guest_id', visible: true }),
    show(provider),
    c('cloudAccountId', 'inv.col.cloudAccount', 150, 'ref', { ref: 'cloudAccounts', sort: 'cloud_account_id' }),
    ...tail,
  ],
  keypairs: [
    name,
    c('fingerprint', 'inv.col.fingerprint', 300, 'mono', { sort: 'fingerprint', visible: true }),
    c('projectId', 'inv.col.project', 150, 'ref', { ref: 'projects', sort: 'project_id', visible: true }),
    status,
    show(tags),
    show(created),
    updated,
    id,
  ],
};

/** Statuses offered by each kind's status filter (the filter also accepts what the summary reports). */
export const KIND_STATUSES: Partial<Record<ResourceKind, readonly string[]>> = {
  hosts: ['online', 'offline', 'unreachable', 'connecting', 'bootstrapping', 'upgrading', 'error', 'disabled', 'maintenance', 'unknown'],
  cloudAccounts: ['connected', 'disconnected', 'error', 'unknown'],
  storages: ['online', 'offline', 'unknown'],
  networks: ['available', 'unknown'],
  disks: ['ready', 'attached', 'unknown'],
  images: ['active', 'unknown'],
};

/** Kinds whose rows can be created, changed or deleted from the UI. */
export const DELETABLE: readonly ResourceKind[] = ['projects', 'zones', 'wires', 'networks', 'hosts', 'keypairs', 'securityGroups'];

/** The columns shown by default, in order. */
export function defaultColumns(kind: ResourceKind): string[] {
  return KIND_COLUMNS[kind].filter((col) => col.visible).map((col) => col.key);
}

/**
 * The columns to show: a remembered choice, minus keys that no longer exist (a saved view from an older version),
 * falling back to the defaults when nothing valid is left.
 */
export function resolveColumns(kind: ResourceKind, chosen: readonly string[] | null | undefined): ColumnDef[] {
  const all = new Map(KIND_COLUMNS[kind].map((col) => [col.key, col]));
  const keys = (chosen ?? []).filter((k) => all.has(k));
  const use = keys.length ? [...new Set(keys)] : defaultColumns(kind);
  return use.map((k) => all.get(k)!);
}

/** The `<kind>.get`/`list` item field that links a row to the area showing its kind. */
export const KIND_AREA: Record<ResourceKind, { path: string; tab?: string }> = {
  projects: { path: '/projects' },
  cloudAccounts: { path: '/cloud-accounts' },
  regions: { path: '/cloud-accounts' },
  zones: { path: '/networks', tab: 'zones' },
  hosts: { path: '/hosts' },
  storages: { path: '/storage', tab: 'storages' },
  wires: { path: '/networks', tab: 'wires' },
  networks: { path: '/networks', tab: 'networks' },
  guests: { path: '/guests' },
  disks: { path: '/storage', tab: 'disks' },
  snapshots: { path: '/storage', tab: 'snapshots' },
  images: { path: '/images', tab: 'images' },
  securityGroups: { path: '/networks', tab: 'securityGroups' },
  eips: { path: '/networks', tab: 'eips' },
  keypairs: { path: '/images', tab: 'keypairs' },
};
