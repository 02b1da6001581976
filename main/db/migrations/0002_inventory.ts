import type { Migration } from '../migrate';

// Frozen with the migration: the columns every inventory table starts with.
const COMMON = `
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  provider TEXT NOT NULL DEFAULT 'local',
  external_id TEXT,
  status TEXT NOT NULL,
  read_only INTEGER NOT NULL DEFAULT 0,
  stale INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  synced_at TEXT`;

const table = (name: string, cols: string, extra = '') => `
  CREATE TABLE ${name} (${COMMON},${cols}${extra ? `,\n${extra}` : ''}) STRICT;
  CREATE INDEX ${name}_name ON ${name} (name);
  CREATE INDEX ${name}_status ON ${name} (status);
  CREATE INDEX ${name}_created ON ${name} (created_at);
  CREATE UNIQUE INDEX ${name}_external ON ${name} (provider, external_id) WHERE external_id IS NOT NULL;`;

/** External-content FTS5 over some columns of a table, kept in step by triggers. */
const fts = (t: string, cols: string[]) => `
  CREATE VIRTUAL TABLE ${t}_fts USING fts5(${cols.join(', ')}, content='${t}', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2 tokenchars ''.-_:''');
  CREATE TRIGGER ${t}_fts_ai AFTER INSERT ON ${t} BEGIN
    INSERT INTO ${t}_fts (rowid, ${cols.join(', ')}) VALUES (new.rowid, ${cols.map((c) => `new.${c}`).join(', ')});
  END;
  CREATE TRIGGER ${t}_fts_ad AFTER DELETE ON ${t} BEGIN
    INSERT INTO ${t}_fts (${t}_fts, rowid, ${cols.join(', ')}) VALUES ('delete', old.rowid, ${cols.map((c) => `old.${c}`).join(', ')});
  END;
  CREATE TRIGGER ${t}_fts_au AFTER UPDATE OF ${cols.join(', ')} ON ${t} BEGIN
    INSERT INTO ${t}_fts (${t}_fts, rowid, ${cols.join(', ')}) VALUES ('delete', old.rowid, ${cols.map((c) => `old.${c}`).join(', ')});
    INSERT INTO ${t}_fts (rowid, ${cols.join(', ')}) VALUES (new.rowid, ${cols.map((c) => `new.${c}`).join(', ')});
  END;`;

/**
 * The region controller's inventory: projects and quotas, cloud accounts, regions, zones, hosts, storages, wires and
 * networks with IP allocation, guests with NICs, disks, snapshots, images, security groups, EIPs, key pairs, and tags.
 * Host allocation (CPU, memory, storage, guest count) is kept by triggers on guests, in the same transaction as the
 * change, so it is never out of step and sorts at 10k hosts without aggregation.
 */
