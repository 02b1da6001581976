import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { views, SavedView } from '@shared/contract/views';
import type { DomainHandlers } from '../api/handlers';
import type { DriverRegistry } from '../drivers/types';

interface ViewRow {
  id: string;
  kind: SavedView['kind'];
  name: string;
  query: string;
  columns: string;
  created_at: string;
  updated_at: string;
}

const toView = (r: ViewRow): SavedView => ({ id: r.id, kind: r.kind, name: r.name, query: JSON.parse(r.query) as SavedView['query'], columns: JSON.parse(r.columns) as string[], createdAt: r.created_at, updatedAt: r.updated_at });

/** Saved views, favourites (with folders) and driver capabilities: the user's own list state, kept in SQLite. */
export function viewHandlers(d: { db: Database.Database; drivers: DriverRegistry }): DomainHandlers<typeof views> {
  const { db } = d;
  return {
    'views.list': ({ kind }) => ({ items: (db.prepare('SELECT * FROM saved_views WHERE kind = ? ORDER BY name').all(kind) as ViewRow[]).map(toView) }),
    'views.save': ({ id, kind, name, query, columns }) => {
      const now = new Date().toISOString();
      const viewId = id ?? `view-${randomUUID().slice(0, 8)}`;
      db.transaction(() => {
        const clash = db.prepare('SELECT id FROM saved_views WHERE kind = ? AND name = ? AND id <> ?').get(kind, name, viewId);
        if (clash) throw new ApiError('conflict', `a saved view named ${name} already exists`, { reason: 'duplicate_name', field: 'name' });
        if (id && !db.prepare('SELECT 1 FROM saved_views WHERE id = ?').get(id)) throw new ApiError('not_found', `saved view ${id} does not exist`, { id });
        db.prepare(
          `INSERT INTO saved_views (id, kind, name, query, columns, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, query = excluded.query, columns = excluded.columns, updated_at = excluded.updated_at`,
        ).run(viewId, kind, name, JSON.stringify(query), JSON.stringify(columns), now, now);
      })();
      return toView(db.prepare('SELECT * FROM saved_views WHERE id = ?').get(viewId) as ViewRow);
    },
    'views.delete': ({ id }) => {
      if (!db.prepare('DELETE FROM saved_views WHERE id = ?').run(id).changes) throw new ApiError('not_found', `saved view ${id} does not exist`, { id });
      return { ok: true };
    },
    'favorites.list': ({ kind }) => {
      const rows = (kind ? db.prepare('SELECT * FROM favorites WHERE kind = ? ORDER BY folder, created_at').all(kind) : db.prepare('SELECT * FROM favorites ORDER BY kind, folder, created_at').all()) as { kind: SavedView['kind']; resource_id: string; folder: string; created_at: string }[];
      const folders = new Map<string, number>();
      for (const r of rows) if (r.folder) folders.set(r.folder, (folders.get(r.folder) ?? 0) + 1);
      return { items: rows.map((r) => ({ kind: r.kind, id: r.resource_id, folder: r.folder, createdAt: r.created_at })), folders: [...folders].map(([folder, count]) => ({ folder, count })) };
    },
    'favorites.add': ({ kind, ids, folder }) => {
      const up = db.prepare('INSERT INTO favorites (kind, resource_id, folder, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, resource_id) DO UPDATE SET folder = excluded.folder');
      const now = new Date().toISOString();
      let added = 0;
      db.transaction(() => ids.forEach((id) => (added += up.run(kind, id, folder, now).changes)))();
      return { added };
    },
    'favorites.remove': ({ kind, ids }) => {
      const del = db.prepare('DELETE FROM favorites WHERE kind = ? AND resource_id = ?');
      let removed = 0;
      db.transaction(() => ids.forEach((id) => (removed += del.run(kind, id).changes)))();
      return { removed };
    },
    'system.capabilities': () => {
      const origin = db.prepare(`SELECT value FROM meta WHERE key = 'inventory.origin'`).get() as { value: string } | undefined;
      let inventoryOrigin: { kind: string; at: string } | null;
      try {
        inventoryOrigin = origin ? (JSON.parse(origin.value) as { kind: string; at: string }) : null;
      } catch {
        inventoryOrigin = null;
      }
      return { providers: d.drivers.capabilities(), inventoryOrigin };
    },
  };
}
