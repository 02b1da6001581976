import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiError } from '@shared/errors';
import { CLOUD_SYNC_KINDS, type CloudAccountDetail, type CloudCredentialsInput, type CloudSyncKind } from '@shared/contract/clouds';
import type { GuestAction } from '@shared/contract/inventory/commands';
import type { Vault } from '../vault/vault';
import type { TaskEngine } from '../tasks/engine';
import type { TaskType } from '../tasks/types';
import type { InventoryMutations } from '../inventory/mutations';
import type { InventoryRepo } from '../inventory/repo';
import type { Logger } from '../log/logger';
import type { ComputeDriver, GuestRef } from '../drivers/types';
import { markReachable, markUnreachable } from '../inventory/sync';
import { CloudRegistry } from './registry';
import { guestActionsOf, type CloudAccountConfig, type CloudProvider, type CloudSession, type CloudCredentials, type IngressRule } from './types';
import { errorText, toApiError } from './retry';
import { parseExtId, syncAccount, type RegionResult } from './sync';
import { applyMapping, mappingOf } from './projects';
import { refreshPrices, type PriceRefresh } from './prices';

export const secretIdOf = (accountId: string) => `cloud:${accountId}:credentials`;

/** The part of the credentials that is not secret, for recognising them. */
export function credentialHint(c: CloudCredentials): string | null {
  return c.accessKeyId ?? c.secretId ?? (c.clientId ? `${c.clientId} @ ${c.subscriptionId ?? ''}` : null);
}

export function credentialsOf(input: CloudCredentialsInput): { provider: CloudProvider; credentials: CloudCredentials } {
  const { provider, ...rest } = input;
  return { provider, credentials: rest as CloudCredentials };
}

interface AccountRow {
  id: string;
  name: string;
  provider: CloudProvider;
  regions: string;
  health: string;
  last_error: string | null;
  last_sync_at: string | null;
  sync_interval_minutes: number;
  endpoint: string | null;
  region_status: string;
}

const syncParams = z.object({ accountId: z.string(), kinds: z.array(z.enum(CLOUD_SYNC_KINDS)).optional(), regions: z.array(z.string()).optional(), pageSize: z.number().int().min(5).max(1000).optional() });
type SyncParams = z.infer<typeof syncParams>;

export const OPS = ['resize', 'create', 'attachDisk', 'detachDisk', 'createSnapshot', 'deleteSnapshot', 'associateEip', 'dissociateEip', 'authorizeIngress', 'revokeIngress'] as const;
const opParams = z.object({ accountId: z.string(), region: z.string(), op: z.enum(OPS), args: z.record(z.string(), z.unknown()), refresh: z.array(z.enum(CLOUD_SYNC_KINDS)) });
type OpParams = z.infer<typeof opParams>;

/**
 * Cloud accounts at run time: their configuration (row + vault), one open session per account (the SDK loaded at the
 * first use), the sync and operation tasks, the periodic sync, and a ComputeDriver per cloud for the Guests list.
 */
