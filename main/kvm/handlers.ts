import { ApiError } from '@shared/errors';
import type { kvm } from '@shared/contract/kvm';
import type { DomainHandlers } from '../api/handlers';

/** KVM host and guest commands. Being wired up in this change: until then each answers not_supported. */
export function kvmHandlers(): DomainHandlers<typeof kvm> {
  const todo = (name: string) => () => {
    throw new ApiError('not_supported', `${name} is not wired yet`);
  };
  return Object.fromEntries(
    ['hosts.probeKey', 'hosts.add', 'hosts.connection', 'hosts.facts', 'hosts.acceptHostKey', 'hosts.setCredentials', 'hosts.reconnect', 'hosts.sync', 'hosts.upgradeAgent', 'hosts.remove', 'guests.create', 'guests.resize', 'guests.attachDisk', 'guests.detachDisk', 'guests.attachNic', 'guests.detachNic', 'guests.insertIso', 'guests.ejectIso', 'guests.vnc', 'guests.snapshots', 'guests.snapshotCreate', 'guests.snapshotRevert', 'guests.snapshotDelete'].map((n) => [n, todo(n)]),
  ) as unknown as DomainHandlers<typeof kvm>;
}
