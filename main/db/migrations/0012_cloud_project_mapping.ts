import type { Migration } from '../migrate';

/**
 * Cloud tags mapped to projects (main/clouds/projects.ts):
 * - cloud_accounts.project_mapping: the account's mapping as JSON (`{ tagKey, defaultProjectId, overrides }`) or NULL.
 * - project_source on guests and disks: who set project_id. 'user' (a move, a create with a project) is never changed
 *   by a sync; 'mapped' is the account's mapping's, recomputed at every sync; NULL with no project is free to map.
 *   Rows that already have a project were set by a user (no mapping existed before this migration).
 */
export const m0012: Migration = {
  id: 12,
  name: 'cloud_project_mapping',
  up(db) {
    db.exec(`
      ALTER TABLE cloud_accounts ADD COLUMN project_mapping TEXT;
      ALTER TABLE guests ADD COLUMN project_source TEXT CHECK (project_source IN ('user', 'mapped'));
      ALTER TABLE disks ADD COLUMN project_source TEXT CHECK (project_source IN ('user', 'mapped'));
      UPDATE guests SET project_source = 'user' WHERE project_id IS NOT NULL;
      UPDATE disks SET project_source = 'user' WHERE project_id IS NOT NULL;
    `);
  },
};
