import { z } from 'zod';
import { ApiError } from '@shared/errors';
import type { TaskType } from '../tasks/types';
import { probeHost, ensureRuntime, installAgent, startAgent, uninstallAgent, type HostProbe } from '../hosts/ssh/bootstrap';
import type { KvmService } from './service';
import { authSecretId, jumpSecretId } from './credentials';

/**
 * Host tasks: bootstrap (and upgrade) of the agent, sync, removal. Every stage is idempotent (a resumed task repeats the
 * stage it was in): probing reads only, uploads skip what is already there by checksum, starting an agent that runs
 * restarts it, and a sync is a full listing.
 */

const bootstrapParams = z.object({
  hostId: z.string(),
  mode: z.enum(['install', 'upgrade']).default('install'),
  dir: z.string().optional(),
  nodePath: z.string().optional(),
  systemd: z.boolean().optional(),
  arch: z.string().optional(),
});
type BootstrapParams = z.infer<typeof bootstrapParams>;



const BOOTSTRAP_STAGES = ['onInit', 'onConnect', 'onProbe', 'onRuntime', 'onUpload', 'onStart', 'onHandshake', 'onSync'] as const;

export function hostBootstrapTask(kvm: KvmService): TaskType<BootstrapParams> {
  const db = kvm.o.db;
  const setHost = (hostId: string, status: string, reason: string | null) => {
    db.prepare('UPDATE hosts SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?').run(status, reason, new Date().toISOString(), hostId);
    kvm.o.mutations.changed('hosts', hostId, 'updated');
  };
  return {
    type: 'hosts.bootstrap',
    params: bootstrapParams,
    stages: {
      async onInit({ params: p }) {
        kvm.row(p.hostId);
        kvm.bootstrapping.add(p.hostId);
        setHost(p.hostId, p.mode === 'install' ? 'bootstrapping' : 'upgrading', null);
        return { next: 'onConnect', progress: 2, message: 'connecting over SSH' };
      },
      async onConnect({ params: p }) {
        kvm.bootstrapping.add(p.hostId);
        const link = kvm.link(p.hostId);
        // A link that gave up (wrong credentials, changed key) tries again now: the admin asked for this run.
        if (link.status().state === 'unreachable') link.reconnect();
        const s = await link.session();
        return { next: 'onProbe', progress: 10, message: `connected (${s.hostKey.algorithm} ${s.hostKey.fingerprint})` };
      },
      async onProbe({ params: p, signal }) {
        const s = await kvm.link(p.hostId).session();
        const probe: HostProbe = await probeHost(s, { signal });
        if (!probe.virsh) throw new ApiError('validation', `libvirt is not installed on ${kvm.row(p.hostId).address} (virsh not found): install libvirt-daemon-system and libvirt-clients`, { reason: 'libvirt_missing' });
        const virt = probe.kvm ? 'KVM' : 'TCG only (no /dev/kvm)';
        return {
          next: 'onRuntime',
          progress: 20,
          message: `${probe.osPrettyName || probe.os} ${probe.arch}, ${virt}, node ${probe.nodeVersion ?? 'none'}`,
          patch: { dir: probe.installDir, systemd: probe.systemd, arch: probe.arch },
        };
      },
      async onRuntime({ params: p, signal, progress }) {
        const s = await kvm.link(p.hostId).session();
        const probe = await probeHost(s, { signal });
        const nodePath = await ensureRuntime(s, probe, kvm.o.assets.runtimes, (sent, total) => progress(20 + Math.round((sent / Math.max(1, total)) * 30), `uploading the Node.js runtime: ${Math.round(sent / 1048576)} of ${Math.round(total / 1048576)} MiB`), signal);
        return { next: 'onUpload', progress: 50, message: `Node.js at ${nodePath}`, patch: { nodePath } };
      },
      async onUpload({ params: p, signal, progress }) {
        const s = await kvm.link(p.hostId).session();
        const version = kvm.agentBundleVersion();
        await installAgent(s, p.dir!, kvm.o.assets.agentBundle, version, (sent, total) => progress(50 + Math.round((sent / Math.max(1, total)) * 15), 'uploading the agent'), signal);
        return { next: 'onStart', progress: 65, message: `agent ${version} installed in ${p.dir!}` };
      },
      async onStart({ params: p, signal }) {
        const s = await kvm.link(p.hostId).session();
        const r = kvm.row(p.hostId);
        const how = await startAgent(s, { dir: p.dir!, nodePath: p.nodePath!, libvirtUri: r.libvirt_uri, systemd: !!p.systemd, signal });
        db.prepare('UPDATE host_links SET install_dir = ?, node_path = ?, agent_supervisor = ?, updated_at = ? WHERE host_id = ?').run(p.dir!, p.nodePath!, how, new Date().toISOString(), p.hostId);
        return { next: 'onHandshake', progress: 75, message: `agent started (${how})` };
      },
      async onHandshake({ params: p, signal }) {
        const link = kvm.link(p.hostId);
        link.reconnect();
        const st = await kvm.waitOnline(p.hostId, 30_000, signal);
        const hello = st.hello!;
        const want = kvm.agentBundleVersion();
        if (hello.agentVersion !== want) throw new ApiError('conflict', `the agent answered version ${hello.agentVersion}, expected ${want}`, { reason: 'agent_version' });
        db.prepare('UPDATE host_links SET agent_version = ?, agent_supervisor = ?, updated_at = ? WHERE host_id = ?').run(hello.agentVersion, hello.supervisor, new Date().toISOString(), p.hostId);
        return { next: 'onSync', progress: 80, message: `agent ${hello.agentVersion} answered (protocol ${hello.protocol}, ${st.latencyMs ?? '?'} ms)` };
      },
      async onSync({ params: p, signal, progress }) {
        const r = await kvm.sync(p.hostId, { signal, progress: (x, m) => progress(80 + Math.round(x / 6), m) });
        kvm.bootstrapping.delete(p.hostId);
        db.prepare(`UPDATE hosts SET status = 'online', status_reason = NULL, updated_at = ? WHERE id = ?`).run(new Date().toISOString(), p.hostId);
        kvm.o.mutations.changed('hosts', p.hostId, 'updated');
        return { done: { guests: r.guests, storages: r.storages, disks: r.disks, snapshots: r.snapshots }, message: `online: ${r.guests.inserted} VMs adopted, ${r.guests.updated + r.guests.unchanged} already known, ${r.storages} storage pools` };
      },
    },
    failed: Object.fromEntries(BOOTSTRAP_STAGES.map((st) => [`${st}Failed`, async (ctx: { params: BootstrapParams }, e: unknown) => onBootstrapFailed(kvm, ctx.params.hostId, e)])),
    async cancelled({ params: p }) {
      onBootstrapFailed(kvm, p.hostId, new ApiError('cancelled', 'the bootstrap was cancelled'));
    },
    async recover(_task, p) {
      kvm.bootstrapping.add(p.hostId);
      return 'resume';
    },
  } satisfies TaskType<BootstrapParams>;
}

