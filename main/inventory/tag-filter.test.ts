import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runList, type ListSpec } from '../db/list-query';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { tempDir } from '../test/helpers';
import { SPECS, type Row } from './specs';
import { markVanished, upsertPage, type SyncRow } from './sync';

/**
 * Tag filters on guests read guest_tag_rowids (migration 0007), a mirror of the guest tags by rowid kept by triggers.
 * These tests hold the mirror to what `tags` says after every way tags and guests are written, and the list results to
 * those of the plain EXISTS over `tags` (the path every other kind takes), sparse and dense, with sorts, offsets and
 * other filters.
 */
let dir: { path: string; cleanup(): void };
let opened: OpenedDatabase;
let db: Database.Database;
beforeEach(() => {
  dir = tempDir();
  opened = openDatabase(dir.path, 't');
  db = opened.db;
});
afterEach(() => {
  opened.close();
  dir.cleanup();
});

const T1 = '2026-11-01T10:00:00.000Z';
const T2 = '2026-11-01T10:15:00.000Z';

/** The mirror as it is, and as `tags` joined to `guests` says it must be. */
function mirror() {
  const is = db.prepare('SELECT key, value, guest_rowid, source FROM guest_tag_rowids ORDER BY 1, 2, 3, 4').all();
  const should = db
    .prepare(`SELECT t.key, t.value, g.rowid AS guest_rowid, t.source FROM tags t JOIN guests g ON g.id = t.resource_id WHERE t.kind = 'guest' ORDER BY 1, 2, 3, 4`)
    .all();
  return { is, should };
}

const guest = (n: number, o: Partial<SyncRow> = {}): SyncRow => ({ external_id: `i-${n}`, name: `vm-${String(n).padStart(5, '0')}`, status: n % 4 ? 'running' : 'ready', vcpu: 1 + (n % 8), memory_mb: 1024 * (1 + (n % 16)), ...o });
const sync = (rows: SyncRow[], syncedAt = T1) => upsertPage(db, 'guests', rows, { provider: 'aws', syncedAt, newId: (_k, r) => `g-${r.external_id}` });

/** The guest list spec as every other kind has it: a correlated EXISTS over `tags`. */
const plain: ListSpec<Row> = { ...SPECS.guests.list, tags: { ...SPECS.guests.list.tags!, rowids: undefined } };
const ids = (spec: ListSpec<Row>, q: { filter: string[]; sort?: string; offset?: number; limit?: number; q?: string }) => {
  const r = runList<Row, Row>(db, spec, { limit: q.limit ?? 50, offset: q.offset ?? 0, filter: q.filter, ...(q.sort ? { sort: q.sort } : {}), ...(q.q ? { q: q.q } : {}) });
  return { total: r.total, ids: r.items.map((x) => x.id) };
};

