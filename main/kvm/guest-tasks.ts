import { z } from 'zod';
import { ApiError } from '@shared/errors';
import type { AgentMethod, AgentParams, DomainInfo, HostFacts } from '@shared/agent/protocol';
import type { TaskType } from '../tasks/types';
import type { KvmService } from './service';
import { adoptDomain, guestExternalId } from './adopt';
import { vncSecretId } from './credentials';
import { domainXml, nextTarget, type DomainDiskSpec } from './domain-xml';

/**
 * Guest tasks on KVM hosts: create (disk, cloud-init seed, define, start) and every other operation on one guest
 * (resize, disks, NICs, CD-ROM, snapshots). Each stage is idempotent: volumes are created only if missing (the agent
 * answers the existing one), define replaces the definition by name, start of a running domain is a no-op, and the last
 * stage re-reads the domain and writes what libvirt says into the inventory.
 */

const GIB = 1024 ** 3;

export const createParams = z.object({
  guestId: z.string(),
  hostId: z.string(),
  name: z.string(),
  vcpu: z.number(),
  memoryMb: z.number(),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('image'), volumePath: z.string(), cow: z.boolean() }),
    z.object({ kind: z.literal('iso'), isoPath: z.string() }),
    z.object({ kind: z.literal('kernel'), kernel: z.string(), initrd: z.string().optional(), cmdline: z.string() }),
    z.object({ kind: z.literal('none') }),
  ]),
  diskGb: z.number(),
  storagePool: z.string(),
  diskFormat: z.enum(['qcow2', 'raw']),
  nic: z.object({ type: z.enum(['bridge', 'network']), source: z.string(), mac: z.string(), model: z.enum(['virtio', 'e1000', 'rtl8139']), ip: z.string().nullable(), prefix: z.number().nullable(), gateway: z.string().nullable(), dns: z.array(z.string()) }).nullable(),
  cloudInit: z.object({ userData: z.string().optional(), sshAuthorizedKey: z.string().optional(), hostname: z.string().optional(), hasPassword: z.boolean() }).nullable(),
  vnc: z.boolean(),
  start: z.boolean(),
  /** Filled in by the stages. */
  diskPath: z.string().optional(),
  seedPath: z.string().optional(),
  uuid: z.string().optional(),
});
export type CreateParams = z.infer<typeof createParams>;

/** Secrets of a create (cloud-init password, VNC password) are not task params: they wait in the vault. */
export const createSecretId = (guestId: string) => `guest:${guestId}:create`;

function cloudConfig(p: NonNullable<CreateParams['cloudInit']>, password: string | undefined, name: string): string {
  const lines = ['#cloud-config', `hostname: ${JSON.stringify(p.hostname ?? name)}`];
  if (p.sshAuthorizedKey) lines.push('ssh_authorized_keys:', `  - ${JSON.stringify(p.sshAuthorizedKey.trim())}`);
  if (password) lines.push(`password: ${JSON.stringify(password)}`, 'chpasswd: { expire: false }', 'ssh_pwauth: true');
  return lines.join('\n') + '\n';
}

/** User data: Skydeck's #cloud-config, plus the admin's own as a second MIME part when both are given. */
export function userData(p: NonNullable<CreateParams['cloudInit']>, password: string | undefined, name: string): string {
  const ours = cloudConfig(p, password, name);
  if (!p.userData) return ours;
  const boundary = `skydeck-${Math.random().toString(36).slice(2)}`;
  const type = p.userData.startsWith('#!') ? 'text/x-shellscript' : p.userData.startsWith('#cloud-config') ? 'text/cloud-config' : 'text/plain';
  return [
    'Content-Type: multipart/mixed; boundary="' + boundary + '"',
    'MIME-Version: 1.0',
    '',
    `--${boundary}`,
    'Content-Type: text/cloud-config; charset="utf-8"',
    'Content-Disposition: attachment; filename="skydeck.cfg"',
    '',
    ours,
    `--${boundary}`,
    `Content-Type: ${type}; charset="utf-8"`,
    'Content-Disposition: attachment; filename="user-data"',
    '',
    p.userData,
    `--${boundary}--`,
    '',
  ].join('\n');
}

