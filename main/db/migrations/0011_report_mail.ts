import type { Migration } from '../migrate';

/**
 * Mailing scheduled reports (main/reports/schedules.ts): report_schedules gains its recipients (a JSON array of e-mail
 * addresses, '[]' = no mail) and the last delivery: its status ('sending', 'sent', 'failed'), why it failed, when, and
 * the run's task (so that a run is mailed once).
 */
export const m0011: Migration = {
  id: 11,
  name: 'report_mail',
  up(db) {
    db.exec(`
      ALTER TABLE report_schedules ADD COLUMN recipients TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE report_schedules ADD COLUMN delivery_status TEXT;
      ALTER TABLE report_schedules ADD COLUMN delivery_error TEXT;
      ALTER TABLE report_schedules ADD COLUMN delivery_at TEXT;
      ALTER TABLE report_schedules ADD COLUMN delivery_task_id TEXT;
    `);
  },
};
