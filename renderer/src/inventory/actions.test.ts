import { describe, expect, it } from 'vitest';
import { bulkGuestActions, guestActionReasons } from './actions';

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
});