describe('guest_tag_rowids', () => {
  it('follows tags and guests through inserts, updates, deletes in either order, tags before their guest, and rowid reuse', () => {
    sync([1, 2, 3].map((n) => guest(n, { tags: { env: 'prod', team: `t${n}` } })));
    const tag = db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, ?, ?, ?) ON CONFLICT (kind, resource_id, key, source) DO UPDATE SET value = excluded.value`);
    tag.run('g-i-1', 'env', 'staging', 'user'); // user and provider tag with the same key
    tag.run('g-i-1', 'owner', 'alice', 'user');
    tag.run('g-i-2', 'owner', 'bob', 'user');
    tag.run('g-i-2', 'owner', 'carol', 'user'); // value updated in place
    tag.run('g-i-9', 'owner', 'dave', 'user'); // before its guest exists
    tag.run('x-1', 'env', 'prod', 'user'); // another kind's tag is not mirrored
    db.prepare(`UPDATE tags SET kind = 'host' WHERE resource_id = 'x-1'`).run();
    expect(mirror().is).toEqual(mirror().should);
    expect(mirror().is).toHaveLength(9);

    sync([guest(9, { tags: { env: 'dev' } })]); // picks up the tag written before it
    expect(mirror().is).toEqual(mirror().should);
    expect(mirror().is).toContainEqual({ key: 'owner', value: 'dave', guest_rowid: 4, source: 'user' });

    // Tags change with a sync (provider tags replaced), one is deleted, a tag changes kind.
    sync([guest(1, { tags: { env: 'prod', team: 'new' } }), guest(2, { tags: {} })], T2);
    db.prepare(`DELETE FROM tags WHERE resource_id = 'g-i-1' AND key = 'owner'`).run();
    db.prepare(`UPDATE tags SET kind = 'disk' WHERE resource_id = 'g-i-2' AND key = 'owner'`).run();
    expect(mirror().is).toEqual(mirror().should);

    // The guest goes first, its tags stay behind (as a KVM guest delete leaves them); then the other order.
    db.prepare(`DELETE FROM guests WHERE id = 'g-i-9'`).run();
    expect(mirror().is).toEqual(mirror().should);
    expect(mirror().is.some((m) => (m as { guest_rowid: number }).guest_rowid === 4)).toBe(false);
    db.prepare(`DELETE FROM tags WHERE resource_id = 'g-i-3'`).run();
    db.prepare(`DELETE FROM guests WHERE id = 'g-i-3'`).run();
    expect(mirror().is).toEqual(mirror().should);
    // A guest whose id changes takes the tags of its new id (nothing renames ids today; the mirror follows if one does).
    db.prepare(`UPDATE guests SET id = 'g-i-9' WHERE id = 'g-i-2'`).run();
    expect(mirror().is).toEqual(mirror().should);
    expect(mirror().is).toContainEqual({ key: 'owner', value: 'dave', guest_rowid: 2, source: 'user' });
    db.prepare(`UPDATE guests SET id = 'g-i-2' WHERE id = 'g-i-9'`).run();
    expect(mirror().is).toEqual(mirror().should);

    // rowids 3 and 4 are free again: the next guests take them and must not inherit the tags left behind by g-i-9.
    sync([guest(10, { tags: { env: 'qa' } }), guest(11)]);
    expect(db.prepare(`SELECT rowid FROM guests WHERE id = 'g-i-11'`).pluck().get()).toBe(4);
    expect(mirror().is).toEqual(mirror().should);
    expect(ids(SPECS.guests.list, { filter: ['tag:owner=dave'] })).toEqual({ total: 0, ids: [] });

    // Vanished handling deletes tags and guests together.
    markVanished(db, 'guests', 'aws', {}, '2026-11-05T00:00:00.000Z', { now: '2026-11-05T00:00:00.000Z' });
    markVanished(db, 'guests', 'aws', {}, '2026-11-05T00:00:00.000Z', { now: '2026-11-07T00:00:00.000Z' });
    expect(db.prepare('SELECT count(*) FROM guests').pluck().get()).toBe(0);
    expect(mirror().is).toEqual(mirror().should);
    expect(mirror().is).toEqual([]);
  });

  it('is filled for the guests and tags already there when the migration runs', async () => {
    sync([1, 2].map((n) => guest(n, { tags: { env: 'prod' } })));
    // As a database written before 0007: mirror emptied, then the migration's backfill again.
    db.exec('DELETE FROM guest_tag_rowids');
    const { m0007 } = await import('../db/migrations/0007_guest_tag_rowids');
    for (const t of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%rowids%'`).pluck().all()) db.exec(`DROP TRIGGER ${t as string}`);
    db.exec('DROP TABLE guest_tag_rowids');
    m0007.up(db);
    expect(mirror().is).toEqual(mirror().should);
    expect(mirror().is).toHaveLength(2);
  });
});

describe('guest tag filters', () => {
  it('answer what the EXISTS over tags answers, for few and for many matches, with sorts, offsets and other filters', () => {
    // 6,000 guests: env=prod on 90% (more than the 5,000 that switch the plan), team=<n % 50>, a unique Name each,
    // owner on a few; some as user tags next to provider ones.
    const rows = Array.from({ length: 6000 }, (_, n) =>
      guest(n, { tags: { ...(n % 10 < 9 ? { env: 'prod' } : { env: n % 20 < 10 ? 'dev' : 'staging' }), team: `team-${n % 50}`, Name: `name-${n}`, ...(n % 997 === 0 ? { owner: 'alice' } : {}) } }),
    );
    for (let i = 0; i < rows.length; i += 1000) sync(rows.slice(i, i + 1000));
    const user = db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, ?, ?, 'user')`);
    for (let n = 0; n < 6000; n += 7) user.run(`g-i-${n}`, 'env', 'prod'); // duplicates a provider env=prod on most of them
    for (let n = 3; n < 6000; n += 301) user.run(`g-i-${n}`, 'pinned', 'yes');
    expect(db.prepare(`SELECT count(DISTINCT resource_id) FROM tags WHERE kind = 'guest' AND key = 'env' AND value = 'prod'`).pluck().get()).toBeGreaterThan(5000);

    const queries: { filter: string[]; sort?: string; offset?: number; q?: string }[] = [];
    for (const tagFilter of [['tag:env=prod'], ['tag:env'], ['tag:team=team-7'], ['tag:Name=name-4242'], ['tag:owner=alice'], ['tag:pinned'], ['tag:nope=x'], ['tag:env=prod', 'tag:team=team-3'], ['tag:env=prod', 'tag:pinned=yes']]) {
      for (const extra of [[], ['status:running'], ['vcpu:>=4']]) {
        for (const sort of [undefined, '-memory_mb', 'vcpu', '-created_at', 'os']) {
          for (const offset of [0, 40, 2500]) queries.push({ filter: [...tagFilter, ...extra], ...(sort ? { sort } : {}), offset });
        }
      }
    }
    queries.push({ filter: ['tag:env=prod'], q: 'vm-0004' }, { filter: ['tag:env=dev'], q: 'vm-00', offset: 100 });
    let nonEmpty = 0;
    for (const q of queries) {
      const want = ids(plain, q);
      expect({ q, ...ids(SPECS.guests.list, q) }).toEqual({ q, ...want });
      if (want.ids.length) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(queries.length / 2);
  });

  it('keeps the other kinds on the EXISTS over tags', () => {
    for (const s of Object.values(SPECS)) expect(!!s.list.tags?.rowids).toBe(s.kind === 'guests');
  });
});
