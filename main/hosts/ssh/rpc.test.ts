import { duplexPair, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import { RPC_CANCELLED, RPC_HOST, RPC_INTERNAL, RPC_INVALID_PARAMS, RPC_LIBVIRT, RPC_METHOD_NOT_FOUND, RPC_NOT_FOUND, RPC_STATE, RPC_TIMEOUT } from '@shared/agent/protocol';
import { RpcClient, rpcError } from './rpc';

/** The agent's end of a pair: collects parsed requests, lets the test answer. */
function peer(): { client: RpcClient; agent: Duplex; received: any[]; next(): Promise<any>; send(obj: unknown): void } {
  const [a, b] = duplexPair();
  const client = new RpcClient(a, { name: 'test agent' });
  const received: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  let buf = '';
  b.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const m = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(m);
      else received.push(m);
    }
  });
  return {
    client,
    agent: b,
    received,
    next: () => (received.length ? Promise.resolve(received.shift()) : new Promise((r) => waiters.push(r))),
    send: (obj) => b.write(JSON.stringify(obj) + '\n'),
  };
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (ApiError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('RpcClient', () => {
  it('numbers requests and matches answers out of order, for concurrent calls', async () => {
    const t = peer();
    const p1 = t.client.call('agent.ping', {});
    const p2 = t.client.call('domains.get', { name: 'web' });
    const p3 = t.client.request('custom.method');
    const [r1, r2, r3] = [await t.next(), await t.next(), await t.next()];
    expect(r1).toEqual({ jsonrpc: '2.0', id: 1, method: 'agent.ping', params: {} });
    expect(r2).toMatchObject({ id: 2, method: 'domains.get', params: { name: 'web' } });
    expect(r3).toEqual({ jsonrpc: '2.0', id: 3, method: 'custom.method' });
    t.send({ jsonrpc: '2.0', id: 3, result: 'three' });
    t.send({ jsonrpc: '2.0', id: 1, result: { now: 42 } });
    t.send({ jsonrpc: '2.0', id: 2, error: { code: RPC_NOT_FOUND, message: 'domain web not found', data: { name: 'web' } } });
    expect(await p1).toEqual({ now: 42 });
    expect(await p3).toBe('three');
    const e = await rejection(p2);
    expect(e.code).toBe('not_found');
    expect(e.message).toBe('domain web not found');
    expect(e.details).toMatchObject({ reason: 'not_found', method: 'domains.get', rpcCode: RPC_NOT_FOUND, name: 'web' });
    expect(t.client.pendingCount).toBe(0);
  });

  it('handles lines split across chunks, several lines per chunk, and UTF-8 split inside a character', async () => {
    const t = peer();
    const p1 = t.client.request('a');
    const p2 = t.client.request('b');
    const p3 = t.client.request('c');
    await t.next();
    await t.next();
    await t.next();
    const text = Buffer.from(
      JSON.stringify({ jsonrpc: '2.0', id: 1, result: { name: '虚拟机-ü-🚀' } }) + '\n' + JSON.stringify({ jsonrpc: '2.0', id: 2, result: 'zwei' }) + '\n' + JSON.stringify({ jsonrpc: '2.0', id: 3, result: '€' }) + '\n',
    );
    // Byte by byte: every multi-byte character is split across writes.
    for (let i = 0; i < text.length; i++) t.agent.write(text.subarray(i, i + 1));
    expect(await p1).toEqual({ name: '虚拟机-ü-🚀' });
    expect(await p2).toBe('zwei');
    expect(await p3).toBe('€');
  });

  it('times out a call and tells the agent to cancel it', async () => {
    const t = peer();
    const t0 = Date.now();
    const p = t.client.call('domains.list', {}, { timeoutMs: 80 });
    const req = await t.next();
    const e = await rejection(p);
    expect(e.code).toBe('timeout');
    expect(e.details).toMatchObject({ reason: 'timeout', method: 'domains.list' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
    expect(await t.next()).toEqual({ jsonrpc: '2.0', method: '$/cancel', params: { id: req.id } });
    // A late answer is ignored.
    t.send({ jsonrpc: '2.0', id: req.id, result: [] });
    await new Promise((r) => setTimeout(r, 10));
    expect(t.client.pendingCount).toBe(0);
  });

  it('cancels with an AbortSignal: $/cancel {id} goes out, the call rejects as cancelled', async () => {
    const t = peer();
    const ac = new AbortController();
    const p = t.client.call('domains.shutdown', { name: 'db', timeoutMs: 60_000 }, { signal: ac.signal });
    const req = await t.next();
    ac.abort();
    const e = await rejection(p);
    expect(e.code).toBe('cancelled');
    expect(await t.next()).toEqual({ jsonrpc: '2.0', method: '$/cancel', params: { id: req.id } });
    // Already aborted: nothing is sent.
    const e2 = await rejection(t.client.call('agent.ping', {}, { signal: ac.signal }));
    expect(e2.code).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 10));
    expect(t.received).toEqual([]);
  });

  it('gives agent.hello a 10 s default and other calls 30 s', async () => {
    const t = peer();
    const hello = t.client.call('agent.hello', { appVersion: '1', protocol: 1 });
    const other = t.client.call('host.facts', {});
    const timers = (t.client as unknown as { pending: Map<number, { timer: NodeJS.Timeout }> }).pending;
    expect((timers.get(1)!.timer as unknown as { _idleTimeout: number })._idleTimeout).toBe(10_000);
    expect((timers.get(2)!.timer as unknown as { _idleTimeout: number })._idleTimeout).toBe(30_000);
    t.client.close();
    await rejection(hello);
    await rejection(other);
  });

  it('delivers notifications to their listeners (and to catch-all listeners)', async () => {
    const t = peer();
    const events: unknown[] = [];
    const all: string[] = [];
    const off = t.client.onNotification('domain.event', (p) => events.push(p));
    t.client.onAnyNotification((_p, m) => all.push(m));
    t.send({ jsonrpc: '2.0', method: 'domain.event', params: { uuid: 'u1', name: 'web', event: 'started', state: 'running' } });
    t.send({ jsonrpc: '2.0', method: 'domain.removed', params: { uuid: 'u2', name: 'old' } });
    await new Promise((r) => setTimeout(r, 10));
    off();
    t.send({ jsonrpc: '2.0', method: 'domain.event', params: { uuid: 'u1', name: 'web', event: 'stopped', state: 'shutoff' } });
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([{ uuid: 'u1', name: 'web', event: 'started', state: 'running' }]);
    expect(all).toEqual(['domain.event', 'domain.removed', 'domain.event']);
  });

  it('rejects every pending call when the stream ends, and refuses new ones', async () => {
    const t = peer();
    const reasons: string[] = [];
    t.client.onClose((r) => reasons.push(r));
    const ps = [t.client.call('host.facts', {}), t.client.call('domains.list', {}), t.client.call('pools.list', {})];
    await t.next();
    t.agent.end();
    for (const p of ps) {
      const e = await rejection(p);
      expect(e.code).toBe('unreachable');
      expect(e.details?.reason).toBe('closed');
    }
    expect(reasons).toHaveLength(1);
    expect(t.client.closed).toBe(true);
    const e = await rejection(t.client.call('agent.ping', {}));
    expect(e.details?.reason).toBe('closed');
  });

  it('skips garbage lines and keeps going', async () => {
    const t = peer();
    const p = t.client.request('x');
    await t.next();
    t.agent.write('this is not json\n\n{"jsonrpc":"2.0","id":99,"result":1}\n');
    t.send({ jsonrpc: '2.0', id: 1, result: 'ok' });
    expect(await p).toBe('ok');
  });
});

describe('agent error codes', () => {
  it('maps each agent code, keeping the message and the data', () => {
    const cases: [number, string][] = [
      [RPC_NOT_FOUND, 'not_found'],
      [RPC_STATE, 'conflict'],
      [RPC_INVALID_PARAMS, 'validation'],
      [RPC_TIMEOUT, 'timeout'],
      [RPC_CANCELLED, 'cancelled'],
      [RPC_LIBVIRT, 'conflict'],
      [RPC_HOST, 'conflict'],
      [RPC_METHOD_NOT_FOUND, 'not_supported'],
      [RPC_INTERNAL, 'internal'],
      [4242, 'internal'],
    ];
    for (const [rpc, code] of cases) expect([rpc, rpcError('m', { code: rpc, message: 'msg' }).code]).toEqual([rpc, code]);
    const lv = rpcError('domains.start', { code: RPC_LIBVIRT, message: 'libvirt refused to start web', data: { virsh: 'error: Requested operation is not valid: domain is already running' } });
    expect(lv.message).toBe('libvirt refused to start web');
    expect(lv.details).toMatchObject({ reason: 'libvirt', virsh: 'error: Requested operation is not valid: domain is already running', method: 'domains.start', rpcCode: RPC_LIBVIRT });
    expect(rpcError('domains.resume', { code: RPC_STATE, message: 'web is running' }).details?.reason).toBe('state');
  });
});

describe('RpcClient throughput', () => {
  it('takes a 20 MB answer in 32 KiB chunks without re-scanning it (linear time)', async () => {
    const t = peer();
    const p = t.client.request('big');
    await t.next();
    const names = Array.from({ length: 200_000 }, (_, i) => `domain-${i}-${'x'.repeat(80)}`);
    const line = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, result: names }) + '\n');
    const t0 = performance.now();
    for (let i = 0; i < line.length; i += 32768) t.agent.write(line.subarray(i, i + 32768));
    const r = (await p) as string[];
    expect(r).toHaveLength(200_000);
    expect(r[199_999]).toBe(names[199_999]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