export const m0002: Migration = {
  id: 2,
  name: 'inventory',
  up(db) {
    db.exec(`
      ${table('projects', `
        description TEXT NOT NULL DEFAULT '',
        quota_guests INTEGER, quota_vcpu INTEGER, quota_memory_mb INTEGER, quota_storage_gb INTEGER, quota_ips INTEGER`)}
      CREATE UNIQUE INDEX projects_unique_name ON projects (name);

      CREATE TABLE quota_reservations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        task_id TEXT REFERENCES tasks (id) ON DELETE CASCADE,
        guests INTEGER NOT NULL DEFAULT 0, vcpu INTEGER NOT NULL DEFAULT 0, memory_mb INTEGER NOT NULL DEFAULT 0,
        storage_gb REAL NOT NULL DEFAULT 0, ips INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX quota_reservations_project ON quota_reservations (project_id);
      CREATE INDEX quota_reservations_task ON quota_reservations (task_id);

      ${table('cloud_accounts', `
        regions TEXT NOT NULL DEFAULT '[]',
        health TEXT NOT NULL DEFAULT 'unknown',
        last_error TEXT,
        last_sync_at TEXT,
        sync_interval_minutes INTEGER NOT NULL DEFAULT 15`)}

      ${table('regions', `cloud_account_id TEXT REFERENCES cloud_accounts (id) ON DELETE CASCADE`)}
      ${table('zones', `region_id TEXT REFERENCES regions (id) ON DELETE SET NULL, description TEXT NOT NULL DEFAULT ''`)}
      CREATE UNIQUE INDEX zones_unique_name ON zones (coalesce(region_id, ''), name);

      ${table('hosts', `
        zone_id TEXT REFERENCES zones (id) ON DELETE SET NULL,
        address TEXT NOT NULL DEFAULT '',
        hypervisor TEXT NOT NULL DEFAULT 'kvm',
        enabled INTEGER NOT NULL DEFAULT 1,
        maintenance INTEGER NOT NULL DEFAULT 0,
        status_reason TEXT,
        cpu_model TEXT NOT NULL DEFAULT '',
        cpu_cores INTEGER NOT NULL DEFAULT 0,
        memory_mb INTEGER NOT NULL DEFAULT 0,
        storage_gb REAL NOT NULL DEFAULT 0,
        cpu_overcommit REAL NOT NULL DEFAULT 4,
        memory_overcommit REAL NOT NULL DEFAULT 1,
        storage_overcommit REAL NOT NULL DEFAULT 1,
        cpu_allocated INTEGER NOT NULL DEFAULT 0,
        memory_allocated_mb INTEGER NOT NULL DEFAULT 0,
        storage_allocated_gb REAL NOT NULL DEFAULT 0,
        guest_count INTEGER NOT NULL DEFAULT 0,
        agent_version TEXT,
        last_seen_at TEXT`)}
      CREATE UNIQUE INDEX hosts_unique_name ON hosts (name);
      CREATE INDEX hosts_zone ON hosts (zone_id);
      CREATE INDEX hosts_cpu_allocated ON hosts (cpu_allocated);
      CREATE INDEX hosts_memory_allocated ON hosts (memory_allocated_mb);
      ${fts('hosts', ['name', 'address', 'cpu_model'])}

      ${table('storages', `
        zone_id TEXT REFERENCES zones (id) ON DELETE SET NULL,
        host_id TEXT REFERENCES hosts (id) ON DELETE CASCADE,
        type TEXT NOT NULL DEFAULT 'local',
        capacity_gb REAL NOT NULL DEFAULT 0,
        used_gb REAL NOT NULL DEFAULT 0`)}
      CREATE INDEX storages_host ON storages (host_id);

      ${table('wires', `zone_id TEXT REFERENCES zones (id) ON DELETE RESTRICT, bandwidth_mbps INTEGER NOT NULL DEFAULT 10000, description TEXT NOT NULL DEFAULT ''`)}
      CREATE UNIQUE INDEX wires_unique_name ON wires (coalesce(zone_id, ''), name);

      ${table('networks', `
        wire_id TEXT REFERENCES wires (id) ON DELETE RESTRICT,
        project_id TEXT REFERENCES projects (id) ON DELETE SET NULL,
        cidr TEXT NOT NULL,
        net_first INTEGER NOT NULL,
        net_last INTEGER NOT NULL,
        gateway TEXT,
        vlan INTEGER,
        dns TEXT NOT NULL DEFAULT '[]',
        ip_start TEXT NOT NULL,
        ip_end TEXT NOT NULL,
        ip_start_int INTEGER NOT NULL,
        ip_end_int INTEGER NOT NULL`)}
      CREATE UNIQUE INDEX networks_unique_name ON networks (name);
      CREATE INDEX networks_wire ON networks (wire_id, net_first);

      CREATE TABLE ip_allocations (
        network_id TEXT NOT NULL REFERENCES networks (id) ON DELETE RESTRICT,
        ip_int INTEGER NOT NULL,
        ip TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('allocated', 'reserved')),
        owner_kind TEXT,
        owner_id TEXT,
        project_id TEXT REFERENCES projects (id) ON DELETE SET NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (network_id, ip_int)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX ip_allocations_owner ON ip_allocations (owner_kind, owner_id);
      CREATE INDEX ip_allocations_project ON ip_allocations (project_id);

      ${table('guests', `
        host_id TEXT REFERENCES hosts (id) ON DELETE RESTRICT,
        project_id TEXT REFERENCES projects (id) ON DELETE RESTRICT,
        zone_id TEXT REFERENCES zones (id) ON DELETE SET NULL,
        cloud_account_id TEXT REFERENCES cloud_accounts (id) ON DELETE CASCADE,
        vcpu INTEGER NOT NULL DEFAULT 1,
        memory_mb INTEGER NOT NULL DEFAULT 512,
        disk_gb REAL NOT NULL DEFAULT 0,
        os TEXT NOT NULL DEFAULT '',
        instance_type TEXT,
        boot_order TEXT NOT NULL DEFAULT '["hd"]',
        ips TEXT NOT NULL DEFAULT '',
        vnc_port INTEGER`)}
      CREATE INDEX guests_host ON guests (host_id);
      CREATE INDEX guests_project ON guests (project_id);
      CREATE INDEX guests_zone ON guests (zone_id);
      CREATE INDEX guests_account ON guests (cloud_account_id);
      CREATE INDEX guests_vcpu ON guests (vcpu);
      CREATE INDEX guests_memory ON guests (memory_mb);
      CREATE INDEX guests_provider ON guests (provider, status);
      CREATE UNIQUE INDEX guests_unique_name ON guests (coalesce(project_id, ''), name) WHERE provider IN ('local', 'kvm');
      ${fts('guests', ['name', 'ips', 'os', 'external_id'])}

      -- Host allocation follows its guests, in the same transaction.
      CREATE TRIGGER guests_alloc_ai AFTER INSERT ON guests WHEN new.host_id IS NOT NULL BEGIN
        UPDATE hosts SET cpu_allocated = cpu_allocated + new.vcpu, memory_allocated_mb = memory_allocated_mb + new.memory_mb,
          storage_allocated_gb = storage_allocated_gb + new.disk_gb, guest_count = guest_count + 1 WHERE id = new.host_id;
      END;
      CREATE TRIGGER guests_alloc_ad AFTER DELETE ON guests WHEN old.host_id IS NOT NULL BEGIN
        UPDATE hosts SET cpu_allocated = cpu_allocated - old.vcpu, memory_allocated_mb = memory_allocated_mb - old.memory_mb,
          storage_allocated_gb = storage_allocated_gb - old.disk_gb, guest_count = guest_count - 1 WHERE id = old.host_id;
      END;
      CREATE TRIGGER guests_alloc_au AFTER UPDATE OF host_id, vcpu, memory_mb, disk_gb ON guests BEGIN
        UPDATE hosts SET cpu_allocated = cpu_allocated - old.vcpu, memory_allocated_mb = memory_allocated_mb - old.memory_mb,
          storage_allocated_gb = storage_allocated_gb - old.disk_gb, guest_count = guest_count - 1 WHERE id = old.host_id;
        UPDATE hosts SET cpu_allocated = cpu_allocated + new.vcpu, memory_allocated_mb = memory_allocated_mb + new.memory_mb,
          storage_allocated_gb = storage_allocated_gb + new.disk_gb, guest_count = guest_count + 1 WHERE id = new.host_id;
      END;

      CREATE TABLE guest_nics (
        guest_id TEXT NOT NULL REFERENCES guests (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        mac TEXT NOT NULL UNIQUE,
        ip TEXT,
        network_id TEXT REFERENCES networks (id) ON DELETE SET NULL,
        bridge TEXT,
        PRIMARY KEY (guest_id, idx)
      ) STRICT, WITHOUT ROWID;

      ${table('disks', `
        guest_id TEXT REFERENCES guests (id) ON DELETE SET NULL,
        storage_id TEXT REFERENCES storages (id) ON DELETE RESTRICT,
        project_id TEXT REFERENCES projects (id) ON DELETE RESTRICT,
        size_gb REAL NOT NULL DEFAULT 0,
        format TEXT NOT NULL DEFAULT 'qcow2',
        idx INTEGER,
        bootable INTEGER NOT NULL DEFAULT 0`)}
      CREATE INDEX disks_guest ON disks (guest_id);
      CREATE INDEX disks_project ON disks (project_id);

      ${table('snapshots', `disk_id TEXT REFERENCES disks (id) ON DELETE CASCADE, guest_id TEXT REFERENCES guests (id) ON DELETE SET NULL, size_gb REAL NOT NULL DEFAULT 0`)}
      ${table('images', `os TEXT NOT NULL DEFAULT '', format TEXT NOT NULL DEFAULT 'qcow2', size_gb REAL NOT NULL DEFAULT 0, min_disk_gb REAL NOT NULL DEFAULT 0`)}
      ${table('security_groups', `project_id TEXT REFERENCES projects (id) ON DELETE RESTRICT, description TEXT NOT NULL DEFAULT ''`)}
      CREATE TABLE security_group_rules (
        id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        protocol TEXT NOT NULL,
        ports TEXT NOT NULL,
        cidr TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('allow', 'deny')),
        priority INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT ''
      ) STRICT;
      CREATE INDEX security_group_rules_group ON security_group_rules (group_id, priority);
      ${table('eips', `ip TEXT NOT NULL, bandwidth_mbps INTEGER NOT NULL DEFAULT 100, guest_id TEXT REFERENCES guests (id) ON DELETE SET NULL, cloud_account_id TEXT REFERENCES cloud_accounts (id) ON DELETE CASCADE`)}
      ${table('keypairs', `fingerprint TEXT NOT NULL, public_key TEXT NOT NULL, project_id TEXT REFERENCES projects (id) ON DELETE SET NULL`)}
      CREATE UNIQUE INDEX keypairs_unique_name ON keypairs (name);

      CREATE TABLE tags (
        kind TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('user', 'provider')),
        PRIMARY KEY (kind, resource_id, key, source)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX tags_key_value ON tags (kind, key, value);
    `);
  },
};
