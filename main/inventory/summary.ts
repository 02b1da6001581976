import type Database from 'better-sqlite3';
import { SPECS } from './specs';

/** Dashboard roll-ups in a handful of aggregate queries (never one query per host). */
export function inventorySummary(db: Database.Database) {
  const counts: Record<string, number> = {};
  let stale = 0;
  let oldest: string | null = null;
  for (const s of Object.values(SPECS)) {
    const r = db
      .prepare(`SELECT (SELECT count(*) FROM ${s.table}) AS n, (SELECT count(*) FROM ${s.table} WHERE stale = 1) AS stale, (SELECT min(synced_at) FROM ${s.table} WHERE synced_at IS NOT NULL) AS oldest`)
      .get() as { n: number; stale: number; oldest: string | null };
    counts[s.kind] = r.n;
    stale += r.stale;
    if (r.oldest && (!oldest || r.oldest < oldest)) oldest = r.oldest;
  }
  const byStatus = (table: string) => Object.fromEntries((db.prepare(`SELECT status, count(*) AS n FROM ${table} GROUP BY status`).all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));
  const capacity = db
    .prepare(
      `SELECT coalesce(sum(cpu_cores), 0) AS cpuCores, coalesce(sum(cpu_allocated), 0) AS cpuAllocated, coalesce(sum(memory_mb), 0) AS memoryMb,
              coalesce(sum(memory_allocated_mb), 0) AS memoryAllocatedMb, coalesce(sum(storage_gb), 0) AS storageGb, coalesce(sum(storage_allocated_gb), 0) AS storageAllocatedGb
         FROM hosts`,
    )
    .get() as Record<string, number>;
  const byZone = db
    .prepare(
      `SELECT h.zone_id AS zoneId, z.name AS zone, count(*) AS hosts, sum(h.guest_count) AS guests, sum(h.cpu_cores) AS cpuCores, sum(h.cpu_allocated) AS cpuAllocated,
              sum(h.memory_mb) AS memoryMb, sum(h.memory_allocated_mb) AS memoryAllocatedMb
         FROM hosts h LEFT JOIN zones z ON z.id = h.zone_id GROUP BY h.zone_id ORDER BY zone`,
    )
    .all() as never[];
  const byProject = db
    .prepare(
      `SELECT g.project_id AS projectId, p.name AS project, count(*) AS guests, sum(g.vcpu) AS vcpu, sum(g.memory_mb) AS memoryMb
         FROM guests g LEFT JOIN projects p ON p.id = g.project_id GROUP BY g.project_id ORDER BY guests DESC LIMIT 50`,
    )
    .all() as never[];
  return { counts, guestsByStatus: byStatus('guests'), hostsByStatus: byStatus('hosts'), capacity: capacity as never, byZone, byProject, stale, oldestSyncAt: oldest };
}
