import type { ConsoleTicket } from '@shared/contract/consoles';
import { closeProblem, errorProblem, isRetryableClose, isRetryableError, type ConsoleProblem } from './problems';

/**
 * A VNC console's life, free of noVNC and Vue so it is tested in Node:
 *
 *   connecting ──connect──▶ connected ──lost──▶ reconnecting (1, 2, 4, 8, 15 s; each try a NEW ticket) ──▶ connected
 *        │                                           │ └──────── gave up / final answer ────────▶ failed (reason, Retry)
 *        └──────────────── final answer ─────────────┴──────────────────────────────────────────▶ failed
 *   any state ──disconnect() (the user)──▶ disconnected (never reconnects)
 *
 * A "final answer" is what another try cannot change: consoles.open refusing with conflict (guest not running),
 * not_found (no VNC device), validation, forbidden…; a close with notFound / notRunning / refused / closedByUser; the
 * VNC server refusing the password. unreachable and timeout (host offline for a moment) keep the back-off going.
 */
export type VncState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'disconnected';

export interface VncSnapshot {
  state: VncState;
  /** The try of the current reconnect series (1-based); 0 outside one. */
  attempt: number;
  /** How many tries a series makes before it gives up. */
  maxAttempts: number;
  /** When the next try starts (ms since the epoch); null while a try runs or none is planned. */
  retryAt: number | null;
  /** Why it is reconnecting, failed or disconnected; null when there is nothing to say. */
  problem: ConsoleProblem | null;
  /** The VNC server asks for a password this session does not have. */
  credentialsRequired: boolean;
  /** The current ticket's title ("web-1 (host kvm-2)"), once one was issued. */
  title: string | null;
  /** The current ticket's VNC facts (password set on the guest, answered by the proxy). */
  vnc: ConsoleTicket['vnc'];
}

/** What the session asks of the RFB connection it attaches (noVNC in the component, a fake in tests). */
export interface RfbHandlers {
  /** Handshake done: the screen shows. */
  onConnect(): void;
  /** The RFB object ended (after a close, a failure or disconnect()). */
  onDisconnect(): void;
  /** The WebSocket closed, with its code and reason (arrives before onDisconnect). */
  onClose(code: number, reason: string): void;
  /** The server asks for credentials (a VNC password). */
  onCredentialsRequired(): void;
  /** The server refused the credentials or the security type. */
  onSecurityFailure(reason: string | null): void;
}

export interface RfbHandle {
  disconnect(): void;
  sendPassword(password: string): void;
}

export interface VncSessionDeps {
  /** consoles.open for this guest: a fresh one-time ticket for every try. */
  openTicket(): Promise<ConsoleTicket>;
  /** Starts an RFB connection for a ticket. */
  attach(ticket: ConsoleTicket, handlers: RfbHandlers): RfbHandle;
  /** Called on every change with a fresh snapshot. */
  onChange(snapshot: VncSnapshot): void;
  /** Store a password the user typed (and asked to remember) once the VNC server accepted it. */
  rememberPassword?(password: string): void;
  /** Seconds between tries of a reconnect series. */
  delays?: readonly number[];
  /** How long a try may take from ticket to a shown screen (not counting a password prompt). */
  connectTimeoutMs?: number;
  now?: () => number;
}

export const RECONNECT_DELAYS_S: readonly number[] = [1, 2, 4, 8, 15];
export const CONNECT_TIMEOUT_MS = 20_000;

export class VncSession {
  private snap: VncSnapshot;
  private readonly delays: readonly number[];
  private readonly timeoutMs: number;
  private readonly now: () => number;
  /** Bumped by every try and by disconnect(): callbacks of an older try are ignored. */
  private gen = 0;
  private handle: RfbHandle | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  /** The password typed in this session (memory only), resent on reconnects; dropped when refused. */
  private password: string | null = null;
  private rememberOnConnect = false;
  private sentPasswordGen = -1;
  /** What ended the current try: a close, or a final verdict (security failure, timeout). */
  private lastClose: { code: number; reason: string } | null = null;
  private verdict: { problem: ConsoleProblem; retry: boolean } | null = null;

  constructor(private readonly deps: VncSessionDeps) {
    this.delays = deps.delays ?? RECONNECT_DELAYS_S;
    this.timeoutMs = deps.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.now = deps.now ?? Date.now;
    this.snap = { state: 'disconnected', attempt: 0, maxAttempts: this.delays.length, retryAt: null, problem: null, credentialsRequired: false, title: null, vnc: null };
  }

  get snapshot(): VncSnapshot {
    return this.snap;
  }

  /** Connects (again) from the start: a new series, attempt counter reset. */
  start(): void {
    this.stopTimers();
    this.dropHandle();
    this.set({ state: 'connecting', attempt: 0, retryAt: null, problem: null, credentialsRequired: false });
    void this.tryOnce();
  }

  /** The Retry button: from failed (or disconnected) a fresh start; while waiting to reconnect, the next try now. */
  retryNow(): void {
    if (this.snap.state === 'reconnecting' && this.snap.retryAt !== null) {
      this.stopTimers();
      this.set({ retryAt: null });
      void this.tryOnce();
      return;
    }
    if (this.snap.state === 'failed' || this.snap.state === 'disconnected') this.start();
  }

