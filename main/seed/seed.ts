import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import { intToIp, ipToInt } from '../inventory/ip';
import { ID_PREFIX, markUnreachable, upsertPage, type SyncRow, type SyncScope } from '../inventory/sync';
import { createRng, type Rng } from './prng';
import { CLOUDS, CPU_MODELS, DATACENTRES, ENVS, GUEST_OS, GUEST_STATUS, HOST_SHAPES, HYPERVISORS, IMAGES, PEOPLE, dataHeavy, sizeClass, TEAM_NAMES, TEAMS, type CloudDef } from './vocab';

/**
 * A realistic, deterministic synthetic inventory written through the sync path (`upsertPage`, pages of 1,000), for
 * demos, UI work at scale and the benchmarks: data centres with KVM, ESXi and bare-metal hosts of mixed shapes and
 * overcommit, storages, wires and VLAN networks with allocated addresses, guests with NICs, disks and snapshots, images,
 * key pairs, security groups, projects with quotas, and AWS/Aliyun/Tencent/Azure accounts with their instances, disks
 * and EIPs; user and provider tags. Every row is read-only, and `meta` says the data dir is seeded.
 *
 * The same --seed gives the same inventory (names, shapes, placement, addresses, ids); only timestamps follow the clock.
 */
/** Bump whenever the generated inventory changes: benchmarks cache seeded data dirs by it. */
export const SEED_VERSION = 1;
export const ORIGIN_KEY = 'inventory.origin';

export interface SeedOptions {
  hosts: number;
  guests: number;
  seed?: number;
  /** The seeding time (default now); timestamps are spread back from it. */
  at?: Date;
  /** Pages of 1,000 guests per commit (default 10): fewer commits rewrite the same random index pages fewer times. */
  commitEvery?: number;
  /** Share of the guests that are cloud instances (default 0.1). */
  cloudShare?: number;
  onProgress?(p: { phase: string; done: number; total: number }): void;
}

export interface SeedResult {
  at: string;
  /** Inventory rows inserted, by kind. */
  counts: Record<ResourceKind, number>;
  /** Rows of side tables: tags, NICs, IP allocations, security group rules. */
  side: { tags: number; nics: number; ipAllocations: number; rules: number };
  /** Every row written (inventory and side tables, updates included). */
  rows: number;
  onPremGuests: number;
  cloudGuests: number;
  unreachableHosts: number;
  ms: number;
}

const PAGE = 1000;
const GiB = 1024;

interface HostState {
  id: string;
  name: string;
  zone: number;
  provider: 'kvm' | 'esxi' | 'baremetal';
  address: string;
  status: string;
  cpuCap: number;
  memCap: number;
  cpu: number;
  mem: number;
  guests: number;
  localStorage: string;
}
interface NetState {
  id: string;
  zone: number;
  vlan: number;
  next: number;
  end: number;
}

export class SeedRefused extends Error {}

/** Refuses a data dir that already holds an inventory: seeding never mixes with (or overwrites) real or earlier data. */
export function checkEmpty(db: Database.Database): void {
  const n = (db.prepare('SELECT (SELECT count(*) FROM hosts) + (SELECT count(*) FROM guests) + (SELECT count(*) FROM cloud_accounts) AS n').get() as { n: number }).n;
  if (!n) return;
  const origin = db.prepare('SELECT value FROM meta WHERE key = ?').get(ORIGIN_KEY) as { value: string } | undefined;
  const what = origin ? `an inventory seeded at ${(JSON.parse(origin.value) as { at: string }).at}` : 'an inventory';
  throw new SeedRefused(`it already holds ${what} (${n.toLocaleString('en-US')} hosts, guests and cloud accounts); seed into a new --data-dir`);
}

