import type Database from 'better-sqlite3';

/** Rows that later issues' drivers will write (hosts and guests come from agents and clouds, not from a form). */
const t = '2026-11-01T00:00:00.000Z';

export function insertHost(db: Database.Database, id: string, o: Partial<{ name: string; zone: string | null; cores: number; memoryMb: number; status: string; provider: string; readOnly: boolean }> = {}) {
  db.prepare(
    `INSERT INTO hosts (id, name, provider, status, read_only, created_at, updated_at, zone_id, address, hypervisor, cpu_cores, memory_mb, storage_gb, cpu_model)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'kvm', ?, ?, 2000, 'EPYC 7443')`,
  ).run(id, o.name ?? id, o.provider ?? 'kvm', o.status ?? 'online', o.readOnly ? 1 : 0, t, t, o.zone ?? null, `10.9.0.${Math.floor(Math.random() * 250) + 1}`, o.cores ?? 32, o.memoryMb ?? 131072);
}

export function insertGuest(db: Database.Database, id: string, o: Partial<{ name: string; host: string | null; project: string | null; vcpu: number; memoryMb: number; diskGb: number; status: string; provider: string; readOnly: boolean; ips: string; os: string }> = {}) {
  db.prepare(
    `INSERT INTO guests (id, name, provider, status, read_only, created_at, updated_at, host_id, project_id, vcpu, memory_mb, disk_gb, os, ips)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, o.name ?? id, o.provider ?? 'kvm', o.status ?? 'ready', o.readOnly ? 1 : 0, t, t, o.host ?? null, o.project ?? null, o.vcpu ?? 2, o.memoryMb ?? 4096, o.diskGb ?? 20, o.os ?? 'Debian 12', o.ips ?? '');
}
