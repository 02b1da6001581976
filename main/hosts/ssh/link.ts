/**
 * The agent link of one KVM host: one SSH session, one agent socket over it, and the state the UI shows.
 *
 *   connecting ──ssh ok──▶ (agent socket + agent.hello) ──▶ online ──ping every 15 s──▶ online
 *        │                        │ socket missing / hello fails          │ agent stream ends / ping times out
 *        │                        ▼                                        ▼
 *        │                     offline (agent_down | agent_version) ── retry the agent on the same session (1 s → 30 s)
 *        │ ssh fails                                                       │ session lost
 *        ▼                                                                 ▼
 *   unreachable (refused | timeout | dns | net | closed | protocol)     offline (closed) ── reconnect (1 s → 60 s, jitter)
 *   unreachable (auth_failed | host_key_* | bad_key | key_passphrase)  ── no retry until reconnect()
 *
 * `session()` resolves as soon as SSH is up, even while the agent is down (bootstrap installs the agent over it).
 * `call()` fails fast with unreachable when the link is not online. Latency updates (pings) do not emit a status.
 */
import { createHash } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import { ApiError } from '@shared/errors';
import { AGENT_PROTOCOL_VERSION, type AgentHello, type AgentMethod, type AgentNotifications, type AgentParams, type AgentResult } from '@shared/agent/protocol';
import type { Logger } from '../../log/logger';
import type { HostLink, HostLinkState, HostLinkStatus, RpcCallOptions, SshConnectOptions, SshSession, SshTarget } from '../types';
import { RpcClient } from './rpc';
import { connectSsh } from './session';

export const PING_INTERVAL_MS = 15_000;
export const PING_TIMEOUT_MS = 10_000;

/** SSH failures a retry cannot fix: they wait for new credentials or an accepted host key (then reconnect()). */
export const NEEDS_HUMAN = new Set(['auth_failed', 'host_key_changed', 'host_key_unknown', 'bad_key', 'key_passphrase']);

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** ± fraction of the delay (0.2 → 80 %…120 %), so that many hosts do not retry in step. */
  jitter?: number;
  random?: () => number;
}

/** The delay before retry number `attempt` (0-based): initial·factor^attempt, capped, with jitter. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const initial = o.initialMs ?? 1000;
  const max = o.maxMs ?? 60_000;
  const factor = o.factor ?? 2;
  const jitter = o.jitter ?? 0.2;
  const rnd = o.random ?? Math.random;
  const base = Math.min(max, initial * factor ** Math.min(attempt, 60));
  return Math.max(0, Math.round(Math.min(max, base * (1 - jitter + 2 * jitter * rnd()))));
}

export interface HostLinkOptions {
  hostId: string;
  resolveTarget: () => Promise<SshTarget>;
  /** The agent's socket on the host (`<dir>/agent.sock`); may throw (e.g. agent not installed yet → agent_down). */
  agentSocketPath: () => Promise<string> | string;
  /**
   * The command that pipes stdio to the agent socket (`NODE DIR/current/agent.cjs connect --dir DIR`), used where sshd
   * refuses stream-local forwarding. null or absent: no fallback.
   */
  fallbackCommand?: () => Promise<string | null> | string | null;
  appVersion: string;
  logger: Logger;
  now?: () => number;
  /** SSH reconnects: 1 s → 60 s. */
  backoff?: BackoffOptions;
  /** Agent retries on a live session (agent restarting, not installed yet): 1 s → 30 s. */
  agentBackoff?: BackoffOptions;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  connectOptions?: SshConnectOptions;
  /** Replaces connectSsh (tests). */
  connect?: (target: SshTarget, opts: SshConnectOptions & { logger?: Logger }) => Promise<SshSession>;
}

type Timer = ReturnType<typeof setTimeout>;

/** What identifies a connection attempt: address, user, credentials, trusted keys, jump host. */
function targetKey(t: SshTarget): string {
  return createHash('sha256').update(JSON.stringify(t)).digest('base64');
}

