import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { inventory, inventoryExport } from '@shared/contract/inventory/commands';
import { RESOURCE_KIND_NAMES, type ResourceKind } from '@shared/contract/inventory/kinds';
import type { DomainHandlers, Handler } from '../api/handlers';
import type { TaskEngine } from '../tasks/engine';
import type { DriverRegistry } from '../drivers/types';
import { checkGuestAction } from '../guests/action-task';
import type { InventoryRepo } from './repo';
import type { InventoryMutations } from './mutations';
import { usageOf } from './quota';
import { inventorySummary } from './summary';
import { TAG_KIND } from './specs';

export function inventoryHandlers(d: { db: Database.Database; repo: InventoryRepo; mutations: InventoryMutations; engine: TaskEngine; drivers: DriverRegistry }): DomainHandlers<typeof inventory & typeof inventoryExport> {
  const { repo, mutations: m } = d;
  // `<kind>.list` and `<kind>.get` for every kind, from the one repository.
  const reads = Object.fromEntries(
    RESOURCE_KIND_NAMES.flatMap((kind: ResourceKind) => [
      [`${kind}.list`, ((q) => repo.list(kind, q)) as Handler<'hosts.list'>],
      [`${kind}.get`, (({ id }) => repo.get(kind, id)) as Handler<'hosts.get'>],
    ]),
  ) as Pick<DomainHandlers<typeof inventory>, `${ResourceKind}.list` | `${ResourceKind}.get`>;

  return {
    ...reads,
    'inventory.summary': () => inventorySummary(d.db),
    'projects.create': (i) => m.createProject(i) as never,
    'projects.update': (i) => m.updateProject(i) as never,
    'projects.delete': ({ id }) =>
      m.delete('projects', id, [
        { sql: 'SELECT count(*) AS n FROM guests WHERE project_id = ?', what: 'guests' },
        { sql: 'SELECT count(*) AS n FROM disks WHERE project_id = ?', what: 'disks' },
        { sql: 'SELECT count(*) AS n FROM ip_allocations WHERE project_id = ?', what: 'IP addresses' },
      ]),
    'projects.usage': ({ id }) => {
      repo.get('projects', id);
      return usageOf(d.db, id);
    },
    'zones.create': (i) => m.createZone(i) as never,
    'zones.delete': ({ id }) =>
      m.delete('zones', id, [
        { sql: 'SELECT count(*) AS n FROM hosts WHERE zone_id = ?', what: 'hosts' },
        { sql: 'SELECT count(*) AS n FROM wires WHERE zone_id = ?', what: 'wires' },
      ]),
    'wires.create': (i) => m.createWire(i) as never,
    'wires.delete': ({ id }) => m.delete('wires', id, [{ sql: 'SELECT count(*) AS n FROM networks WHERE wire_id = ?', what: 'networks' }]),
    'networks.create': (i) => m.createNetwork(i) as never,
    'networks.delete': ({ id }) =>
      m.delete('networks', id, [{ sql: `SELECT count(*) AS n FROM ip_allocations WHERE network_id = ? AND kind = 'allocated'`, what: 'allocated IP addresses' }], ['DELETE FROM ip_allocations WHERE network_id = ?']),
    'networks.allocateIp': (i) => m.allocateIp(i),
    'networks.reserveIp': (i) => m.allocateIp({ ...i, kind: 'reserved' }),
    'networks.releaseIp': ({ networkId, ip }) => m.releaseIp(networkId, ip),
    'networks.ips': ({ networkId, limit, offset }) => m.listIps(networkId, limit, offset),
    'hosts.update': (i) => m.updateHost(i) as never,
    'hosts.delete': ({ id }) => {
      // A KVM host added over SSH has an agent and credentials to clean up: hosts.remove does that as a task.
      if (d.db.prepare('SELECT 1 FROM host_links WHERE host_id = ?').get(id)) throw new ApiError('conflict', 'this host was added over SSH: remove it with hosts.remove, which also uninstalls its agent and forgets its credentials', { reason: 'use_remove' });
      return m.delete('hosts', id, [{ sql: 'SELECT count(*) AS n FROM guests WHERE host_id = ?', what: 'guests' }]);
    },
    'keypairs.create': (i) => m.createKeypair(i) as never,
    'keypairs.delete': ({ id }) => m.delete('keypairs', id, []),
    'securityGroups.create': (i) => m.createSecurityGroup(i) as never,
    'securityGroups.delete': ({ id }) => m.delete('securityGroups', id, []),
    'securityGroups.addRule': (i) => m.addRule(i) as never,
    'securityGroups.removeRule': ({ groupId, ruleId }) => m.removeRule(groupId, ruleId) as never,
    'tags.set': ({ resources, tags }) => m.tagResources(resources, tags),
    'tags.remove': ({ resources, keys }) => m.untagResources(resources, keys),
    'tags.keys': ({ kind }) => ({
      keys: (kind
        ? (d.db.prepare('SELECT key, count(*) AS count FROM tags WHERE kind = ? GROUP BY key ORDER BY count DESC LIMIT 500').all(TAG_KIND[kind as ResourceKind] ?? kind) as { key: string; count: number }[])
        : (d.db.prepare('SELECT key, count(*) AS count FROM tags GROUP BY key ORDER BY count DESC LIMIT 500').all() as { key: string; count: number }[])),
    }),
    'guests.action': ({ id, action }, ctx) => {
      const g = checkGuestAction(d.db, d.drivers, id, action);
      const t = d.engine.submit('guests.action', { guestId: id, action }, { createdBy: ctx.actor, target: { kind: 'guest', id, name: g.name as string }, concurrencyKey: g.host_id ? `host:${g.host_id as string}` : g.cloud_account_id ? `account:${g.cloud_account_id as string}` : null });
      return { taskId: t.id };
    },
    'guests.bulk': (i, ctx) => {
      const t = d.engine.submit('guests.bulk', { ...i, createdBy: ctx.actor }, { createdBy: ctx.actor, target: null });
      return { taskId: t.id };
    },
    'guests.move': ({ ids, projectId }) => m.moveGuests(ids, projectId),
    'inventory.export': (i, ctx) => {
      // Refuse a bad sort or filter now, not in the task.
      repo.list(i.kind, { limit: 1, offset: 0, filter: i.query.filter, ...(i.query.sort ? { sort: i.query.sort } : {}), ...(i.query.q ? { q: i.query.q } : {}) });
      return { taskId: d.engine.submit('inventory.export', i, { createdBy: ctx.actor, target: null }).id };
    },
  };
}