function networkConfig(nic: NonNullable<CreateParams['nic']>): string | undefined {
  if (!nic.ip || nic.prefix === null) return undefined;
  return [
    'version: 2',
    'ethernets:',
    '  nic0:',
    `    match: { macaddress: "${nic.mac}" }`,
    `    addresses: ["${nic.ip}/${nic.prefix}"]`,
    ...(nic.gateway ? [`    gateway4: ${nic.gateway}`] : []),
    ...(nic.dns.length ? ['    nameservers:', `      addresses: [${nic.dns.map((d) => `"${d}"`).join(', ')}]`] : []),
  ].join('\n') + '\n';
}

export function guestCreateTask(kvm: KvmService): TaskType<CreateParams> {
  const db = kvm.o.db;
  const setStatus = (id: string, status: string) => {
    db.prepare('UPDATE guests SET status = ?, updated_at = ? WHERE id = ?').run(status, new Date().toISOString(), id);
    kvm.o.mutations.changed('guests', id, 'updated');
  };
  const facts = (hostId: string): HostFacts | null => {
    const r = kvm.row(hostId);
    return r.facts_json ? (JSON.parse(r.facts_json) as HostFacts) : null;
  };
  const secrets = async (guestId: string): Promise<{ password?: string; vncPassword?: string }> => {
    const raw = await kvm.o.vault.get(createSecretId(guestId));
    return raw ? (JSON.parse(raw.toString('utf8')) as { password?: string; vncPassword?: string }) : {};
  };
  const fail = async (ctx: { params: CreateParams }) => {
    setStatus(ctx.params.guestId, 'create_failed');
    kvm.o.vault.delete(createSecretId(ctx.params.guestId));
  };
  const stages = ['onInit', 'onDisk', 'onSeed', 'onDefine', 'onStart', 'onSync'];
  return {
    type: 'guests.create',
    params: createParams,
    stages: {
      async onInit({ params: p }) {
        setStatus(p.guestId, 'creating');
        return { next: 'onDisk', progress: 5, message: `creating ${p.name}` };
      },
      async onDisk({ params: p, signal }) {
        if (p.diskGb <= 0 && p.source.kind !== 'image') return { next: 'onSeed', progress: 30, message: 'no disk' };
        const name = `${p.name}-${p.guestId.slice(-6)}-vda.${p.diskFormat}`;
        const sizeBytes = Math.round(p.diskGb * GIB);
        const vol = await kvm.call(
          p.hostId,
          'volumes.create',
          p.source.kind === 'image'
            ? p.source.cow && p.diskFormat === 'qcow2'
              ? { pool: p.storagePool, name, sizeBytes, format: p.diskFormat, backingFile: p.source.volumePath }
              : { pool: p.storagePool, name, sizeBytes, format: p.diskFormat, copyFrom: p.source.volumePath }
            : { pool: p.storagePool, name, sizeBytes, format: p.diskFormat },
          { signal, timeoutMs: 30 * 60_000 },
        );
        return { next: 'onSeed', progress: 30, message: `disk ${vol.path} (${(vol.capacityBytes / GIB).toFixed(1)} GiB)`, patch: { diskPath: vol.path } };
      },
      async onSeed({ params: p, signal }) {
        if (!p.cloudInit) return { next: 'onDefine', progress: 45 };
        const { password } = await secrets(p.guestId);
        const meta = `instance-id: ${p.guestId}\nlocal-hostname: ${p.cloudInit.hostname ?? p.name}\n`;
        const net = p.nic ? networkConfig(p.nic) : undefined;
        const vol = await kvm.call(p.hostId, 'volumes.cloudInit', { pool: p.storagePool, name: `${p.name}-${p.guestId.slice(-6)}-cidata.iso`, userData: userData(p.cloudInit, password, p.name), metaData: meta, ...(net ? { networkConfig: net } : {}) }, { signal });
        return { next: 'onDefine', progress: 45, message: `cloud-init seed ${vol.path}`, patch: { seedPath: vol.path } };
      },
      async onDefine({ params: p, signal }) {
        const f = facts(p.hostId);
        const { vncPassword } = await secrets(p.guestId);
        const disks: DomainDiskSpec[] = [];
        if (p.diskPath) disks.push({ source: p.diskPath, target: 'vda', format: p.diskFormat, device: 'disk', bus: 'virtio' });
        const cdTargets: string[] = [];
        if (p.source.kind === 'iso') {
          const t = nextTarget('sata', cdTargets);
          cdTargets.push(t);
          disks.push({ source: p.source.isoPath, target: t, format: 'raw', device: 'cdrom', bus: 'sata' });
        }
        if (p.seedPath) {
          const t = nextTarget('sata', cdTargets);
          cdTargets.push(t);
          disks.push({ source: p.seedPath, target: t, format: 'raw', device: 'cdrom', bus: 'sata' });
        }
        let cmdline = p.source.kind === 'kernel' ? p.source.cmdline : '';
        if (p.source.kind === 'kernel' && p.nic?.ip && p.nic.prefix !== null && !/skydeck\.ip=/.test(cmdline)) cmdline = `${cmdline} skydeck.ip=${p.nic.ip}/${p.nic.prefix}`.trim();
        const xml = domainXml({
          name: p.name,
          skydeckGuestId: p.guestId,
          description: `Created by Skydeck (${p.guestId})`,
          vcpu: p.vcpu,
          memoryMb: p.memoryMb,
          virtType: f?.kvm ? 'kvm' : 'qemu',
          arch: f?.arch === 'aarch64' || f?.arch === 'arm64' ? 'aarch64' : 'x86_64',
          boot: p.source.kind === 'iso' ? ['cdrom', 'hd'] : ['hd', 'network'],
          ...(p.source.kind === 'kernel' ? { kernel: { kernel: p.source.kernel, ...(p.source.initrd ? { initrd: p.source.initrd } : {}), cmdline } } : {}),
          disks,
          nics: p.nic ? [{ type: p.nic.type, source: p.nic.source, mac: p.nic.mac, model: p.nic.model }] : [],
          ...(p.vnc ? { vnc: { listen: '127.0.0.1', ...(vncPassword ? { password: vncPassword } : {}) } } : {}),
          serial: true,
        });
        const d = await kvm.call(p.hostId, 'domains.define', { xml }, { signal });
        db.prepare('UPDATE guests SET external_id = ?, synced_at = ? WHERE id = ?').run(guestExternalId(p.hostId, d.uuid), new Date().toISOString(), p.guestId);
        return { next: 'onStart', progress: 65, message: `defined ${d.name} (${d.uuid})`, patch: { uuid: d.uuid } };
      },
      async onStart({ params: p, signal }) {
        if (!p.start) return { next: 'onSync', progress: 90 };
        const d = await kvm.call(p.hostId, 'domains.start', { uuid: p.uuid! }, { signal, timeoutMs: 120_000 });
        return { next: 'onSync', progress: 90, message: `started (${d.state})` };
      },
      async onSync({ params: p, signal }) {
        const d = await kvm.call(p.hostId, 'domains.get', { uuid: p.uuid! }, { signal });
        adoptDomain(db, p.hostId, d);
        // The VNC password stays in the vault for the console proxy, which answers VNC authentication with it.
        const { vncPassword } = await secrets(p.guestId);
        if (vncPassword) await kvm.o.vault.put(vncSecretId(p.guestId), 'guest-vnc', vncPassword);
        kvm.o.vault.delete(createSecretId(p.guestId));
        kvm.o.mutations.changed('guests', p.guestId, 'updated');
        return { done: { guestId: p.guestId, uuid: d.uuid, state: d.state, vncPort: d.graphics[0]?.port ?? null }, message: `${p.name} is ${d.state}` };
      },
    },
    failed: Object.fromEntries(stages.map((s) => [`${s}Failed`, fail])),
    async cancelled(ctx) {
      await fail(ctx);
    },
  };
}