  /** The user ends the console: no reconnect, ever, until start(). */
  disconnect(): void {
    this.gen++;
    this.stopTimers();
    this.dropHandle();
    this.set({ state: 'disconnected', retryAt: null, attempt: 0, problem: null, credentialsRequired: false });
  }

  /** The password the user typed at the prompt; `remember` stores it in the vault once the server accepted it. */
  providePassword(password: string, remember: boolean): void {
    if (!this.snap.credentialsRequired || !this.handle) return;
    this.password = password;
    this.rememberOnConnect = remember;
    this.sentPasswordGen = this.gen;
    this.set({ credentialsRequired: false });
    this.handle.sendPassword(password);
    this.armConnectTimer(this.gen);
  }

  /** The user declined the prompt: end like a refusal. */
  cancelPassword(): void {
    if (!this.snap.credentialsRequired) return;
    this.gen++;
    this.stopTimers();
    this.dropHandle();
    this.set({ state: 'failed', credentialsRequired: false, retryAt: null, problem: { key: 'consoles.problem.passwordNeeded', detail: null } });
  }

  private set(patch: Partial<VncSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.deps.onChange(this.snap);
  }

  private stopTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.retryTimer = null;
    this.connectTimer = null;
  }

  private dropHandle(): void {
    const h = this.handle;
    this.handle = null;
    if (h) {
      try {
        h.disconnect();
      } catch {
        /* already gone */
      }
    }
  }

  private armConnectTimer(gen: number): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (gen !== this.gen || this.snap.state === 'connected') return;
      this.verdict = { problem: { key: 'consoles.problem.connectTimeout', detail: null }, retry: true };
      this.endTry(gen);
    }, this.timeoutMs);
  }

  private async tryOnce(): Promise<void> {
    const gen = ++this.gen;
    this.lastClose = null;
    this.verdict = null;
    let ticket: ConsoleTicket;
    try {
      ticket = await this.deps.openTicket();
    } catch (e) {
      if (gen !== this.gen) return;
      this.afterFailure(errorProblem(e), isRetryableError(e));
      return;
    }
    if (gen !== this.gen) return;
    this.set({ title: ticket.title, vnc: ticket.vnc });
    const handlers: RfbHandlers = {
      onConnect: () => {
        if (gen !== this.gen) return;
        if (this.connectTimer) clearTimeout(this.connectTimer);
        this.connectTimer = null;
        if (this.rememberOnConnect && this.password && this.sentPasswordGen === gen) {
          this.rememberOnConnect = false;
          this.deps.rememberPassword?.(this.password);
        }
        this.set({ state: 'connected', attempt: 0, retryAt: null, problem: null, credentialsRequired: false });
      },
      onClose: (code, reason) => {
        if (gen === this.gen) this.lastClose = { code, reason };
      },
      onCredentialsRequired: () => {
        if (gen !== this.gen || !this.handle) return;
        if (this.password && this.sentPasswordGen !== gen) {
          // Typed earlier in this session: answer again without asking.
          this.sentPasswordGen = gen;
          this.handle.sendPassword(this.password);
          return;
        }
        if (this.connectTimer) clearTimeout(this.connectTimer);
        this.connectTimer = null;
        this.set({ credentialsRequired: true });
      },
      onSecurityFailure: (reason) => {
        if (gen !== this.gen) return;
        this.password = null;
        this.rememberOnConnect = false;
        this.verdict = { problem: { key: 'consoles.problem.authFailed', detail: reason }, retry: false };
      },
      onDisconnect: () => this.endTry(gen),
    };
    try {
      this.handle = this.deps.attach(ticket, handlers);
    } catch (e) {
      this.afterFailure(errorProblem(e), false);
      return;
    }
    this.armConnectTimer(gen);
  }

  /** The current try ended (disconnect, failure, timeout): decide between another try and a final state. */
  private endTry(gen: number): void {
    if (gen !== this.gen) return;
    this.gen++;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.dropHandle();
    const close = this.lastClose;
    const verdict = this.verdict;
    this.lastClose = null;
    this.verdict = null;
    if (verdict) {
      this.afterFailure(verdict.problem, verdict.retry);
      return;
    }
    if (close) {
      const problem = closeProblem(close.code, close.reason);
      if (close.code === 4000) {
        // consoles.close or the app quitting: closed on purpose, not a failure.
        this.set({ state: 'disconnected', retryAt: null, attempt: 0, problem, credentialsRequired: false });
        return;
      }
      this.afterFailure(problem, isRetryableClose(close.code));
      return;
    }
    this.afterFailure({ key: 'consoles.problem.lost', detail: null }, true);
  }

  private afterFailure(problem: ConsoleProblem, retry: boolean): void {
    this.stopTimers();
    this.handle = null;
    if (!retry) {
      this.set({ state: 'failed', retryAt: null, problem, credentialsRequired: false });
      return;
    }
    const attempt = this.snap.attempt + 1;
    if (attempt > this.delays.length) {
      this.set({ state: 'failed', retryAt: null, problem, credentialsRequired: false });
      return;
    }
    const delayMs = this.delays[attempt - 1]! * 1000;
    this.set({ state: 'reconnecting', attempt, retryAt: this.now() + delayMs, problem, credentialsRequired: false });
    const gen = this.gen;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (gen !== this.gen || this.snap.state !== 'reconnecting') return;
      this.set({ retryAt: null });
      void this.tryOnce();
    }, delayMs);
  }
}
