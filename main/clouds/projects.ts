import type Database from 'better-sqlite3';
import { fieldError } from '@shared/errors';
import type { CloudProjectMapping } from '@shared/contract/clouds';

/**
 * Cloud tags mapped to Skydeck projects, per account. A resource's project is, in order: the override for its tag
 * value, the project named as its tag value (case-insensitive), the account's default project, none.
 *
 * Who set a guest's or disk's project is kept in project_source (migration 0012): 'user' (inventory moveGuests, or a
 * project set before mappings existed) is never touched here; 'mapped' rows and rows with no project are recomputed at
 * every sync and whenever the mapping changes, so removing the mapping unsets only what it had set.
 *
 * Disks attached to a guest follow the guest's project (as moveGuests moves a guest's disks); detached disks are mapped
 * by their own tags. EIPs have no project column and are left alone.
 *
 * Quotas: a mapped cloud guest counts toward its project's usage (quota.usageOf counts every guest and disk with the
 * project_id, whatever its provider), as a moved one does. A mapping is never refused for quota, though: synced guests
 * are facts of the provider, already running, so a project may end up over quota, and then Skydeck refuses new guests
 * and moves into it (checkQuota), not the sync. A user move still checks the target's quota (moveGuests).
 */

export const EMPTY_MAPPING: CloudProjectMapping = { tagKey: null, defaultProjectId: null, overrides: {} };

export function mappingOf(db: Database.Database, accountId: string): CloudProjectMapping | null {
  const r = db.prepare('SELECT project_mapping FROM cloud_accounts WHERE id = ?').get(accountId) as { project_mapping: string | null } | undefined;
  if (!r?.project_mapping) return null;
  try {
    const m = JSON.parse(r.project_mapping) as Partial<CloudProjectMapping>;
    return { tagKey: m.tagKey ?? null, defaultProjectId: m.defaultProjectId ?? null, overrides: m.overrides ?? {} };
  } catch {
    return null;
  }
}

/** Throws a validation error naming the field for a project id that does not exist. */
export function checkMapping(db: Database.Database, m: CloudProjectMapping): void {
  const has = db.prepare('SELECT 1 FROM projects WHERE id = ?');
  if (m.defaultProjectId && !has.get(m.defaultProjectId)) throw fieldError('projectMapping.defaultProjectId', `no such project: ${m.defaultProjectId}`);
  for (const [value, id] of Object.entries(m.overrides)) if (!has.get(id)) throw fieldError(`projectMapping.overrides.${value}`, `no such project: ${id}`);
}

/** Stores the mapping (null: none) and applies it at once. */
export function setMapping(db: Database.Database, accountId: string, m: CloudProjectMapping | null): { guests: number; disks: number } {
  return db.transaction(() => {
    const empty = !m || (!m.tagKey && !m.defaultProjectId && !Object.keys(m.overrides).length);
    if (m && !empty) checkMapping(db, m);
    db.prepare('UPDATE cloud_accounts SET project_mapping = ? WHERE id = ?').run(empty ? null : JSON.stringify(m), accountId);
    return applyMapping(db, accountId);
  })();
}

/** Recomputes the mapped projects of the account's guests and disks; answers how many rows changed. */
export function applyMapping(db: Database.Database, accountId: string): { guests: number; disks: number } {
  const m = mappingOf(db, accountId) ?? EMPTY_MAPPING;
  const projects = db.prepare('SELECT id, name FROM projects').all() as { id: string; name: string }[];
  const exists = new Set(projects.map((p) => p.id));
  const byName = new Map(projects.map((p) => [p.name.toLowerCase(), p.id]));
  const overrides = new Map(Object.entries(m.overrides).map(([k, v]) => [k.toLowerCase(), v]));
  const fallback = m.defaultProjectId && exists.has(m.defaultProjectId) ? m.defaultProjectId : null;
  const target = (value: string | null): string | null => {
    if (value !== null) {
      const o = overrides.get(value.toLowerCase());
      if (o && exists.has(o)) return o;
      const n = byName.get(value.toLowerCase());
      if (n) return n;
    }
    return fallback;
  };
  const at = new Date().toISOString();
  const run = (table: 'guests' | 'disks', kind: 'guest' | 'disk', extra: string) => {
    const rows = db
      .prepare(
        `SELECT r.id, r.project_id AS projectId, t.value AS tag${extra ? ', g.project_id AS guestProject, g.id AS guestId' : ''}
           FROM ${table} r
           LEFT JOIN tags t ON t.kind = '${kind}' AND t.resource_id = r.id AND t.key = ? AND t.source = 'provider'
           ${extra}
          WHERE r.cloud_account_id = ? AND (r.project_source = 'mapped' OR (r.project_source IS NULL AND r.project_id IS NULL))`,
      )
      .all(m.tagKey ?? '', accountId) as { id: string; projectId: string | null; tag: string | null; guestProject?: string | null; guestId?: string | null }[];
    const upd = db.prepare(`UPDATE ${table} SET project_id = ?, project_source = ?, updated_at = ? WHERE id = ?`);
    let n = 0;
    for (const r of rows) {
      const want = r.guestId ? (r.guestProject ?? null) : target(m.tagKey ? r.tag : null);
      if (want === r.projectId) continue;
      upd.run(want, want ? 'mapped' : null, at, r.id);
      n++;
    }
    return n;
  };
  return db.transaction(() => {
    const guests = run('guests', 'guest', '');
    const disks = run('disks', 'disk', 'LEFT JOIN guests g ON g.id = r.guest_id');
    return { guests, disks };
  })();
}
