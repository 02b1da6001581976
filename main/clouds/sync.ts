import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import type { CloudSyncKind } from '@shared/contract/clouds';
import { SyncSession, markVanished, upsertPage, type SyncRow } from '../inventory/sync';
import { intToIp, parseCidr } from '../inventory/ip';
import type { CloudProvider, CloudSession, Page } from './types';
import { errorText, toApiError } from './retry';

/**
 * The sync of one cloud account, region by region: region → zones → VPCs (wires) → subnets (networks) → security
 * groups → instances (guests) → disks → snapshots → images → EIPs → key pairs. Each kind is listed completely, page by
 * page, into inventory/sync's SyncSession (added and changed rows written, cloud tags kept as provider tags), then what
 * the cloud no longer lists in that account and region is handled by markVanished. A region that fails (its error
 * kept per region) leaves its rows as they were: nothing is marked vanished from a listing that did not complete.
 *
 * External ids are `<accountId>/<region>/<cloud id>` (regions `<accountId>/<region>`): two accounts may see the same
 * cloud resources without their rows colliding, and an operation finds the region and cloud id back in the row.
 */

export interface KindCount {
  inserted: number;
  updated: number;
  unchanged: number;
  vanished: number;
  deleted: number;
}
export interface RegionResult {
  region: string;
  ok: boolean;
  error: string | null;
  code: string | null;
  counts: Partial<Record<CloudSyncKind, KindCount>>;
  /** Calls retried after throttling, 5xx or a dropped connection. */
  retries: number;
  ms: number;
}

export interface AccountSyncOptions {
  db: Database.Database;
  accountId: string;
  provider: CloudProvider;
  session: CloudSession;
  regions: readonly string[];
  /** The kinds to list (default: all the driver syncs). */
  kinds?: readonly CloudSyncKind[];
  pageSize?: number;
  signal?: AbortSignal;
  progress?: (percent: number, message: string) => void;
}

export const extId = (accountId: string, region: string, id?: string) => (id === undefined ? `${accountId}/${region}` : `${accountId}/${region}/${id}`);
/** `<accountId>/<region>/<cloud id>` → its parts (cloud ids may hold `/`). */
export function parseExtId(ext: string | null): { accountId: string; region: string; id: string } {
  const m = ext ? /^([^/]+)\/([^/]+)\/(.+)$/.exec(ext) : null;
  if (!m) throw new ApiError('conflict', `not a cloud resource id: ${ext ?? '(none)'}`, { reason: 'not_cloud' });
  return { accountId: m[1]!, region: m[2]!, id: m[3]! };
}

/** The columns of a networks row for a CIDR: cloud subnets reserve the first four and the last address (as AWS does). */
function cidrColumns(cidr: string) {
  let first = 0;
  let last = 0;
  try {
    ({ first, last } = parseCidr(cidr));
  } catch {
    // A CIDR the cloud lists with host bits or not at all: kept as text, with an empty range.
  }
  const size = last - first + 1;
  const start = Math.min(last, first + 4);
  const end = Math.max(start, last - 1);
  return { cidr, net_first: first, net_last: last, gateway: size > 2 ? intToIp(first + 1) : null, ip_start: intToIp(start), ip_end: intToIp(end), ip_start_int: start, ip_end_int: end };
}

async function listAll<T>(fetch: (token: string | null) => Promise<Page<T>>, onPage: (items: T[]) => void, signal?: AbortSignal): Promise<void> {
  let token: string | null = null;
  const seen = new Set<string>();
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const p = await fetch(token);
    onPage(p.items);
    if (!p.next) return;
    if (seen.has(p.next)) throw new ApiError('internal', 'the cloud answered the same page token twice');
    seen.add(p.next);
    token = p.next;
  }
}

/** Ids of rows of one account by external id (for references between kinds: guest of a disk, VPC of a subnet …). */
function idMap(db: Database.Database, table: string, provider: string, prefix: string): Map<string, string> {
  const rows = db.prepare(`SELECT external_id, id FROM ${table} WHERE provider = ? AND external_id >= ? AND external_id < ?`).raw(true).all(provider, prefix, prefix + '\uffff') as [string, string][];
  return new Map(rows);
}

/** The tables a cloud account's sync writes (besides regions and zones), with their tag kind, in deletion order. */
export const CLOUD_TABLES = [['guests', 'guest'], ['eips', 'eip'], ['disks', 'disk'], ['snapshots', 'snapshot'], ['images', 'image'], ['security_groups', 'security_group'], ['keypairs', 'keypair'], ['networks', 'network'], ['wires', 'wire']] as const;

