import type { Migration } from '../migrate';

/**
 * Reports (main/reports):
 * - report_schedules: a report (its spec as JSON), format and language, a cadence (daily/weekly/monthly/cron, as JSON)
 *   and the folder each run writes to; next_run_at is when it is due (a run missed while the app was closed is one
 *   whose next_run_at has passed at start: it runs once, then the next is computed from then).
 * - report_rate_card: one row, the price per month of a vCPU, a GiB of memory and a GiB of disk on own hosts.
 * - cloud_prices: the hourly price of a cloud instance type, per provider and region ('' = every region), entered by
 *   hand or stored by a driver whose provider's API gives prices (source).
 */
export const m0008: Migration = {
  id: 8,
  name: 'reports',
  up(db) {
    db.exec(`
      CREATE TABLE report_schedules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        report TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
        locale TEXT NOT NULL,
        bom INTEGER NOT NULL DEFAULT 0,
        cadence TEXT NOT NULL,
        folder TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_run_at TEXT,
        next_run_at TEXT,
        last_task_id TEXT,
        last_trigger TEXT
      ) STRICT;
      CREATE UNIQUE INDEX report_schedules_name ON report_schedules (name);

      CREATE TABLE report_rate_card (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        currency TEXT NOT NULL,
        vcpu_month REAL NOT NULL,
        memory_gb_month REAL NOT NULL,
        disk_gb_month REAL NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE cloud_prices (
        provider TEXT NOT NULL,
        region TEXT NOT NULL DEFAULT '',
        instance_type TEXT NOT NULL,
        hourly REAL NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('manual', 'provider')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (provider, region, instance_type)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