class HostLinkImpl implements HostLink {
  readonly hostId: string;
  private st: HostLinkStatus;
  private readonly statusListeners = new Set<(s: HostLinkStatus) => void>();
  private readonly notificationListeners = new Map<string, Set<(p: unknown) => void>>();
  private gen = 0;
  private closedFlag = false;
  private sess: SshSession | null = null;
  private rpc: RpcClient | null = null;
  private attempt: Promise<SshSession> | null = null;
  private lastError: ApiError | null = null;
  /** Digests (never logged) of the target the current attempt uses and of the one that last failed. */
  private attemptTargetKey: string | null = null;
  private failedTargetKey: string | null = null;
  private sshFailures = 0;
  private agentFailures = 0;
  private retryTimer: Timer | null = null;
  private agentTimer: Timer | null = null;
  private pingTimer: Timer | null = null;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly o: HostLinkOptions) {
    this.hostId = o.hostId;
    this.now = o.now ?? Date.now;
    this.log = o.logger.scope('link');
    this.st = { state: 'connecting', reason: null, failure: null, since: this.iso(), hello: null, latencyMs: null, nextRetryAt: null };
    this.connectNow().catch(() => {});
  }

  // --- public -------------------------------------------------------------------------------------------------

  status(): HostLinkStatus {
    return { ...this.st };
  }

  onStatus(cb: (s: HostLinkStatus) => void): () => void {
    this.statusListeners.add(cb);
    return () => this.statusListeners.delete(cb);
  }

  async session(): Promise<SshSession> {
    for (;;) {
      if (this.closedFlag) throw new ApiError('unreachable', `the link to host ${this.hostId} is closed`, { reason: 'closed' });
      if (this.sess && !this.sess.closed) return this.sess;
      if (this.lastError && NEEDS_HUMAN.has(String(this.lastError.details?.reason)) && !this.attempt) {
        // No retry with what already failed (a wrong password tried again and again can lock the account), but new
        // credentials or a newly accepted host key are worth a try, even before anyone called reconnect().
        const failed = this.lastError;
        const key = targetKey(await this.o.resolveTarget());
        if (this.lastError !== failed || this.sess || this.attempt) continue;
        if (key === this.failedTargetKey) throw failed;
        this.lastError = null;
      }
      const gen = this.gen;
      try {
        return await this.connectNow();
      } catch (e) {
        // A reconnect() replaced the attempt we waited for: wait for the new one.
        if (gen !== this.gen && !this.closedFlag) continue;
        throw e;
      }
    }
  }

  call<M extends AgentMethod>(method: M, params: AgentParams<M>, opts?: RpcCallOptions): Promise<AgentResult<M>> {
    if (this.closedFlag) return Promise.reject(new ApiError('unreachable', `the link to host ${this.hostId} is closed`, { reason: 'closed', hostId: this.hostId }));
    if (this.st.state !== 'online' || !this.rpc || this.rpc.closed) {
      const why = this.st.reason ?? (this.st.state === 'connecting' ? 'still connecting' : 'not connected');
      return Promise.reject(new ApiError('unreachable', `the agent on host ${this.hostId} is not reachable: ${why}`, { reason: this.st.failure ?? this.st.state, hostId: this.hostId, state: this.st.state }));
    }
    return this.rpc.call(method, params, opts);
  }

  onNotification<N extends keyof AgentNotifications>(method: N, cb: (params: AgentNotifications[N]) => void): () => void {
    let set = this.notificationListeners.get(method);
    if (!set) this.notificationListeners.set(method, (set = new Set()));
    const f = cb as (p: unknown) => void;
    set.add(f);
    return () => set.delete(f);
  }

  reconnect(): void {
    if (this.closedFlag) return;
    this.log.info('reconnecting', { hostId: this.hostId });
    this.teardown();
    this.lastError = null;
    this.sshFailures = 0;
    this.agentFailures = 0;
    this.setStatus({ state: 'connecting', reason: null, failure: null, hello: null, latencyMs: null, nextRetryAt: null });
    this.connectNow().catch(() => {});
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.teardown();
    this.statusListeners.clear();
    this.notificationListeners.clear();
    this.st = { ...this.st, state: 'offline', reason: 'closed', failure: 'closed', hello: null, nextRetryAt: null };
  }

  /** Timers the link holds right now (tests and diagnostics). */
  timerCount(): number {
    return [this.retryTimer, this.agentTimer, this.pingTimer].filter((t) => t !== null).length;
  }

  // --- internals ----------------------------------------------------------------------------------------------

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /** Drops everything of the current generation: timers, agent stream, session, pending attempt's result. */
  private teardown(): void {
    this.gen++;
    this.clearTimer('retryTimer');
    this.clearTimer('agentTimer');
    this.clearTimer('pingTimer');
    const rpc = this.rpc;
    this.rpc = null;
    rpc?.close();
    const s = this.sess;
    this.sess = null;
    s?.close();
    this.attempt = null;
  }

  private clearTimer(name: 'retryTimer' | 'agentTimer' | 'pingTimer'): void {
    const t = this[name];
    if (t !== null) clearTimeout(t);
    this[name] = null;
  }

  private setStatus(patch: Partial<HostLinkStatus>): void {
    const prev = this.st;
    const next: HostLinkStatus = { ...prev, ...patch };
    if (next.state !== prev.state) next.since = this.iso();
    this.st = next;
    const changed =
      next.state !== prev.state || next.reason !== prev.reason || next.failure !== prev.failure || next.hello !== prev.hello || next.nextRetryAt !== prev.nextRetryAt;
    if (!changed || this.closedFlag) return;
    if (next.state !== prev.state) {
      const fields = { hostId: this.hostId, state: next.state, reason: next.reason, failure: next.failure };
      if (next.state === 'online') this.log.info('host link online', { ...fields, agentVersion: next.hello?.agentVersion, latencyMs: next.latencyMs });
      else if (next.state === 'connecting') this.log.debug('host link connecting', fields);
      else this.log.warn(`host link ${next.state}`, fields);
    }
    const snapshot = { ...next };
    for (const cb of [...this.statusListeners]) {
      try {
        cb(snapshot);
      } catch (e) {
        this.log.warn('status listener failed', { hostId: this.hostId, error: (e as Error).message });
      }
    }
  }

  /** Starts an SSH attempt now (or joins the one running). */
  private connectNow(): Promise<SshSession> {
    if (this.attempt) return this.attempt;
    this.clearTimer('retryTimer');
    if (this.st.nextRetryAt !== null) this.setStatus({ nextRetryAt: null });
    const gen = this.gen;
    const connect = this.o.connect ?? connectSsh;
    const p = (async () => {
      const target = await this.o.resolveTarget();
      if (gen === this.gen) this.attemptTargetKey = targetKey(target);
      const s = await connect(target, { ...this.o.connectOptions, logger: this.log });
      if (gen !== this.gen || this.closedFlag) {
        s.close();
        throw new ApiError('cancelled', 'the connection attempt was superseded', { reason: 'superseded' });
      }
      return s;
    })();
    this.attempt = p;
    p.then(
      (s) => {
        if (gen !== this.gen) return;
        this.attempt = null;
        this.onSession(s, gen);
      },
      (e: unknown) => {
        if (gen !== this.gen || this.closedFlag) return;
        this.attempt = null;
        this.onConnectFailed(e);
      },
    );
    return p;
  }

  private onConnectFailed(e: unknown): void {
    const err = ApiError.is(e) ? e : new ApiError('unreachable', `cannot connect to host ${this.hostId}: ${(e as Error)?.message ?? String(e)}`, { reason: 'closed' });
    this.lastError = err;
    this.failedTargetKey = this.attemptTargetKey;
    const failure = String(err.details?.reason ?? err.code);
    // Credentials or a key that cannot be loaded (vault, validation) are no better on the next try either.
    const human = NEEDS_HUMAN.has(failure) || !['unreachable', 'timeout'].includes(err.code);
    if (human) {
      this.setStatus({ state: 'unreachable', reason: err.message, failure, hello: null, latencyMs: null, nextRetryAt: null });
      return;
    }
    const delay = backoffDelay(this.sshFailures++, this.o.backoff);
    this.setStatus({ state: 'unreachable', reason: err.message, failure, hello: null, latencyMs: null, nextRetryAt: this.iso(this.now() + delay) });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectNow().catch(() => {});
    }, delay);
  }

  private onSession(s: SshSession, gen: number): void {
    this.sess = s;
    this.sshFailures = 0;
    this.lastError = null;
    s.onClose((reason) => {
      if (gen !== this.gen || this.sess !== s) return;
      this.onSessionLost(reason);
    });
    if (s.closed) return;
    void this.openAgent(s, gen);
  }

  private onSessionLost(reason: string): void {
    this.sess = null;
    const rpc = this.rpc;
    this.rpc = null;
    rpc?.close();
    this.clearTimer('agentTimer');
    this.clearTimer('pingTimer');
    const delay = backoffDelay(this.sshFailures++, this.o.backoff);
    this.setStatus({ state: 'offline', reason: `SSH connection lost: ${reason}`, failure: 'closed', hello: null, latencyMs: null, nextRetryAt: this.iso(this.now() + delay) });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectNow().catch(() => {});
    }, delay);
  }

  private async openStream(s: SshSession): Promise<{ stream: Duplex; stderr?: Readable }> {
    const path = await this.o.agentSocketPath();
    try {
      return { stream: await s.openUnixSocket(path) };
    } catch (e) {
      if (ApiError.is(e) && e.details?.reason === 'socket_unavailable') {
        throw new ApiError('unreachable', `the agent is not running on host ${this.hostId} (no socket at ${path})`, { reason: 'agent_down', path });
      }
      if (!ApiError.is(e) || e.details?.reason !== 'forward_refused') throw e;
      const cmd = await this.o.fallbackCommand?.();
      const execStream = (s as SshSession & { execStream?: (c: string) => Promise<Duplex & { stderr: Readable }> }).execStream;
      if (!cmd || !execStream) throw new ApiError('unreachable', `${e.message}, and there is no fallback to reach the agent`, { reason: 'agent_down', path });
      this.log.debug('agent socket forwarding refused, using the exec fallback', { hostId: this.hostId });
      const ch = await execStream.call(s, cmd);
      return { stream: ch, stderr: ch.stderr };
    }
  }

  private async openAgent(s: SshSession, gen: number): Promise<void> {
    this.clearTimer('agentTimer');
    let rpc: RpcClient | null = null;
    let stderrText = '';
    try {
      const { stream, stderr } = await this.openStream(s);
      stderr?.on('data', (d: Buffer) => {
        if (stderrText.length < 2000) stderrText += d.toString('utf8');
      });
      if (gen !== this.gen || s.closed) {
        stream.destroy();
        return;
      }
      rpc = new RpcClient(stream, { name: `the agent on host ${this.hostId}`, logger: this.log });
      const r = rpc;
      r.onAnyNotification((params, method) => {
        for (const cb of [...(this.notificationListeners.get(method) ?? [])]) {
          try {
            cb(params);
          } catch (e) {
            this.log.warn('notification listener failed', { hostId: this.hostId, method, error: (e as Error).message });
          }
        }
      });
      const t0 = performance.now();
      let hello: AgentHello;
      try {
        hello = await r.call('agent.hello', { appVersion: this.o.appVersion, protocol: AGENT_PROTOCOL_VERSION });
      } catch (e) {
        // The relay's complaint (on stderr) may trail the end of its stdout by a tick or two.
        if (stderr && !stderr.readableEnded) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 200);
            stderr.once('end', () => {
              clearTimeout(t);
              resolve();
            });
          });
        }
        if (ApiError.is(e) && e.details?.reason === 'closed' && stderrText.trim()) {
          throw new ApiError('unreachable', `the agent on host ${this.hostId} cannot be reached: ${stderrText.trim().split('\n').slice(-3).join(' ')}`, { reason: 'agent_down' });
        }
        throw e;
      }
      const latencyMs = Math.round(performance.now() - t0);
      if (gen !== this.gen || s.closed) {
        r.close();
        return;
      }
      if (hello.protocol !== AGENT_PROTOCOL_VERSION) {
        throw new ApiError('conflict', `the agent on host ${this.hostId} speaks protocol ${hello.protocol}, this app ${AGENT_PROTOCOL_VERSION}: upgrade the agent`, { reason: 'agent_version' });
      }
      this.rpc = r;
      this.agentFailures = 0;
      r.onClose((reason) => {
        if (gen !== this.gen || this.rpc !== r) return;
        this.onAgentLost(s, gen, reason);
      });
      this.setStatus({ state: 'online', reason: null, failure: null, hello, latencyMs, nextRetryAt: null });
      this.schedulePing(r, gen);
    } catch (e) {
      rpc?.close();
      if (gen !== this.gen || s.closed || this.closedFlag) return;
      const err = ApiError.is(e) ? e : new ApiError('unreachable', (e as Error).message, { reason: 'agent_down' });
      const reason = String(err.details?.reason ?? '');
      const failure = reason === 'agent_version' || err.code === 'not_supported' ? 'agent_version' : 'agent_down';
      this.agentUnavailable(s, gen, err.message, failure);
    }
  }

  private agentUnavailable(s: SshSession, gen: number, reason: string, failure: string): void {
    const delay = backoffDelay(this.agentFailures++, { initialMs: 1000, maxMs: 30_000, ...this.o.agentBackoff });
    this.setStatus({ state: 'offline', reason, failure, hello: null, latencyMs: null, nextRetryAt: this.iso(this.now() + delay) });
    this.clearTimer('agentTimer');
    this.agentTimer = setTimeout(() => {
      this.agentTimer = null;
      if (gen !== this.gen || s.closed) return;
      void this.openAgent(s, gen);
    }, delay);
  }

  private onAgentLost(s: SshSession, gen: number, reason: string): void {
    this.rpc = null;
    this.clearTimer('pingTimer');
    if (s.closed) return; // the session's onClose handles it
    this.agentUnavailable(s, gen, `the agent connection closed: ${reason}`, 'agent_down');
  }

  private schedulePing(r: RpcClient, gen: number): void {
    this.clearTimer('pingTimer');
    this.pingTimer = setTimeout(() => {
      this.pingTimer = null;
      if (gen !== this.gen || this.rpc !== r) return;
      const t0 = performance.now();
      r.call('agent.ping', {}, { timeoutMs: this.o.pingTimeoutMs ?? PING_TIMEOUT_MS }).then(
        () => {
          if (gen !== this.gen || this.rpc !== r) return;
          this.st = { ...this.st, latencyMs: Math.round(performance.now() - t0) };
          this.schedulePing(r, gen);
        },
        (e: unknown) => {
          if (gen !== this.gen || this.rpc !== r) return;
          // A hung agent: drop its stream; onAgentLost retries.
          r.close(`no answer to ping: ${(e as Error).message}`);
        },
      );
    }, this.o.pingIntervalMs ?? PING_INTERVAL_MS);
  }
}