export function seedInventory(db: Database.Database, o: SeedOptions): SeedResult {
  if (db.inTransaction) throw new Error('seedInventory manages its own transactions');
  // One transaction per `commitEvery` pages, with everything inside it written directly (upsertPage joins it without a
  // savepoint): the seed runs ~5x faster than with a transaction per page and a savepoint per upsert.
  const every = o.commitEvery ?? 10;
  let pending = 0;
  const commitPoint = () => {
    if (++pending < every) return;
    db.exec('COMMIT');
    db.exec('BEGIN');
    pending = 0;
  };
  db.exec('BEGIN');
  try {
    const r = seedAll(db, o, commitPoint);
    db.exec('COMMIT');
    return r;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

function seedAll(db: Database.Database, o: SeedOptions, commitPoint: () => void): SeedResult {
  const t0 = performance.now();
  const seed = o.seed ?? 1;
  const atMs = (o.at ?? new Date()).getTime();
  const at = new Date(atMs).toISOString();
  const root = createRng(seed);
  const counts = Object.fromEntries(Object.keys(ID_PREFIX).map((k) => [k, 0])) as Record<ResourceKind, number>;
  const side = { tags: 0, nics: 0, ipAllocations: 0, rules: 0 };
  let rows = 0;
  const progress = o.onProgress ?? (() => {});

  // Deterministic ids, ascending in insertion order (cheap inserts, like the sync's own time-ordered ids).
  const seqs = new Map<ResourceKind, number>();
  const tag = `s${seed.toString(36)}`;
  const newId = (kind: ResourceKind) => {
    const n = (seqs.get(kind) ?? 0) + 1;
    seqs.set(kind, n);
    return `${ID_PREFIX[kind]}-${tag}-${n.toString(36).padStart(6, '0')}`;
  };
  const put = (kind: ResourceKind, list: SyncRow[], provider: string, scope?: SyncScope): string[] => {
    const ids: string[] = [];
    for (let i = 0; i < list.length; i += PAGE) {
      const r = upsertPage(db, kind, list.slice(i, i + PAGE), { provider, syncedAt: at, newId, ...(scope ? { scope } : {}) });
      for (const id of r.ids) ids.push(id);
      counts[kind] += r.inserted;
      rows += r.inserted + r.updated;
      for (let j = i; j < Math.min(i + PAGE, list.length); j++) {
        const row = list[j]!;
        if (row.tags) side.tags += Object.keys(row.tags).length;
        if (row.nics) side.nics += row.nics.length;
      }
    }
    return ids;
  };
  const ago = (rng: Rng, minDays: number, maxDays: number) => new Date(atMs - rng.int(minDays * 24, maxDays * 24) * 3_600_000 - rng.int(0, 3599) * 1000).toISOString();
  const insTag = db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES (?, ?, ?, ?, 'user')`);
  const userTags = (kind: string, id: string, tags: Record<string, string>) => {
    for (const [k, v] of Object.entries(tags)) insTag.run(kind, id, k, v);
    side.tags += Object.keys(tags).length;
  };
  const insIp = db.prepare(`INSERT INTO ip_allocations (network_id, ip_int, ip, kind, owner_kind, owner_id, project_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);

  // ---- projects, accounts, regions, zones ---------------------------------------------------------------------------
  const r0 = root.fork('org');
  const projectRows: SyncRow[] = [];
  const projectKeys: string[] = [];
  for (const team of TEAM_NAMES) {
    for (const [env] of ENVS) {
      const name = `${team}-${env}`;
      projectKeys.push(name);
      projectRows.push({ external_id: `seed:project:${name}`, name, status: 'active', read_only: 1, description: `${team[0]!.toUpperCase()}${team.slice(1)} team, ${env} workloads`, created_at: ago(r0, 700, 1500) });
    }
  }
  const projectIdList = put('projects', projectRows, 'local');
  const projectId = new Map(projectKeys.map((k, i) => [k, projectIdList[i]!]));
  {
    TEAM_NAMES.forEach((team, ti) => ENVS.forEach(([env]) => userTags('project', projectId.get(`${team}-${env}`)!, { team, env, 'cost-center': `cc-${4100 + ti * 10}` })));
  }

  const accountIds: string[] = [];
  for (const c of CLOUDS) {
    const [id] = put('cloudAccounts', [{ external_id: `seed:account:${c.name}`, name: c.name, status: 'enabled', read_only: 1, regions: Object.keys(c.regions), health: 'ok', last_sync_at: at, sync_interval_minutes: 15, created_at: ago(r0, 300, 900) }], c.provider);
    accountIds.push(id!);
  }

  const dcRegionIds = put('regions', DATACENTRES.map((d) => ({ external_id: `seed:region:${d.region}`, name: d.region, status: 'enabled', read_only: 1, created_at: ago(r0, 1000, 1500) })), 'local');
  const zones: { id: string; short: string; region: number }[] = [];
  {
    const zoneRows: SyncRow[] = [];
    const shorts: { short: string; region: number }[] = [];
    DATACENTRES.forEach((d, di) =>
      d.zones.forEach((z) => {
        const short = `${d.short}${z}`;
        shorts.push({ short, region: di });
        zoneRows.push({ external_id: `seed:zone:${short}`, name: `${d.region}-${z}`, status: 'enabled', read_only: 1, region_id: dcRegionIds[di], description: `${d.region}, hall ${z.toUpperCase()}`, created_at: ago(r0, 1000, 1500) });
      }),
    );
    put('zones', zoneRows, 'local').forEach((id, i) => zones.push({ id, ...shorts[i]! }));
  }
  // Cloud regions and zones, per account.
  const cloudZones: { id: string; name: string }[][] = [];
  CLOUDS.forEach((c, ci) => {
    const scope = { cloudAccountId: accountIds[ci]! };
    const regionNames = Object.keys(c.regions);
    const regionIds = put('regions', regionNames.map((r) => ({ external_id: `${c.name}:${r}`, name: r, status: 'enabled', read_only: 1 })), c.provider, scope);
    const zr: SyncRow[] = [];
    const names: string[] = [];
    regionNames.forEach((r, ri) =>
      c.regions[r]!.forEach((z) => {
        names.push(z);
        zr.push({ external_id: `${c.name}:${z}`, name: z, status: 'enabled', read_only: 1, region_id: regionIds[ri] });
      }),
    );
    cloudZones.push(put('zones', zr, c.provider).map((id, i) => ({ id, name: names[i]! })));
  });

  // ---- hosts and their storages ---------------------------------------------------------------------------------
  const rh = root.fork('hosts');
  const hosts: HostState[] = [];
  const hostRows: Record<HostState['provider'], SyncRow[]> = { kvm: [], esxi: [], baremetal: [] };
  const hostIdx: Record<HostState['provider'], number[]> = { kvm: [], esxi: [], baremetal: [] };
  const perZone = zones.map(() => 0);
  let esxiMoref = 1000;
  for (let i = 0; i < o.hosts; i++) {
    const zone = rh.weighted(zones.map((_, zi) => [zi, zi % 3 === 0 ? 3 : 2] as const));
    const n = perZone[zone]!++;
    const hv = rh.weighted(HYPERVISORS);
    const shape = rh.weighted(HOST_SHAPES);
    const name = `${hv === 'baremetal' ? 'bm' : hv}-${zones[zone]!.short}-r${String(Math.floor(n / 40) + 1).padStart(2, '0')}-n${String((n % 40) + 1).padStart(2, '0')}`;
    const addrN = n + 10;
    const address = `10.${200 + zone}.${Math.floor(addrN / 250)}.${(addrN % 250) + 1}`;
    const status = rh.weighted([['online', 98.5], ['offline', 1.5]] as const);
    const cpuOc = hv === 'baremetal' ? 1 : hv === 'esxi' ? rh.pick([3, 4]) : rh.pick([2, 4, 4, 6, 8]);
    const memOc = hv === 'baremetal' ? 1 : rh.pick([1, 1, 1.2, 1.5]);
    const ext = hv === 'kvm' ? rh.uuid() : hv === 'esxi' ? `host-${esxiMoref++}` : `SN-${rh.alnum(10).toUpperCase()}`;
    const h: HostState = { id: '', name, zone, provider: hv, address, status, cpuCap: shape.cores * cpuOc, memCap: shape.memGb * GiB * memOc, cpu: 0, mem: 0, guests: 0, localStorage: '' };
    hosts.push(h);
    hostIdx[hv].push(i);
    const rack = `r${String(Math.floor(n / 40) + 1).padStart(2, '0')}`;
    hostRows[hv].push({
      external_id: ext,
      name,
      status,
      read_only: 1,
      status_reason: status === 'offline' ? rh.pick(['powered off: hardware replacement (OPS-2291)', 'powered off by IPMI', 'decommissioning']) : null,
      zone_id: zones[zone]!.id,
      address,
      hypervisor: hv,
      enabled: rh.chance(0.99) ? 1 : 0,
      maintenance: rh.chance(0.02) ? 1 : 0,
      cpu_model: rh.pick(CPU_MODELS[shape.cores]!),
      cpu_cores: shape.cores,
      memory_mb: shape.memGb * GiB,
      storage_gb: shape.diskTb * 1000,
      cpu_overcommit: cpuOc,
      memory_overcommit: memOc,
      agent_version: hv === 'kvm' ? rh.pick(['0.9.4', '0.9.5', '0.10.0']) : hv === 'esxi' ? rh.pick(['ESXi 8.0.2 build-22380479', 'ESXi 7.0.3 build-21930508']) : null,
      last_seen_at: status === 'online' ? at : ago(rh, 1, 20),
      created_at: ago(rh, 60, 1800),
      tags: { rack, vendor: rh.pick(['Dell PowerEdge R750', 'HPE ProLiant DL380 Gen10', 'Lenovo ThinkSystem SR650', 'Inspur NF5280M6', 'Supermicro SYS-2029U']) },
    });
  }
  for (const hv of ['kvm', 'esxi', 'baremetal'] as const) {
    put('hosts', hostRows[hv], hv).forEach((id, j) => (hosts[hostIdx[hv][j]!]!.id = id));
  }
  {
    for (let i = 0; i < hosts.length; i++) if (rh.chance(0.2)) userTags('host', hosts[i]!.id, { pool: rh.pick(['general', 'general', 'db', 'gpu', 'ci']) });
  }
  progress({ phase: 'hosts', done: hosts.length, total: o.hosts });

  const storageUsed = new Map<string, number>();
  const storageRows = new Map<string, { provider: string; row: SyncRow }>();
  {
    // Host rows are grouped by provider: walk each group in order to pair rows with hosts.
    const byProvider: Record<string, { row: SyncRow; host: number }[]> = { kvm: [], esxi: [], baremetal: [] };
    for (const hv of ['kvm', 'esxi', 'baremetal'] as const) {
      hostIdx[hv].forEach((hi, j) => {
        const h = hosts[hi]!;
        const hr = hostRows[hv][j]!;
        byProvider[hv]!.push({
          host: hi,
          row: { external_id: `${hr.external_id}:local`, name: `${h.name}-local`, status: h.status === 'online' ? 'online' : 'offline', read_only: 1, zone_id: zones[h.zone]!.id, host_id: h.id, type: hv === 'esxi' ? 'local' : hv === 'baremetal' ? 'lvm' : rh.pick(['local', 'lvm']), capacity_gb: hr.storage_gb, used_gb: 0, created_at: hr.created_at },
        });
      });
      const ids = put('storages', byProvider[hv]!.map((x) => x.row), hv);
      byProvider[hv]!.forEach((x, j) => {
        hosts[x.host]!.localStorage = ids[j]!;
        storageRows.set(ids[j]!, { provider: hv, row: x.row });
      });
    }
  }
  const shared: string[][] = [];
  {
    const rows: SyncRow[] = [];
    zones.forEach((z) => {
      rows.push({ external_id: `seed:storage:${z.short}:nfs`, name: `${z.short}-nfs01`, status: 'online', read_only: 1, zone_id: z.id, type: 'nfs', capacity_gb: rh.pick([200, 300, 500]) * 1000, used_gb: 0 });
      rows.push({ external_id: `seed:storage:${z.short}:rbd`, name: `${z.short}-ceph01`, status: 'online', read_only: 1, zone_id: z.id, type: 'rbd', capacity_gb: rh.pick([400, 600, 800]) * 1000, used_gb: 0 });
    });
    const ids = put('storages', rows, 'local');
    zones.forEach((_, zi) => shared.push([ids[zi * 2]!, ids[zi * 2 + 1]!]));
    ids.forEach((id, j) => storageRows.set(id, { provider: 'local', row: rows[j]! }));
  }
  progress({ phase: 'storages', done: storageRows.size, total: storageRows.size });

  // ---- wires, networks -----------------------------------------------------------------------------------------------
  const rn = root.fork('networks');
  const onPremTarget = Math.max(0, o.guests - Math.round(o.guests * (o.cloudShare ?? 0.1)));
  const placeable = hosts.map((h, i) => (h.provider === 'baremetal' ? -1 : i)).filter((i) => i >= 0);
  const zoneCap = zones.map(() => 0);
  for (const i of placeable) zoneCap[hosts[i]!.zone]! += hosts[i]!.cpuCap;
  const totalCap = zoneCap.reduce((a, b) => a + b, 0) || 1;
  const wireRows: SyncRow[] = [];
  zones.forEach((z) => {
    wireRows.push({ external_id: `seed:wire:${z.short}:bond0`, name: 'bond0', status: 'available', read_only: 1, zone_id: z.id, bandwidth_mbps: 25000, description: 'guest traffic, 2x25G LACP' });
    wireRows.push({ external_id: `seed:wire:${z.short}:bond1`, name: 'bond1', status: 'available', read_only: 1, zone_id: z.id, bandwidth_mbps: 10000, description: 'management and storage, 2x10G' });
  });
  const wireIds = put('wires', wireRows, 'local');
  const nets: NetState[] = [];
  const zoneNets: number[][] = zones.map(() => []);
  {
    const rows: SyncRow[] = [];
    let k = 0;
    zones.forEach((z, zi) => {
      const expected = (onPremTarget * zoneCap[zi]!) / totalCap;
      const count = Math.ceil((expected * 1.6) / 4093) + 1;
      for (let j = 0; j < count; j++, k++) {
        const first = ipToInt(`10.${k >> 4}.${(k & 15) << 4}.0`);
        const vlan = 100 + j;
        const gw = first + 1;
        rows.push({
          external_id: `seed:network:${z.short}:vlan${vlan}`,
          name: `${z.short}-vlan${vlan}`,
          status: 'available',
          read_only: 1,
          wire_id: wireIds[zi * 2],
          project_id: rn.chance(0.2) ? projectId.get(rn.pick(projectKeys)) : null,
          cidr: `${intToIp(first)}/20`,
          net_first: first,
          net_last: first + 4095,
          gateway: intToIp(gw),
          vlan,
          dns: ['10.255.0.2', '10.255.0.3'],
          ip_start: intToIp(gw),
          ip_end: intToIp(first + 4094),
          ip_start_int: gw,
          ip_end_int: first + 4094,
        });
        nets.push({ id: '', zone: zi, vlan, next: gw + 1, end: first + 4094 });
        zoneNets[zi]!.push(nets.length - 1);
      }
    });
    const ids = put('networks', rows, 'local');
    {
      ids.forEach((id, i) => {
        nets[i]!.id = id;
        insIp.run(id, (rows[i]!.ip_start_int as number), rows[i]!.gateway, 'reserved', null, null, null, 'gateway', at);
        side.ipAllocations++;
      });
    }
  }

  // ---- images, key pairs, security groups ---------------------------------------------------------------------------
  const ri = root.fork('catalog');
  const imageRows: SyncRow[] = [];
  for (const [base, os, size] of IMAGES) {
    for (const format of os.startsWith('Windows') ? ['qcow2', 'vmdk'] : ['qcow2', 'vmdk', 'raw']) {
      imageRows.push({ external_id: `seed:image:${base}.${format}`, name: `${base}.${format}`, status: 'active', read_only: 1, os, format, size_gb: format === 'raw' ? (os.startsWith('Windows') ? 60 : 20) : size, min_disk_gb: os.startsWith('Windows') ? 60 : 20, created_at: ago(ri, 10, 700) });
    }
  }
  put('images', imageRows, 'local');
  const keyRows: SyncRow[] = [];
  const keyOwners = [...TEAM_NAMES.map((t) => ({ name: `${t}-deploy`, project: `${t}-prod` })), ...PEOPLE.map((p) => ({ name: `${p.replace('.', '-')}-laptop`, project: null }))];
  for (const k of keyOwners) {
    const raw = Buffer.from(ri.hex(64), 'hex');
    const blob = Buffer.concat([u32be(11), Buffer.from('ssh-ed25519'), u32be(32), raw]);
    const publicKey = `ssh-ed25519 ${blob.toString('base64')} ${k.name}`;
    keyRows.push({ external_id: `seed:keypair:${k.name}`, name: k.name, status: 'available', read_only: 1, fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`, public_key: publicKey, project_id: k.project ? projectId.get(k.project) : null, created_at: ago(ri, 30, 900) });
  }
  put('keypairs', keyRows, 'local');
  const sgRows: SyncRow[] = [];
  const sgKinds = ['default', 'web-ingress', 'db-internal'] as const;
  for (const p of projectKeys) for (const g of sgKinds) sgRows.push({ external_id: `seed:sg:${p}:${g}`, name: g, status: 'available', read_only: 1, project_id: projectId.get(p), description: g === 'default' ? 'SSH from the office, all egress' : g === 'web-ingress' ? 'HTTP(S) from anywhere' : 'database ports from the data centre only' });
  const sgIds = put('securityGroups', sgRows, 'local');
  {
    const ins = db.prepare('INSERT INTO security_group_rules (id, group_id, direction, protocol, ports, cidr, action, priority, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    let n = 0;
    const rule = (g: string, direction: string, protocol: string, ports: string, cidr: string, action: string, priority: number, description: string) => {
      ins.run(`rule-${tag}-${(++n).toString(36).padStart(6, '0')}`, g, direction, protocol, ports, cidr, action, priority, description);
      side.rules++;
    };
    {
      sgIds.forEach((g, i) => {
        const kind = sgKinds[i % sgKinds.length];
        if (kind === 'default') {
          rule(g, 'in', 'tcp', '22', '10.0.0.0/8', 'allow', 100, 'SSH from the data centre');
          rule(g, 'in', 'icmp', 'any', '10.0.0.0/8', 'allow', 110, 'ping');
          rule(g, 'out', 'any', 'any', '0.0.0.0/0', 'allow', 100, 'all egress');
        } else if (kind === 'web-ingress') {
          rule(g, 'in', 'tcp', '80', '0.0.0.0/0', 'allow', 100, 'HTTP');
          rule(g, 'in', 'tcp', '443', '0.0.0.0/0', 'allow', 100, 'HTTPS');
        } else {
          rule(g, 'in', 'tcp', '5432', '10.0.0.0/8', 'allow', 100, 'PostgreSQL');
          rule(g, 'in', 'tcp', '3306', '10.0.0.0/8', 'allow', 110, 'MySQL');
          rule(g, 'in', 'any', 'any', '0.0.0.0/0', 'deny', 1000, 'everything else');
        }
      });
    }
  }

  // ---- guests on KVM/ESXi, with NICs, disks, snapshots ---------------------------------------------------------------
  const rg = root.fork('guests');
  const nameSeq = new Map<string, number>();
  const guestName = (app: string, env: string) => {
    const k = `${app}-${env}`;
    const n = (nameSeq.get(k) ?? 0) + 1;
    nameSeq.set(k, n);
    return `${k}-${String(n).padStart(4, '0')}`;
  };
  const teamWeights = TEAM_NAMES.map((t) => [t, TEAMS[t]!.weight] as const);
  const projectUse = new Map<string, { guests: number; vcpu: number; mem: number; disk: number }>();
  const use = (p: string) => {
    let u = projectUse.get(p);
    if (!u) projectUse.set(p, (u = { guests: 0, vcpu: 0, mem: 0, disk: 0 }));
    return u;
  };
  let macKvm = 0;
  let macEsxi = 0;

  const placeGuest = (vcpu: number, memMb: number): HostState | null => {
    if (!placeable.length) return null;
    let best: HostState | null = null;
    for (let t = 0; t < 8; t++) {
      const h = hosts[placeable[rg.int(0, placeable.length - 1)]!]!;
      if (h.cpu + vcpu <= h.cpuCap * 0.9 && h.mem + memMb <= h.memCap * 0.95) return h;
      if (!best || h.mem / h.memCap < best.mem / best.memCap) best = h;
    }
    return best;
  };
  const takeIp = (zone: number, avoid = -1): { net: NetState; ip: number } | null => {
    const list = zoneNets[zone]!;
    const start = rg.int(0, list.length - 1);
    for (let j = 0; j < list.length; j++) {
      const net = nets[list[(start + j) % list.length]!]!;
      if (list.length > 1 && list[(start + j) % list.length] === avoid) continue;
      if (net.next <= net.end) return { net, ip: net.next++ };
    }
    return null;
  };

  for (let done = 0; done < onPremTarget; ) {
    const n = Math.min(PAGE, onPremTarget - done);
    type G = { row: SyncRow; provider: 'kvm' | 'esxi'; project: string; ips: { net: NetState; ip: number }[]; disks: SyncRow[]; tags: Record<string, string> };
    const page: G[] = [];
    for (let j = 0; j < n; j++) {
      const team = rg.weighted(teamWeights);
      const app = rg.pick(TEAMS[team]!.apps);
      const env = rg.weighted(ENVS);
      const project = `${team}-${env}`;
      const [vcpu, memGb] = rg.weighted(sizeClass(app));
      const memMb = memGb * GiB;
      const host = placeGuest(vcpu, memMb);
      const name = guestName(app, env);
      const os = rg.weighted(GUEST_OS);
      const windows = os.startsWith('Windows');
      let status: string = rg.weighted(GUEST_STATUS);
      if (host && host.status !== 'online') status = 'ready';
      const provider = host?.provider === 'esxi' ? 'esxi' : 'kvm';
      const ext = rg.uuid();
      const ips: G['ips'] = [];
      const nics: NonNullable<SyncRow['nics']> = [];
      if (host) {
        const a = takeIp(host.zone);
        if (a) ips.push(a);
        if (a && rg.chance(0.1)) {
          const b = takeIp(host.zone, nets.indexOf(a.net));
          if (b && b.net !== a.net) ips.push(b);
        }
      }
      ips.forEach((a, idx) => {
        const c = provider === 'esxi' ? macEsxi++ : macKvm++;
        nics.push({ idx, mac: provider === 'esxi' ? mac([0x00, 0x50, 0x56, (c >> 16) & 0x3f, (c >> 8) & 255, c & 255]) : mac([0x52, 0x54, 0x00, (c >> 16) & 255, (c >> 8) & 255, c & 255]), ip: intToIp(a.ip), network_id: a.net.id, bridge: provider === 'esxi' ? `dvpg-vlan${a.net.vlan}` : `br-vlan${a.net.vlan}` });
      });
      // Disks: a system disk and 0-3 data disks, on the host's local storage or the zone's shared pools.
      const disks: SyncRow[] = [];
      const dataCount = rg.weighted(dataHeavy(app) ? ([[0, 20], [1, 50], [2, 20], [3, 10]] as const) : ([[0, 55], [1, 35], [2, 8], [3, 2]] as const));
      let diskGb = 0;
      for (let d = 0; d <= dataCount; d++) {
        const size = d === 0 ? (windows ? rg.pick([60, 100, 128]) : rg.pick([20, 40, 50, 80, 100])) : rg.weighted([[50, 20], [100, 30], [200, 20], [500, 15], [1000, 10], [2000, 5]] as const);
        diskGb += size;
        const storage = host ? (rg.chance(0.8) ? host.localStorage : rg.pick(shared[host.zone]!)) : null;
        if (storage) storageUsed.set(storage, (storageUsed.get(storage) ?? 0) + size);
        disks.push({ external_id: `${ext}:disk${d}`, name: `${name}-${d === 0 ? 'sys' : `data${d}`}`, status: 'ready', read_only: 1, storage_id: storage, project_id: projectId.get(project), size_gb: size, format: provider === 'esxi' ? 'vmdk' : 'qcow2', idx: d, bootable: d === 0 ? 1 : 0 });
      }
      if (host) {
        host.cpu += vcpu;
        host.mem += memMb;
        host.guests++;
      }
      const u = use(project);
      u.guests++;
      u.vcpu += vcpu;
      u.mem += memMb;
      u.disk += diskGb;
      const tags: Record<string, string> = rg.chance(0.92) ? { env, team, app } : { env };
      if (rg.chance(0.15)) tags.owner = rg.pick(PEOPLE);
      page.push({
        provider,
        project,
        ips,
        disks,
        tags,
        row: {
          external_id: ext,
          name,
          status,
          read_only: 1,
          host_id: host?.id ?? null,
          project_id: projectId.get(project),
          zone_id: host ? zones[host.zone]!.id : null,
          vcpu,
          memory_mb: memMb,
          disk_gb: diskGb,
          os,
          vnc_port: provider === 'kvm' && status === 'running' && host ? 5900 + host.guests : null,
          created_at: ago(rg, 1, 1200),
          nics,
          ...(provider === 'esxi' ? { tags: { 'vsphere.folder': `/${DATACENTRES[zones[host!.zone]!.region]!.region}/${team}/${env}` } } : {}),
        },
      });
    }
    {
      for (const prov of ['kvm', 'esxi'] as const) {
        const group = page.filter((g) => g.provider === prov);
        if (!group.length) continue;
        const ids = put('guests', group.map((g) => g.row), prov);
        const diskRows: SyncRow[] = [];
        group.forEach((g, j) => {
          const id = ids[j]!;
          userTags('guest', id, g.tags);
          for (const a of g.ips) {
            insIp.run(a.net.id, a.ip, intToIp(a.ip), 'allocated', 'guest', id, projectId.get(g.project), '', at);
            side.ipAllocations++;
          }
          for (const d of g.disks) diskRows.push({ ...d, guest_id: id });
        });
        const diskIds = put('disks', diskRows, prov);
        const snaps: SyncRow[] = [];
        diskRows.forEach((d, j) => {
          if (!rg.chance(0.04)) return;
          for (let k = rg.int(1, 3); k > 0; k--) {
            const when = ago(rg, 1, 180);
            snaps.push({ external_id: `${d.external_id}:snap${k}`, name: `${d.name}-snap-${when.slice(0, 10).replace(/-/g, '')}-${k}`, status: 'ready', read_only: 1, disk_id: diskIds[j], guest_id: d.guest_id, size_gb: Math.round((d.size_gb as number) * rg.int(5, 40)) / 100, created_at: when });
          }
        });
        if (snaps.length) put('snapshots', snaps, prov);
      }
    }
    done += n;
    commitPoint();
    progress({ phase: 'guests', done, total: onPremTarget });
  }

  // ---- cloud accounts' instances, disks, EIPs ------------------------------------------------------------------------
  const rc = root.fork('cloud');
  const cloudTarget = o.guests - onPremTarget;
  const perAccount = splitByWeight(cloudTarget, CLOUDS.map((c) => c.weight));
  let cloudDone = 0;
  CLOUDS.forEach((c, ci) => {
    const scope = { cloudAccountId: accountIds[ci]! };
    const subscription = rc.uuid();
    let ipN = 0;
    let macN = 0;
    let eipN = 256;
    const vpcBase = ipToInt(`172.${16 + ci * 2}.0.0`);
    const eipBase = { aws: 54, aliyun: 47, tencent: 43, azure: 20 }[c.provider];
    for (let done = 0; done < perAccount[ci]!; ) {
      const n = Math.min(PAGE, perAccount[ci]! - done);
      const guestRows: SyncRow[] = [];
      const diskRows: SyncRow[] = [];
      const meta: { project: string; running: boolean; name: string; ext: string }[] = [];
      for (let j = 0; j < n; j++) {
        const team = rc.weighted(teamWeights);
        const app = rc.pick(TEAMS[team]!.apps);
        const env = rc.weighted(ENVS);
        const project = `${team}-${env}`;
        const [type, vcpu, memGb] = rc.pick(c.types);
        const zone = rc.pick(cloudZones[ci]!);
        const name = guestName(app, env);
        const ext = cloudId(rc, c, 'vm', name, subscription, team, env);
        const status = rc.weighted([['running', 80], ['ready', 16], ['start_failed', 1], ['unknown', 1], ['stop_failed', 0.5]] as const);
        const ip = vpcBase + Math.floor(ipN / 250) * 256 + (ipN % 250) + 4;
        ipN++;
        const m = macN++;
        const sys = rc.pick([20, 30, 40, 50, 100]);
        const data = rc.chance(0.3) ? rc.pick([100, 200, 500]) : 0;
        const tags: Record<string, string> = { Name: name, env, team, app };
        if (c.provider === 'aws' && rc.chance(0.3)) tags['aws:autoscaling:groupName'] = `${app}-${env}-asg`;
        guestRows.push({
          external_id: ext,
          name,
          status,
          read_only: 1,
          project_id: projectId.get(project),
          zone_id: zone.id,
          vcpu,
          memory_mb: memGb * GiB,
          disk_gb: sys + data,
          os: rc.pick(c.os),
          instance_type: type,
          created_at: ago(rc, 1, 900),
          nics: [{ idx: 0, mac: mac([0x02, ci, (m >> 24) & 255, (m >> 16) & 255, (m >> 8) & 255, m & 255]), ip: intToIp(ip) }],
          tags,
        });
        meta.push({ project, running: status === 'running', name, ext });
        diskRows.push({ external_id: cloudId(rc, c, 'disk', `${name}_OsDisk_1_${rc.hex(32)}`, subscription, team, env), name: `${name}-sys`, status: 'ready', read_only: 1, project_id: projectId.get(project), size_gb: sys, format: c.diskFormat, idx: 0, bootable: 1 });
        if (data) diskRows.push({ external_id: cloudId(rc, c, 'disk', `${name}_DataDisk_0_${rc.hex(32)}`, subscription, team, env), name: `${name}-data1`, status: 'ready', read_only: 1, project_id: projectId.get(project), size_gb: data, format: c.diskFormat, idx: 1, bootable: 0 });
        const u = use(project);
        u.guests++;
        u.vcpu += vcpu;
        u.mem += memGb * GiB;
        u.disk += sys + data;
      }
      {
        const ids = put('guests', guestRows, c.provider, scope);
        const byExt = new Map(meta.map((m, j) => [m.ext, ids[j]!]));
        let g = 0;
        for (const d of diskRows) {
          if (d.idx === 0) g++;
          d.guest_id = byExt.get(meta[g - 1]!.ext);
        }
        put('disks', diskRows, c.provider);
        const eips: SyncRow[] = [];
        meta.forEach((m, j) => {
          if (!m.running || !rc.chance(0.25)) return;
          const n2 = eipN++;
          eips.push({ external_id: cloudId(rc, c, 'eip', `${m.name}-ip`, subscription, '', ''), name: `eip-${m.name}`, status: 'in_use', read_only: 1, ip: `${eipBase}.${(n2 >> 16) & 255}.${(n2 >> 8) & 255}.${n2 & 255}`, bandwidth_mbps: rc.pick([100, 200, 500, 1000]), guest_id: ids[j] });
        });
        if (done === 0) {
          for (let k = 0; k < 5; k++) {
            const n2 = eipN++;
            eips.push({ external_id: cloudId(rc, c, 'eip', `spare-${k}-ip`, subscription, '', ''), name: `eip-spare-${k}`, status: 'available', read_only: 1, ip: `${eipBase}.${(n2 >> 16) & 255}.${(n2 >> 8) & 255}.${n2 & 255}`, bandwidth_mbps: 100, guest_id: null });
          }
        }
        if (eips.length) put('eips', eips, c.provider, scope);
      }
      done += n;
      cloudDone += n;
      commitPoint();
      progress({ phase: 'cloud guests', done: cloudDone, total: cloudTarget });
    }
  });

  // ---- second pass: what only the whole inventory tells (storage usage, project quotas) -----------------------------
  const storageUpdates: Record<string, SyncRow[]> = {};
  for (const [id, s] of storageRows) {
    const used = storageUsed.get(id) ?? 0;
    if (!used) continue;
    (storageUpdates[s.provider] ??= []).push({ ...s.row, used_gb: used });
  }
  for (const [prov, list] of Object.entries(storageUpdates)) put('storages', list, prov);
  const rq = root.fork('quota');
  put(
    'projects',
    projectRows.map((p, i) => {
      const u = projectUse.get(projectKeys[i]!) ?? { guests: 0, vcpu: 0, mem: 0, disk: 0 };
      // Most projects have headroom, some none at all (unlimited), a few are at or over their quota.
      const f = rq.weighted([[1.5, 40], [2, 25], [1.2, 15], [0, 10], [0.98, 10]] as const);
      const q = (x: number, round: number) => (f === 0 ? null : Math.max(round, Math.ceil((x * f) / round) * round));
      return { ...p, quota_guests: q(u.guests, 10), quota_vcpu: q(u.vcpu, 16), quota_memory_mb: q(u.mem, 65536), quota_storage_gb: q(u.disk, 1000), quota_ips: q(u.guests * 1.2, 10) };
    }),
    'local',
  );

  // A few hosts do not answer: what they hold is kept as last known, and stale.
  let unreachable = 0;
  const ru = root.fork('unreachable');
  {
    for (const i of placeable) {
      const h = hosts[i]!;
      if (h.status !== 'online' || !ru.chance(0.004)) continue;
      const reason = h.provider === 'kvm' ? `ssh: connect to host ${h.address} port 22: No route to host` : 'vCenter: host is not responding (no heartbeat for 3 minutes)';
      rows += markUnreachable(db, { hostId: h.id }, reason, at).stale;
      unreachable++;
    }
    // Even a small seed shows what an unreachable host looks like: the first online host with guests.
    const first = unreachable === 0 ? (db.prepare(`SELECT id, address FROM hosts WHERE status = 'online' AND guest_count > 0 ORDER BY rowid LIMIT 1`).get() as { id: string; address: string } | undefined) : undefined;
    if (first) {
      rows += markUnreachable(db, { hostId: first.id }, `ssh: connect to host ${first.address} port 22: No route to host`, at).stale;
      unreachable++;
    }
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
      ORIGIN_KEY,
      JSON.stringify({ kind: 'seed', at, hosts: o.hosts, guests: o.guests, seed, version: SEED_VERSION }),
    );
  }
  rows += side.tags + side.nics + side.ipAllocations + side.rules;
  return { at, counts, side, rows, onPremGuests: onPremTarget, cloudGuests: cloudTarget, unreachableHosts: unreachable, ms: performance.now() - t0 };
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function mac(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Splits n into parts proportional to weights (largest remainder), summing to n exactly. */
function splitByWeight(n: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (n * w) / total);
  const out = raw.map(Math.floor);
  let left = n - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return out;
}

/** A provider's own id format for an instance, a disk or an EIP. */
function cloudId(rng: Rng, c: CloudDef, what: 'vm' | 'disk' | 'eip', name: string, subscription: string, team: string, env: string): string {
  switch (c.provider) {
    case 'aws':
      return `${what === 'vm' ? 'i' : what === 'disk' ? 'vol' : 'eipalloc'}-0${rng.hex(16)}`;
    case 'aliyun':
      return `${what === 'vm' ? 'i' : what === 'disk' ? 'd' : 'eip'}-bp1${rng.alnum(17)}`;
    case 'tencent':
      return `${what === 'vm' ? 'ins' : what === 'disk' ? 'disk' : 'eip'}-${rng.alnum(8)}`;
    case 'azure': {
      const rg = `rg-${team || 'network'}${env ? `-${env}` : ''}`;
      const type = what === 'vm' ? 'Microsoft.Compute/virtualMachines' : what === 'disk' ? 'Microsoft.Compute/disks' : 'Microsoft.Network/publicIPAddresses';
      return `/subscriptions/${subscription}/resourceGroups/${rg}/providers/${type}/${name}`;
    }
  }
}
