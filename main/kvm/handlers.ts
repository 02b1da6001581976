import type Database from 'better-sqlite3';
import { ApiError, fieldError } from '@shared/errors';
import type { kvm as kvmContract } from '@shared/contract/kvm';
import type { HostFacts } from '@shared/agent/protocol';
import type { DomainHandlers } from '../api/handlers';
import type { TaskEngine } from '../tasks/engine';
import type { InventoryRepo } from '../inventory/repo';
import type { InventoryMutations } from '../inventory/mutations';
import { newResourceId } from '../inventory/sync';
import { parseCidr } from '../inventory/ip';
import { probeHostKey } from '../hosts/ssh/session';
import type { SshEndpoint } from '../hosts/types';
import type { KvmService, JumpRecord } from './service';
import { authSecretId, jumpSecretId, resolveAuth, storeAuth, toSshAuth } from './credentials';
import { bindReservation, releaseReservation, schedule } from '../scheduler';
import { randomMac } from './domain-xml';
import { createSecretId, type CreateParams, type GuestOp } from './guest-tasks';
import { domainUuid } from './driver';
import type { Row } from '../inventory/specs';

interface Deps {
  db: Database.Database;
  /** The scheduler setting (spread or binpack) for requests that do not name one. */
  schedulerStrategy: () => 'spread' | 'binpack';
  kvm: KvmService;
  engine: TaskEngine;
  repo: InventoryRepo;
  mutations: InventoryMutations;
}

const now = () => new Date().toISOString();

/** The scheduler names request fields its own way; the create-guest form has these. */
const SCHED_FIELD: [RegExp, string][] = [
  [/^disks(\.\d+)?\.storage(Type)?$/, 'storagePool'],
  [/^disks(\.\d+)?(\.sizeGb)?$/, 'diskGb'],
  [/^networks(\.\d+)?(\.networkId)?$/, 'nic.networkId'],
  [/^imageId$/, 'source.imageId'],
];
function schedulerFieldsToGuest(e: ApiError): ApiError {
  const issues = e.details?.issues?.map((x) => ({ ...x, path: SCHED_FIELD.find(([re]) => re.test(x.path))?.[1] ?? x.path }));
  return new ApiError(e.code, e.message, { ...e.details, ...(issues ? { issues } : {}) });
}

function isUniqueViolation(e: unknown, index?: string): boolean {
  const err = e as { code?: string; message?: string };
  return String(err.code).startsWith('SQLITE_CONSTRAINT') && /UNIQUE/.test(err.message ?? '') && (!index || (err.message ?? '').includes(index));
}

