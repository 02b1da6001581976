import type { Migration } from '../migrate';

/** Settings, the audit log (with FTS5 search), the task journal and its stage history, and the vault's secrets. */
export const m0001: Migration = {
  id: 1,
  name: 'foundation',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,               -- JSON
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        params TEXT NOT NULL,              -- JSON, secrets masked
        result TEXT NOT NULL CHECK (result IN ('ok', 'error')),
        error_code TEXT,
        message TEXT,
        duration_ms REAL NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX audit_log_action ON audit_log (action, at);

      CREATE VIRTUAL TABLE audit_fts USING fts5(
        action, actor, target, params, message,
        content='audit_log', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER audit_log_ai AFTER INSERT ON audit_log BEGIN
        INSERT INTO audit_fts (rowid, action, actor, target, params, message)
        VALUES (new.id, new.action, new.actor, new.target, new.params, new.message);
      END;
      CREATE TRIGGER audit_log_ad AFTER DELETE ON audit_log BEGIN
        INSERT INTO audit_fts (audit_fts, rowid, action, actor, target, params, message)
        VALUES ('delete', old.id, old.action, old.actor, old.target, old.params, old.message);
      END;

      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        target_kind TEXT,
        target_id TEXT,
        target_name TEXT,
        status TEXT NOT NULL CHECK (status IN ('queued','running','cancelling','succeeded','failed','cancelled','interrupted')),
        stage TEXT NOT NULL,
        progress REAL NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL,              -- JSON
        result TEXT,                       -- JSON
        error TEXT,                        -- JSON {code, message, reason}
        attempts INTEGER NOT NULL DEFAULT 0,
        parent_id TEXT REFERENCES tasks (id) ON DELETE CASCADE,
        concurrency_key TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX tasks_status ON tasks (status, created_at);
      CREATE INDEX tasks_created ON tasks (created_at);
      CREATE INDEX tasks_parent ON tasks (parent_id);
      CREATE INDEX tasks_target ON tasks (target_kind, target_id);

      CREATE TABLE task_stages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('entered', 'completed', 'failed')),
        message TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX task_stages_task ON task_stages (task_id, id);

      CREATE TABLE secrets (
        id TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        ciphertext BLOB NOT NULL,          -- AES-256-GCM: iv | tag | data
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `);
  },
};