/** Removes what the account listed in regions that are no longer picked. */
export function dropRegions(db: Database.Database, accountId: string, keep: readonly string[]): number {
  const gone = (db.prepare('SELECT id, name FROM regions WHERE cloud_account_id = ?').all(accountId) as { id: string; name: string }[]).filter((r) => !keep.includes(r.name));
  db.transaction(() => {
    for (const r of gone) {
      const zones = `SELECT id FROM zones WHERE region_id = '${r.id.replace(/'/g, "''")}'`;
      for (const [table, tagKind] of CLOUD_TABLES) {
        const where = table === 'guests' ? `cloud_account_id = ? AND zone_id IN (${zones})` : 'cloud_account_id = ? AND region_id = ?';
        const args = table === 'guests' ? [accountId] : [accountId, r.id];
        db.prepare(`DELETE FROM tags WHERE kind = ? AND resource_id IN (SELECT id FROM ${table} WHERE ${where})`).run(tagKind, ...args);
        if (table === 'guests') db.prepare(`DELETE FROM ip_allocations WHERE owner_kind = 'guest' AND owner_id IN (SELECT id FROM guests WHERE ${where})`).run(...args);
        if (table === 'networks') db.prepare(`DELETE FROM ip_allocations WHERE network_id IN (SELECT id FROM networks WHERE ${where})`).run(...args);
        db.prepare(`DELETE FROM ${table} WHERE ${where}`).run(...args);
      }
      db.prepare(`DELETE FROM tags WHERE kind = 'zone' AND resource_id IN (${zones})`).run();
      db.prepare(`DELETE FROM zones WHERE region_id = ?`).run(r.id);
      db.prepare(`DELETE FROM tags WHERE kind = 'region' AND resource_id = ?`).run(r.id);
      db.prepare('DELETE FROM regions WHERE id = ?').run(r.id);
    }
  })();
  return gone.length;
}

