import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { ListQuery, ListResult } from '@shared/list';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import type { Tag } from '@shared/contract/inventory/base';
import { runList } from '../db/list-query';
import { SPECS, type Row } from './specs';

/** Reads of every inventory kind: lists (paged, sorted, filtered, searched on the server) and single rows, with tags. */
export class InventoryRepo {
  constructor(readonly db: Database.Database) {}

  private tagsFor(tagKind: string, ids: string[]): Map<string, Tag[]> {
    const out = new Map<string, Tag[]>();
    if (!ids.length) return out;
    const rows = this.db
      .prepare(`SELECT resource_id, key, value, source FROM tags WHERE kind = ? AND resource_id IN (${ids.map(() => '?').join(',')}) ORDER BY resource_id, key`)
      .all(tagKind, ...ids) as { resource_id: string; key: string; value: string; source: 'user' | 'provider' }[];
    for (const r of rows) {
      const l = out.get(r.resource_id) ?? [];
      l.push({ key: r.key, value: r.value, source: r.source });
      out.set(r.resource_id, l);
    }
    return out;
  }

  private mapPage(kind: ResourceKind, rows: Row[]): unknown[] {
    const s = SPECS[kind];
    const ids = rows.map((r) => r.id);
    const tags = this.tagsFor(s.tagKind, ids);
    const extras = s.extras ? s.extras(this.db, ids) : {};
    return rows.map((r) => s.map(r, tags.get(r.id) ?? [], extras));
  }

  list(kind: ResourceKind, q: ListQuery): ListResult<unknown> {
    const page = runList<Row, Row>(this.db, SPECS[kind].list, q);
    return { items: this.mapPage(kind, page.items), total: page.total };
  }

  row(kind: ResourceKind, id: string): Row | undefined {
    return this.db.prepare(`SELECT * FROM ${SPECS[kind].table} WHERE id = ?`).get(id) as Row | undefined;
  }

  get(kind: ResourceKind, id: string): unknown {
    const r = this.row(kind, id);
    if (!r) throw new ApiError('not_found', `${kind} ${id} does not exist`, { kind, id });
    return this.mapPage(kind, [r])[0];
  }

  mustExist(kind: ResourceKind, id: string, field: string): Row {
    const r = this.row(kind, id);
    if (!r) throw new ApiError('validation', `${field}: no ${kind} ${id}`, { issues: [{ path: field, message: `no ${kind} with id ${id}`, code: 'not_found' }] });
    return r;
  }
}
