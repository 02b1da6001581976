import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { HostFacts } from '@shared/agent/protocol';
import { fieldError } from './credentials';

/**
 * Capacity checks for a new guest on a KVM host, answered before anything changes on the host, with the numbers. When
 * no host is given, the online host with the most free memory that passes every check is taken (the scheduler issue
 * replaces this with filters, weights and batch reservations).
 */
export interface PlacementRequest {
  vcpu: number;
  memoryMb: number;
  diskGb: number;
  storagePool: string;
}

interface HostRow {
  id: string;
  name: string;
  status: string;
  enabled: number;
  maintenance: number;
  cpu_cores: number;
  memory_mb: number;
  cpu_overcommit: number;
  memory_overcommit: number;
  cpu_allocated: number;
  memory_allocated_mb: number;
  facts_json: string | null;
}

const GIB = 1024 ** 3;

/** Why the host cannot take the guest, as field issues; empty when it can. */
export function rejections(h: HostRow, r: PlacementRequest): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (h.status !== 'online') out.push({ path: 'hostId', message: `host ${h.name} is ${h.status}` });
  if (!h.enabled) out.push({ path: 'hostId', message: `host ${h.name} is disabled` });
  if (h.maintenance) out.push({ path: 'hostId', message: `host ${h.name} is in maintenance` });
  if (h.cpu_cores > 0 && r.vcpu > h.cpu_cores) out.push({ path: 'vcpu', message: `needs ${r.vcpu} vCPUs; host ${h.name} has ${h.cpu_cores} logical CPUs` });
  const cpuFree = h.cpu_cores * h.cpu_overcommit - h.cpu_allocated;
  if (h.cpu_cores > 0 && r.vcpu > cpuFree) out.push({ path: 'vcpu', message: `needs ${r.vcpu} vCPUs; ${Math.max(0, Math.floor(cpuFree))} free on ${h.name} after overcommit ${h.cpu_overcommit}` });
  const memFree = h.memory_mb * h.memory_overcommit - h.memory_allocated_mb;
  if (h.memory_mb > 0 && r.memoryMb > memFree) out.push({ path: 'memoryMb', message: `needs ${fmtMb(r.memoryMb)}; ${fmtMb(Math.max(0, memFree))} free on ${h.name} after overcommit ${h.memory_overcommit}` });
  if (r.diskGb > 0 && h.facts_json) {
    const pool = (JSON.parse(h.facts_json) as HostFacts).pools.find((p) => p.name === r.storagePool);
    if (!pool) out.push({ path: 'storagePool', message: `host ${h.name} has no storage pool named ${r.storagePool}` });
    else if (!pool.active) out.push({ path: 'storagePool', message: `storage pool ${r.storagePool} on ${h.name} is not active` });
    else if (r.diskGb * GIB > pool.availableBytes) out.push({ path: 'diskGb', message: `needs ${r.diskGb} GiB; pool ${r.storagePool} on ${h.name} has ${(pool.availableBytes / GIB).toFixed(1)} GiB free` });
  }
  return out;
}

function fmtMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GiB` : `${Math.round(mb)} MiB`;
}

const SELECT = `SELECT h.id, h.name, h.status, h.enabled, h.maintenance, h.cpu_cores, h.memory_mb, h.cpu_overcommit, h.memory_overcommit, h.cpu_allocated, h.memory_allocated_mb, l.facts_json
  FROM hosts h JOIN host_links l ON l.host_id = h.id WHERE h.provider = 'kvm'`;

/** Checks the given host, or picks one; throws a validation error naming each problem. Call inside the write transaction. */
export function place(db: Database.Database, r: PlacementRequest, hostId?: string): string {
  if (hostId) {
    const h = db.prepare(`${SELECT} AND h.id = ?`).get(hostId) as HostRow | undefined;
    if (!h) throw fieldError('hostId', `host ${hostId} is not a KVM host added over SSH`);
    const why = rejections(h, r);
    if (why.length) throw new ApiError('validation', why.map((w) => w.message).join('; '), { issues: why.map((w) => ({ ...w, code: 'capacity' })) });
    return h.id;
  }
  const hosts = db.prepare(SELECT).all() as HostRow[];
  if (!hosts.length) throw fieldError('hostId', 'no KVM host has been added yet');
  const fit = hosts.filter((h) => rejections(h, r).length === 0).sort((a, b) => b.memory_mb * b.memory_overcommit - b.memory_allocated_mb - (a.memory_mb * a.memory_overcommit - a.memory_allocated_mb));
  if (!fit.length) {
    const why = hosts.slice(0, 10).map((h) => `${h.name}: ${rejections(h, r).map((w) => w.message).join(', ')}`);
    throw new ApiError('conflict', `no KVM host can take this guest — ${why.join('; ')}`, { reason: 'no_host', hosts: why });
  }
  return fit[0]!.id;
}
