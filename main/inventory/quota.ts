import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import { QUOTA_KEYS, type QuotaKey, type Usage } from '@shared/contract/inventory/kinds';

/**
 * Project quotas, as Cloudpods keeps them: a task reserves what it will create when it starts (pending usage), and the
 * reservation is released when the task ends, by then either turned into real resources (committed usage) or not.
 * A check and its reservation happen in one write transaction, so two concurrent requests cannot both fit in the last slot.
 */
export type QuotaRequest = Partial<Usage>;

const ZERO: Usage = { guests: 0, vcpu: 0, memoryMb: 0, storageGb: 0, ips: 0 };
const COLUMN: Record<QuotaKey, string> = { guests: 'quota_guests', vcpu: 'quota_vcpu', memoryMb: 'quota_memory_mb', storageGb: 'quota_storage_gb', ips: 'quota_ips' };

export function usageOf(db: Database.Database, projectId: string): { usage: Usage; pending: Usage } {
  const g = db.prepare('SELECT count(*) AS guests, coalesce(sum(vcpu), 0) AS vcpu, coalesce(sum(memory_mb), 0) AS memoryMb FROM guests WHERE project_id = ?').get(projectId) as { guests: number; vcpu: number; memoryMb: number };
  const d = db.prepare('SELECT coalesce(sum(size_gb), 0) AS storageGb FROM disks WHERE project_id = ?').get(projectId) as { storageGb: number };
  const i = db.prepare('SELECT count(*) AS ips FROM ip_allocations WHERE project_id = ?').get(projectId) as { ips: number };
  const p = db
    .prepare('SELECT coalesce(sum(guests), 0) AS guests, coalesce(sum(vcpu), 0) AS vcpu, coalesce(sum(memory_mb), 0) AS memoryMb, coalesce(sum(storage_gb), 0) AS storageGb, coalesce(sum(ips), 0) AS ips FROM quota_reservations WHERE project_id = ?')
    .get(projectId) as Usage;
  return { usage: { ...g, storageGb: d.storageGb, ips: i.ips }, pending: p };
}

const UNIT: Record<QuotaKey, string> = { guests: '', vcpu: '', memoryMb: ' MiB', storageGb: ' GiB', ips: '' };

/** Checks a request against the project's quotas (committed + pending); throws `conflict` with the exact numbers. */
export function checkQuota(db: Database.Database, projectId: string, req: QuotaRequest): void {
  const project = db.prepare('SELECT * FROM projects WHERE id = ?').get(projectId) as Record<string, unknown> | undefined;
  if (!project) throw new ApiError('not_found', `project ${projectId} does not exist`, { id: projectId });
  const { usage, pending } = usageOf(db, projectId);
  for (const key of QUOTA_KEYS) {
    const limit = project[COLUMN[key]] as number | null;
    const want = req[key] ?? 0;
    if (limit === null || limit === undefined || want === 0) continue;
    if (usage[key] + pending[key] + want > limit) {
      throw new ApiError(
        'conflict',
        `Over the ${key} quota of project ${project.name as string}: limit ${limit}${UNIT[key]}, in use ${usage[key]}${UNIT[key]}, reserved by running tasks ${pending[key]}${UNIT[key]}, requested ${want}${UNIT[key]}`,
        { reason: 'quota', quota: key, limit, used: usage[key], pending: pending[key], requested: want, projectId },
      );
    }
  }
}

/** Checks the request and reserves it for the task, in one write transaction. */
export function reserve(db: Database.Database, projectId: string, taskId: string | null, req: QuotaRequest): number {
  return db.transaction(() => {
    checkQuota(db, projectId, req);
    const r = { ...ZERO, ...req };
    return Number(
      db
        .prepare('INSERT INTO quota_reservations (project_id, task_id, guests, vcpu, memory_mb, storage_gb, ips, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(projectId, taskId, r.guests, r.vcpu, r.memoryMb, r.storageGb, r.ips, new Date().toISOString()).lastInsertRowid,
    );
  }).immediate();
}

/** Ends a task's reservations (what it created now counts as committed usage). */
export function releaseTask(db: Database.Database, taskId: string): number {
  return db.prepare('DELETE FROM quota_reservations WHERE task_id = ?').run(taskId).changes;
}

export function releaseReservation(db: Database.Database, id: number): void {
  db.prepare('DELETE FROM quota_reservations WHERE id = ?').run(id);
}
