import type { Migration } from '../migrate';

/**
 * KVM hosts over SSH: how to reach each host (address, user, auth method, jump host, trusted host key, libvirt URI);
 * the secrets themselves live in the vault under `host:<id>:auth` and `host:<id>:jump`. What the agent reported
 * (facts) and where it is installed. Host keys the admin has trusted, by address, for trust-on-first-use.
 *
 * libvirt names are unique per host, not per project: VMs adopted from several hosts may share a name, so the unique
 * name rule for KVM guests is per host (Skydeck's own `local` guests keep the per-project rule).
 */
export const m0005: Migration = {
  id: 5,
  name: 'kvm',
  up(db) {
    db.exec(`
      CREATE TABLE host_links (
        host_id TEXT PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        port INTEGER NOT NULL,
        username TEXT NOT NULL,
        auth_method TEXT NOT NULL CHECK (auth_method IN ('password', 'key', 'agent')),
        jump_json TEXT,
        host_key_fingerprint TEXT,
        host_key_algorithm TEXT,
        libvirt_uri TEXT NOT NULL DEFAULT 'qemu:///system',
        install_dir TEXT,
        node_path TEXT,
        agent_version TEXT,
        agent_supervisor TEXT,
        facts_json TEXT,
        facts_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE known_host_keys (
        address TEXT NOT NULL,
        port INTEGER NOT NULL,
        algorithm TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        trusted_at TEXT NOT NULL,
        PRIMARY KEY (address, port)
      ) STRICT, WITHOUT ROWID;

      DROP INDEX guests_unique_name;
      CREATE UNIQUE INDEX guests_unique_name ON guests (coalesce(project_id, ''), name) WHERE provider = 'local';
      CREATE UNIQUE INDEX guests_unique_host_name ON guests (host_id, name) WHERE provider = 'kvm';
    `);
  },
};
