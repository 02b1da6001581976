import type { Migration } from '../migrate';

/**
 * Indexes measured against 10k hosts / 100k guests (bench inventory-query): the dashboard's per-project roll-up reads a
 * covering index instead of 100k rows; staleness and sync age are answered from small partial/ordered indexes; the
 * common "status + sort by name" page and the sort by disk size walk an index instead of sorting.
 */
export const m0004: Migration = {
  id: 4,
  name: 'list_indexes',
  up(db) {
    const stale = ['projects', 'cloud_accounts', 'regions', 'zones', 'hosts', 'storages', 'wires', 'networks', 'guests', 'disks', 'snapshots', 'images', 'security_groups', 'eips', 'keypairs'];
    db.exec(`
      CREATE INDEX guests_project_rollup ON guests (project_id, vcpu, memory_mb);
      CREATE INDEX guests_status_name ON guests (status, name);
      CREATE INDEX guests_disk ON guests (disk_gb);
      ${stale.map((t) => `CREATE INDEX ${t}_stale ON ${t} (stale) WHERE stale = 1;\n      CREATE INDEX ${t}_synced ON ${t} (synced_at);`).join('\n      ')}
    `);
  },
};
