import { z } from 'zod';
import { ApiError } from '@shared/errors';
import { BULK_ACTIONS, GUEST_ACTIONS, type GuestAction } from '@shared/contract/inventory/commands';
import { FINAL_TASK_STATUSES } from '@shared/contract/tasks';
import type { TaskType } from '../tasks/types';
import type { TaskEngine } from '../tasks/engine';
import type { InventoryMutations } from '../inventory/mutations';
import type Database from 'better-sqlite3';
import type { DriverRegistry } from '../drivers/types';
import { checkGuestAction } from './action-task';

const params = z.object({
  ids: z.array(z.string()),
  action: z.enum(BULK_ACTIONS),
  tags: z.record(z.string(), z.string()).optional(),
  projectId: z.string().optional(),
  createdBy: z.string(),
  refused: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })).default([]),
  fannedOut: z.boolean().default(false),
});
type Params = z.infer<typeof params>;

const childParams = z.object({ guestId: z.string(), action: z.enum(['tag', 'move']), tags: z.record(z.string(), z.string()).optional(), projectId: z.string().optional() });

/** Tag or move one guest: the per-resource child of a bulk tag/move. */
export function guestEditTask(mutations: InventoryMutations): TaskType<z.infer<typeof childParams>> {
  return {
    type: 'guests.edit',
    params: childParams,
    stages: {
      async onInit({ params: p }) {
        if (p.action === 'tag') mutations.tagResources([{ kind: 'guests', id: p.guestId }], p.tags ?? {});
        else mutations.moveGuests([p.guestId], p.projectId!);
        return { done: { [p.action]: p.guestId } };
      },
    },
  };
}

/**
 * A bulk action: one parent task, one child task per guest. Children that the status table refuses are reported
 * in the parent's result instead of failing the whole batch; the parent's progress follows its children.
 */
export function bulkTask(d: { db: Database.Database; engine: () => TaskEngine; drivers: DriverRegistry }): TaskType<Params> {
  return {
    type: 'guests.bulk',
    params,
    stages: {
      async onInit({ task, params: p }) {
        if (p.fannedOut) return { next: 'onWait' };
        const refused: Params['refused'] = [];
        const engine = d.engine();
        d.db.transaction(() => {
          for (const id of p.ids) {
            try {
              const isLifecycle = (GUEST_ACTIONS as readonly string[]).includes(p.action);
              const g = isLifecycle ? checkGuestAction(d.db, d.drivers, id, p.action as GuestAction) : (d.db.prepare('SELECT id, name, read_only FROM guests WHERE id = ?').get(id) as { id: string; name: string; read_only: number } | undefined);
              if (!g) throw new ApiError('not_found', `guest ${id} does not exist`);
              if (!isLifecycle && g.read_only === 1) throw new ApiError('forbidden', `guest ${g.name as string} is read-only`);
              const target = { kind: 'guest', id, name: g.name as string };
              if (isLifecycle) engine.submit('guests.action', { guestId: id, action: p.action }, { createdBy: p.createdBy, target, parentId: task.id });
              else engine.submit('guests.edit', { guestId: id, action: p.action, tags: p.tags, projectId: p.projectId }, { createdBy: p.createdBy, target, parentId: task.id });
            } catch (e) {
              if (!ApiError.is(e)) throw e;
              refused.push({ id, code: e.code, message: e.message });
            }
          }
        })();
        return { next: 'onWait', progress: 1, message: `${p.ids.length - refused.length} started, ${refused.length} refused`, patch: { refused, fannedOut: true } };
      },
      async onWait(ctx) {
        const engine = d.engine();
        for (;;) {
          const rows = d.db.prepare('SELECT status, count(*) AS n FROM tasks WHERE parent_id = ? GROUP BY status').all(ctx.task.id) as { status: string; n: number }[];
          const total = rows.reduce((s, r) => s + r.n, 0);
          const done = rows.filter((r) => (FINAL_TASK_STATUSES as readonly string[]).includes(r.status)).reduce((s, r) => s + r.n, 0);
          ctx.progress(total ? 1 + (98 * done) / total : 99, `${done} of ${total} done`);
          if (done === total) {
            const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
            return { done: { total: ctx.params.ids.length, ...by, refused: ctx.params.refused }, message: `${by.succeeded ?? 0} succeeded, ${(by.failed ?? 0) + ctx.params.refused.length} failed or refused` };
          }
          await new Promise<void>((resolve, reject) => {
            const off = engine.onTaskUpdate((t) => {
              if (t.parentId === ctx.task.id && (FINAL_TASK_STATUSES as readonly string[]).includes(t.status)) {
                off();
                resolve();
              }
            });
            const timer = setTimeout(() => (off(), resolve()), 1000);
            ctx.signal.addEventListener('abort', () => (clearTimeout(timer), off(), reject(ctx.signal.reason)), { once: true });
          });
        }
      },
    },
  };
}
