import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import { GUEST_ACTIONS, type GuestAction } from '@shared/contract/inventory/commands';
import type { ComputeDriver, GuestRef } from '../drivers/types';
import { testServer } from '../test/helpers';
import { insertGuest } from '../test/inventory-fixtures';

/**
 * An in-process hypervisor for the status machine's tests (as virt-manager tests against libvirt's test:/// driver):
 * it keeps each guest's power state, takes a little time per action, and fails for guests named `broken-*`.
 * The real KVM driver (over SSH and the agent) arrives with the KVM hosts issue and is tested against real libvirt.
 */
class TestHypervisor implements ComputeDriver {
  readonly provider = 'kvm' as const;
  readonly calls: string[] = [];
  guestActions() {
    return GUEST_ACTIONS;
  }
  async guestAction(g: GuestRef, action: GuestAction, signal: AbortSignal) {
    this.calls.push(`${g.name}:${action}`);
    await new Promise((r, j) => {
      const t = setTimeout(r, 20);
      signal.addEventListener('abort', () => (clearTimeout(t), j(signal.reason)), { once: true });
    });
    if (g.name.startsWith('broken')) throw new ApiError('unreachable', `hypervisor refused to ${action} ${g.name}`, { reason: 'unreachable' });
  }
}

type T = Awaited<ReturnType<typeof testServer>>;
let t: T;
afterEach(async () => t?.close());

describe('guest lifecycle through the status machine', () => {
  it('starts a guest: transitional status while the task runs, final status after', async () => {
    const hv = new TestHypervisor();
    t = await testServer({ drivers: [hv] });
    insertGuest(t.core.db, 'g1', { name: 'web-1', status: 'ready' });
    const seen: string[] = [];
    t.core.events.on((e) => {
      if (e.type === 'resource.changed' && e.id === 'g1') seen.push((t.core.db.prepare('SELECT status FROM guests WHERE id = ?').get('g1') as { status: string }).status);
    });
    const { taskId } = (await t.call('guests.action', { id: 'g1', action: 'start' })).body;
    expect((await t.core.engine.waitFor(taskId)).status).toBe('succeeded');
    expect(seen).toEqual(['starting', 'running']);
    expect(hv.calls).toEqual(['web-1:start']);
    expect((await t.call('guests.get', { id: 'g1' })).body.status).toBe('running');
    // The same guest cannot be started again.
    expect((await t.call('guests.action', { id: 'g1', action: 'start' })).status).toBe(409);
  });

  it('ends in <action>_failed with the driver\'s reason, and the failed status allows a retry', async () => {
    t = await testServer({ drivers: [new TestHypervisor()] });
    insertGuest(t.core.db, 'g1', { name: 'broken-1', status: 'ready' });
    const { taskId } = (await t.call('guests.action', { id: 'g1', action: 'start' })).body;
    expect(await t.core.engine.waitFor(taskId)).toMatchObject({ status: 'failed', error: { code: 'unreachable', reason: 'unreachable' } });
    expect((await t.call('guests.get', { id: 'g1' })).body.status).toBe('start_failed');
    expect((await t.call('guests.action', { id: 'g1', action: 'start' })).status).toBe(200);
  });

  it('deletes a guest and frees its addresses', async () => {
    t = await testServer({ drivers: [new TestHypervisor()] });
    insertGuest(t.core.db, 'g1', { status: 'ready' });
    const { taskId } = (await t.call('guests.action', { id: 'g1', action: 'delete' })).body;
    expect((await t.core.engine.waitFor(taskId)).status).toBe('succeeded');
    expect((await t.call('guests.get', { id: 'g1' })).status).toBe(404);
  });

  it('runs a bulk action as a parent task with a child per guest, reporting refused ones', async () => {
    const hv = new TestHypervisor();
    t = await testServer({ drivers: [hv] });
    insertGuest(t.core.db, 'a', { status: 'ready' });
    insertGuest(t.core.db, 'b', { status: 'ready' });
    insertGuest(t.core.db, 'c', { status: 'running' });
    const { taskId } = (await t.call('guests.bulk', { ids: ['a', 'b', 'c'], action: 'start' })).body;
    const parent = await t.core.engine.waitFor(taskId);
    expect(parent).toMatchObject({ status: 'succeeded', progress: 100, result: { total: 3, succeeded: 2, refused: [{ id: 'c', code: 'conflict' }] } });
    const children = (await t.call('tasks.list', { filter: [`parent_id:${taskId}`] })).body;
    expect(children.total).toBe(2);
    expect(hv.calls.sort()).toEqual(['a:start', 'b:start']);
  });
});

describe('saved views and favourites', () => {
  it('saves, lists, renames and deletes views, refusing duplicate names', async () => {
    t = await testServer();
    const v = (await t.call('views.save', { kind: 'guests', name: 'prod web', query: { sort: '-memory_mb', filter: ['tag:env=prod'] }, columns: ['name', 'status'] })).body;
    expect(v).toMatchObject({ kind: 'guests', name: 'prod web', query: { sort: '-memory_mb', filter: ['tag:env=prod'] } });
    expect((await t.call('views.save', { kind: 'guests', name: 'prod web', query: {} })).status).toBe(409);
    expect((await t.call('views.save', { id: v.id, kind: 'guests', name: 'prod', query: {} })).body.name).toBe('prod');
    expect((await t.call('views.list', { kind: 'guests' })).body.items).toHaveLength(1);
    expect((await t.call('views.delete', { id: v.id })).status).toBe(200);
    expect((await t.call('views.save', { kind: 'guests', name: 'x', query: { filter: ['bad'] } })).status).toBe(400);
  });

  it('stars resources into folders and filters lists by favourite and folder', async () => {
    t = await testServer();
    for (const id of ['g1', 'g2', 'g3']) insertGuest(t.core.db, id);
    await t.call('favorites.add', { kind: 'guests', ids: ['g1'], folder: 'prod/web' });
    await t.call('favorites.add', { kind: 'guests', ids: ['g2'] });
    const ids = async (filter: string[]) => (await t.call('guests.list', { filter })).body.items.map((g: { id: string }) => g.id).sort();
    expect(await ids(['favorite:true'])).toEqual(['g1', 'g2']);
    expect(await ids(['favorite:false'])).toEqual(['g3']);
    expect(await ids(['folder:prod'])).toEqual(['g1']);
    expect(await ids(['folder:prod/web'])).toEqual(['g1']);
    expect((await t.call('favorites.list', { kind: 'guests' })).body.folders).toEqual([{ folder: 'prod/web', count: 1 }]);
    await t.call('favorites.remove', { kind: 'guests', ids: ['g1'] });
    expect(await ids(['favorite:true'])).toEqual(['g2']);
  });

  it('answers what each provider\'s driver can do', async () => {
    t = await testServer({ drivers: [new TestHypervisor()] });
    const caps = (await t.call('system.capabilities')).body;
    expect(caps.providers.kvm.guestActions).toContain('start');
    expect(caps.inventoryOrigin).toBeNull();
  });
});
