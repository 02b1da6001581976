import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { AgentNotifications, DomainState } from '@shared/agent/protocol';
import type { Libvirt } from './libvirt';
import type { Logger } from './log';
import { domState, domStats, stateFromNumber, uuidNames } from './parse';

/**
 * Tells clients when domains change, whoever changed them. Two sources:
 *  - `virsh event --all --loop` (a second long-lived virsh) for prompt lifecycle and device events — not with the test
 *    driver, whose state other processes cannot see;
 *  - a cheap poll of the domain list and states every few seconds, which also catches what the event stream missed
 *    (and is the only source with the test driver).
 */
type Notify = <M extends keyof AgentNotifications>(method: M, params: AgentNotifications[M]) => void;

interface Known {
  name: string;
  state: DomainState;
}

/** The event name for a state change seen by polling. */
export function transition(from: DomainState | undefined, to: DomainState): string {
  if (from === undefined) return 'defined';
  if (to === 'running' && from === 'paused') return 'resumed';
  if (to === 'running' || to === 'blocked') return 'started';
  if (to === 'paused') return 'suspended';
  if (to === 'shutoff') return 'stopped';
  if (to === 'shutdown') return 'shutdown';
  if (to === 'crashed') return 'crashed';
  if (to === 'pmsuspended') return 'pmsuspended';
  return 'changed';
}

/** "event 'lifecycle' for domain 'vm1': Started Booted" → kind, domain, detail. */
export function parseEventLine(line: string): { kind: string; domain: string; detail: string | null } | null {
  const m = /event '([^']+)' for domain '(.*?)'(?::\s*(.*))?$/.exec(line.trim());
  return m ? { kind: m[1] ?? '', domain: m[2] ?? '', detail: m[3]?.trim() || null } : null;
}

export class DomainWatcher {
  private known: Map<string, Known> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private events: ChildProcess | null = null;
  private eventsBackoffMs = 1000;
  private eventsTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: { lv: Libvirt; pollMs: number; notify: Notify; log: Logger }) {}

  start(): void {
    this.stopped = false;
    void this.poll();
    if (!this.o.lv.isTestDriver) this.startEvents();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.eventsTimer) clearTimeout(this.eventsTimer);
    this.timer = this.eventsTimer = null;
    const ev = this.events;
    this.events = null;
    ev?.kill('SIGTERM');
  }

  /** A domain's uuid by name, from the last poll (the metrics sampler's domstats speaks names). */
  uuidOf(name: string): string | null {
    for (const [uuid, k] of this.known ?? []) if (k.name === name) return uuid;
    return null;
  }

  /** Polls now (coalescing with a poll already running), e.g. right after this agent changed something. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null;
      if (this.stopped) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.poll(), this.o.pollMs);
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    let now: Map<string, Known>;
    try {
      const ids = uuidNames(await this.o.lv.virsh(['list', '--all', '--uuid', '--name']));
      const states = domStats(await this.o.lv.virsh(['domstats', '--raw', '--state']));
      now = new Map(ids.map(({ uuid, name }) => [uuid, { name, state: stateFromNumber(Number(states.get(name)?.get('state.state') ?? 0)) }]));
    } catch (e) {
      this.o.log.debug('domain poll failed', { error: (e as Error).message });
      return;
    }
    const before = this.known;
    this.known = now;
    if (!before) return; // the first poll is the baseline
    for (const [uuid, k] of now) {
      const was = before.get(uuid);
      if (!was || was.state !== k.state) this.o.notify('domain.event', { uuid, name: k.name, event: transition(was?.state, k.state), state: k.state });
    }
    for (const [uuid, k] of before) if (!now.has(uuid)) this.o.notify('domain.removed', { uuid, name: k.name });
  }

  private startEvents(): void {
    if (this.stopped) return;
    const script = 'if command -v stdbuf >/dev/null 2>&1; then exec stdbuf -oL "$@"; else exec "$@"; fi';
    const proc = spawn('/bin/sh', ['-c', script, 'sh', 'virsh', '-q', '-c', this.o.lv.uri, 'event', '--all', '--loop'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    });
    this.events = proc;
    const started = Date.now();
    createInterface({ input: proc.stdout! }).on('line', (line) => void this.onEvent(line));
    proc.stderr?.on('data', (d: Buffer) => this.o.log.debug('virsh event stderr', { text: d.toString().slice(0, 300) }));
    proc.on('error', () => undefined);
    proc.on('exit', (code) => {
      if (this.events !== proc || this.stopped) return;
      this.events = null;
      // Back off 1, 2, 4 … 30 s while it keeps failing (libvirtd down); reset once it had been up for a minute.
      if (Date.now() - started > 60_000) this.eventsBackoffMs = 1000;
      this.o.log.warn('virsh event stream ended; restarting', { code, inMs: this.eventsBackoffMs });
      this.eventsTimer = setTimeout(() => this.startEvents(), this.eventsBackoffMs);
      this.eventsBackoffMs = Math.min(30_000, this.eventsBackoffMs * 2);
    });
  }

  private async onEvent(line: string): Promise<void> {
    const ev = parseEventLine(line);
    if (!ev) return;
    if (ev.kind === 'lifecycle' && /^Undefined\b/i.test(ev.detail ?? '')) {
      // Gone: the poll reports domain.removed with its uuid.
      await this.poll();
      return;
    }
    try {
      const uuid = (await this.o.lv.virsh(['domuuid', '--domain', ev.domain])).trim();
      const { state } = domState(await this.o.lv.virsh(['domstate', '--domain', uuid, '--reason']));
      const event = ev.kind === 'lifecycle' ? (ev.detail?.split(/\s+/)[0] ?? 'changed').toLowerCase() : ev.kind;
      this.known?.set(uuid, { name: ev.domain, state });
      this.o.notify('domain.event', { uuid, name: ev.domain, event, state });
    } catch {
      await this.poll(); // it went away in between
    }
  }
}
