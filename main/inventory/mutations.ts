import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError, fieldError } from '@shared/errors';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import type { EventBus } from '../events/bus';
import { intToIp, ipToInt, parseCidr } from './ip';
import { SPECS, TAG_KIND, type Row } from './specs';
import { checkQuota } from './quota';
import type { InventoryRepo } from './repo';

const now = () => new Date().toISOString();
const shortId = (prefix: string) => `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;

/** Writes to the inventory. Every change runs in one transaction and announces itself on the event bus. */
export class InventoryMutations {
  constructor(
    private readonly db: Database.Database,
    private readonly repo: InventoryRepo,
    private readonly bus: EventBus,
  ) {}

  changed(kind: ResourceKind, id: string, action: 'created' | 'updated' | 'deleted'): void {
    this.bus.emit({ type: 'resource.changed', kind, id, action });
  }

  /** Refuses writes to rows that came from an imported snapshot or the seed. */
  writable(kind: ResourceKind, row: Row): void {
    if (row.read_only === 1) throw new ApiError('forbidden', `${kind} ${row.name as string} is read-only (imported inventory)`, { kind, id: row.id });
  }

  private uniqueName(table: string, name: string, scopeSql = '', scopeArgs: unknown[] = [], exceptId?: string): void {
    const hit = this.db.prepare(`SELECT id FROM ${table} WHERE name = ?${scopeSql}${exceptId ? ' AND id <> ?' : ''}`).get(name, ...scopeArgs, ...(exceptId ? [exceptId] : []));
    if (hit) throw new ApiError('conflict', `the name ${name} is taken`, { reason: 'duplicate_name', field: 'name', name });
  }

  setTags(kind: ResourceKind, id: string, tags: Record<string, string>, source: 'user' | 'provider' = 'user'): number {
    const up = this.db.prepare('INSERT INTO tags (kind, resource_id, key, value, source) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, resource_id, key, source) DO UPDATE SET value = excluded.value');
    let n = 0;
    for (const [k, v] of Object.entries(tags)) n += up.run(TAG_KIND[kind], id, k, v, source).changes;
    return n;
  }

  private insert(table: string, values: Record<string, unknown>): void {
    const cols = Object.keys(values);
    this.db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(values);
  }

  private common(name: string, status = 'ready') {
    const t = now();
    return { name, status, provider: 'local', created_at: t, updated_at: t };
  }

  createProject(i: { name: string; description: string; quota: Record<string, number | null | undefined>; tags: Record<string, string> }) {
    const id = shortId('prj');
    this.db.transaction(() => {
      this.uniqueName('projects', i.name);
      this.insert('projects', {
        id,
        ...this.common(i.name, 'active'),
        description: i.description,
        quota_guests: i.quota.guests ?? null,
        quota_vcpu: i.quota.vcpu ?? null,
        quota_memory_mb: i.quota.memoryMb ?? null,
        quota_storage_gb: i.quota.storageGb ?? null,
        quota_ips: i.quota.ips ?? null,
      });
      this.setTags('projects', id, i.tags);
    })();
    this.changed('projects', id, 'created');
    return this.repo.get('projects', id);
  }

  updateProject(i: { id: string; name?: string; description?: string; quota?: Record<string, number | null | undefined> }) {
    this.db.transaction(() => {
      const row = this.repo.row('projects', i.id);
      if (!row) throw new ApiError('not_found', `project ${i.id} does not exist`, { id: i.id });
      this.writable('projects', row);
      if (i.name) this.uniqueName('projects', i.name, '', [], i.id);
      const set: Record<string, unknown> = { updated_at: now() };
      if (i.name !== undefined) set.name = i.name;
      if (i.description !== undefined) set.description = i.description;
      const q = i.quota ?? {};
      const map: Record<string, string> = { guests: 'quota_guests', vcpu: 'quota_vcpu', memoryMb: 'quota_memory_mb', storageGb: 'quota_storage_gb', ips: 'quota_ips' };
      for (const [k, col] of Object.entries(map)) if (k in q) set[col] = q[k] ?? null;
      this.db.prepare(`UPDATE projects SET ${Object.keys(set).map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...set, id: i.id });
    })();
    this.changed('projects', i.id, 'updated');
    return this.repo.get('projects', i.id);
  }

  /** Deletes a row after checking what still depends on it; `blockers` name each dependant with a count. */
  delete(kind: ResourceKind, id: string, blockers: { sql: string; what: string }[], cleanup: string[] = []): { ok: true } {
    this.db.transaction(() => {
      const row = this.repo.row(kind, id);
      if (!row) throw new ApiError('not_found', `${kind} ${id} does not exist`, { kind, id });
      this.writable(kind, row);
      for (const b of blockers) {
        const n = (this.db.prepare(b.sql).get(id) as { n: number }).n;
        if (n > 0) throw new ApiError('conflict', `${row.name as string} still has ${n} ${b.what}; remove them first`, { reason: 'in_use', count: n, what: b.what });
      }
      for (const c of cleanup) this.db.prepare(c).run(id);
      this.db.prepare('DELETE FROM tags WHERE kind = ? AND resource_id = ?').run(TAG_KIND[kind], id);
      this.db.prepare(`DELETE FROM ${SPECS[kind].table} WHERE id = ?`).run(id);
    })();
    this.changed(kind, id, 'deleted');
    return { ok: true };
  }

  createZone(i: { name: string; regionId: string | null; description: string; tags: Record<string, string> }) {
    const id = shortId('zone');
    this.db.transaction(() => {
      if (i.regionId) this.repo.mustExist('regions', i.regionId, 'regionId');
      this.uniqueName('zones', i.name, ' AND coalesce(region_id, \'\') = ?', [i.regionId ?? '']);
      this.insert('zones', { id, ...this.common(i.name, 'enabled'), region_id: i.regionId, description: i.description });
      this.setTags('zones', id, i.tags);
    })();
    this.changed('zones', id, 'created');
    return this.repo.get('zones', id);
  }

  createWire(i: { name: string; zoneId: string; bandwidthMbps: number; description: string; tags: Record<string, string> }) {
    const id = shortId('wire');
    this.db.transaction(() => {
      this.repo.mustExist('zones', i.zoneId, 'zoneId');
      this.uniqueName('wires', i.name, ' AND coalesce(zone_id, \'\') = ?', [i.zoneId]);
      this.insert('wires', { id, ...this.common(i.name, 'available'), zone_id: i.zoneId, bandwidth_mbps: i.bandwidthMbps, description: i.description });
      this.setTags('wires', id, i.tags);
    })();
    this.changed('wires', id, 'created');
    return this.repo.get('wires', id);
  }

  createNetwork(i: { name: string; wireId: string; projectId: string | null; cidr: string; gateway: string | null; vlan: number | null; dns: string[]; ipStart?: string; ipEnd?: string; tags: Record<string, string> }) {
    const { first, last, prefix } = parseCidr(i.cidr);
    // Usable range: skip the network and broadcast addresses where the prefix has them.
    const lo = prefix >= 31 ? first : first + 1;
    const hi = prefix >= 31 ? last : last - 1;
    const start = i.ipStart ? ipToInt(i.ipStart) : lo;
    const end = i.ipEnd ? ipToInt(i.ipEnd) : hi;
    if (start < lo || start > hi) throw fieldError('ipStart', `${intToIp(start)} is outside ${i.cidr}'s usable range ${intToIp(lo)}–${intToIp(hi)}`, 'out_of_range');
    if (end < lo || end > hi) throw fieldError('ipEnd', `${intToIp(end)} is outside ${i.cidr}'s usable range ${intToIp(lo)}–${intToIp(hi)}`, 'out_of_range');
    if (end < start) throw fieldError('ipEnd', `the range ends (${intToIp(end)}) before it starts (${intToIp(start)})`, 'out_of_range');
    if (i.gateway && (ipToInt(i.gateway) < first || ipToInt(i.gateway) > last)) throw fieldError('gateway', `${i.gateway} is not in ${i.cidr}`, 'out_of_range');
    const id = shortId('net');
    this.db.transaction(() => {
      this.repo.mustExist('wires', i.wireId, 'wireId');
      if (i.projectId) this.repo.mustExist('projects', i.projectId, 'projectId');
      this.uniqueName('networks', i.name);
      const overlap = this.db.prepare('SELECT name, cidr FROM networks WHERE wire_id = ? AND net_first <= ? AND net_last >= ?').get(i.wireId, last, first) as { name: string; cidr: string } | undefined;
      if (overlap) throw new ApiError('conflict', `${i.cidr} overlaps ${overlap.name} (${overlap.cidr}) on the same wire`, { reason: 'overlap', field: 'cidr', network: overlap.name, cidr: overlap.cidr });
      this.insert('networks', {
        id,
        ...this.common(i.name, 'available'),
        wire_id: i.wireId,
        project_id: i.projectId,
        cidr: i.cidr,
        net_first: first,
        net_last: last,
        gateway: i.gateway,
        vlan: i.vlan,
        dns: JSON.stringify(i.dns),
        ip_start: intToIp(start),
        ip_end: intToIp(end),
        ip_start_int: start,
        ip_end_int: end,
      });
      if (i.gateway) {
        const g = ipToInt(i.gateway);
        if (g >= start && g <= end) {
          this.db.prepare(`INSERT INTO ip_allocations (network_id, ip_int, ip, kind, note, created_at) VALUES (?, ?, ?, 'reserved', 'gateway', ?)`).run(id, g, i.gateway, now());
        }
      }
      this.setTags('networks', id, i.tags);
    })();
    this.changed('networks', id, 'created');
    return this.repo.get('networks', id);
  }

  private allocationRow(networkId: string, ipInt: number) {
    const r = this.db.prepare('SELECT * FROM ip_allocations WHERE network_id = ? AND ip_int = ?').get(networkId, ipInt) as Row;
    return { networkId: r.network_id as string, ip: r.ip as string, kind: r.kind as 'allocated' | 'reserved', ownerKind: (r.owner_kind as string | null) ?? null, ownerId: (r.owner_id as string | null) ?? null, projectId: (r.project_id as string | null) ?? null, note: r.note as string, createdAt: r.created_at as string };
  }

  /**
   * Allocates the requested address, or the lowest free one, in one IMMEDIATE transaction: the write lock is taken
   * before the search, and (network_id, ip_int) is the primary key, so concurrent callers (even other processes on the
   * same database) can never get the same address.
   */
  allocateIp(i: { networkId: string; ip?: string; kind?: 'allocated' | 'reserved'; ownerKind?: string; ownerId?: string; projectId?: string; note: string }) {
    const kind = i.kind ?? 'allocated';
    const ipInt = this.db.transaction(() => {
      const net = this.repo.row('networks', i.networkId);
      if (!net) throw new ApiError('not_found', `network ${i.networkId} does not exist`, { id: i.networkId });
      if (i.projectId) {
        this.repo.mustExist('projects', i.projectId, 'projectId');
        if (kind === 'allocated') checkQuota(this.db, i.projectId, { ips: 1 });
      }
      const start = net.ip_start_int as number;
      const end = net.ip_end_int as number;
      let want: number;
      if (i.ip) {
        want = ipToInt(i.ip);
        if (want < start || want > end) throw fieldError('ip', `${i.ip} is outside ${net.name as string}'s range ${net.ip_start as string}–${net.ip_end as string}`, 'out_of_range');
        const taken = this.db.prepare('SELECT kind, owner_kind, owner_id, note FROM ip_allocations WHERE network_id = ? AND ip_int = ?').get(i.networkId, want) as Row | undefined;
        if (taken) throw new ApiError('conflict', `${i.ip} is already ${taken.kind as string}${taken.owner_id ? ` to ${taken.owner_kind as string} ${taken.owner_id as string}` : taken.note ? ` (${taken.note as string})` : ''}`, { reason: 'ip_taken', ip: i.ip });
      } else {
        const free = this.db
          .prepare(
            `SELECT c FROM (
               SELECT @start AS c WHERE NOT EXISTS (SELECT 1 FROM ip_allocations WHERE network_id = @net AND ip_int = @start)
               UNION ALL
               SELECT a.ip_int + 1 FROM ip_allocations a
                WHERE a.network_id = @net AND a.ip_int >= @start AND a.ip_int < @end
                  AND NOT EXISTS (SELECT 1 FROM ip_allocations b WHERE b.network_id = @net AND b.ip_int = a.ip_int + 1)
             ) ORDER BY c LIMIT 1`,
          )
          .get({ net: i.networkId, start, end }) as { c: number } | undefined;
        if (!free) throw new ApiError('conflict', `network ${net.name as string} has no free address left (${end - start + 1} in its range)`, { reason: 'exhausted' });
        want = free.c;
      }
      this.db
        .prepare('INSERT INTO ip_allocations (network_id, ip_int, ip, kind, owner_kind, owner_id, project_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(i.networkId, want, intToIp(want), kind, i.ownerKind ?? null, i.ownerId ?? null, i.projectId ?? null, i.note, now());
      return want;
    }).immediate();
    this.changed('networks', i.networkId, 'updated');
    return this.allocationRow(i.networkId, ipInt);
  }

  releaseIp(networkId: string, ip: string) {
    const n = this.db.prepare('DELETE FROM ip_allocations WHERE network_id = ? AND ip_int = ?').run(networkId, ipToInt(ip)).changes;
    if (!n) throw new ApiError('not_found', `${ip} is not allocated or reserved in network ${networkId}`, { ip });
    this.changed('networks', networkId, 'updated');
    return { ok: true as const };
  }

  listIps(networkId: string, limit: number, offset: number) {
    this.repo.mustExist('networks', networkId, 'networkId');
    const total = (this.db.prepare('SELECT count(*) AS n FROM ip_allocations WHERE network_id = ?').get(networkId) as { n: number }).n;
    const rows = this.db.prepare('SELECT ip_int FROM ip_allocations WHERE network_id = ? ORDER BY ip_int LIMIT ? OFFSET ?').all(networkId, limit, offset) as { ip_int: number }[];
    return { items: rows.map((r) => this.allocationRow(networkId, r.ip_int)), total };
  }

  updateHost(i: { id: string; name?: string; zoneId?: string | null; enabled?: boolean; maintenance?: boolean; cpuOvercommit?: number; memoryOvercommit?: number; storageOvercommit?: number }) {
    this.db.transaction(() => {
      const row = this.repo.row('hosts', i.id);
      if (!row) throw new ApiError('not_found', `host ${i.id} does not exist`, { id: i.id });
      this.writable('hosts', row);
      if (i.name) this.uniqueName('hosts', i.name, '', [], i.id);
      if (i.zoneId) this.repo.mustExist('zones', i.zoneId, 'zoneId');
      const set: Record<string, unknown> = { updated_at: now() };
      const map: [keyof typeof i, string, (v: unknown) => unknown][] = [
        ['name', 'name', (v) => v],
        ['zoneId', 'zone_id', (v) => v],
        ['enabled', 'enabled', (v) => (v ? 1 : 0)],
        ['maintenance', 'maintenance', (v) => (v ? 1 : 0)],
        ['cpuOvercommit', 'cpu_overcommit', (v) => v],
        ['memoryOvercommit', 'memory_overcommit', (v) => v],
        ['storageOvercommit', 'storage_overcommit', (v) => v],
      ];
      for (const [k, col, f] of map) if (i[k] !== undefined) set[col] = f(i[k]);
      this.db.prepare(`UPDATE hosts SET ${Object.keys(set).map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...set, id: i.id });
    })();
    this.changed('hosts', i.id, 'updated');
    return this.repo.get('hosts', i.id);
  }

  createKeypair(i: { name: string; publicKey: string; projectId: string | null; tags: Record<string, string> }) {
    const blob = Buffer.from(i.publicKey.split(' ')[1]!, 'base64');
    const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
    const id = shortId('key');
    this.db.transaction(() => {
      if (i.projectId) this.repo.mustExist('projects', i.projectId, 'projectId');
      this.uniqueName('keypairs', i.name);
      this.insert('keypairs', { id, ...this.common(i.name, 'available'), fingerprint, public_key: i.publicKey.trim(), project_id: i.projectId });
      this.setTags('keypairs', id, i.tags);
    })();
    this.changed('keypairs', id, 'created');
    return this.repo.get('keypairs', id);
  }

  createSecurityGroup(i: { name: string; projectId: string | null; description: string; tags: Record<string, string> }) {
    const id = shortId('sg');
    this.db.transaction(() => {
      if (i.projectId) this.repo.mustExist('projects', i.projectId, 'projectId');
      this.uniqueName('security_groups', i.name, ' AND coalesce(project_id, \'\') = ?', [i.projectId ?? '']);
      this.insert('security_groups', { id, ...this.common(i.name, 'available'), project_id: i.projectId, description: i.description });
      this.setTags('securityGroups', id, i.tags);
    })();
    this.changed('securityGroups', id, 'created');
    return this.repo.get('securityGroups', id);
  }

  addRule(i: { groupId: string; direction: string; protocol: string; ports: string; cidr: string; action: string; priority: number; description: string }) {
    if (i.ports !== 'any') {
      const [a, b] = i.ports.split('-').map(Number);
      if (a! < 1 || a! > 65535 || (b !== undefined && (b < a! || b > 65535))) throw fieldError('ports', `${i.ports} is not a port range within 1–65535`, 'out_of_range');
      if (i.protocol === 'icmp' || i.protocol === 'any') throw fieldError('ports', `${i.protocol} has no ports; use "any"`);
    }
    parseCidr(i.cidr);
    this.db.transaction(() => {
      const g = this.repo.row('securityGroups', i.groupId);
      if (!g) throw new ApiError('not_found', `security group ${i.groupId} does not exist`, { id: i.groupId });
      this.writable('securityGroups', g);
      this.insert('security_group_rules', { id: shortId('rule'), group_id: i.groupId, direction: i.direction, protocol: i.protocol, ports: i.ports, cidr: i.cidr, action: i.action, priority: i.priority, description: i.description });
      this.db.prepare('UPDATE security_groups SET updated_at = ? WHERE id = ?').run(now(), i.groupId);
    })();
    this.changed('securityGroups', i.groupId, 'updated');
    return this.repo.get('securityGroups', i.groupId);
  }

  removeRule(groupId: string, ruleId: string) {
    const n = this.db.prepare('DELETE FROM security_group_rules WHERE id = ? AND group_id = ?').run(ruleId, groupId).changes;
    if (!n) throw new ApiError('not_found', `rule ${ruleId} is not in security group ${groupId}`, { ruleId });
    this.changed('securityGroups', groupId, 'updated');
    return this.repo.get('securityGroups', groupId);
  }

  tagResources(resources: { kind: ResourceKind; id: string }[], tags: Record<string, string>) {
    let changed = 0;
    this.db.transaction(() => {
      for (const r of resources) {
        const row = this.repo.row(r.kind, r.id);
        if (!row) throw new ApiError('not_found', `${r.kind} ${r.id} does not exist`, { kind: r.kind, id: r.id });
        changed += this.setTags(r.kind, r.id, tags);
      }
    })();
    for (const r of resources) this.changed(r.kind, r.id, 'updated');
    return { changed };
  }

  untagResources(resources: { kind: ResourceKind; id: string }[], keys: string[]) {
    let changed = 0;
    const del = this.db.prepare(`DELETE FROM tags WHERE kind = ? AND resource_id = ? AND key = ? AND source = 'user'`);
    this.db.transaction(() => {
      for (const r of resources) for (const k of keys) changed += del.run(TAG_KIND[r.kind], r.id, k).changes;
    })();
    for (const r of resources) this.changed(r.kind, r.id, 'updated');
    return { changed };
  }

  moveGuests(ids: string[], projectId: string) {
    let moved = 0;
    this.db.transaction(() => {
      this.repo.mustExist('projects', projectId, 'projectId');
      // What the move brings into the target project must fit its quota (guests already there do not count twice).
      const moving = ids.length ? (this.db.prepare(`SELECT count(*) AS guests, coalesce(sum(vcpu), 0) AS vcpu, coalesce(sum(memory_mb), 0) AS memoryMb FROM guests WHERE id IN (${ids.map(() => '?').join(',')}) AND coalesce(project_id, '') <> ?`).get(...ids, projectId) as { guests: number; vcpu: number; memoryMb: number }) : { guests: 0, vcpu: 0, memoryMb: 0 };
      const disks = ids.length ? (this.db.prepare(`SELECT coalesce(sum(size_gb), 0) AS gb FROM disks WHERE guest_id IN (${ids.map(() => '?').join(',')}) AND coalesce(project_id, '') <> ?`).get(...ids, projectId) as { gb: number }) : { gb: 0 };
      checkQuota(this.db, projectId, { ...moving, storageGb: disks.gb });
      for (const id of ids) {
        const g = this.repo.row('guests', id);
        if (!g) throw new ApiError('not_found', `guest ${id} does not exist`, { id });
        this.writable('guests', g);
        // project_source 'user': a cloud account's tag → project mapping never changes it back (main/clouds/projects.ts).
        moved += this.db.prepare(`UPDATE guests SET project_id = ?, project_source = 'user', updated_at = ? WHERE id = ?`).run(projectId, now(), id).changes;
        this.db.prepare(`UPDATE disks SET project_id = ?, project_source = 'user' WHERE guest_id = ?`).run(projectId, id);
        this.db.prepare(`UPDATE ip_allocations SET project_id = ? WHERE owner_kind = 'guest' AND owner_id = ?`).run(projectId, id);
      }
    })();
    for (const id of ids) this.changed('guests', id, 'updated');
    return { moved };
  }
}
