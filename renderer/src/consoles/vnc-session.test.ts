import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '@shared/errors';
import { CONSOLE_CLOSE, type ConsoleTicket } from '@shared/contract/consoles';
import { VncSession, type RfbHandlers, type VncSnapshot } from './vnc-session';

let ticketNo = 0;
const ticket = (over: Partial<ConsoleTicket> = {}): ConsoleTicket => ({
  sessionId: `s${++ticketNo}`,
  kind: 'vnc',
  protocol: 'rfb',
  path: `/api/v1/consoles/t${ticketNo}`,
  url: null,
  expiresAt: new Date().toISOString(),
  title: 'web-1 (host kvm-2)',
  vnc: { passwordSet: false, proxyAuth: false },
  ...over,
});

/** A fake consoles.open (answers queued results in order) and a fake noVNC (the test drives its events). */
function harness(answers: (ConsoleTicket | ApiError)[]) {
  const opened: ConsoleTicket[] = [];
  const rfbs: { ticket: ConsoleTicket; h: RfbHandlers; disconnected: boolean; passwords: string[] }[] = [];
  const snaps: VncSnapshot[] = [];
  const remembered: string[] = [];
  let openCalls = 0;
  const session = new VncSession({
    openTicket: async () => {
      openCalls++;
      const a = answers.shift() ?? ticket();
      if (a instanceof ApiError) throw a;
      opened.push(a);
      return a;
    },
    attach: (t, h) => {
      const r = { ticket: t, h, disconnected: false, passwords: [] as string[] };
      rfbs.push(r);
      return {
        disconnect: () => {
          r.disconnected = true;
        },
        sendPassword: (p) => r.passwords.push(p),
      };
    },
    onChange: (s) => snaps.push(s),
    rememberPassword: (p) => remembered.push(p),
  });
  return {
    session,
    rfbs,
    snaps,
    remembered,
    opened,
    get openCalls() {
      return openCalls;
    },
    last: () => rfbs.at(-1)!,
    state: () => session.snapshot.state,
  };
}

