import { z } from 'zod';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import { GUEST_ACTIONS, type GuestAction } from '@shared/contract/inventory/commands';
import { GUEST_TRANSITIONS } from '@shared/contract/inventory/status';
import type { TaskType } from '../tasks/types';
import type { DriverRegistry, GuestRef } from '../drivers/types';
import type { InventoryMutations } from '../inventory/mutations';
import type { Row } from '../inventory/specs';

const params = z.object({ guestId: z.string(), action: z.enum(GUEST_ACTIONS), previous: z.string().optional() });
type Params = z.infer<typeof params>;

export function guestRef(r: Row): GuestRef {
  return { id: r.id, name: r.name as string, externalId: (r.external_id as string | null) ?? null, hostId: (r.host_id as string | null) ?? null, cloudAccountId: (r.cloud_account_id as string | null) ?? null, status: r.status as string };
}

/**
 * Checks an action against the status table and the guest's driver before a task is created, so that a refused action
 * answers at once with `conflict` (naming the current status) or `not_supported`, and changes nothing.
 */
export function checkGuestAction(db: Database.Database, drivers: DriverRegistry, guestId: string, action: GuestAction): Row {
  const g = db.prepare('SELECT * FROM guests WHERE id = ?').get(guestId) as Row | undefined;
  if (!g) throw new ApiError('not_found', `guest ${guestId} does not exist`, { id: guestId });
  if (g.read_only === 1) throw new ApiError('forbidden', `guest ${g.name as string} is read-only (imported inventory)`, { id: guestId });
  const t = GUEST_TRANSITIONS[action];
  if (!t.from.includes(g.status as string)) {
    throw new ApiError('conflict', `cannot ${action} guest ${g.name as string} while it is ${g.status as string} (allowed from: ${t.from.join(', ')})`, { reason: 'status', status: g.status, allowed: t.from });
  }
  const d = drivers.get(g.provider as never);
  if (!d || !d.guestActions().includes(action)) {
    throw new ApiError('not_supported', `${g.provider as string} guests cannot ${action} here${d ? '' : ' (no driver for this provider yet)'}`, { provider: g.provider, action });
  }
  return g;
}

/**
 * One guest action as a task: onInit sets the transitional status, onAct asks the driver, onComplete sets the final
 * status (or removes a deleted guest); a failure sets `<action>_failed`. After a crash the guest's real status is asked
 * of its driver and the task ends as interrupted.
 */
export function guestActionTask(d: { db: Database.Database; drivers: DriverRegistry; mutations: InventoryMutations }): TaskType<Params> {
  const setStatus = (id: string, status: string) => {
    d.db.prepare('UPDATE guests SET status = ?, updated_at = ? WHERE id = ?').run(status, new Date().toISOString(), id);
    d.mutations.changed('guests', id, 'updated');
  };
  const load = (id: string) => {
    const g = d.db.prepare('SELECT * FROM guests WHERE id = ?').get(id) as Row | undefined;
    if (!g) throw new ApiError('not_found', `guest ${id} no longer exists`);
    return g;
  };
  return {
    type: 'guests.action',
    params,
    stages: {
      async onInit({ params: p }) {
        const g = load(p.guestId);
        const t = GUEST_TRANSITIONS[p.action];
        if (g.status !== t.transitional && !t.from.includes(g.status as string)) {
          throw new ApiError('conflict', `cannot ${p.action} guest ${g.name as string} while it is ${g.status as string}`, { reason: 'status', status: g.status });
        }
        setStatus(p.guestId, t.transitional);
        return { next: 'onAct', progress: 10, message: `${t.transitional}…`, patch: { previous: g.status as string } };
      },
      async onAct({ params: p, signal }) {
        const g = load(p.guestId);
        const driver = d.drivers.get(g.provider as never);
        if (!driver) throw new ApiError('not_supported', `no driver for ${g.provider as string}`);
        await driver.guestAction(guestRef(g), p.action, signal);
        return { next: 'onComplete', progress: 90 };
      },
      async onComplete({ params: p }) {
        const t = GUEST_TRANSITIONS[p.action];
        if (t.success === null) {
          d.db.transaction(() => {
            d.db.prepare(`DELETE FROM ip_allocations WHERE owner_kind = 'guest' AND owner_id = ?`).run(p.guestId);
            d.db.prepare(`DELETE FROM tags WHERE kind = 'guest' AND resource_id = ?`).run(p.guestId);
            d.db.prepare('DELETE FROM guests WHERE id = ?').run(p.guestId);
          })();
          d.mutations.changed('guests', p.guestId, 'deleted');
          return { done: { deleted: p.guestId }, message: 'deleted' };
        }
        setStatus(p.guestId, t.success);
        return { done: { status: t.success }, message: t.success };
      },
    },
    failed: {
      async onInitFailed() {},
      async onActFailed({ params: p }) {
        setStatus(p.guestId, GUEST_TRANSITIONS[p.action].failed);
      },
    },
    async recover(task, p) {
      if (task.stage === 'onComplete') return 'resume';
      const g = d.db.prepare('SELECT * FROM guests WHERE id = ?').get(p.guestId) as Row | undefined;
      if (!g) return 'interrupt';
      const driver = d.drivers.get(g.provider as never);
      const real = driver?.observeGuest ? await driver.observeGuest(guestRef(g)).catch(() => null) : null;
      setStatus(p.guestId, real ?? (task.stage === 'onInit' ? (p.previous ?? 'unknown') : 'unknown'));
      return 'interrupt';
    },
  };
}
