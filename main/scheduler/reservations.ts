import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { Placement, Reservation, SchedRequest } from '@shared/contract/scheduler';

/**
 * Pending usage of placed guests (see migration 0006): written in the transaction that placed them, ended when the
 * task they are bound to ends (`releaseTaskReservations`, from the engine's onFinish, in the transaction that ends the
 * task), when released explicitly, or — while bound to no task — when they lapse.
 */

export interface WriteReservation {
  req: SchedRequest;
  placements: Placement[];
  guestIds?: readonly string[] | undefined;
  taskId: string | null;
  actor: string;
  now: Date;
  ttlSeconds: number;
}

export function writeReservation(db: Database.Database, w: WriteReservation): { id: string; expiresAt: string | null } {
  const id = `rsv-${randomUUID()}`;
  const createdAt = w.now.toISOString();
  const expiresAt = w.taskId ? null : new Date(w.now.getTime() + w.ttlSeconds * 1000).toISOString();
  const { req } = w;
  const groupId = req.instanceGroupId ?? null;
  db.prepare('INSERT INTO sched_reservations (id, task_id, project_id, group_id, count, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    w.taskId,
    req.projectId,
    groupId,
    w.placements.length,
    w.actor,
    createdAt,
    expiresAt,
  );
  const diskGb = req.disks.reduce((n, d) => n + d.sizeGb, 0);
  const host = db.prepare('INSERT INTO sched_host_reservations (reservation_id, idx, host_id, guest_id, project_id, group_id, vcpu, memory_mb, storage_gb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const storage = db.prepare('INSERT INTO sched_storage_reservations (reservation_id, idx, disk, storage_id, size_gb) VALUES (?, ?, ?, ?, ?)');
  const ip = db.prepare('INSERT INTO sched_ip_reservations (reservation_id, idx, nic, network_id, guest_id, project_id) VALUES (?, ?, ?, ?, ?, ?)');
  const member = groupId ? db.prepare('INSERT INTO instance_group_guests (group_id, guest_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING') : null;
  for (const p of w.placements) {
    const guestId = w.guestIds?.[p.index] ?? null;
    host.run(id, p.index, p.hostId, guestId, req.projectId, groupId, req.vcpu, req.memoryMb, diskGb);
    p.storages.forEach((s, j) => {
      const gb = req.disks[j]?.sizeGb ?? 0;
      if (s && gb > 0) storage.run(id, p.index, j, s, gb);
    });
    p.networks.forEach((n, j) => {
      if (n) ip.run(id, p.index, j, n, guestId, req.projectId);
    });
    if (member && guestId) member.run(groupId, guestId, createdAt);
  }
  return { id, expiresAt };
}

/** Group memberships written for guests that were never created. */
function dropUncreatedMembers(db: Database.Database, where: string, arg: string): void {
  db.prepare(
    `DELETE FROM instance_group_guests WHERE (group_id, guest_id) IN (
       SELECT r.group_id, r.guest_id FROM sched_host_reservations r JOIN sched_reservations s ON s.id = r.reservation_id
       WHERE ${where} AND r.group_id IS NOT NULL AND r.guest_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM guests g WHERE g.id = r.guest_id))`,
  ).run(arg);
}

/** Ends one reservation now. Answers 1, or 0 when there was none by that id. */
export function releaseReservation(db: Database.Database, id: string): number {
  return db.transaction(() => {
    dropUncreatedMembers(db, 's.id = ?', id);
    return db.prepare('DELETE FROM sched_reservations WHERE id = ?').run(id).changes;
  })();
}

/** Ends every reservation bound to the task: call it where the task ends, in the same transaction (engine onFinish). */
export function releaseTaskReservations(db: Database.Database, taskId: string): number {
  if (!db.prepare('SELECT 1 FROM sched_reservations WHERE task_id = ? LIMIT 1').get(taskId)) return 0;
  return db.transaction(() => {
    dropUncreatedMembers(db, 's.task_id = ?', taskId);
    return db.prepare('DELETE FROM sched_reservations WHERE task_id = ?').run(taskId).changes;
  })();
}

const LIVE_TASK = `SELECT 1 FROM tasks t WHERE t.id = ? AND t.status IN ('queued', 'running', 'cancelling')`;

/**
 * Binds a reservation to the task that creates its guests: it no longer lapses and ends when the task ends. When the
 * task has already ended (or does not exist), the reservation is released now and false is answered.
 */
export function bindReservation(db: Database.Database, id: string, taskId: string): boolean {
  return db.transaction(() => {
    const r = db.prepare('SELECT id FROM sched_reservations WHERE id = ?').get(id);
    if (!r) throw new ApiError('not_found', `reservation ${id} does not exist (released, or lapsed before it was bound to a task)`, { id });
    if (!db.prepare(LIVE_TASK).get(taskId)) {
      releaseReservation(db, id);
      return false;
    }
    db.prepare('UPDATE sched_reservations SET task_id = ?, expires_at = NULL WHERE id = ?').run(taskId, id);
    return true;
  }).immediate();
}

export function isLiveTask(db: Database.Database, taskId: string): boolean {
  return !!db.prepare(LIVE_TASK).get(taskId);
}

/** Reservations that no longer count: lapsed, or bound to a task that ended (or never existed). */
const dead = (s: string) => `(${s}.expires_at <= @now OR (${s}.task_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = ${s}.task_id AND t.status IN ('queued', 'running', 'cancelling'))))`;

/** Deletes what no longer counts (and the group memberships of guests it never created). */
export function purgeReservations(db: Database.Database, now: string): number {
  if (!db.prepare(`SELECT 1 FROM sched_reservations s WHERE ${dead('s')} LIMIT 1`).get({ now })) return 0;
  db.prepare(
    `DELETE FROM instance_group_guests WHERE (group_id, guest_id) IN (
       SELECT r.group_id, r.guest_id FROM sched_host_reservations r JOIN sched_reservations s ON s.id = r.reservation_id
       WHERE ${dead('s')} AND r.group_id IS NOT NULL AND r.guest_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM guests g WHERE g.id = r.guest_id))`,
  ).run({ now });
  return db.prepare(`DELETE FROM sched_reservations WHERE id IN (SELECT id FROM sched_reservations s WHERE ${dead('s')})`).run({ now }).changes;
}

export function listReservations(db: Database.Database, o: { hostId?: string | undefined; limit: number }): Reservation[] {
  const rows = db
    .prepare(
      `SELECT id, task_id, project_id, group_id, count, created_by, created_at, expires_at FROM sched_reservations s
       ${o.hostId ? 'WHERE EXISTS (SELECT 1 FROM sched_host_reservations r WHERE r.reservation_id = s.id AND r.host_id = @host)' : ''}
       ORDER BY created_at DESC, id LIMIT @limit`,
    )
    .all({ limit: o.limit, ...(o.hostId ? { host: o.hostId } : {}) }) as Record<string, unknown>[];
  const per = db.prepare(
    `SELECT host_id AS hostId, count(*) AS guests, sum(vcpu) AS vcpu, sum(memory_mb) AS memoryMb, sum(storage_gb) AS storageGb FROM sched_host_reservations r
     WHERE reservation_id = ? AND NOT EXISTS (SELECT 1 FROM guests g WHERE g.id = r.guest_id AND g.host_id = r.host_id) GROUP BY host_id ORDER BY host_id`,
  );
  return rows.map((r) => ({
    id: r.id as string,
    taskId: r.task_id as string | null,
    projectId: r.project_id as string | null,
    instanceGroupId: r.group_id as string | null,
    count: r.count as number,
    createdBy: r.created_by as string,
    createdAt: r.created_at as string,
    expiresAt: r.expires_at as string | null,
    hosts: per.all(r.id) as Reservation['hosts'],
  }));
}
