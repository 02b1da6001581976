import type Database from 'better-sqlite3';
import { ApiError, fieldError } from '@shared/errors';
import type { clouds } from '@shared/contract/clouds';
import type { DomainHandlers } from '../api/handlers';
import type { InventoryMutations } from '../inventory/mutations';
import { newResourceId } from '../inventory/sync';
import type { Row } from '../inventory/specs';
import { CloudService, credentialHint, credentialsOf, secretIdOf } from './service';
import { CLOUD_TABLES, dropRegions, parseExtId } from './sync';
import { toApiError } from './retry';
import { checkMapping, setMapping } from './projects';

/** The clouds.* commands: accounts (add, validate, regions, update, credentials, sync-now, remove) and operations. */
export function cloudHandlers(d: { db: Database.Database; svc: CloudService; mutations: InventoryMutations }): DomainHandlers<typeof clouds> {
  const { db, svc } = d;
  const now = () => new Date().toISOString();

  /** A cloud resource row of `table`, with its account and the cloud's region and id. */
  const cloudRow = (table: string, id: string, field: string) => {
    const r = db.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(id) as Row | undefined;
    if (!r) throw fieldError(field, `no such ${table.replace(/s$/, '')}: ${id}`);
    if (r.read_only === 1) throw new ApiError('forbidden', `${table} ${r.name as string} is read-only (imported inventory)`);
    if (!svc.registry.has(r.provider as string)) throw fieldError(field, `${r.name as string} is not a cloud resource`);
    const ext = parseExtId(r.external_id as string | null);
    return { row: r, accountId: ext.accountId, region: ext.region, cloudId: ext.id };
  };
  const supports = (accountId: string, op: string) => {
    const caps = svc.registry.get(svc.row(accountId).provider).capabilities;
    if (!caps.operations.includes(op as never)) throw new ApiError('not_supported', `${svc.row(accountId).provider} accounts cannot ${op} here`, { operation: op });
  };

  return {
    'clouds.providers'() {
      return { items: svc.registry.all().map((x) => ({ provider: x.provider, capabilities: x.capabilities, credentialFields: [...x.credentialFields] })) };
    },

    async 'clouds.validate'(i) {
      const { provider, credentials } = credentialsOf(i.credentials);
      return svc.validate(provider, credentials, i.endpoint);
    },

    async 'clouds.add'(i, ctx) {
      const { provider, credentials } = credentialsOf(i.credentials);
      svc.registry.get(provider);
      // A mapping to a project that does not exist is refused before the cloud is asked anything.
      if (i.projectMapping) checkMapping(db, i.projectMapping);
      // Validate first: wrong credentials store nothing.
      const v = await svc.validate(provider, credentials, i.endpoint);
      const regions = i.regions ?? v.regions;
      const unknown = regions.filter((r) => !v.regions.includes(r));
      if (unknown.length) throw fieldError('regions', `unknown region(s) for this account: ${unknown.join(', ')} (it sees ${v.regions.join(', ') || 'none'})`);
      if (db.prepare('SELECT 1 FROM cloud_accounts WHERE name = ?').get(i.name)) throw fieldError('name', `a cloud account named ${i.name} already exists`);
      const id = newResourceId('cloudAccounts');
      await svc.o.vault.put(secretIdOf(id), 'cloud-credentials', JSON.stringify(credentials));
      try {
        const t = now();
        db.prepare(
          `INSERT INTO cloud_accounts (id, name, provider, external_id, status, created_at, updated_at, regions, health, sync_interval_minutes, endpoint) VALUES (?, ?, ?, NULL, 'active', ?, ?, ?, 'ok', ?, ?)`,
        ).run(id, i.name, provider, t, t, JSON.stringify(regions), i.syncIntervalMinutes, i.endpoint);
      } catch (e) {
        svc.o.vault.delete(secretIdOf(id));
        throw e;
      }
      svc.hints.set(id, credentialHint(credentials));
      if (i.projectMapping) setMapping(db, id, i.projectMapping);
      d.mutations.changed('cloudAccounts', id, 'created');
      const taskId = svc.submitSync(id, ctx.actor);
      return { account: svc.detail(id), taskId };
    },

    'clouds.accounts'() {
      const ids = db.prepare('SELECT id FROM cloud_accounts ORDER BY name').all() as { id: string }[];
      return { items: ids.map(({ id }) => svc.detail(id)) };
    },
    'clouds.account'({ id }) {
      return svc.detail(id);
    },

    async 'clouds.regions'({ id }) {
      const s = await svc.session(id);
      try {
        const available = (await s.listRegions()).map((r) => r.name);
        return { available, picked: JSON.parse(svc.row(id).regions) as string[] };
      } catch (e) {
        throw toApiError(e);
      }
    },

    async 'clouds.update'(i) {
      const r = svc.row(i.id);
      if (i.regions) {
        const s = await svc.session(i.id);
        const available = await s.listRegions().then((x) => x.map((y) => y.name), (e: unknown) => Promise.reject(toApiError(e)));
        const unknown = i.regions.filter((x) => !available.includes(x));
        if (unknown.length) throw fieldError('regions', `unknown region(s) for this account: ${unknown.join(', ')}`);
      }
      if (i.name && i.name !== r.name && db.prepare('SELECT 1 FROM cloud_accounts WHERE name = ? AND id <> ?').get(i.name, i.id)) throw fieldError('name', `a cloud account named ${i.name} already exists`);
      db.transaction(() => {
        db.prepare(
          `UPDATE cloud_accounts SET name = coalesce(?, name), regions = coalesce(?, regions), sync_interval_minutes = coalesce(?, sync_interval_minutes), endpoint = CASE WHEN ? THEN ? ELSE endpoint END, updated_at = ? WHERE id = ?`,
        ).run(i.name ?? null, i.regions ? JSON.stringify(i.regions) : null, i.syncIntervalMinutes ?? null, i.endpoint !== undefined ? 1 : 0, i.endpoint ?? null, now(), i.id);
        if (i.regions) dropRegions(db, i.id, i.regions);
        if (i.projectMapping !== undefined) setMapping(db, i.id, i.projectMapping);
      })();
      if (i.projectMapping !== undefined) for (const k of ['guests', 'disks'] as const) d.mutations.changed(k, '*', 'updated');
      if (i.endpoint !== undefined) svc.forget(i.id);
      d.mutations.changed('cloudAccounts', i.id, 'updated');
      return svc.detail(i.id);
    },

    async 'clouds.setCredentials'(i) {
      const r = svc.row(i.id);
      const { provider, credentials } = credentialsOf(i.credentials);
      if (provider !== r.provider) throw fieldError('credentials.provider', `this is a ${r.provider} account`);
      await svc.validate(provider, credentials, r.endpoint);
      await svc.o.vault.put(secretIdOf(i.id), 'cloud-credentials', JSON.stringify(credentials));
      svc.hints.set(i.id, credentialHint(credentials));
      svc.forget(i.id);
      return { ok: true as const };
    },

    'clouds.syncNow'({ id }, ctx) {
      return { taskId: svc.submitSync(id, ctx.actor) };
    },

    'clouds.remove'({ id }) {
      svc.row(id);
      const busy = db.prepare(`SELECT 1 FROM tasks WHERE target_id = ? AND type IN ('clouds.sync', 'clouds.operation') AND status IN ('queued', 'running', 'cancelling')`).get(id);
      if (busy) throw new ApiError('conflict', 'a sync of this account is running: cancel it or wait for it first', { reason: 'busy' });
      db.transaction(() => {
        dropRegions(db, id, []);
        for (const [table, tagKind] of CLOUD_TABLES) {
          db.prepare(`DELETE FROM tags WHERE kind = ? AND resource_id IN (SELECT id FROM ${table} WHERE cloud_account_id = ?)`).run(tagKind, id);
          db.prepare(`DELETE FROM ${table} WHERE cloud_account_id = ?`).run(id);
        }
        db.prepare(`DELETE FROM tags WHERE kind = 'cloud_account' AND resource_id = ?`).run(id);
        db.prepare('DELETE FROM cloud_accounts WHERE id = ?').run(id);
      })();
      svc.forget(id);
      svc.o.vault.delete(secretIdOf(id));
      svc.hints.delete(id);
      d.mutations.changed('cloudAccounts', id, 'deleted');
      d.mutations.changed('guests', '*', 'deleted');
      return { ok: true as const };
    },

    'clouds.resizeGuest'(i, ctx) {
      const g = cloudRow('guests', i.id, 'id');
      supports(g.accountId, 'resize');
      return { taskId: svc.submitOp(g.accountId, g.region, 'resize', { instanceId: g.cloudId, instanceType: i.instanceType }, ['instances'], ctx.actor, { kind: 'guest', id: i.id, name: g.row.name as string }) };
    },
    'clouds.createGuest'(i, ctx) {
      const r = svc.row(i.accountId);
      supports(i.accountId, 'create');
      const picked = JSON.parse(r.regions) as string[];
      if (!picked.includes(i.region)) throw fieldError('region', `region ${i.region} is not picked for ${r.name} (picked: ${picked.join(', ')})`);
      const spec = { name: i.name, imageId: i.imageId, instanceType: i.instanceType, subnetId: i.subnetId, securityGroupIds: i.securityGroupIds, keyName: i.keyName, diskGb: i.diskGb };
      return { taskId: svc.submitOp(i.accountId, i.region, 'create', { spec }, ['instances', 'disks'], ctx.actor, { kind: 'cloudAccount', id: i.accountId, name: r.name }) };
    },
    'clouds.attachDisk'(i, ctx) {
      const dk = cloudRow('disks', i.diskId, 'diskId');
      const g = cloudRow('guests', i.guestId, 'guestId');
      if (dk.accountId !== g.accountId || dk.region !== g.region) throw fieldError('guestId', 'the disk and the guest are in different accounts or regions');
      supports(dk.accountId, 'attachDisk');
      return { taskId: svc.submitOp(dk.accountId, dk.region, 'attachDisk', { diskId: dk.cloudId, instanceId: g.cloudId, device: i.device }, ['disks'], ctx.actor, { kind: 'disk', id: i.diskId, name: dk.row.name as string }) };
    },
    'clouds.detachDisk'(i, ctx) {
      const dk = cloudRow('disks', i.diskId, 'diskId');
      supports(dk.accountId, 'detachDisk');
      return { taskId: svc.submitOp(dk.accountId, dk.region, 'detachDisk', { diskId: dk.cloudId }, ['disks'], ctx.actor, { kind: 'disk', id: i.diskId, name: dk.row.name as string }) };
    },
    'clouds.createSnapshot'(i, ctx) {
      const dk = cloudRow('disks', i.diskId, 'diskId');
      supports(dk.accountId, 'createSnapshot');
      return { taskId: svc.submitOp(dk.accountId, dk.region, 'createSnapshot', { diskId: dk.cloudId, name: i.name }, ['snapshots'], ctx.actor, { kind: 'disk', id: i.diskId, name: dk.row.name as string }) };
    },
    'clouds.deleteSnapshot'(i, ctx) {
      const s = cloudRow('snapshots', i.id, 'id');
      supports(s.accountId, 'deleteSnapshot');
      return { taskId: svc.submitOp(s.accountId, s.region, 'deleteSnapshot', { snapshotId: s.cloudId }, ['snapshots'], ctx.actor, { kind: 'snapshot', id: i.id, name: s.row.name as string }) };
    },
    'clouds.associateEip'(i, ctx) {
      const e = cloudRow('eips', i.eipId, 'eipId');
      const g = cloudRow('guests', i.guestId, 'guestId');
      if (e.accountId !== g.accountId || e.region !== g.region) throw fieldError('guestId', 'the EIP and the guest are in different accounts or regions');
      supports(e.accountId, 'associateEip');
      return { taskId: svc.submitOp(e.accountId, e.region, 'associateEip', { eipId: e.cloudId, instanceId: g.cloudId }, ['instances', 'eips'], ctx.actor, { kind: 'eip', id: i.eipId, name: e.row.name as string }) };
    },
    'clouds.dissociateEip'(i, ctx) {
      const e = cloudRow('eips', i.eipId, 'eipId');
      supports(e.accountId, 'dissociateEip');
      return { taskId: svc.submitOp(e.accountId, e.region, 'dissociateEip', { eipId: e.cloudId }, ['instances', 'eips'], ctx.actor, { kind: 'eip', id: i.eipId, name: e.row.name as string }) };
    },
    'clouds.addRule'(i, ctx) {
      const g = cloudRow('security_groups', i.groupId, 'groupId');
      supports(g.accountId, 'securityGroupRules');
      const rule = { protocol: i.protocol, fromPort: i.fromPort, toPort: i.toPort, cidr: i.cidr, description: i.description };
      return { taskId: svc.submitOp(g.accountId, g.region, 'authorizeIngress', { groupId: g.cloudId, rule }, ['securityGroups'], ctx.actor, { kind: 'securityGroup', id: i.groupId, name: g.row.name as string }) };
    },
    'clouds.removeRule'(i, ctx) {
      const g = cloudRow('security_groups', i.groupId, 'groupId');
      supports(g.accountId, 'securityGroupRules');
      const rule = { protocol: i.protocol, fromPort: i.fromPort, toPort: i.toPort, cidr: i.cidr };
      return { taskId: svc.submitOp(g.accountId, g.region, 'revokeIngress', { groupId: g.cloudId, rule }, ['securityGroups'], ctx.actor, { kind: 'securityGroup', id: i.groupId, name: g.row.name as string }) };
    },
  };
}
