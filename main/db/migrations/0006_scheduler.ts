import type { Migration } from '../migrate';

/**
 * The scheduler (main/scheduler): what it needs beyond the inventory.
 * - host_wires: which wires (L2 segments) reach a host, so that a network is reachable from the hosts whose wires carry
 *   it. Filled from each KVM host's bridges at sync (bridge names the bridge on the host). A host with no rows is
 *   "unknown": not rejected for networks, but scored lower.
 * - image_hosts: hosts that hold an image (a KVM volume found in a pool at sync). An image with no rows is taken to be
 *   obtainable on any host.
 * - instance_groups and their guests: anti-affinity (at most per_host_limit members per host) or affinity (together).
 *   Members are guest ids, written before the guest row may exist; a deleted guest leaves its groups by trigger.
 * - sched_reservations: pending usage of placed guests while their creating task runs. Per guest a host row (vCPU,
 *   memory, storage), per disk a storage row, per NIC an address row. A host row stops counting once its guest row sits
 *   on that host (the triggers on guests then count it in hosts.*_allocated); an address row once the guest holds an
 *   address in that network; storage rows until the reservation ends (storages.used_gb only changes at the next sync).
 *   A reservation ends when its task ends (engine onFinish, in the same transaction), when released, or, while bound
 *   to no task, at expires_at. task_id has no foreign key: a reservation is made before its task is submitted.
 */
export const m0006: Migration = {
  id: 6,
  name: 'scheduler',
  up(db) {
    db.exec(`
      CREATE TABLE host_wires (
        host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        wire_id TEXT NOT NULL REFERENCES wires (id) ON DELETE CASCADE,
        bridge TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (host_id, wire_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX host_wires_wire ON host_wires (wire_id);

      CREATE TABLE image_hosts (
        image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
        host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        path TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (image_id, host_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX image_hosts_host ON image_hosts (host_id);

      CREATE TABLE instance_groups (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        project_id TEXT REFERENCES projects (id) ON DELETE CASCADE,
        policy TEXT NOT NULL CHECK (policy IN ('anti-affinity', 'affinity')),
        per_host_limit INTEGER NOT NULL DEFAULT 1 CHECK (per_host_limit >= 1),
        force INTEGER NOT NULL DEFAULT 1,
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX instance_groups_unique_name ON instance_groups (coalesce(project_id, ''), name);

      CREATE TABLE instance_group_guests (
        group_id TEXT NOT NULL REFERENCES instance_groups (id) ON DELETE CASCADE,
        guest_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (group_id, guest_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX instance_group_guests_guest ON instance_group_guests (guest_id);
      CREATE TRIGGER guests_instance_groups_ad AFTER DELETE ON guests BEGIN
        DELETE FROM instance_group_guests WHERE guest_id = old.id;
      END;

      CREATE TABLE sched_reservations (
        id TEXT PRIMARY KEY,
        task_id TEXT,
        project_id TEXT,
        group_id TEXT,
        count INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT
      ) STRICT;
      CREATE INDEX sched_reservations_task ON sched_reservations (task_id) WHERE task_id IS NOT NULL;
      CREATE INDEX sched_reservations_expires ON sched_reservations (expires_at) WHERE expires_at IS NOT NULL;

      CREATE TABLE sched_host_reservations (
        reservation_id TEXT NOT NULL REFERENCES sched_reservations (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        guest_id TEXT,
        project_id TEXT,
        group_id TEXT,
        vcpu INTEGER NOT NULL,
        memory_mb INTEGER NOT NULL,
        storage_gb REAL NOT NULL,
        PRIMARY KEY (reservation_id, idx)
      ) STRICT;
      CREATE INDEX sched_host_reservations_host ON sched_host_reservations (host_id);
      CREATE INDEX sched_host_reservations_guest ON sched_host_reservations (guest_id) WHERE guest_id IS NOT NULL;

      CREATE TABLE sched_storage_reservations (
        reservation_id TEXT NOT NULL REFERENCES sched_reservations (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        disk INTEGER NOT NULL,
        storage_id TEXT NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
        size_gb REAL NOT NULL,
        PRIMARY KEY (reservation_id, idx, disk)
      ) STRICT;
      CREATE INDEX sched_storage_reservations_storage ON sched_storage_reservations (storage_id);

      CREATE TABLE sched_ip_reservations (
        reservation_id TEXT NOT NULL REFERENCES sched_reservations (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        nic INTEGER NOT NULL,
        network_id TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
        guest_id TEXT,
        project_id TEXT,
        PRIMARY KEY (reservation_id, idx, nic)
      ) STRICT;
      CREATE INDEX sched_ip_reservations_network ON sched_ip_reservations (network_id);
    `);
  },
};
