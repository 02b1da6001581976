import type { GuestAction } from './commands';

/**
 * Guest status machine, as Cloudpods keeps it: each action is allowed only from some statuses, sets a transitional
 * status while its task runs, and ends in a final status or `<action>_failed`. The UI enables an action only when
 * this table allows it; the core refuses it with `conflict` naming the current status.
 */
export interface Transition {
  from: readonly string[];
  transitional: string;
  success: string | null; // null: the resource is gone
  failed: string;
}

export const GUEST_STATUSES = ['ready', 'running', 'suspended', 'starting', 'stopping', 'rebooting', 'suspending', 'resuming', 'deleting', 'start_failed', 'stop_failed', 'reboot_failed', 'suspend_failed', 'resume_failed', 'delete_failed', 'creating', 'create_failed', 'vanished', 'unknown'] as const;

export const GUEST_TRANSITIONS: Record<GuestAction, Transition> = {
  start: { from: ['ready', 'start_failed'], transitional: 'starting', success: 'running', failed: 'start_failed' },
  stop: { from: ['running', 'stop_failed', 'reboot_failed'], transitional: 'stopping', success: 'ready', failed: 'stop_failed' },
  forceStop: { from: ['running', 'suspended', 'stopping', 'stop_failed', 'reboot_failed', 'suspend_failed', 'resume_failed', 'start_failed', 'unknown'], transitional: 'stopping', success: 'ready', failed: 'stop_failed' },
  reboot: { from: ['running', 'reboot_failed'], transitional: 'rebooting', success: 'running', failed: 'reboot_failed' },
  reset: { from: ['running', 'reboot_failed'], transitional: 'rebooting', success: 'running', failed: 'reboot_failed' },
  suspend: { from: ['running', 'suspend_failed'], transitional: 'suspending', success: 'suspended', failed: 'suspend_failed' },
  resume: { from: ['suspended', 'resume_failed'], transitional: 'resuming', success: 'running', failed: 'resume_failed' },
  delete: { from: ['ready', 'running', 'suspended', 'unknown', 'create_failed', 'vanished', 'start_failed', 'stop_failed', 'reboot_failed', 'suspend_failed', 'resume_failed', 'delete_failed'], transitional: 'deleting', success: null, failed: 'delete_failed' },
};

export function allowedGuestActions(status: string): GuestAction[] {
  return (Object.keys(GUEST_TRANSITIONS) as GuestAction[]).filter((a) => GUEST_TRANSITIONS[a].from.includes(status));
}