export const OPS = ['resize', 'attachDisk', 'detachDisk', 'attachNic', 'detachNic', 'insertIso', 'ejectIso', 'snapshotCreate', 'snapshotRevert', 'snapshotDelete'] as const;
export type GuestOp = (typeof OPS)[number];

export const opParams = z.object({
  guestId: z.string(),
  hostId: z.string(),
  uuid: z.string(),
  op: z.enum(OPS),
  args: z.record(z.string(), z.unknown()),
  /** Filled in by the stages. */
  volumePath: z.string().optional(),
});
export type OpParams = z.infer<typeof opParams>;

const OP_LABEL: Record<GuestOp, string> = {
  resize: 'resizing',
  attachDisk: 'attaching a disk',
  detachDisk: 'detaching a disk',
  attachNic: 'attaching a NIC',
  detachNic: 'detaching a NIC',
  insertIso: 'inserting an ISO',
  ejectIso: 'ejecting the CD-ROM',
  snapshotCreate: 'taking a snapshot',
  snapshotRevert: 'reverting to a snapshot',
  snapshotDelete: 'deleting a snapshot',
};

/** Which CD-ROM drive to use: the first one the domain has. */
function cdrom(d: DomainInfo): string {
  const c = d.disks.find((k) => k.device === 'cdrom');
  if (!c) throw new ApiError('conflict', `${d.name} has no CD-ROM drive: attach one by recreating the guest with an ISO, or attach the ISO as a disk`, { reason: 'no_cdrom' });
  return c.target;
}