export type HostLinkHandle = HostLink & { timerCount(): number };

/** Creates a host's link and starts connecting. */
export function createHostLink(o: HostLinkOptions): HostLinkHandle {
  return new HostLinkImpl(o);
}

/** Every host's link by host id. */
export class HostLinks {
  private readonly links = new Map<string, HostLink>();

  constructor(private readonly factory: (hostId: string) => HostLink) {}

  get(hostId: string): HostLink | undefined {
    return this.links.get(hostId);
  }

  has(hostId: string): boolean {
    return this.links.has(hostId);
  }

  /** The host's link, created (and connecting) on first use. */
  ensure(hostId: string): HostLink {
    let l = this.links.get(hostId);
    if (!l) {
      l = this.factory(hostId);
      this.links.set(hostId, l);
    }
    return l;
  }

  /** Closes and forgets a host's link. */
  remove(hostId: string): boolean {
    const l = this.links.get(hostId);
    if (!l) return false;
    this.links.delete(hostId);
    l.close();
    return true;
  }

  ids(): string[] {
    return [...this.links.keys()];
  }

  get size(): number {
    return this.links.size;
  }

  statuses(): Record<string, HostLinkState> {
    return Object.fromEntries([...this.links].map(([id, l]) => [id, l.status().state]));
  }

  closeAll(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
