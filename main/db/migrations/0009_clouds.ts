import type { Migration } from '../migrate';

/**
 * Public clouds (main/clouds):
 * - cloud_accounts: the endpoint override (an SDK pointed elsewhere than the cloud's own endpoint: a proxy, a private
 *   endpoint, the loopback fakes of the tests) and the outcome of the last sync per region (`{ region: { ok, error,
 *   code, at } }`), since one region can fail while the others sync.
 * - cloud_account_id and region_id on the kinds a cloud lists per region (VPCs as wires, subnets as networks, disks,
 *   snapshots, images, security groups, EIPs, key pairs), so that a sync says what vanished within one account and
 *   region, and removing an account removes what it listed.
 * - Unique names stay unique for what Skydeck itself manages (local, kvm): two regions of a cloud may both have a
 *   subnet or key pair named "default".
 */
const KINDS = ['wires', 'networks', 'disks', 'snapshots', 'images', 'security_groups', 'keypairs', 'eips'];

export const m0009: Migration = {
  id: 9,
  name: 'clouds',
  up(db) {
    db.exec(`
      ALTER TABLE cloud_accounts ADD COLUMN endpoint TEXT;
      ALTER TABLE cloud_accounts ADD COLUMN region_status TEXT NOT NULL DEFAULT '{}';
    `);
    for (const t of KINDS) {
      if (t !== 'eips') db.exec(`ALTER TABLE ${t} ADD COLUMN cloud_account_id TEXT REFERENCES cloud_accounts (id) ON DELETE CASCADE`);
      db.exec(`ALTER TABLE ${t} ADD COLUMN region_id TEXT REFERENCES regions (id) ON DELETE CASCADE`);
      db.exec(`CREATE INDEX ${t}_cloud_account ON ${t} (cloud_account_id) WHERE cloud_account_id IS NOT NULL`);
    }
    db.exec(`
      DROP INDEX wires_unique_name;
      CREATE UNIQUE INDEX wires_unique_name ON wires (coalesce(zone_id, ''), name) WHERE provider IN ('local', 'kvm');
      DROP INDEX networks_unique_name;
      CREATE UNIQUE INDEX networks_unique_name ON networks (name) WHERE provider IN ('local', 'kvm');
      DROP INDEX keypairs_unique_name;
      CREATE UNIQUE INDEX keypairs_unique_name ON keypairs (name) WHERE provider IN ('local', 'kvm');
    `);
  },
};
