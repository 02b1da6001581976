import type { Migration } from '../migrate';

/**
 * Monitoring (main/monitoring):
 * - metric_series: one row per (resource kind, resource id, metric); the samples below name it by its integer id.
 * - metric_raw: one value per series and Unix-ms timestamp (WITHOUT ROWID: the key is the row, ~20 bytes a sample).
 * - metric_1m / metric_1h: rollups per series and bucket start (ms) — min, max, sum and count (avg = sum / count, exact
 *   however the bucket was filled) and the last value with its timestamp. Updated as raw samples arrive, so they survive
 *   the raw retention.
 * - metric_latest: the newest value of every series (counters included, which are kept here only: their rates are the
 *   series that get stored), for top-N, heat maps, the Prometheus exposition and the next rate.
 * - metric_sources: per source (a KVM host's agent): the agent's last sequence number read, samples the agent's ring
 *   dropped before they were collected, and the last collection's time and error.
 * - alert_rules: a metric, scope (all / a resource / a tag / a project, as JSON), condition, threshold, duration and
 *   severity, the channels it notifies; built-in rules (host offline) cannot be deleted.
 * - alerts: one row per rule and resource each time it fires, resolved_at set when it clears (the history).
 * - alert_deliveries: each notification sent or failed, with the error (no silent drops).
 * - alert_silences: no notifications for a rule and/or resource until a time.
 * - alert_channels: SMTP and webhook settings (the SMTP password lives in the vault).
 */
export const m0010: Migration = {
  id: 10,
  name: 'monitoring',
  up(db) {
    db.exec(`
      CREATE TABLE metric_series (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        metric TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX metric_series_key ON metric_series (kind, resource_id, metric);
      CREATE INDEX metric_series_metric ON metric_series (metric, kind);

      CREATE TABLE metric_raw (
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (series_id, ts)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE metric_1m (
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        sum REAL NOT NULL,
        count INTEGER NOT NULL,
        last REAL NOT NULL,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (series_id, ts)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE metric_1h (
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        sum REAL NOT NULL,
        count INTEGER NOT NULL,
        last REAL NOT NULL,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (series_id, ts)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE metric_latest (
        series_id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        value REAL NOT NULL
      ) STRICT;

      CREATE TABLE metric_sources (
        source_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        dropped_total INTEGER NOT NULL DEFAULT 0,
        last_dropped_at TEXT,
        interval_ms INTEGER,
        samples_total INTEGER NOT NULL DEFAULT 0,
        last_collect_at TEXT,
        last_sample_ts INTEGER,
        last_error TEXT
      ) STRICT;

      CREATE TABLE alert_rules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        metric TEXT NOT NULL,
        scope TEXT NOT NULL,
        condition TEXT NOT NULL CHECK (condition IN ('>', '>=', '<', '<=')),
        threshold REAL NOT NULL,
        duration_s INTEGER NOT NULL CHECK (duration_s >= 0),
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        channels TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        resource_name TEXT NOT NULL,
        severity TEXT NOT NULL,
        value REAL,
        fired_at TEXT NOT NULL,
        resolved_at TEXT,
        message TEXT NOT NULL
      ) STRICT;
      CREATE INDEX alerts_open ON alerts (rule_id, resource_id) WHERE resolved_at IS NULL;
      CREATE INDEX alerts_fired ON alerts (fired_at);

      CREATE TABLE alert_deliveries (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL,
        event TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);

      CREATE TABLE alert_silences (
        id TEXT PRIMARY KEY,
        rule_id TEXT,
        resource_id TEXT,
        until TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE alert_channels (
        id TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `);
  },
};
