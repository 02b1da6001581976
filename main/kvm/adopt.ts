import type Database from 'better-sqlite3';
import type { DomainInfo, DomainState, HostFacts, SnapshotInfo, StoragePoolInfo } from '@shared/agent/protocol';
import { GUEST_TRANSITIONS } from '@shared/contract/inventory/status';
import { markVanished, upsertPage, type SyncNic, type SyncRow } from '../inventory/sync';

/**
 * What a host's agent reports, folded into the inventory: the host's facts onto its row, storage pools as storages,
 * domains as guests (adopted as they are, never touched), their disks and snapshots. Runs after every bootstrap and sync;
 * a later sync reconciles drift (a VM started from the host's shell becomes `running`). What the host no longer lists
 * goes through markVanished (guests stay `vanished` for a grace period before they are dropped).
 */

const GIB = 1024 ** 3;

/** libvirt UUIDs are unique per host, not across hosts (clones keep them; libvirt's test driver has the same on every host). */
export const guestExternalId = (hostId: string, uuid: string) => `${hostId}/${uuid}`;
export const diskExternalId = (hostId: string, uuid: string, target: string) => `${hostId}/${uuid}/${target}`;
export const poolExternalId = (hostId: string, pool: string) => `${hostId}/pool/${pool}`;
export const snapshotExternalId = (hostId: string, uuid: string, name: string) => `${hostId}/${uuid}/snapshot/${name}`;

const TRANSITIONAL = new Set(Object.values(GUEST_TRANSITIONS).map((t) => t.transitional).concat(['creating']));

/** The guest status that a libvirt domain state means. */
export function guestStatusOf(state: DomainState): string {
  switch (state) {
    case 'running':
    case 'blocked':
      return 'running';
    case 'paused':
    case 'pmsuspended':
      return 'suspended';
    case 'shutdown':
      return 'stopping';
    case 'shutoff':
    case 'crashed':
      return 'ready';
    default:
      return 'unknown';
  }
}

function storageType(pool: StoragePoolInfo): string {
  switch (pool.type) {
    case 'logical':
      return 'lvm';
    case 'netfs':
      return 'nfs';
    case 'rbd':
      return 'rbd';
    default:
      return 'local';
  }
}

export interface HostSnapshot {
  facts: HostFacts;
  domains: DomainInfo[];
  /** Snapshots of the domains that have any, by uuid. */
  snapshots: Map<string, SnapshotInfo[]>;
  agentVersion: string | null;
}

export interface AdoptResult {
  guests: { inserted: number; updated: number; unchanged: number; vanished: number };
  storages: number;
  disks: number;
  snapshots: number;
  changedGuestIds: string[];
}