export function guestOpTask(kvm: KvmService): TaskType<OpParams> {
  const db = kvm.o.db;
  return {
    type: 'guests.op',
    params: opParams,
    stages: {
      async onInit({ params: p }) {
        return { next: p.op === 'attachDisk' ? 'onVolume' : 'onAct', progress: 5, message: OP_LABEL[p.op] };
      },
      /** attachDisk: the new volume, named after the task so that a resumed stage finds the one it made. */
      async onVolume({ params: p, task, signal }) {
        const a = p.args;
        const fmt = a.format as 'qcow2' | 'raw';
        const pool = a.storagePool as string;
        const d = await kvm.call(p.hostId, 'domains.get', { uuid: p.uuid }, { signal });
        const name = `${d.name}-${task.id.slice(0, 8)}.${fmt}`;
        const existing = (await kvm.call(p.hostId, 'volumes.list', { pool }, { signal })).find((v) => v.name === name);
        const vol = existing ?? (await kvm.call(p.hostId, 'volumes.create', { pool, name, sizeBytes: Math.round((a.sizeGb as number) * GIB), format: fmt }, { signal, timeoutMs: 10 * 60_000 }));
        return { next: 'onAct', progress: 40, message: `volume ${vol.path}`, patch: { volumePath: vol.path } };
      },
      async onAct({ params: p, signal }) {
        const ref = { uuid: p.uuid };
        const a = p.args;
        const call = <M extends AgentMethod>(m: M, params: AgentParams<M>, o?: { timeoutMs?: number; signal?: AbortSignal }) => kvm.call(p.hostId, m, params, o);
        switch (p.op) {
          case 'resize':
            await call('domains.setResources', { ...ref, ...(a.vcpu !== undefined ? { vcpu: a.vcpu as number } : {}), ...(a.memoryMb !== undefined ? { memoryMb: a.memoryMb as number } : {}) }, { signal });
            break;
          case 'attachDisk': {
            const d = await call('domains.get', ref, { signal });
            const target = nextTarget('virtio', d.disks.map((k) => k.target));
            if (!d.disks.some((k) => k.source === p.volumePath)) await call('domains.attachDisk', { ...ref, source: p.volumePath!, target, format: a.format as string, device: 'disk', bus: 'virtio' }, { signal });
            break;
          }
          case 'detachDisk': {
            const disk = db.prepare('SELECT external_id FROM disks WHERE id = ? AND guest_id = ?').get(a.diskId as string, p.guestId) as { external_id: string | null } | undefined;
            if (!disk?.external_id) throw new ApiError('not_found', `disk ${a.diskId as string} is not attached to this guest`);
            const target = disk.external_id.split('/').pop()!;
            const d = await call('domains.get', ref, { signal });
            const k = d.disks.find((x) => x.target === target);
            if (k) await call('domains.detachDisk', { ...ref, target }, { signal });
            if (a.deleteVolume && k?.source) {
              const r = kvm.row(p.hostId);
              const pools = r.facts_json ? (JSON.parse(r.facts_json) as HostFacts).pools : [];
              const pool = pools.find((x) => x.path && k.source!.startsWith(`${x.path.replace(/\/$/, '')}/`));
              if (pool) await call('volumes.delete', { pool: pool.name, name: k.source.slice(pool.path!.replace(/\/$/, '').length + 1) }, { signal });
            }
            break;
          }
          case 'attachNic': {
            const d = await call('domains.get', ref, { signal });
            if (!d.nics.some((n) => n.mac.toLowerCase() === (a.mac as string).toLowerCase())) {
              await call('domains.attachNic', { ...ref, type: a.type as 'bridge' | 'network', source: a.source as string, mac: a.mac as string, model: a.model as string }, { signal });
            }
            break;
          }
          case 'detachNic': {
            const d = await call('domains.get', ref, { signal });
            if (d.nics.some((n) => n.mac.toLowerCase() === (a.mac as string).toLowerCase())) await call('domains.detachNic', { ...ref, mac: a.mac as string }, { signal });
            db.prepare(`DELETE FROM ip_allocations WHERE owner_kind = 'guest' AND owner_id = ? AND ip IN (SELECT ip FROM guest_nics WHERE guest_id = ? AND lower(mac) = lower(?))`).run(p.guestId, p.guestId, a.mac as string);
            break;
          }
          case 'insertIso': {
            const d = await call('domains.get', ref, { signal });
            await call('domains.changeMedia', { ...ref, target: cdrom(d), source: a.path as string }, { signal });
            break;
          }
          case 'ejectIso': {
            const d = await call('domains.get', ref, { signal });
            await call('domains.changeMedia', { ...ref, target: cdrom(d), source: null }, { signal });
            break;
          }
          case 'snapshotCreate': {
            const list = await call('snapshots.list', ref, { signal });
            if (!list.some((s) => s.name === a.name)) await call('snapshots.create', { ...ref, name: a.name as string, ...(a.description ? { description: a.description as string } : {}) }, { signal, timeoutMs: 10 * 60_000 });
            break;
          }
          case 'snapshotRevert':
            await call('snapshots.revert', { ...ref, name: a.name as string }, { signal, timeoutMs: 10 * 60_000 });
            break;
          case 'snapshotDelete': {
            const list = await call('snapshots.list', ref, { signal });
            if (list.some((s) => s.name === a.name)) await call('snapshots.delete', { ...ref, name: a.name as string }, { signal, timeoutMs: 10 * 60_000 });
            break;
          }
        }
        return { next: 'onSync', progress: 80 };
      },
      async onSync({ params: p, signal }) {
        const d = await kvm.call(p.hostId, 'domains.get', { uuid: p.uuid }, { signal });
        const snaps = await kvm.call(p.hostId, 'snapshots.list', { uuid: p.uuid }, { signal });
        adoptDomain(db, p.hostId, d, snaps);
        kvm.o.mutations.changed('guests', p.guestId, 'updated');
        return { done: { state: d.state, vcpu: d.vcpu, memoryMb: d.memoryMb, disks: d.disks.length, nics: d.nics.length, snapshots: snaps.length }, message: `${OP_LABEL[p.op]}: done` };
      },
    },
  };
}
