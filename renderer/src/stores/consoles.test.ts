import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { ConsoleTicket } from '@shared/contract/consoles';
import { useConsolesStore } from './consoles';

const ticket: ConsoleTicket = { sessionId: 's', kind: 'guest-ssh', protocol: 'terminal', path: '/p', url: null, expiresAt: new Date().toISOString(), title: 'root@web-1', vnc: null };

beforeEach(() => setActivePinia(createPinia()));

describe('consoles store', () => {
  it('opens tabs, focuses an already open display or serial port, and keeps the last opened active', () => {
    const s = useConsolesStore();
    const a = s.open({ kind: 'vnc', guestId: 'g-1' }, 'web-1');
    const b = s.open({ kind: 'host-ssh', hostId: 'h-1' }, 'kvm-1');
    const c = s.open({ kind: 'host-ssh', hostId: 'h-1' }, 'kvm-1');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(s.activeId).toBe(c);
    expect(s.open({ kind: 'vnc', guestId: 'g-1' }, 'web-1')).toBe(a);
    expect(s.activeId).toBe(a);
    const d = s.open({ kind: 'serial', guestId: 'g-1' }, 'web-1 (serial)');
    expect(s.open({ kind: 'serial', guestId: 'g-1' }, 'x')).toBe(d);
    expect(s.tabs.map((t) => t.spec.kind)).toEqual(['vnc', 'host-ssh', 'host-ssh', 'serial']);
    expect(s.tabs[0]!.state).toBe('connecting');
  });

  it('closing the active tab activates its neighbour', () => {
    const s = useConsolesStore();
    const a = s.open({ kind: 'host-ssh', hostId: 'h-1' }, 'a');
    const b = s.open({ kind: 'host-ssh', hostId: 'h-2' }, 'b');
    const c = s.open({ kind: 'host-ssh', hostId: 'h-3' }, 'c');
    s.activate(b);
    s.close(b);
    expect(s.activeId).toBe(c);
    s.close(c);
    expect(s.activeId).toBe(a);
    s.close(a);
    expect(s.activeId).toBeNull();
    expect(s.tabs).toEqual([]);
  });

  it('updates a tab’s title and state, and hands its pre-issued ticket out once', () => {
    const s = useConsolesStore();
    const id = s.open({ kind: 'guest-ssh', guestId: 'g-1', port: 22, username: 'root', auth: { method: 'agent' } }, 'root@web-1', ticket);
    s.update(id, { title: 'root@web-1 (via kvm-2)', state: 'connected' });
    expect(s.active).toMatchObject({ title: 'root@web-1 (via kvm-2)', state: 'connected' });
    expect(s.takeTicket(id)).toEqual(ticket);
    expect(s.takeTicket(id)).toBeNull();
  });
});