/** Lets the awaited consoles.open settle. */
const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** The RFB of the latest try drops with a close code. */
function drop(h: ReturnType<typeof harness>, code: number, reason = '') {
  const r = h.last();
  r.h.onClose(code, reason);
  r.h.onDisconnect();
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('VncSession', () => {
  it('connects with a fresh ticket and shows connected', async () => {
    const h = harness([ticket()]);
    h.session.start();
    expect(h.state()).toBe('connecting');
    await flush();
    expect(h.rfbs).toHaveLength(1);
    expect(h.session.snapshot.title).toBe('web-1 (host kvm-2)');
    h.last().h.onConnect();
    expect(h.session.snapshot).toMatchObject({ state: 'connected', attempt: 0, problem: null });
  });

  it('reconnects after an unexpected drop with back-off 1, 2, 4, 8, 15 s, a new ticket each time, then fails with the reason', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    h.last().h.onConnect();
    drop(h, 1006);
    expect(h.session.snapshot).toMatchObject({ state: 'reconnecting', attempt: 1, retryAt: Date.now() + 1000 });
    expect(h.session.snapshot.problem?.key).toBe('consoles.close.abnormal');
    const delays = [1, 2, 4, 8, 15];
    for (let i = 0; i < delays.length; i++) {
      expect(h.session.snapshot.attempt).toBe(i + 1);
      await vi.advanceTimersByTimeAsync(delays[i]! * 1000 - 1);
      expect(h.rfbs).toHaveLength(i + 1); // not yet
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(h.rfbs).toHaveLength(i + 2);
      expect(h.session.snapshot).toMatchObject({ state: 'reconnecting', retryAt: null });
      drop(h, CONSOLE_CLOSE.unreachable, 'host kvm-2 is offline');
    }
    expect(h.session.snapshot).toMatchObject({ state: 'failed', retryAt: null });
    expect(h.session.snapshot.problem).toMatchObject({ key: 'consoles.close.unreachable', detail: 'host kvm-2 is offline' });
    // Every try had its own ticket.
    expect(new Set(h.opened.map((t) => t.sessionId)).size).toBe(6);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.rfbs).toHaveLength(6);
  });

  it('a successful reconnect resets the series', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    h.last().h.onConnect();
    drop(h, 1006);
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    drop(h, 1006);
    expect(h.session.snapshot.attempt).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    await flush();
    h.last().h.onConnect();
    expect(h.session.snapshot).toMatchObject({ state: 'connected', attempt: 0, problem: null });
    drop(h, 1006);
    expect(h.session.snapshot).toMatchObject({ state: 'reconnecting', attempt: 1, retryAt: Date.now() + 1000 });
  });

  it('stops at a final answer of consoles.open (guest not running) and says so', async () => {
    const h = harness([ticket(), new ApiError('conflict', 'web-1 is not running')]);
    h.session.start();
    await flush();
    h.last().h.onConnect();
    drop(h, CONSOLE_CLOSE.ended, 'the VNC server closed the connection');
    expect(h.state()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(h.session.snapshot).toMatchObject({ state: 'failed', problem: { key: 'errors.conflict', detail: 'web-1 is not running' } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.openCalls).toBe(2);
  });

  it('fails at once when the first consoles.open says no VNC device, or refuses the input', async () => {
    const a = harness([new ApiError('not_found', 'web-1 has no VNC display')]);
    a.session.start();
    await flush();
    expect(a.session.snapshot).toMatchObject({ state: 'failed', attempt: 0, problem: { key: 'errors.not_found', detail: 'web-1 has no VNC display' } });
    expect(a.rfbs).toHaveLength(0);

    const b = harness([new ApiError('validation', 'guestId: required')]);
    b.session.start();
    await flush();
    expect(b.session.snapshot).toMatchObject({ state: 'failed', problem: { key: 'errors.validation' } });
  });

  it('keeps retrying while consoles.open answers unreachable or timeout', async () => {
    const h = harness([new ApiError('unreachable', 'kvm-2 is offline'), new ApiError('timeout', 'no answer'), ticket()]);
    h.session.start();
    await flush();
    expect(h.session.snapshot).toMatchObject({ state: 'reconnecting', attempt: 1, problem: { key: 'errors.unreachable' } });
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(h.session.snapshot).toMatchObject({ state: 'reconnecting', attempt: 2, problem: { key: 'errors.timeout' } });
    await vi.advanceTimersByTimeAsync(2000);
    await flush();
    h.last().h.onConnect();
    expect(h.state()).toBe('connected');
  });

  it('does not retry closes that are final: guest stopped, gone, refused', async () => {
    for (const [code, key] of [
      [CONSOLE_CLOSE.notRunning, 'consoles.close.notRunning'],
      [CONSOLE_CLOSE.notFound, 'consoles.close.notFound'],
      [CONSOLE_CLOSE.refused, 'consoles.close.refused'],
    ] as const) {
      const h = harness([]);
      h.session.start();
      await flush();
      drop(h, code, 'why');
      expect(h.session.snapshot, key).toMatchObject({ state: 'failed', problem: { key, detail: 'why' } });
    }
  });

  it('a session closed elsewhere (consoles.close) ends as disconnected without reconnecting', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    h.last().h.onConnect();
    drop(h, CONSOLE_CLOSE.closedByUser, 'closed by admin');
    expect(h.session.snapshot).toMatchObject({ state: 'disconnected', problem: { key: 'consoles.close.closedByUser' } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.rfbs).toHaveLength(1);
  });

  it('a user disconnect never reconnects, also when it happens during the countdown or a pending open', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    h.last().h.onConnect();
    h.session.disconnect();
    expect(h.last().disconnected).toBe(true);
    expect(h.state()).toBe('disconnected');
    h.last().h.onClose(1000, '');
    h.last().h.onDisconnect(); // noVNC's late event of the closed try
    expect(h.state()).toBe('disconnected');

    h.session.start();
    await flush();
    drop(h, 1006);
    expect(h.state()).toBe('reconnecting');
    h.session.disconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.rfbs).toHaveLength(2);

    h.session.start(); // open still pending when the user disconnects
    h.session.disconnect();
    await flush();
    expect(h.rfbs).toHaveLength(2);
    expect(h.state()).toBe('disconnected');
  });

  it('a try that never shows a screen times out and counts as a failed try', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.rfbs[0]!.disconnected).toBe(true);
    expect(h.session.snapshot).toMatchObject({ state: 'reconnecting', attempt: 1, problem: { key: 'consoles.problem.connectTimeout' } });
  });

  it('retry now skips the countdown; retry after failed starts a new series', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    drop(h, 1006);
    expect(h.session.snapshot.retryAt).not.toBeNull();
    h.session.retryNow();
    await flush();
    expect(h.rfbs).toHaveLength(2);
    drop(h, CONSOLE_CLOSE.notRunning);
    expect(h.state()).toBe('failed');
    h.session.retryNow();
    expect(h.session.snapshot).toMatchObject({ state: 'connecting', attempt: 0, problem: null });
    await flush();
    expect(h.rfbs).toHaveLength(3);
  });

  it('asks for the password, sends it, remembers it once accepted and resends it on a reconnect', async () => {
    const h = harness([ticket({ vnc: { passwordSet: true, proxyAuth: false } })]);
    h.session.start();
    await flush();
    expect(h.session.snapshot.vnc).toEqual({ passwordSet: true, proxyAuth: false });
    h.last().h.onCredentialsRequired();
    expect(h.session.snapshot.credentialsRequired).toBe(true);
    // The prompt may stay open longer than the connect timeout.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.state()).toBe('connecting');
    h.session.providePassword('s3cret', true);
    expect(h.last().passwords).toEqual(['s3cret']);
    expect(h.remembered).toEqual([]); // not before the server accepted it
    h.last().h.onConnect();
    expect(h.remembered).toEqual(['s3cret']);
    drop(h, 1006);
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    h.last().h.onCredentialsRequired();
    expect(h.last().passwords).toEqual(['s3cret']);
    expect(h.session.snapshot.credentialsRequired).toBe(false);
    h.last().h.onConnect();
    expect(h.remembered).toEqual(['s3cret']); // stored once
  });

  it('a refused password fails without retrying and is forgotten', async () => {
    const h = harness([]);
    h.session.start();
    await flush();
    h.last().h.onCredentialsRequired();
    h.session.providePassword('wrong', true);
    h.last().h.onSecurityFailure('Authentication failed');
    drop(h, 1000);
    expect(h.session.snapshot).toMatchObject({ state: 'failed', problem: { key: 'consoles.problem.authFailed', detail: 'Authentication failed' } });
    expect(h.remembered).toEqual([]);
    h.session.retryNow();
    await flush();
    h.last().h.onCredentialsRequired();
    expect(h.session.snapshot.credentialsRequired).toBe(true); // asks again
    h.session.cancelPassword();
    expect(h.session.snapshot).toMatchObject({ state: 'failed', problem: { key: 'consoles.problem.passwordNeeded' } });
  });
});