/** Marks the host after a failed bootstrap; the task's error carries the details. */
export function onBootstrapFailed(kvm: KvmService, hostId: string, error: unknown): void {
  kvm.bootstrapping.delete(hostId);
  const db = kvm.o.db;
  const e = error as ApiError;
  const reason = e?.message ?? String(error);
  const unreachable = ApiError.is(e) && (e.code === 'unreachable' || e.code === 'timeout' || e.code === 'forbidden' || (e.code === 'conflict' && /host_key/.test(String(e.details?.reason))));
  db.prepare('UPDATE hosts SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?').run(unreachable ? 'unreachable' : 'error', reason, new Date().toISOString(), hostId);
  kvm.o.mutations.changed('hosts', hostId, 'updated');
}

const syncParams = z.object({ hostId: z.string() });
export function hostSyncTask(kvm: KvmService): TaskType<z.infer<typeof syncParams>> {
  return {
    type: 'hosts.sync',
    params: syncParams,
    stages: {
      async onInit({ params: p }) {
        kvm.row(p.hostId);
        return { next: 'onSync', progress: 5, message: 'asking the agent' };
      },
      async onSync({ params: p, signal, progress }) {
        const r = await kvm.sync(p.hostId, { signal, progress });
        return { done: { guests: r.guests, storages: r.storages, disks: r.disks, snapshots: r.snapshots }, message: `${r.guests.inserted} new, ${r.guests.updated} changed, ${r.guests.unchanged} unchanged, ${r.guests.vanished} vanished` };
      },
    },
  };
}