/** Folds one complete listing of a host into the inventory, in one transaction. */
export function adoptHost(db: Database.Database, hostId: string, s: HostSnapshot, startedAt: string): AdoptResult {
  const now = new Date().toISOString();
  const host = db.prepare('SELECT zone_id FROM hosts WHERE id = ?').get(hostId) as { zone_id: string | null } | undefined;
  if (!host) throw new Error(`host ${hostId} is gone`);
  const f = s.facts;
  const pools = f.pools.filter((p) => p.active);
  const out: AdoptResult = { guests: { inserted: 0, updated: 0, unchanged: 0, vanished: 0 }, storages: 0, disks: 0, snapshots: 0, changedGuestIds: [] };

  db.transaction(() => {
    db.prepare(
      `UPDATE hosts SET cpu_model = ?, cpu_cores = ?, memory_mb = ?, storage_gb = ?, agent_version = coalesce(?, agent_version), hypervisor = 'kvm',
         last_seen_at = ?, synced_at = ?, updated_at = ?, stale = 0 WHERE id = ?`,
    ).run(f.cpu.model, Math.max(1, f.cpu.sockets * f.cpu.cores * f.cpu.threads), f.memoryMb, round(pools.reduce((n, p) => n + p.capacityBytes, 0) / GIB), s.agentVersion, now, now, now, hostId);
    const tagHost = db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('host', ?, ?, ?, 'provider') ON CONFLICT (kind, resource_id, key, source) DO UPDATE SET value = excluded.value`);
    db.prepare(`DELETE FROM tags WHERE kind = 'host' AND resource_id = ? AND source = 'provider'`).run(hostId);
    for (const [k, v] of Object.entries({ os: f.os.prettyName || f.os.name, kernel: f.kernel, arch: f.arch, virtualization: f.kvm ? 'kvm' : 'tcg', libvirt: f.libvirt.version ?? 'unknown' })) tagHost.run(hostId, k, v);

    // Which wires reach the host (for the scheduler's network filter): a wire named like one of the host's bridges
    // (or a libvirt network's bridge), in the host's zone or in no zone.
    const bridges = [...new Set([...f.bridges.map((b) => b.name), ...f.networks.map((n) => n.bridge).filter((b): b is string => !!b)])];
    db.prepare('DELETE FROM host_wires WHERE host_id = ?').run(hostId);
    const wire = db.prepare(`SELECT id FROM wires WHERE name = ? AND (zone_id IS ? OR zone_id IS NULL) ORDER BY zone_id IS NULL LIMIT 1`);
    const link = db.prepare('INSERT OR IGNORE INTO host_wires (host_id, wire_id, bridge, updated_at) VALUES (?, ?, ?, ?)');
    for (const b of bridges) {
      const w = wire.get(b, host.zone_id) as { id: string } | undefined;
      if (w) link.run(hostId, w.id, b, now);
    }

    // Storage pools.
    const poolRows: SyncRow[] = f.pools.map((p) => ({
      external_id: poolExternalId(hostId, p.name),
      name: p.name,
      status: p.active ? 'online' : 'offline',
      type: storageType(p),
      capacity_gb: round(p.capacityBytes / GIB),
      used_gb: round(p.allocationBytes / GIB),
      zone_id: host.zone_id,
    }));
    const pr = upsertPage(db, 'storages', poolRows, { provider: 'kvm', scope: { hostId }, syncedAt: now });
    out.storages = poolRows.length;
    const poolIdByPath = f.pools.map((p, i) => ({ path: p.path, id: pr.ids[i] as string })).filter((p) => p.path);

    // Domains → guests. A domain Skydeck created carries its guest id: link it if the row lost its external id.
    const relink = db.prepare(`UPDATE guests SET external_id = ? WHERE id = ? AND provider = 'kvm' AND host_id = ? AND (external_id IS NULL OR external_id <> ?)`);
    for (const d of s.domains) if (d.skydeckGuestId) relink.run(guestExternalId(hostId, d.uuid), d.skydeckGuestId, hostId, guestExternalId(hostId, d.uuid));
    const current = db.prepare(`SELECT status FROM guests WHERE provider = 'kvm' AND external_id = ?`);
    const guestRows: SyncRow[] = s.domains.map((d) => {
      const ext = guestExternalId(hostId, d.uuid);
      const was = (current.get(ext) as { status: string } | undefined)?.status;
      // A task in flight owns the transitional status it set; the task ends it.
      return guestRow(db, hostId, host.zone_id, d, was && TRANSITIONAL.has(was) ? was : guestStatusOf(d.state));
    });
    const gr = upsertPage(db, 'guests', guestRows, { provider: 'kvm', scope: { hostId }, syncedAt: now });
    out.guests.inserted = gr.inserted;
    out.guests.updated = gr.updated;
    out.guests.unchanged = gr.unchanged;
    out.changedGuestIds = gr.ids;

    // Disks (CD-ROMs are media, not disks) and snapshots.
    const diskRows: SyncRow[] = [];
    const snapRows: SyncRow[] = [];
    const storageOf = (source: string | null) => (source ? (poolIdByPath.find((p) => inPool(source, p.path!))?.id ?? null) : null);
    s.domains.forEach((d, i) => {
      const guestId = gr.ids[i] as string;
      diskRows.push(...domainDiskRows(hostId, d, guestId, storageOf));
      for (const sn of s.snapshots.get(d.uuid) ?? []) {
        snapRows.push({ external_id: snapshotExternalId(hostId, d.uuid, sn.name), name: sn.name, status: sn.current ? 'current' : 'ready', guest_id: guestId, created_at: sn.createdAt });
      }
    });
    upsertPage(db, 'disks', diskRows, { provider: 'kvm', syncedAt: now });
    upsertPage(db, 'snapshots', snapRows, { provider: 'kvm', syncedAt: now });
    out.disks = diskRows.length;
    out.snapshots = snapRows.length;

    const reason = `not defined on the host any more (sync at ${now})`;
    out.guests.vanished = markVanished(db, 'guests', 'kvm', { hostId }, startedAt, { reason }).vanished;
    markVanished(db, 'disks', 'kvm', { hostId }, startedAt);
    markVanished(db, 'snapshots', 'kvm', { hostId }, startedAt);
    markVanished(db, 'storages', 'kvm', { hostId }, startedAt);
  })();
  return out;
}

/** One domain's row after an operation (the task's last stage), without a full host sync. */
export function adoptDomain(db: Database.Database, hostId: string, d: DomainInfo, snapshots?: SnapshotInfo[]): string {
  const facts = db.prepare('SELECT facts_json FROM host_links WHERE host_id = ?').get(hostId) as { facts_json: string | null } | undefined;
  const pools = facts?.facts_json ? ((JSON.parse(facts.facts_json) as HostFacts).pools ?? []) : [];
  const host = db.prepare('SELECT zone_id FROM hosts WHERE id = ?').get(hostId) as { zone_id: string | null };
  const now = new Date().toISOString();
  let id = '';
  db.transaction(() => {
    const gr = upsertPage(db, 'guests', [guestRow(db, hostId, host.zone_id, d, guestStatusOf(d.state))], { provider: 'kvm', scope: { hostId }, syncedAt: now });
    id = gr.ids[0] as string;
    const storages = db.prepare(`SELECT id, name FROM storages WHERE host_id = ? AND provider = 'kvm'`).all(hostId) as { id: string; name: string }[];
    const storageOf = (source: string | null) => {
      const pool = source ? pools.find((p) => p.path && inPool(source, p.path)) : undefined;
      return pool ? (storages.find((s) => s.name === pool.name)?.id ?? null) : null;
    };
    const rows = domainDiskRows(hostId, d, id, storageOf);
    upsertPage(db, 'disks', rows, { provider: 'kvm', syncedAt: now });
    // Disks of this guest no longer attached.
    const keep = new Set(rows.map((r) => r.external_id));
    for (const r of db.prepare(`SELECT id, external_id FROM disks WHERE guest_id = ? AND provider = 'kvm'`).all(id) as { id: string; external_id: string }[]) {
      if (!keep.has(r.external_id)) {
        db.prepare(`DELETE FROM tags WHERE kind = 'disk' AND resource_id = ?`).run(r.id);
        db.prepare('DELETE FROM disks WHERE id = ?').run(r.id);
      }
    }
    if (snapshots) {
      const srows: SyncRow[] = snapshots.map((sn) => ({ external_id: snapshotExternalId(hostId, d.uuid, sn.name), name: sn.name, status: sn.current ? 'current' : 'ready', guest_id: id, created_at: sn.createdAt }));
      upsertPage(db, 'snapshots', srows, { provider: 'kvm', syncedAt: now });
      const keepS = new Set(srows.map((r) => r.external_id));
      for (const r of db.prepare(`SELECT id, external_id FROM snapshots WHERE guest_id = ? AND provider = 'kvm'`).all(id) as { id: string; external_id: string }[]) {
        if (!keepS.has(r.external_id)) {
          db.prepare(`DELETE FROM tags WHERE kind = 'snapshot' AND resource_id = ?`).run(r.id);
          db.prepare('DELETE FROM snapshots WHERE id = ?').run(r.id);
        }
      }
    }
  })();
  return id;
}

const inPool = (source: string, poolPath: string) => source.startsWith(`${poolPath.replace(/\/$/, '')}/`);

/** A domain as a guest row (its NICs included). */
function guestRow(db: Database.Database, hostId: string, zoneId: string | null, d: DomainInfo, status: string): SyncRow {
  return {
    external_id: guestExternalId(hostId, d.uuid),
    name: d.name,
    status,
    vcpu: d.vcpu,
    memory_mb: d.memoryMb,
    disk_gb: round(d.disks.filter((k) => k.device === 'disk').reduce((n, k) => n + (k.capacityBytes ?? 0), 0) / GIB),
    boot_order: d.bootOrder.length ? d.bootOrder : ['hd'],
    vnc_port: d.graphics.find((g) => g.type === 'vnc')?.port ?? null,
    zone_id: zoneId,
    nics: nicRows(db, d),
  };
}

/** A domain's disks as disk rows (CD-ROMs are media, not disks); the first is the boot disk. */
function domainDiskRows(hostId: string, d: DomainInfo, guestId: string, storageOf: (source: string | null) => string | null): SyncRow[] {
  return d.disks
    .filter((k) => k.device === 'disk')
    .map((k, idx) => ({
      external_id: diskExternalId(hostId, d.uuid, k.target),
      name: `${d.name}-${k.target}`,
      status: 'attached',
      guest_id: guestId,
      storage_id: storageOf(k.source),
      size_gb: round((k.capacityBytes ?? 0) / GIB),
      format: k.format ?? 'raw',
      idx,
      bootable: idx === 0,
    }));
}

/**
 * The domain's NICs as inventory rows. An address Skydeck allocated from one of its networks is kept (the agent only
 * learns addresses from DHCP leases or a guest agent); an address the host reports wins otherwise.
 */
function nicRows(db: Database.Database, d: DomainInfo): SyncNic[] {
  const known = db.prepare('SELECT ip, network_id FROM guest_nics WHERE mac = ?');
  return d.nics.map((n, i) => {
    const mac = n.mac.toLowerCase();
    const k = known.get(mac) as { ip: string | null; network_id: string | null } | undefined;
    return {
      idx: i,
      mac,
      ip: k?.network_id ? k.ip : (n.addresses[0] ?? k?.ip ?? null),
      network_id: k?.network_id ?? null,
      bridge: n.type === 'bridge' ? n.source : n.source ? `network:${n.source}` : null,
    };
  });
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
