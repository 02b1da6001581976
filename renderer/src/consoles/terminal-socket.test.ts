import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONSOLE_CLOSE, TERMINAL_SUBPROTOCOL } from '@shared/contract/consoles';
import { TerminalSocket, type TerminalState } from './terminal-socket';
import { FakeSocket } from './fake-socket';

/** A terminal whose writes complete when the test says so (like xterm.js parsing in the background). */
function harness(opts: { ackBytes?: number; ackDelayMs?: number } = {}) {
  const writes: { data: Uint8Array; done: () => void }[] = [];
  const states: { state: TerminalState; problem: string | null; exit: unknown }[] = [];
  const titles: string[] = [];
  const term = new TerminalSocket({
    url: 'ws://127.0.0.1:9/t',
    sink: (data, done) => writes.push({ data, done }),
    onState: (state, info) => states.push({ state, problem: info.problem?.key ?? null, exit: info.exit }),
    onTitle: (t) => titles.push(t),
    socket: (url, protocols) => new FakeSocket(url, protocols),
    ...opts,
  });
  const ws = FakeSocket.instances.at(-1)!;
  return { term, ws, writes, states, titles };
}

beforeEach(() => {
  FakeSocket.instances.length = 0;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TerminalSocket', () => {
  it('opens with the terminal subprotocol, takes binary frames and becomes connected on ready', () => {
    const h = harness();
    expect(h.ws.url).toBe('ws://127.0.0.1:9/t');
    expect(h.ws.protocols).toEqual([TERMINAL_SUBPROTOCOL]);
    expect(h.ws.binaryType).toBe('arraybuffer');
    expect(h.term.state).toBe('connecting');
    h.ws.open();
    h.ws.text({ t: 'ready', title: 'root@kvm-2', window: 1 << 20 });
    expect(h.term.state).toBe('connected');
    expect(h.titles).toEqual(['root@kvm-2']);
    expect(h.states.map((s) => s.state)).toEqual(['connected']);
  });

  it('sends input as UTF-8 binary frames and resizes as JSON, the size wanted before open once it opens', () => {
    const h = harness();
    h.term.resize(120, 40);
    h.term.input('x'); // not open yet: dropped, nothing thrown
    h.ws.open();
    expect(h.ws.json()).toEqual([{ t: 'resize', cols: 120, rows: 40 }]);
    h.term.input('ls -l ✓\r');
    expect(new TextDecoder().decode(h.ws.binaries()[0])).toBe('ls -l ✓\r');
    h.term.inputBinary('\x1b[M\xff');
    expect([...h.ws.binaries()[1]!]).toEqual([0x1b, 0x5b, 0x4d, 0xff]);
    h.term.resize(120, 40); // unchanged: not sent again
    h.term.resize(100.7, 0);
    expect(h.ws.json().slice(1)).toEqual([{ t: 'resize', cols: 100, rows: 1 }]);
  });

  it('acknowledges only what the terminal has written, batched at the ack size', () => {
    const h = harness({ ackBytes: 1000 });
    h.ws.open();
    h.ws.text({ t: 'ready', title: 't', window: 1 << 20 });
    for (let i = 0; i < 5; i++) h.ws.binary(new Uint8Array(300));
    expect(h.writes).toHaveLength(5);
    expect(h.ws.json().filter((m) => m.t === 'ack')).toEqual([]); // nothing written yet
    h.writes[0]!.done();
    h.writes[1]!.done();
    h.writes[1]!.done(); // a callback called twice counts once
    h.writes[2]!.done();
    expect(h.ws.json().filter((m) => m.t === 'ack')).toEqual([]); // 900 < 1000
    h.writes[3]!.done(); // 1200 ≥ 1000
    expect(h.ws.json().filter((m) => m.t === 'ack')).toEqual([{ t: 'ack', bytes: 1200 }]);
    h.writes[4]!.done();
    expect(h.ws.json().filter((m) => m.t === 'ack')).toHaveLength(1);
    vi.advanceTimersByTime(30); // idle: the rest goes out
    expect(h.ws.json().filter((m) => m.t === 'ack')).toEqual([
      { t: 'ack', bytes: 1200 },
      { t: 'ack', bytes: 300 },
    ]);
    expect(h.term.stats).toEqual({ received: 1500, written: 1500, acked: 1500 });
  });

  it('keeps the server within its window: acks a quarter of a small window at a time', () => {
    const h = harness();
    h.ws.open();
    h.ws.text({ t: 'ready', title: 't', window: 4000 });
    h.ws.binary(new Uint8Array(1000));
    h.writes[0]!.done();
    expect(h.ws.json().filter((m) => m.t === 'ack')).toEqual([{ t: 'ack', bytes: 1000 }]);
  });

  it('a large output is acked in full, in order, as the terminal catches up', () => {
    const h = harness();
    h.ws.open();
    h.ws.text({ t: 'ready', title: 't', window: 1 << 20 });
    const chunk = 16 * 1024;
    for (let i = 0; i < 200; i++) h.ws.binary(new Uint8Array(chunk));
    for (const w of h.writes) w.done();
    vi.advanceTimersByTime(100);
    const acks = h.ws.json().filter((m) => m.t === 'ack');
    expect(acks.reduce((n, m) => n + (m.bytes as number), 0)).toBe(200 * chunk);
    expect(acks.every((m) => (m.bytes as number) <= 64 * 1024)).toBe(true);
  });

  it('reports the exit status and keeps it through the close that follows', () => {
    const h = harness();
    h.ws.open();
    h.ws.text({ t: 'ready', title: 't', window: 1 << 20 });
    h.ws.text({ t: 'exit', code: 3, signal: null });
    h.ws.serverClose(CONSOLE_CLOSE.ended, 'exited with 3');
    expect(h.term.state).toBe('exited');
    expect(h.states.at(-1)).toEqual({ state: 'exited', problem: null, exit: { code: 3, signal: null } });
  });

  it('maps close codes to an honest reason', () => {
    const a = harness();
    a.ws.serverClose(CONSOLE_CLOSE.badTicket, 'unknown ticket');
    expect(a.states.at(-1)).toMatchObject({ state: 'error', problem: 'consoles.close.badTicket' });

    const b = harness();
    b.ws.open();
    b.ws.serverClose(CONSOLE_CLOSE.unreachable, 'host kvm-2 is offline');
    expect(b.states.at(-1)).toMatchObject({ state: 'error', problem: 'consoles.close.unreachable' });

    const c = harness();
    c.ws.serverClose(1006, '');
    expect(c.states.at(-1)).toMatchObject({ state: 'error', problem: 'consoles.close.abnormal' });

    const d = harness();
    d.ws.open();
    d.ws.serverClose(CONSOLE_CLOSE.ended, 'the session ended');
    expect(d.states.at(-1)).toMatchObject({ state: 'closed', problem: null });

    const e = harness();
    e.ws.open();
    e.ws.serverClose(CONSOLE_CLOSE.closedByUser, 'closed');
    expect(e.states.at(-1)).toMatchObject({ state: 'closed', problem: 'consoles.close.closedByUser' });
  });

  it('a server error message explains an otherwise normal close', () => {
    const h = harness();
    h.ws.open();
    h.ws.text({ t: 'error', code: 'protocol', message: 'unknown control message' });
    h.ws.serverClose(1000, '');
    expect(h.states.at(-1)).toMatchObject({ state: 'error', problem: 'consoles.term.serverError' });
  });

  it('closing on purpose sends what was written, closes normally and reports nothing after', () => {
    const h = harness({ ackBytes: 1 << 16 });
    h.ws.open();
    h.ws.text({ t: 'ready', title: 't', window: 1 << 20 });
    h.ws.binary(new Uint8Array(10));
    h.writes[0]!.done();
    h.term.close();
    expect(h.ws.json().filter((m) => m.t === 'ack')).toEqual([{ t: 'ack', bytes: 10 }]);
    expect(h.ws.closedWith).toEqual({ code: 1000, reason: 'closed by the user' });
    const n = h.states.length;
    h.ws.serverClose(1006, '');
    h.ws.text({ t: 'exit', code: 0, signal: null });
    expect(h.states).toHaveLength(n);
    expect(h.term.state).toBe('closed');
    h.term.input('late'); // dropped
    expect(h.ws.binaries()).toHaveLength(0);
  });
});
