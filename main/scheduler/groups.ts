import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { InstanceGroup } from '@shared/contract/scheduler';

/** Instance groups: anti-affinity (at most perHostLimit members per host) or affinity (members together). */

interface Row {
  id: string;
  name: string;
  project_id: string | null;
  policy: InstanceGroup['policy'];
  per_host_limit: number;
  force: number;
  description: string;
  created_at: string;
  members: number;
}

const SELECT = `SELECT g.*, (SELECT count(*) FROM instance_group_guests m JOIN guests x ON x.id = m.guest_id WHERE m.group_id = g.id) AS members FROM instance_groups g`;

const toGroup = (r: Row): InstanceGroup => ({
  id: r.id,
  name: r.name,
  projectId: r.project_id,
  policy: r.policy,
  perHostLimit: r.per_host_limit,
  force: !!r.force,
  description: r.description,
  members: r.members,
  createdAt: r.created_at,
});

export function getGroup(db: Database.Database, id: string): InstanceGroup {
  const r = db.prepare(`${SELECT} WHERE g.id = ?`).get(id) as Row | undefined;
  if (!r) throw new ApiError('not_found', `instance group ${id} does not exist`, { id });
  return toGroup(r);
}

export function listGroups(db: Database.Database, projectId?: string): InstanceGroup[] {
  return (db.prepare(`${SELECT} ${projectId ? 'WHERE g.project_id = ?' : ''} ORDER BY g.name`).all(...(projectId ? [projectId] : [])) as Row[]).map(toGroup);
}

export function createGroup(db: Database.Database, i: { name: string; projectId: string | null; policy: InstanceGroup['policy']; perHostLimit: number; force: boolean; description: string }): InstanceGroup {
  const id = `grp-${randomUUID()}`;
  const now = new Date().toISOString();
  db.transaction(() => {
    if (i.projectId && !db.prepare('SELECT 1 FROM projects WHERE id = ?').get(i.projectId)) {
      throw new ApiError('validation', `projectId: project ${i.projectId} does not exist`, { issues: [{ path: 'projectId', message: `project ${i.projectId} does not exist`, code: 'not_found' }] });
    }
    if (db.prepare(`SELECT 1 FROM instance_groups WHERE coalesce(project_id, '') = coalesce(?, '') AND name = ?`).get(i.projectId, i.name)) {
      throw new ApiError('conflict', `an instance group named ${i.name} already exists`, { reason: 'name_taken', issues: [{ path: 'name', message: `an instance group named ${i.name} already exists`, code: 'name_taken' }] });
    }
    db.prepare('INSERT INTO instance_groups (id, name, project_id, policy, per_host_limit, force, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      id,
      i.name,
      i.projectId,
      i.policy,
      i.perHostLimit,
      i.force ? 1 : 0,
      i.description,
      now,
      now,
    );
  }).immediate();
  return getGroup(db, id);
}

export function deleteGroup(db: Database.Database, id: string): void {
  getGroup(db, id);
  db.prepare('DELETE FROM instance_groups WHERE id = ?').run(id);
}

export function addGuests(db: Database.Database, id: string, guestIds: string[]): InstanceGroup {
  db.transaction(() => {
    getGroup(db, id);
    const exists = db.prepare('SELECT 1 FROM guests WHERE id = ?');
    const ins = db.prepare('INSERT INTO instance_group_guests (group_id, guest_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    const now = new Date().toISOString();
    guestIds.forEach((g, j) => {
      if (!exists.get(g)) throw new ApiError('validation', `guestIds.${j}: guest ${g} does not exist`, { issues: [{ path: `guestIds.${j}`, message: `guest ${g} does not exist`, code: 'not_found' }] });
      ins.run(id, g, now);
    });
  })();
  return getGroup(db, id);
}

export function removeGuests(db: Database.Database, id: string, guestIds: string[]): InstanceGroup {
  getGroup(db, id);
  const del = db.prepare('DELETE FROM instance_group_guests WHERE group_id = ? AND guest_id = ?');
  db.transaction(() => guestIds.forEach((g) => del.run(id, g)))();
  return getGroup(db, id);
}