export class CloudService {
  private readonly sessions = new Map<string, { key: string; session: Promise<CloudSession> }>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    readonly o: {
      db: Database.Database;
      vault: Vault;
      engine: () => TaskEngine;
      mutations: InventoryMutations;
      repo: InventoryRepo;
      logger: Logger;
      registry?: CloudRegistry;
      /** How often the periodic sync looks for accounts that are due (ms, default 30 s). */
      tickMs?: number;
    },
  ) {
    this.log = o.logger.scope('clouds');
    this.registry = o.registry ?? new CloudRegistry();
  }
  readonly registry: CloudRegistry;

  row(id: string): AccountRow {
    const r = this.o.db.prepare('SELECT id, name, provider, regions, health, last_error, last_sync_at, sync_interval_minutes, endpoint, region_status FROM cloud_accounts WHERE id = ?').get(id) as AccountRow | undefined;
    if (!r) throw new ApiError('not_found', `cloud account ${id} does not exist`, { id });
    return r;
  }

  async credentials(id: string): Promise<CloudCredentials> {
    const buf = await this.o.vault.get(secretIdOf(id));
    if (!buf) throw new ApiError('conflict', `cloud account ${id} has no stored credentials`, { reason: 'no_credentials' });
    return JSON.parse(buf.toString('utf8')) as CloudCredentials;
  }

  /** A session for loose credentials (validation before an account exists). */
  async connect(provider: CloudProvider, credentials: CloudCredentials, endpoint: string | null, accountId = 'new'): Promise<CloudSession> {
    const cfg: CloudAccountConfig = { accountId, provider, credentials, endpoint };
    return this.registry.get(provider).connect(cfg);
  }

  /** The account's session, opened once (reopened when its credentials or endpoint change). */
  async session(id: string): Promise<CloudSession> {
    const r = this.row(id);
    const key = `${r.provider}|${r.endpoint ?? ''}|${this.o.vault ? 'v' : ''}`;
    const have = this.sessions.get(id);
    if (have && have.key === key) return have.session;
    const p = this.credentials(id).then((c) => this.connect(r.provider, c, r.endpoint, id));
    this.sessions.set(id, { key, session: p });
    p.catch(() => this.sessions.delete(id));
    return p;
  }

  forget(id: string): void {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    s?.session.then((x) => x.close()).catch(() => {});
  }

  /** Validates credentials: resolves with the regions they see, or rejects with the cloud's error (its code kept). */
  async validate(provider: CloudProvider, credentials: CloudCredentials, endpoint: string | null): Promise<{ account: string | null; regions: string[] }> {
    const s = await this.connect(provider, credentials, endpoint);
    try {
      const v = await s.validate();
      const regions = (await s.listRegions()).map((r) => r.name);
      return { account: v.account, regions };
    } catch (e) {
      throw toApiError(e);
    } finally {
      s.close();
    }
  }

  detail(id: string): CloudAccountDetail {
    const r = this.row(id);
    const account = this.o.repo.get('cloudAccounts', id) as CloudAccountDetail['account'];
    const guests = (this.o.db.prepare('SELECT count(*) AS n FROM guests WHERE cloud_account_id = ?').get(id) as { n: number }).n;
    const syncing = !!this.o.db.prepare(`SELECT 1 FROM tasks WHERE type = 'clouds.sync' AND target_id = ? AND status IN ('queued', 'running', 'cancelling')`).get(id);
    const hint = this.hints.get(id) ?? null;
    return {
      account,
      provider: r.provider,
      endpoint: r.endpoint,
      credentialHint: hint,
      regionStatus: JSON.parse(r.region_status || '{}') as CloudAccountDetail['regionStatus'],
      guests,
      syncing,
      nextSyncAt: r.last_sync_at ? new Date(Date.parse(r.last_sync_at) + r.sync_interval_minutes * 60_000).toISOString() : null,
      projectMapping: mappingOf(this.o.db, id),
    };
  }
  /** Access key ids etc. of the accounts, cached at add time and when credentials are read (never the secret). */
  readonly hints = new Map<string, string | null>();

  async loadHints(): Promise<void> {
    for (const { id } of this.o.db.prepare('SELECT id FROM cloud_accounts').all() as { id: string }[]) {
      try {
        this.hints.set(id, credentialHint(await this.credentials(id)));
      } catch {
        this.hints.set(id, null);
      }
    }
  }

  submitSync(id: string, createdBy: string, extra: Partial<SyncParams> = {}): string {
    const r = this.row(id);
    const t = this.o.engine().submit('clouds.sync', { accountId: id, ...extra }, { createdBy, target: { kind: 'cloudAccount', id, name: r.name }, concurrencyKey: `account:${id}` });
    return t.id;
  }

  submitOp(accountId: string, region: string, op: OpParams['op'], args: Record<string, unknown>, refresh: CloudSyncKind[], createdBy: string, target: { kind: string; id: string; name?: string }): string {
    const t = this.o.engine().submit('clouds.operation', { accountId, region, op, args, refresh }, { createdBy, target, concurrencyKey: `account:${accountId}` });
    return t.id;
  }

  /**
   * Accounts whose interval has passed since their last sync, with no sync queued or running and none started within
   * the interval (an account whose syncs fail is tried again once per interval, not at every tick).
   */
  dueAccounts(): string[] {
    const rows = this.o.db
      .prepare(
        `SELECT id FROM cloud_accounts a WHERE (a.last_sync_at IS NULL OR julianday('now') - julianday(a.last_sync_at) >= a.sync_interval_minutes / 1440.0)
           AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.type = 'clouds.sync' AND t.target_id = a.id AND (t.status IN ('queued', 'running', 'cancelling') OR julianday('now') - julianday(t.created_at) < a.sync_interval_minutes / 1440.0))`,
      )
      .all() as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Starts the periodic sync: every account whose interval has passed since its last sync gets a sync task. */
  start(): void {
    if (this.timer) return;
    void this.loadHints();
    const tick = () => {
      try {
        for (const id of this.dueAccounts()) this.submitSync(id, 'system');
      } catch (e) {
        this.log.error('periodic cloud sync check failed', { error: e });
      }
    };
    this.timer = setInterval(tick, this.o.tickMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }

  // ---- tasks -------------------------------------------------------------------------------------------------------

  private changedAll(kinds: readonly string[]) {
    for (const k of kinds) this.o.mutations.changed(k as never, '*', 'updated');
  }

  private recordRegions(id: string, results: RegionResult[]) {
    const prev = JSON.parse(this.row(id).region_status || '{}') as Record<string, unknown>;
    const at = new Date().toISOString();
    for (const r of results) prev[r.region] = { ok: r.ok, error: r.error, code: r.code, at };
    const picked = JSON.parse(this.row(id).regions) as string[];
    for (const k of Object.keys(prev)) if (!picked.includes(k)) delete prev[k];
    this.o.db.prepare('UPDATE cloud_accounts SET region_status = ? WHERE id = ?').run(JSON.stringify(prev), id);
  }

  syncTask(): TaskType<SyncParams> {
    return {
      type: 'clouds.sync',
      params: syncParams,
      stages: {
        onInit: async ({ params: p }) => {
          const r = this.row(p.accountId);
          const regions = p.regions ?? (JSON.parse(r.regions) as string[]);
          if (!regions.length) throw new ApiError('validation', `cloud account ${r.name} has no regions picked`, { reason: 'no_regions' });
          return { next: 'onSync', progress: 2, message: `syncing ${regions.length} region(s) of ${r.name}` };
        },
        onSync: async ({ params: p, signal, progress }) => {
          const r = this.row(p.accountId);
          const regions = p.regions ?? (JSON.parse(r.regions) as string[]);
          const t0 = performance.now();
          let results: RegionResult[];
          try {
            const session = await this.session(p.accountId);
            results = await syncAccount({ db: this.o.db, accountId: p.accountId, provider: r.provider, session, regions, kinds: p.kinds, pageSize: p.pageSize, signal, progress: (pct, m) => progress(2 + Math.round(pct * 0.96), m) });
          } catch (e) {
            if (signal.aborted) throw e;
            const t = errorText(e);
            markUnreachable(this.o.db, { cloudAccountId: p.accountId }, t.message);
            this.recordRegions(p.accountId, regions.map((region) => ({ region, ok: false, error: t.message, code: t.code, counts: {}, retries: 0, ms: 0 })));
            this.o.mutations.changed('cloudAccounts', p.accountId, 'updated');
            throw toApiError(e);
          }
          const failed = results.filter((x) => !x.ok);
          const now = new Date().toISOString();
          this.recordRegions(p.accountId, results);
          if (failed.length === results.length) {
            const msg = failed.map((f) => `${f.region}: ${f.error}`).join('; ');
            markUnreachable(this.o.db, { cloudAccountId: p.accountId }, msg);
            this.o.mutations.changed('cloudAccounts', p.accountId, 'updated');
            throw new ApiError('unreachable', `every region failed: ${msg}`, { regions: failed.map((f) => ({ region: f.region, error: f.error, code: f.code })) });
          }
          markReachable(this.o.db, { cloudAccountId: p.accountId });
          applyMapping(this.o.db, p.accountId);
          this.o.db.prepare('UPDATE cloud_accounts SET last_sync_at = ?, last_error = ?, status = ? WHERE id = ?').run(now, failed.length ? failed.map((f) => `${f.region}: ${f.error}`).join('; ') : null, 'active', p.accountId);
          this.o.mutations.changed('cloudAccounts', p.accountId, 'updated');
          this.changedAll(['regions', 'zones', 'wires', 'networks', 'securityGroups', 'guests', 'disks', 'snapshots', 'images', 'eips', 'keypairs']);
          const guests = results.reduce((a, x) => a + (x.counts.instances ? x.counts.instances.inserted + x.counts.instances.updated + x.counts.instances.unchanged : 0), 0);
          // Prices of the instance types found, where the provider's API gives them (never fails the sync).
          let prices: PriceRefresh | null = null;
          const wantsPrices = (!p.kinds || p.kinds.includes('instances')) && this.registry.get(r.provider).capabilities.operations.includes('prices');
          if (wantsPrices) {
            progress(98, 'reading instance prices');
            prices = await refreshPrices({ db: this.o.db, accountId: p.accountId, provider: r.provider, session: await this.session(p.accountId), regions: results.filter((x) => x.ok).map((x) => x.region), logger: this.log, signal });
          }
          const ms = Math.round(performance.now() - t0);
          return {
            done: { regions: results, failedRegions: failed.map((f) => ({ region: f.region, error: f.error, code: f.code })), instances: guests, prices, ms },
            message:
              (failed.length ? `synced with errors in ${failed.map((f) => f.region).join(', ')}` : `synced ${results.length} region(s), ${guests} instance(s)`) +
              (prices?.unconverted.length ? `; prices in ${prices.unconverted.join(', ')} not stored: the rate card has no exchange rate for them` : ''),
          };
        },
      },
    };
  }

  opTask(): TaskType<OpParams> {
    return {
      type: 'clouds.operation',
      params: opParams,
      stages: {
        onInit: async ({ params: p, signal }) => {
          const s = await this.session(p.accountId);
          const a = p.args as Record<string, any>;
          try {
            switch (p.op) {
              case 'resize':
                await s.resizeInstance(p.region, a.instanceId, a.instanceType, signal);
                break;
              case 'create':
                await s.createInstance(p.region, a.spec, signal);
                break;
              case 'attachDisk':
                await s.attachDisk(p.region, a.diskId, a.instanceId, a.device, signal);
                break;
              case 'detachDisk':
                await s.detachDisk(p.region, a.diskId, signal);
                break;
              case 'createSnapshot':
                await s.createSnapshot(p.region, a.diskId, a.name, signal);
                break;
              case 'deleteSnapshot':
                await s.deleteSnapshot(p.region, a.snapshotId, signal);
                break;
              case 'associateEip':
                await s.associateEip(p.region, a.eipId, a.instanceId, signal);
                break;
              case 'dissociateEip':
                await s.dissociateEip(p.region, a.eipId, signal);
                break;
              case 'authorizeIngress':
                await s.authorizeIngress(p.region, a.groupId, a.rule as IngressRule, signal);
                break;
              case 'revokeIngress':
                await s.revokeIngress(p.region, a.groupId, a.rule as IngressRule, signal);
                break;
            }
          } catch (e) {
            throw toApiError(e);
          }
          return { next: 'onRefresh', progress: 60, message: `${p.op} done; refreshing ${p.region}` };
        },
        onRefresh: async ({ params: p, signal }) => {
          const r = this.row(p.accountId);
          const session = await this.session(p.accountId);
          const res = await syncAccount({ db: this.o.db, accountId: p.accountId, provider: r.provider, session, regions: [p.region], kinds: ['regions', ...p.refresh], signal }).catch((e: unknown) => {
            throw toApiError(e);
          });
          applyMapping(this.o.db, p.accountId);
          this.changedAll(p.refresh.map((k) => ({ instances: 'guests', vpcs: 'wires', subnets: 'networks' })[k as string] ?? k));
          return { done: { op: p.op, refreshed: res.map((x) => x.region) }, message: `${p.op} done` };
        },
      },
    };
  }

  /** One ComputeDriver per cloud for the common Guests list: actions follow the cloud driver's capabilities. */
  computeDrivers(): ComputeDriver[] {
    return this.registry.all().map((d) => new CloudComputeDriver(this, d.provider, guestActionsOf(d.capabilities)));
  }
}

const WAIT: Partial<Record<GuestAction, string[]>> = { start: ['running'], stop: ['ready'], forceStop: ['ready'], reboot: ['running'], delete: ['deleted', 'gone'] };

export class CloudComputeDriver implements ComputeDriver {
  constructor(
    private readonly svc: CloudService,
    readonly provider: CloudProvider,
    private readonly actions: GuestAction[],
    private readonly pollMs = 500,
    private readonly timeoutMs = 10 * 60_000,
  ) {}

  guestActions(): readonly GuestAction[] {
    return this.actions;
  }

  async guestAction(g: GuestRef, action: GuestAction, signal: AbortSignal): Promise<void> {
    if (!g.cloudAccountId) throw new ApiError('conflict', `guest ${g.name} has no cloud account`);
    const { region, id } = parseExtId(g.externalId);
    const s = await this.svc.session(g.cloudAccountId);
    try {
      switch (action) {
        case 'start':
          await s.startInstance(region, id, signal);
          break;
        case 'stop':
        case 'forceStop':
          await s.stopInstance(region, id, action === 'forceStop', signal);
          break;
        case 'reboot':
          await s.rebootInstance(region, id, signal);
          break;
        case 'delete':
          await s.deleteInstance(region, id, signal);
          break;
        default:
          throw new ApiError('not_supported', `${this.provider} guests cannot ${action}`);
      }
      // Wait for the end state the cloud reports.
      const want = WAIT[action] ?? [];
      const until = Date.now() + this.timeoutMs;
      for (;;) {
        const i = await s.getInstance(region, id, signal);
        const st = i ? i.status : 'gone';
        if (want.includes(st) || (action === 'delete' && st === 'deleted')) return;
        if (Date.now() > until) throw new ApiError('timeout', `${g.name} did not reach ${want.join('/')} (still ${st})`);
        await new Promise((r) => setTimeout(r, this.pollMs));
        if (signal.aborted) throw signal.reason;
      }
    } catch (e) {
      throw toApiError(e);
    }
  }

  async observeGuest(g: GuestRef): Promise<string | null> {
    if (!g.cloudAccountId || !g.externalId) return null;
    try {
      const { region, id } = parseExtId(g.externalId);
      const i = await (await this.svc.session(g.cloudAccountId)).getInstance(region, id);
      return i ? i.status : 'vanished';
    } catch {
      return null;
    }
  }
}
