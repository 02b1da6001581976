import { ApiError } from '@shared/errors';
import type { AgentMethod, AgentParams } from '@shared/agent/protocol';
import type { GuestAction } from '@shared/contract/inventory/commands';
import type { ComputeDriver, GuestRef } from '../drivers/types';
import type { KvmService } from './service';
import { adoptDomain, guestStatusOf } from './adopt';
import { vncSecretId } from './credentials';

/** The uuid part of a KVM guest's external id (`<hostId>/<uuid>`). */
export function domainUuid(g: { externalId: string | null; name: string }): string {
  const uuid = g.externalId?.split('/')[1];
  if (!uuid) throw new ApiError('conflict', `guest ${g.name} is not defined on its host yet`, { reason: 'not_defined' });
  return uuid;
}

/**
 * Guest lifecycle on KVM hosts through the host's agent. Each action resolves when libvirt reports the end state, and
 * the domain's fresh definition (VNC port after a start, for instance) is written back to the inventory.
 */
export class KvmDriver implements ComputeDriver {
  readonly provider = 'kvm' as const;

  constructor(private readonly kvm: KvmService) {}

  guestActions(): readonly GuestAction[] {
    return ['start', 'stop', 'forceStop', 'reboot', 'reset', 'suspend', 'resume', 'delete'];
  }

  async guestAction(g: GuestRef, action: GuestAction, signal: AbortSignal): Promise<void> {
    if (!g.hostId) throw new ApiError('conflict', `guest ${g.name} has no host`);
    const hostId = g.hostId;
    // The console's stored VNC password goes with the guest.
    if (action === 'delete') this.kvm.o.vault.delete(vncSecretId(g.id));
    // A guest whose creation failed before libvirt defined it has nothing on the host to delete.
    if (action === 'delete' && !g.externalId) return;
    const ref = { uuid: domainUuid(g) };
    const call = <M extends AgentMethod>(m: M, params: AgentParams<M>, o?: { timeoutMs?: number; signal?: AbortSignal }) => this.kvm.call(hostId, m, params, o);
    switch (action) {
      case 'start':
        await call('domains.start', ref, { signal, timeoutMs: 120_000 });
        break;
      case 'stop':
        // ACPI: the guest decides; a guest that ignores the button fails the task with a timeout (force off remains).
        await call('domains.shutdown', { ...ref, timeoutMs: 120_000 }, { signal, timeoutMs: 130_000 });
        break;
      case 'forceStop':
        await call('domains.destroy', ref, { signal });
        break;
      case 'reboot':
        await call('domains.reboot', ref, { signal });
        break;
      case 'reset':
        await call('domains.reset', ref, { signal });
        break;
      case 'suspend':
        await call('domains.suspend', ref, { signal });
        break;
      case 'resume':
        await call('domains.resume', ref, { signal });
        break;
      case 'delete': {
        const d = await call('domains.get', ref, { signal }).catch((e: unknown) => {
          if (ApiError.is(e) && e.code === 'not_found') return null; // already gone: deleting it again succeeds
          throw e;
        });
        if (!d) return;
        if (d.state !== 'shutoff') await call('domains.destroy', ref, { signal });
        await call('domains.undefine', { ...ref, removeStorage: true }, { signal, timeoutMs: 120_000 });
        return;
      }
    }
    const d = await call('domains.get', ref, { signal });
    adoptDomain(this.kvm.o.db, hostId, d);
  }

  async observeGuest(g: GuestRef): Promise<string | null> {
    if (!g.hostId || !g.externalId) return null;
    try {
      const d = await this.kvm.call(g.hostId, 'domains.get', { uuid: domainUuid(g) }, { timeoutMs: 10_000 });
      return guestStatusOf(d.state);
    } catch (e) {
      if (ApiError.is(e) && e.code === 'not_found') return 'vanished';
      return null;
    }
  }
}
