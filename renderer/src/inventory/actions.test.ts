import { describe, expect, it } from 'vitest';
import { GUEST_ACTIONS } from '@shared/contract/inventory/commands';
import { GUEST_ACTION_GROUPS, bulkGuestActions, guestActionReasons, isDangerous } from './actions';

describe('guest actions', () => {
  it('gives every reason an action is refused: read-only, no driver, status', () => {
    expect(guestActionReasons({ status: 'running', provider: 'kvm', readOnly: true }, 'start', {}).map((r) => r.key)).toEqual(['inv.reason.readOnly', 'inv.reason.noDriver', 'inv.reason.status']);
    expect(guestActionReasons({ status: 'running', provider: 'kvm', readOnly: false }, 'stop', { kvm: { guestActions: ['stop'] } })).toEqual([]);
    expect(guestActionReasons({ status: 'running', provider: 'kvm', readOnly: false }, 'reboot', { kvm: { guestActions: ['stop'] } }).map((r) => r.key)).toEqual(['inv.reason.driverCannot']);
    expect(guestActionReasons({ status: 'running', provider: 'kvm', readOnly: false }, 'start', { kvm: { guestActions: ['start'] } })[0]).toEqual({ key: 'inv.reason.status', named: { status: 'running' } });
  });

  it('counts, for a selection, who allows each action and why the others do not', () => {
    const caps = { kvm: { guestActions: ['start', 'stop', 'reboot', 'suspend', 'resume', 'delete'] } };
    const states = bulkGuestActions(
      [
        { status: 'running', provider: 'kvm', readOnly: false },
        { status: 'ready', provider: 'kvm', readOnly: false },
        { status: 'ready', provider: 'aws', readOnly: false },
      ],
      caps,
    );
    const start = states.find((s) => s.action === 'start')!;
    expect(start.allowed).toBe(1);
    expect(start.reasons.map((r) => r.key)).toContain('inv.reason.noDriver');
    expect(states.find((s) => s.action === 'delete')!.allowed).toBe(2);
  });

  it('enables force off and reset by status and driver like the others', () => {
    const caps = { kvm: { guestActions: [...GUEST_ACTIONS] } };
    const can = (status: string, action: (typeof GUEST_ACTIONS)[number]) => guestActionReasons({ status, provider: 'kvm', readOnly: false }, action, caps).length === 0;
    expect(can('running', 'forceStop')).toBe(true);
    expect(can('suspended', 'forceStop'), 'a paused guest can be pulled out').toBe(true);
    expect(can('stopping', 'forceStop'), 'a shutdown that hangs can be forced').toBe(true);
    expect(can('unknown', 'forceStop')).toBe(true);
    expect(can('ready', 'forceStop')).toBe(false);
    expect(can('running', 'reset')).toBe(true);
    expect(can('suspended', 'reset')).toBe(false);
    expect(can('ready', 'reset')).toBe(false);
    // A driver that cannot do them says so.
    const old = { kvm: { guestActions: ['start', 'stop'] } };
    expect(guestActionReasons({ status: 'running', provider: 'kvm', readOnly: false }, 'forceStop', old)[0]).toEqual({ key: 'inv.reason.driverCannot', named: { provider: 'kvm', action: 'forceStop' } });
    const bulk = bulkGuestActions([{ status: 'running', provider: 'kvm', readOnly: false }, { status: 'stopping', provider: 'kvm', readOnly: false }], caps);
    expect(bulk.find((b) => b.action === 'forceStop')!.allowed).toBe(2);
    expect(bulk.find((b) => b.action === 'reset')!.allowed).toBe(1);
  });

  it('groups every action exactly once and asks before the dangerous ones', () => {
    expect(GUEST_ACTION_GROUPS.flat().sort()).toEqual([...GUEST_ACTIONS].sort());
    expect(GUEST_ACTIONS.filter(isDangerous)).toEqual(['forceStop', 'reset', 'delete']);
  });
});