export function kvmHandlers(d: Deps): DomainHandlers<typeof kvmContract> {
  const { db, kvm, engine } = d;

  const kvmGuest = (id: string): Row & { host_id: string; external_id: string; name: string } => {
    const g = db.prepare('SELECT * FROM guests WHERE id = ?').get(id) as Row | undefined;
    if (!g) throw new ApiError('not_found', `guest ${id} does not exist`, { id });
    if (g.provider !== 'kvm' || !g.host_id) throw new ApiError('not_supported', `guest ${g.name as string} is not on a KVM host (${g.provider as string})`, { provider: g.provider });
    if (g.read_only === 1) throw new ApiError('forbidden', `guest ${g.name as string} is read-only (imported inventory)`);
    if (!g.external_id) throw new ApiError('conflict', `guest ${g.name as string} is not defined on its host yet (${g.status as string})`, { reason: 'status', status: g.status });
    return g as Row & { host_id: string; external_id: string; name: string };
  };

  const submitOp = (guestId: string, op: GuestOp, args: Record<string, unknown>, actor: string, check?: (g: Row) => void) => {
    const g = kvmGuest(guestId);
    if (['creating', 'deleting', 'vanished'].includes(g.status as string)) throw new ApiError('conflict', `cannot change guest ${g.name} while it is ${g.status as string}`, { reason: 'status', status: g.status });
    check?.(g);
    const t = engine.submit('guests.op', { guestId, hostId: g.host_id, uuid: domainUuid({ externalId: g.external_id, name: g.name }), op, args }, { createdBy: actor, target: { kind: 'guest', id: guestId, name: g.name }, concurrencyKey: `host:${g.host_id}` });
    return { taskId: t.id };
  };

  const hostRow = (id: string) => {
    const h = db.prepare('SELECT * FROM hosts WHERE id = ?').get(id) as Row | undefined;
    if (!h) throw new ApiError('not_found', `host ${id} does not exist`, { id });
    kvm.row(id);
    return h;
  };

  return {
    async 'hosts.probeKey'({ address, port, hostId, jumpHost }) {
      let jump: SshEndpoint | undefined;
      if (jumpHost) jump = { address: jumpHost.address, port: jumpHost.port, username: jumpHost.username, hostKeyFingerprint: jumpHost.hostKeyFingerprint, auth: toSshAuth(resolveAuth(jumpHost.auth, 'jumpHost.auth'), kvm.o.sshAuthSock) };
      else if (hostId) jump = (await kvm.target(hostId)).jump; // a host behind a bastion: through its stored jump host
      const key = await probeHostKey({ address, port, ...(jump ? { jump } : {}) });
      const known = hostId
        ? (db.prepare('SELECT host_key_fingerprint AS fingerprint FROM host_links WHERE host_id = ?').get(hostId) as { fingerprint: string | null } | undefined)
        : (db.prepare('SELECT fingerprint FROM known_host_keys WHERE address = ? AND port = ?').get(address, port) as { fingerprint: string } | undefined);
      const expected = known?.fingerprint ?? null;
      return { algorithm: key.algorithm, fingerprint: key.fingerprint, trust: expected === null ? 'new' : expected === key.fingerprint ? 'match' : 'changed', expected };
    },

    async 'hosts.add'(i, ctx) {
      const auth = resolveAuth(i.auth);
      const jumpAuth = i.jumpHost ? resolveAuth(i.jumpHost.auth, 'jumpHost.auth') : null;
      if (i.zoneId) d.repo.mustExist('zones', i.zoneId, 'zoneId');
      const id = newResourceId('hosts');
      const name = i.name?.trim() || i.address;
      // Secrets first: if the vault cannot be opened nothing else is written.
      await storeAuth(kvm.o.vault, authSecretId(id), auth);
      if (jumpAuth) await storeAuth(kvm.o.vault, jumpSecretId(id), jumpAuth);
      const t = now();
      try {
        db.transaction(() => {
          db.prepare(
            `INSERT INTO hosts (id, name, provider, external_id, status, created_at, updated_at, zone_id, address, hypervisor, status_reason)
             VALUES (?, ?, 'kvm', ?, 'connecting', ?, ?, ?, ?, 'kvm', NULL)`,
          ).run(id, name, `${i.address}:${i.port}`, t, t, i.zoneId, i.address);
          const jump: JumpRecord | null = i.jumpHost ? { address: i.jumpHost.address, port: i.jumpHost.port, username: i.jumpHost.username, authMethod: i.jumpHost.auth.method, hostKeyFingerprint: i.jumpHost.hostKeyFingerprint } : null;
          db.prepare(
            `INSERT INTO host_links (host_id, address, port, username, auth_method, jump_json, host_key_fingerprint, libvirt_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(id, i.address, i.port, i.username, auth.method, jump ? JSON.stringify(jump) : null, i.hostKeyFingerprint, i.libvirtUri, t, t);
          db.prepare(`INSERT INTO known_host_keys (address, port, algorithm, fingerprint, trusted_at) VALUES (?, ?, '', ?, ?) ON CONFLICT (address, port) DO UPDATE SET fingerprint = excluded.fingerprint, trusted_at = excluded.trusted_at`).run(i.address, i.port, i.hostKeyFingerprint, t);
        })();
      } catch (e) {
        kvm.o.vault.delete(authSecretId(id));
        kvm.o.vault.delete(jumpSecretId(id));
        if (isUniqueViolation(e, 'hosts.name')) throw new ApiError('conflict', `a host named ${name} already exists`, { reason: 'name_taken', issues: [{ path: 'name', message: `a host named ${name} already exists`, code: 'name_taken' }] });
        if (isUniqueViolation(e, 'hosts.provider')) throw new ApiError('conflict', `${i.address}:${i.port} has already been added`, { reason: 'host_exists', issues: [{ path: 'address', message: `${i.address}:${i.port} has already been added`, code: 'host_exists' }] });
        throw e;
      }
      d.mutations.changed('hosts', id, 'created');
      const task = engine.submit('hosts.bootstrap', { hostId: id, mode: 'install' }, { createdBy: ctx.actor, target: { kind: 'host', id, name }, concurrencyKey: `host:${id}` });
      return { host: d.repo.get('hosts', id) as never, taskId: task.id };
    },

    'hosts.connection'({ id }) {
      hostRow(id);
      const r = kvm.row(id);
      const h = db.prepare('SELECT status, status_reason, updated_at FROM hosts WHERE id = ?').get(id) as { status: string; status_reason: string | null; updated_at: string };
      const jump = r.jump_json ? (JSON.parse(r.jump_json) as JumpRecord) : null;
      const s = kvm.hasLink(id) ? kvm.link(id).status() : null;
      const state = s ? s.state : h.status === 'online' ? 'online' : h.status === 'offline' ? 'offline' : h.status === 'unreachable' ? 'unreachable' : 'connecting';
      return {
        hostId: id,
        state,
        reason: s ? s.reason : h.status_reason,
        failure: s ? s.failure : null,
        since: s?.since ?? h.updated_at,
        address: r.address,
        port: r.port,
        username: r.username,
        authMethod: r.auth_method,
        jumpHost: jump ? `${jump.username}@${jump.address}:${jump.port}` : null,
        hostKeyFingerprint: r.host_key_fingerprint,
        libvirtUri: r.libvirt_uri,
        agentVersion: s?.hello?.agentVersion ?? r.agent_version,
        agentSupervisor: s?.hello?.supervisor ?? r.agent_supervisor,
        installDir: r.install_dir,
        latencyMs: s?.latencyMs ?? null,
        nextRetryAt: s?.nextRetryAt ?? null,
      };
    },

    'hosts.facts'({ id }) {
      hostRow(id);
      const r = kvm.row(id);
      return r.facts_json ? { hostId: id, collectedAt: r.facts_at ?? now(), facts: JSON.parse(r.facts_json) as Record<string, unknown> } : null;
    },

    async 'hosts.volumes'({ id, pool }) {
      hostRow(id);
      return { items: await kvm.call(id, 'volumes.list', { pool }, { timeoutMs: 30_000 }) };
    },

    'hosts.acceptHostKey'({ id, fingerprint }) {
      hostRow(id);
      const r = kvm.row(id);
      db.transaction(() => {
        db.prepare('UPDATE host_links SET host_key_fingerprint = ?, updated_at = ? WHERE host_id = ?').run(fingerprint, now(), id);
        db.prepare(`INSERT INTO known_host_keys (address, port, algorithm, fingerprint, trusted_at) VALUES (?, ?, '', ?, ?) ON CONFLICT (address, port) DO UPDATE SET fingerprint = excluded.fingerprint, trusted_at = excluded.trusted_at`).run(r.address, r.port, fingerprint, now());
      })();
      if (r.agent_version || kvm.hasLink(id)) kvm.link(id).reconnect();
      return { ok: true as const };
    },

    async 'hosts.setCredentials'({ id, username, auth }) {
      hostRow(id);
      const a = resolveAuth(auth);
      await storeAuth(kvm.o.vault, authSecretId(id), a);
      db.prepare('UPDATE host_links SET username = coalesce(?, username), auth_method = ?, updated_at = ? WHERE host_id = ?').run(username ?? null, a.method, now(), id);
      if (kvm.row(id).agent_version || kvm.hasLink(id)) kvm.link(id).reconnect();
      return { ok: true as const };
    },

    'hosts.reconnect'({ id }) {
      hostRow(id);
      if (!kvm.row(id).agent_version) throw new ApiError('conflict', 'the agent has not been installed on this host yet: run the bootstrap (Upgrade agent) first', { reason: 'agent_missing' });
      kvm.link(id).reconnect();
      return { ok: true as const };
    },

    'hosts.sync'({ id }, ctx) {
      const h = hostRow(id);
      const t = engine.submit('hosts.sync', { hostId: id }, { createdBy: ctx.actor, target: { kind: 'host', id, name: h.name as string }, concurrencyKey: `host:${id}` });
      return { taskId: t.id };
    },

    'hosts.upgradeAgent'({ id }, ctx) {
      const h = hostRow(id);
      const t = engine.submit('hosts.bootstrap', { hostId: id, mode: kvm.row(id).agent_version ? 'upgrade' : 'install' }, { createdBy: ctx.actor, target: { kind: 'host', id, name: h.name as string }, concurrencyKey: `host:${id}` });
      return { taskId: t.id };
    },

    'hosts.remove'({ id, uninstallAgent }, ctx) {
      const h = hostRow(id);
      const t = engine.submit('hosts.remove', { hostId: id, uninstall: uninstallAgent }, { createdBy: ctx.actor, target: { kind: 'host', id, name: h.name as string }, concurrencyKey: `host:${id}` });
      return { taskId: t.id };
    },

    async 'guests.create'(i, ctx) {
      const guestId = newResourceId('guests');
      if (i.projectId) d.repo.mustExist('projects', i.projectId, 'projectId');
      // Resolve the boot source.
      let source: CreateParams['source'];
      let os = '';
      if (i.source.kind === 'image') {
        let path = i.source.volumePath;
        if (i.source.imageId) {
          const img = db.prepare('SELECT external_id, os FROM images WHERE id = ?').get(i.source.imageId) as { external_id: string | null; os: string } | undefined;
          if (!img) throw fieldError('source.imageId', `image ${i.source.imageId} does not exist`);
          if (!img.external_id?.startsWith('/')) throw fieldError('source.imageId', 'this image is not a volume on a KVM host');
          path = img.external_id;
          os = img.os;
        }
        if (!path) throw fieldError('source.volumePath', 'give the image volume path on the host (or an image)');
        source = { kind: 'image', volumePath: path, cow: i.source.cow };
      } else if (i.source.kind === 'iso') {
        source = { kind: 'iso', isoPath: i.source.isoPath };
        os = i.source.isoPath.split('/').pop() ?? '';
      } else if (i.source.kind === 'kernel') {
        source = { kind: 'kernel', kernel: i.source.kernel, ...(i.source.initrd ? { initrd: i.source.initrd } : {}), cmdline: i.source.cmdline };
        os = 'Linux (direct kernel boot)';
      } else source = { kind: 'none' };
      if (i.source.kind === 'iso' && i.diskGb <= 0) throw fieldError('diskGb', 'installing from an ISO needs a disk to install onto');

      // The scheduler places the guest (the given host is checked by the same filters) and reserves its resources until
      // the create task ends, in the same transaction as the guest row: concurrent creates never double-book a host.
      const request = {
        vcpu: i.vcpu,
        memoryMb: i.memoryMb,
        hypervisor: 'kvm' as const,
        provider: 'kvm',
        linkedOnly: true,
        projectId: i.projectId,
        disks: i.diskGb > 0 ? [{ sizeGb: i.diskGb, storage: i.storagePool }] : [],
        networks: i.nic?.networkId ? [{ networkId: i.nic.networkId }] : [],
        ...(i.hostId ? { hostId: i.hostId } : {}),
        ...(i.source.kind === 'image' && i.source.imageId ? { imageId: i.source.imageId } : {}),
      };
      let reservationId: string | null = null;
      let hostId = '';
      let hostName = '';
      let nic: CreateParams['nic'] = null;
      // Secrets wait in the vault for the task; they never become task params.
      if (i.cloudInit?.password || i.vncPassword) await kvm.o.vault.put(createSecretId(guestId), 'guest-create', JSON.stringify({ password: i.cloudInit?.password, vncPassword: i.vncPassword }));
      try {
        db.transaction(() => {
          const placed = schedule(db, request, { guestIds: [guestId], actor: ctx.actor, defaultStrategy: d.schedulerStrategy() });
          reservationId = placed.reservationId;
          hostId = placed.placements[0]!.hostId;
          const h = db.prepare('SELECT name, zone_id FROM hosts WHERE id = ?').get(hostId) as { name: string; zone_id: string | null };
          hostName = h.name;
          const factsJson = kvm.row(hostId).facts_json;
          const facts = factsJson ? (JSON.parse(factsJson) as HostFacts) : null;
          if (i.nic) {
            let type: 'bridge' | 'network';
            let src: string;
            if (i.nic.bridge) [type, src] = ['bridge', i.nic.bridge];
            else if (i.nic.libvirtNetwork) [type, src] = ['network', i.nic.libvirtNetwork];
            else if (facts?.bridges.length) [type, src] = ['bridge', facts.bridges[0]!.name];
            else if (facts?.networks.some((n) => n.active)) [type, src] = ['network', facts.networks.find((n) => n.active)!.name];
            else throw fieldError('nic.bridge', `host ${h.name} has no bridge or active libvirt network: name one`);
            if (type === 'bridge' && facts && !facts.bridges.some((b) => b.name === src)) throw fieldError('nic.bridge', `host ${h.name} has no bridge ${src} (it has: ${facts.bridges.map((b) => b.name).join(', ') || 'none'})`);
            if (type === 'network' && facts && !facts.networks.some((n) => n.name === src)) throw fieldError('nic.libvirtNetwork', `host ${h.name} has no libvirt network ${src}`);
            nic = { type, source: src, mac: (i.nic.mac ?? randomMac()).toLowerCase(), model: i.nic.model, ip: null, prefix: null, gateway: null, dns: [] };
          }
          const t = now();
          db.prepare(
            `INSERT INTO guests (id, name, provider, external_id, status, created_at, updated_at, host_id, project_id, zone_id, vcpu, memory_mb, disk_gb, os, boot_order)
             VALUES (?, ?, 'kvm', NULL, 'creating', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(guestId, i.name, t, t, hostId, i.projectId, h.zone_id, i.vcpu, i.memoryMb, i.diskGb, os, JSON.stringify(i.source.kind === 'iso' ? ['cdrom', 'hd'] : ['hd']));
          const tag = db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', ?, ?, ?, 'user')`);
          for (const [k, v] of Object.entries(i.tags)) tag.run(guestId, k, v);
        }).immediate();
      } catch (e) {
        kvm.o.vault.delete(createSecretId(guestId));
        if (ApiError.is(e) && e.code === 'validation') throw schedulerFieldsToGuest(e);
        if (isUniqueViolation(e, 'guests.host_id')) throw new ApiError('conflict', `a guest named ${i.name} already exists on host ${hostName}`, { reason: 'name_taken', issues: [{ path: 'name', message: `a guest named ${i.name} already exists on host ${hostName}`, code: 'name_taken' }] });
        throw e;
      }
      // An address from a Skydeck network: allocated to the guest (its own transaction: no duplicates under concurrency).
      if (i.nic?.networkId && nic) {
        const n = nic as NonNullable<CreateParams['nic']>;
        try {
          const a = d.mutations.allocateIp({ networkId: i.nic.networkId, ...(i.nic.ip ? { ip: i.nic.ip } : {}), ownerKind: 'guest', ownerId: guestId, ...(i.projectId ? { projectId: i.projectId } : {}), note: i.name });
          const net = db.prepare('SELECT cidr, gateway, dns FROM networks WHERE id = ?').get(i.nic.networkId) as { cidr: string; gateway: string | null; dns: string };
          n.ip = a.ip;
          n.prefix = parseCidr(net.cidr).prefix;
          n.gateway = net.gateway;
          n.dns = JSON.parse(net.dns) as string[];
        } catch (e) {
          db.prepare('DELETE FROM guests WHERE id = ?').run(guestId);
          kvm.o.vault.delete(createSecretId(guestId));
          if (reservationId) releaseReservation(db, reservationId);
          throw e;
        }
      }
      if (nic) {
        const n = nic as NonNullable<CreateParams['nic']>;
        db.prepare('INSERT INTO guest_nics (guest_id, idx, mac, ip, network_id, bridge) VALUES (?, 0, ?, ?, ?, ?)').run(guestId, n.mac, n.ip, i.nic?.networkId ?? null, n.type === 'bridge' ? n.source : `network:${n.source}`);
        if (n.ip) db.prepare('UPDATE guests SET ips = ? WHERE id = ?').run(n.ip, guestId);
      }
      const params: CreateParams = {
        guestId,
        hostId,
        name: i.name,
        vcpu: i.vcpu,
        memoryMb: i.memoryMb,
        source,
        diskGb: i.diskGb,
        storagePool: i.storagePool,
        diskFormat: i.diskFormat,
        nic,
        cloudInit: i.cloudInit ? { ...(i.cloudInit.userData ? { userData: i.cloudInit.userData } : {}), ...(i.cloudInit.sshAuthorizedKey ? { sshAuthorizedKey: i.cloudInit.sshAuthorizedKey } : {}), ...(i.cloudInit.hostname ? { hostname: i.cloudInit.hostname } : {}), hasPassword: !!i.cloudInit.password } : null,
        vnc: i.vnc,
        start: i.start,
      };
      const task = engine.submit('guests.create', params, { createdBy: ctx.actor, target: { kind: 'guest', id: guestId, name: i.name }, concurrencyKey: `host:${hostId}` });
      if (reservationId) bindReservation(db, reservationId, task.id);
      d.mutations.changed('guests', guestId, 'created');
      return { guest: d.repo.get('guests', guestId) as never, taskId: task.id };
    },

    'guests.resize'({ id, vcpu, memoryMb }, ctx) {
      if (vcpu === undefined && memoryMb === undefined) throw fieldError('vcpu', 'give vCPUs, memory or both');
      return submitOp(id, 'resize', { ...(vcpu !== undefined ? { vcpu } : {}), ...(memoryMb !== undefined ? { memoryMb } : {}) }, ctx.actor, (g) => {
        const h = db.prepare('SELECT name, cpu_cores FROM hosts WHERE id = ?').get(g.host_id as string) as { name: string; cpu_cores: number };
        if (vcpu !== undefined && h.cpu_cores > 0 && vcpu > h.cpu_cores) throw fieldError('vcpu', `host ${h.name} has ${h.cpu_cores} logical CPUs`);
      });
    },
    'guests.attachDisk'({ id, sizeGb, format, storagePool }, ctx) {
      return submitOp(id, 'attachDisk', { sizeGb, format, storagePool }, ctx.actor, (g) => {
        const f = kvm.row(g.host_id as string).facts_json;
        const pool = f ? (JSON.parse(f) as HostFacts).pools.find((p) => p.name === storagePool) : undefined;
        if (f && !pool) throw fieldError('storagePool', `the host has no storage pool named ${storagePool}`);
        if (pool && sizeGb * 1024 ** 3 > pool.availableBytes) throw fieldError('sizeGb', `pool ${storagePool} has ${(pool.availableBytes / 1024 ** 3).toFixed(1)} GiB free`);
      });
    },
    'guests.detachDisk'({ id, diskId, deleteVolume }, ctx) {
      return submitOp(id, 'detachDisk', { diskId, deleteVolume }, ctx.actor, () => {
        if (!db.prepare('SELECT 1 FROM disks WHERE id = ? AND guest_id = ?').get(diskId, id)) throw fieldError('diskId', `disk ${diskId} is not attached to this guest`);
      });
    },
    'guests.attachNic'({ id, bridge, libvirtNetwork, networkId, mac, model }, ctx) {
      if (!bridge && !libvirtNetwork) throw fieldError('bridge', 'name a bridge or a libvirt network');
      const m = (mac ?? randomMac()).toLowerCase();
      const g = kvmGuest(id);
      let ip: string | null = null;
      if (networkId) ip = d.mutations.allocateIp({ networkId, ownerKind: 'guest', ownerId: id, ...(g.project_id ? { projectId: g.project_id as string } : {}), note: g.name }).ip;
      const idx = (db.prepare('SELECT coalesce(max(idx) + 1, 0) AS n FROM guest_nics WHERE guest_id = ?').get(id) as { n: number }).n;
      try {
        db.prepare('INSERT INTO guest_nics (guest_id, idx, mac, ip, network_id, bridge) VALUES (?, ?, ?, ?, ?, ?)').run(id, idx, m, ip, networkId ?? null, bridge ?? `network:${libvirtNetwork!}`);
        // The NICs are no longer what the last sync wrote: the next one compares them row by row (migration 0017).
        db.prepare('UPDATE guests SET sync_digest = NULL WHERE id = ?').run(id);
      } catch (e) {
        if (ip && networkId) d.mutations.releaseIp(networkId, ip);
        if (isUniqueViolation(e)) throw fieldError('mac', `MAC ${m} is already in use`);
        throw e;
      }
      return submitOp(id, 'attachNic', { type: bridge ? 'bridge' : 'network', source: bridge ?? libvirtNetwork, mac: m, model }, ctx.actor);
    },
    'guests.detachNic'({ id, mac }, ctx) {
      return submitOp(id, 'detachNic', { mac }, ctx.actor, () => {
        if (!db.prepare('SELECT 1 FROM guest_nics WHERE guest_id = ? AND mac = ?').get(id, mac.toLowerCase())) throw fieldError('mac', `the guest has no NIC ${mac}`);
      });
    },
    'guests.insertIso'({ id, path }, ctx) {
      if (!path.startsWith('/')) throw fieldError('path', 'an absolute path on the host');
      return submitOp(id, 'insertIso', { path }, ctx.actor);
    },
    'guests.ejectIso'({ id }, ctx) {
      return submitOp(id, 'ejectIso', {}, ctx.actor);
    },
    async 'guests.vnc'({ id }) {
      const g = kvmGuest(id);
      const r = await kvm.call(g.host_id, 'domains.vnc', { uuid: domainUuid({ externalId: g.external_id, name: g.name }) }, { timeoutMs: 10_000 });
      return { hostId: g.host_id, port: r.port, listen: r.listen, passwordSet: r.passwordSet };
    },
    async 'guests.media'({ id }) {
      const g = kvmGuest(id);
      const d = await kvm.call(g.host_id, 'domains.get', { uuid: domainUuid({ externalId: g.external_id, name: g.name }) }, { timeoutMs: 10_000 });
      return { drives: d.disks.filter((k) => k.device === 'cdrom').map((k) => ({ target: k.target, bus: k.bus, source: k.source })) };
    },
    async 'guests.snapshots'({ id }) {
      const g = kvmGuest(id);
      try {
        const items = await kvm.call(g.host_id, 'snapshots.list', { uuid: domainUuid({ externalId: g.external_id, name: g.name }) }, { timeoutMs: 15_000 });
        return { items: items.map((s) => ({ name: s.name, createdAt: s.createdAt, state: String(s.state), current: s.current, description: s.description, parent: s.parent })) };
      } catch (e) {
        if (!ApiError.is(e) || (e.code !== 'unreachable' && e.code !== 'timeout')) throw e;
        // Offline: what the last sync saw.
        const rows = db.prepare(`SELECT name, created_at, status FROM snapshots WHERE guest_id = ? ORDER BY created_at`).all(id) as { name: string; created_at: string; status: string }[];
        return { items: rows.map((s) => ({ name: s.name, createdAt: s.created_at, state: 'unknown', current: s.status === 'current', description: null, parent: null })) };
      }
    },
    'guests.snapshotCreate'({ id, name, description }, ctx) {
      return submitOp(id, 'snapshotCreate', { name, ...(description ? { description } : {}) }, ctx.actor);
    },
    'guests.snapshotRevert'({ id, name }, ctx) {
      return submitOp(id, 'snapshotRevert', { name }, ctx.actor);
    },
    'guests.snapshotDelete'({ id, name }, ctx) {
      return submitOp(id, 'snapshotDelete', { name }, ctx.actor);
    },
  };
}