const removeParams = z.object({ hostId: z.string(), uninstall: z.boolean(), uninstalled: z.string().optional() });
export function hostRemoveTask(kvm: KvmService): TaskType<z.infer<typeof removeParams>> {
  const db = kvm.o.db;
  return {
    type: 'hosts.remove',
    params: removeParams,
    stages: {
      async onInit({ params: p }) {
        kvm.row(p.hostId);
        db.prepare(`UPDATE hosts SET status = 'deleting', updated_at = ? WHERE id = ?`).run(new Date().toISOString(), p.hostId);
        kvm.o.mutations.changed('hosts', p.hostId, 'updated');
        return { next: p.uninstall ? 'onUninstall' : 'onForget', progress: 10 };
      },
      async onUninstall({ params: p, signal }) {
        const r = kvm.row(p.hostId);
        let note = 'agent uninstalled';
        if (r.install_dir) {
          try {
            const s = await Promise.race([kvm.link(p.hostId).session(), new Promise<never>((_, rej) => setTimeout(() => rej(new ApiError('timeout', 'no SSH connection within 15 s')), 15_000).unref())]);
            await uninstallAgent(s, r.install_dir, { signal });
          } catch (e) {
            // The host may be gone for good: removing it from Skydeck must still work. Say what was left behind.
            note = `the agent could not be uninstalled (${(e as Error).message}); it stays in ${r.install_dir} on the host`;
          }
        } else note = 'no agent was installed';
        return { next: 'onForget', progress: 60, message: note, patch: { uninstalled: note } };
      },
      async onForget({ params: p }) {
        kvm.dropLink(p.hostId);
        const guests = db.prepare('SELECT id FROM guests WHERE host_id = ?').all(p.hostId) as { id: string }[];
        db.transaction(() => {
          for (const { id } of guests) {
            db.prepare(`DELETE FROM ip_allocations WHERE owner_kind = 'guest' AND owner_id = ?`).run(id);
            db.prepare(`DELETE FROM tags WHERE kind = 'snapshot' AND resource_id IN (SELECT id FROM snapshots WHERE guest_id = ?)`).run(id);
            db.prepare('DELETE FROM snapshots WHERE guest_id = ?').run(id);
            db.prepare(`DELETE FROM tags WHERE kind = 'disk' AND resource_id IN (SELECT id FROM disks WHERE guest_id = ?)`).run(id);
            db.prepare('DELETE FROM disks WHERE guest_id = ?').run(id);
            db.prepare(`DELETE FROM tags WHERE kind = 'guest' AND resource_id = ?`).run(id);
            db.prepare('DELETE FROM guests WHERE id = ?').run(id);
          }
          db.prepare(`DELETE FROM tags WHERE kind = 'disk' AND resource_id IN (SELECT id FROM disks WHERE storage_id IN (SELECT id FROM storages WHERE host_id = ?))`).run(p.hostId);
          db.prepare('DELETE FROM disks WHERE storage_id IN (SELECT id FROM storages WHERE host_id = ?)').run(p.hostId);
          db.prepare(`DELETE FROM tags WHERE kind = 'storage' AND resource_id IN (SELECT id FROM storages WHERE host_id = ?)`).run(p.hostId);
          db.prepare('DELETE FROM storages WHERE host_id = ?').run(p.hostId);
          db.prepare(`DELETE FROM tags WHERE kind = 'host' AND resource_id = ?`).run(p.hostId);
          db.prepare('DELETE FROM host_links WHERE host_id = ?').run(p.hostId);
          db.prepare('DELETE FROM hosts WHERE id = ?').run(p.hostId);
          kvm.o.vault.delete(authSecretId(p.hostId));
          kvm.o.vault.delete(jumpSecretId(p.hostId));
        })();
        for (const { id } of guests) kvm.o.mutations.changed('guests', id, 'deleted');
        kvm.o.mutations.changed('hosts', p.hostId, 'deleted');
        return { done: { guestsForgotten: guests.length, agent: p.uninstalled ?? 'left in place' }, message: `removed; ${guests.length} VMs forgotten (still running on the host)` };
      },
    },
  };
}