export async function syncAccount(o: AccountSyncOptions): Promise<RegionResult[]> {
  const { db, accountId, provider, session, signal } = o;
  const kinds = new Set<CloudSyncKind>(o.kinds ?? ['regions', 'zones', 'vpcs', 'subnets', 'securityGroups', 'instances', 'disks', 'snapshots', 'images', 'eips', 'keypairs']);
  const pageSize = o.pageSize ?? 1000;
  dropRegions(db, accountId, o.regions);
  const results: RegionResult[] = [];
  let done = 0;
  for (const region of o.regions) {
    const t0 = performance.now();
    const res: RegionResult = { region, ok: true, error: null, code: null, counts: {}, retries: 0, ms: 0 };
    try {
      await syncRegion(region, res);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const t = errorText(e);
      res.ok = false;
      res.error = t.message;
      res.code = t.code;
      // Wrong credentials fail every region the same way: stop at the first.
      const a = toApiError(e);
      if (ApiError.is(a) && a.details?.reason === 'credentials') {
        results.push({ ...res, ms: Math.round(performance.now() - t0) });
        throw e;
      }
    }
    res.ms = Math.round(performance.now() - t0);
    results.push(res);
    done++;
    o.progress?.(Math.round((done / o.regions.length) * 100), `${region}: ${res.ok ? 'synced' : `failed: ${res.error}`}`);
  }
  return results;

  async function syncRegion(region: string, res: RegionResult) {
    const syncedAt = new Date().toISOString();
    const count = (k: CloudSyncKind, r: { inserted: number; updated: number; unchanged: number }, v?: { vanished: number; deleted: number }) => {
      res.counts[k] = { inserted: r.inserted, updated: r.updated, unchanged: r.unchanged, vanished: v?.vanished ?? 0, deleted: v?.deleted ?? 0 };
    };
    const vanish = (kind: ResourceKind, sc: { cloudAccountId?: string; regionId?: string }) => markVanished(db, kind, provider, sc, syncedAt);
    const step = (m: string) => o.progress?.(Math.round((done / o.regions.length) * 100), `${region}: ${m}`);

    // Region
    const rr = upsertPage(db, 'regions', [{ external_id: extId(accountId, region), name: region, status: 'available' }], { provider, syncedAt, scope: { cloudAccountId: accountId } });
    const regionId = rr.ids[0]!;
    count('regions', rr);
    const rscope = { cloudAccountId: accountId, regionId };

    // Zones
    const zoneIds = new Map<string, string>();
    if (kinds.has('zones')) {
      step('zones');
      const zones = await session.listZones(region, signal);
      const zr = upsertPage(db, 'zones', zones.map((z) => ({ external_id: extId(accountId, region, z.id), name: z.name, status: z.status, description: `${provider} ${region}` })), { provider, syncedAt, scope: { regionId } });
      zones.forEach((z, i) => zoneIds.set(z.name, zr.ids[i]!));
      count('zones', zr, vanish('zones', { regionId }));
    } else {
      for (const [ext, id] of idMap(db, 'zones', provider, extId(accountId, region) + '/')) zoneIds.set(ext.split('/').pop()!, id);
    }

    const pull = async <T, K extends ResourceKind>(k: CloudSyncKind, kind: K, list: (token: string | null) => Promise<Page<T>>, row: (x: T) => SyncRow, after?: (items: T[], ids: string[]) => void) => {
      if (!kinds.has(k)) return;
      step(k);
      const s = new SyncSession(db, kind, { provider, syncedAt, scope: rscope, batchRows: 2000 });
      const all: T[] = [];
      await listAll(list, (items) => {
        s.page(items.map(row));
        if (after) for (const x of items) all.push(x);
      }, signal);
      const r = s.finish();
      after?.(all, r.ids);
      count(k, r, vanish(kind, rscope));
    };
    const ls = {
      pageSize,
      signal,
      onRetry: (e: { cloudCode: string }, attempt: number, delayMs: number) => {
        res.retries++;
        step(`${e.cloudCode}: retry ${attempt} in ${Math.round(delayMs)} ms`);
      },
    };

    await pull('vpcs', 'wires', (t) => session.listVpcs(region, t, ls), (v) => ({ external_id: extId(accountId, region, v.id), name: v.name, status: v.status, description: v.cidr, tags: v.tags }));
    const wireIds = idMap(db, 'wires', provider, extId(accountId, region) + '/');
    await pull('subnets', 'networks', (t) => session.listSubnets(region, t, ls), (s) => ({ external_id: extId(accountId, region, s.id), name: s.name, status: s.status, wire_id: wireIds.get(extId(accountId, region, s.vpcId)) ?? null, ...cidrColumns(s.cidr), tags: s.tags }));
    const networkIds = idMap(db, 'networks', provider, extId(accountId, region) + '/');

    await pull(
      'securityGroups',
      'securityGroups',
      (t) => session.listSecurityGroups(region, t, ls),
      (g) => ({ external_id: extId(accountId, region, g.id), name: g.name, status: 'available', description: g.description, tags: g.tags }),
      (groups, ids) => {
        // Rules are the cloud's: replaced as listed.
        const del = db.prepare('DELETE FROM security_group_rules WHERE group_id = ?');
        const add = db.prepare('INSERT INTO security_group_rules (id, group_id, direction, protocol, ports, cidr, action, priority, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
        db.transaction(() => {
          groups.forEach((g, i) => {
            del.run(ids[i]!);
            g.rules.forEach((r, j) => {
              const ports = r.fromPort === null || r.fromPort < 0 ? 'any' : r.fromPort === r.toPort ? String(r.fromPort) : `${r.fromPort}-${r.toPort}`;
              add.run(`${ids[i]!}-${j}`, ids[i]!, r.direction, r.protocol, ports, r.cidr, 'allow', j + 1, r.description);
            });
          });
        })();
      },
    );

    await pull('instances', 'guests', (t) => session.listInstances(region, t, ls), (i) => ({
      external_id: extId(accountId, region, i.id),
      name: i.name,
      status: i.status,
      zone_id: i.zone ? (zoneIds.get(i.zone) ?? null) : null,
      vcpu: i.vcpu,
      memory_mb: i.memoryMb,
      os: i.os,
      instance_type: i.instanceType,
      ips: [...i.nics.map((n) => n.ip).filter(Boolean), ...(i.publicIp ? [i.publicIp] : [])].join(' '),
      nics: i.nics.map((n, idx) => ({ idx, mac: n.mac, ip: n.ip, network_id: n.subnetId ? (networkIds.get(extId(accountId, region, n.subnetId)) ?? null) : null })),
      tags: i.tags,
      created_at: i.createdAt ?? undefined,
    }));
    const guestIds = idMap(db, 'guests', provider, extId(accountId, region) + '/');
    const gid = (id: string | null) => (id ? (guestIds.get(extId(accountId, region, id)) ?? null) : null);

    await pull('disks', 'disks', (t) => session.listDisks(region, t, ls), (d) => ({ external_id: extId(accountId, region, d.id), name: d.name, status: d.status, size_gb: d.sizeGb, format: d.type || 'cloud', bootable: d.bootable, guest_id: gid(d.instanceId), tags: d.tags, created_at: d.createdAt ?? undefined }));
    const diskIds = idMap(db, 'disks', provider, extId(accountId, region) + '/');
    await pull('snapshots', 'snapshots', (t) => session.listSnapshots(region, t, ls), (s) => ({ external_id: extId(accountId, region, s.id), name: s.name, status: s.status, size_gb: s.sizeGb, disk_id: s.diskId ? (diskIds.get(extId(accountId, region, s.diskId)) ?? null) : null, tags: s.tags, created_at: s.createdAt ?? undefined }));
    await pull('images', 'images', (t) => session.listImages(region, t, ls), (m) => ({ external_id: extId(accountId, region, m.id), name: m.name, status: m.status, os: m.os, format: 'cloud', size_gb: m.sizeGb, min_disk_gb: m.sizeGb, tags: m.tags, created_at: m.createdAt ?? undefined }));
    await pull('eips', 'eips', (t) => session.listEips(region, t, ls), (a) => ({ external_id: extId(accountId, region, a.id), name: a.ip, status: a.status, ip: a.ip, bandwidth_mbps: a.bandwidthMbps, guest_id: gid(a.instanceId), tags: a.tags }));
    await pull('keypairs', 'keypairs', (t) => session.listKeypairs(region, t, ls), (k) => ({ external_id: extId(accountId, region, k.id), name: k.name, status: 'available', fingerprint: k.fingerprint, public_key: k.publicKey, tags: k.tags }));
  }
}
