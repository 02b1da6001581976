import { GUEST_ACTIONS, type GuestAction } from '@shared/contract/inventory/commands';
import { allowedGuestActions } from '@shared/contract/inventory/status';

/** Why an action is not available, as a message key and its values (translated where it is shown). */
export interface Reason {
  key: string;
  named?: Record<string, unknown>;
}

export interface GuestLike {
  status: string;
  provider: string;
  readOnly: boolean;
}

export type ProviderCaps = Record<string, { guestActions: readonly string[] }>;

/**
 * Whether one guest action can be asked for, and every reason it cannot: the row is read-only (imported), no driver
 * serves its provider (or the driver cannot do this), or its status does not allow it (the core's status table).
 */
export function guestActionReasons(guest: GuestLike, action: GuestAction, caps: ProviderCaps | null): Reason[] {
  const reasons: Reason[] = [];
  if (guest.readOnly) reasons.push({ key: 'inv.reason.readOnly' });
  const driver = caps?.[guest.provider];
  if (!driver) reasons.push({ key: 'inv.reason.noDriver', named: { provider: guest.provider } });
  else if (!driver.guestActions.includes(action)) reasons.push({ key: 'inv.reason.driverCannot', named: { provider: guest.provider, action } });
  if (!allowedGuestActions(guest.status).includes(action)) reasons.push({ key: 'inv.reason.status', named: { status: guest.status } });
  return reasons;
}

export interface BulkActionState {
  action: GuestAction;
  /** How many of the selected guests allow it. */
  allowed: number;
  /** The most frequent reasons among the others (at most three, most frequent first). */
  reasons: Reason[];
}

/** For a selection: per action, how many guests allow it, and why the others do not. */
export function bulkGuestActions(guests: readonly GuestLike[], caps: ProviderCaps | null): BulkActionState[] {
  return GUEST_ACTIONS.map((action) => {
    let allowed = 0;
    const counts = new Map<string, { reason: Reason; n: number }>();
    for (const g of guests) {
      const rs = guestActionReasons(g, action, caps);
      if (rs.length === 0) {
        allowed++;
        continue;
      }
      for (const r of rs) {
        const k = `${r.key}|${JSON.stringify(r.named ?? {})}`;
        const hit = counts.get(k);
        if (hit) hit.n++;
        else counts.set(k, { reason: r, n: 1 });
      }
    }
    const reasons = [...counts.values()].sort((a, b) => b.n - a.n).slice(0, 3).map((x) => x.reason);
    return { action, allowed, reasons };
  });
}

/**
 * How lifecycle actions sit together on screen, as virt-manager and Proxmox group them: power on; the soft and the hard
 * way to stop; the soft and the hard way to restart; pause and continue; delete apart.
 */
export const GUEST_ACTION_GROUPS: readonly (readonly GuestAction[])[] = [['start'], ['stop', 'forceStop'], ['reboot', 'reset'], ['suspend', 'resume'], ['delete']];

/** Actions that can lose data (unsaved work in the guest, or the guest itself): they ask first, single and in bulk. */
export const DANGEROUS_GUEST_ACTIONS: readonly GuestAction[] = ['forceStop', 'reset', 'delete'];

export function isDangerous(action: GuestAction): boolean {
  return DANGEROUS_GUEST_ACTIONS.includes(action);
}

/** One lifecycle button as drawn: enabled or not, and its tooltip. */
export interface ActionItem {
  action: GuestAction;
  disabled: boolean;
  /** The tooltip: why it is disabled, or what it does. */
  tip: string;
  /** Why it is disabled (data-reason, for tests and assistive text); '' when enabled. */
  reason: string;
}
