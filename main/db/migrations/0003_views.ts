import type { Migration } from '../migrate';

/** The user's own list state: saved views (query + columns) and favourites with folders. */
export const m0003: Migration = {
  id: 3,
  name: 'views_favorites',
  up(db) {
    db.exec(`
      CREATE TABLE saved_views (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        query TEXT NOT NULL,      -- JSON {sort, q, filter}
        columns TEXT NOT NULL,    -- JSON string[]
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (kind, name)
      ) STRICT;

      CREATE TABLE favorites (
        kind TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        folder TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (kind, resource_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX favorites_folder ON favorites (kind, folder);
    `);
  },
};
