import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RPC_CANCELLED, RPC_INTERNAL } from '@shared/agent/protocol';
import { silentLogger } from './log';
import { RpcServer } from './rpc';
import { sleep, tempDir } from './testing';

/** The RPC layer on its own (a real Unix socket, no agent): back-pressure, half-close, cancellation reaching the handler. */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

async function serve(rpc: RpcServer): Promise<{ path: string; server: Server }> {
  const tmp = tempDir('skd-rpc-');
  const path = join(tmp.path, 's.sock');
  const server = createServer((s) => rpc.attach(s));
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(() => {
    rpc.closeAll();
    server.close();
    tmp.cleanup();
  });
  return { path, server };
}

function client(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function readLines(s: Socket, n: number): Promise<{ id?: number; result?: unknown; error?: { code: number } }[]> {
  return new Promise((resolve) => {
    let buf = '';
    const out: { id?: number }[] = [];
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        out.push(JSON.parse(buf.slice(0, nl)) as { id?: number });
        buf = buf.slice(nl + 1);
      }
      if (out.length >= n) resolve(out);
    });
  });
}

const req = (id: number, method: string, params: unknown = {}): string => `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;

describe('RpcServer', () => {
  it('stops reading requests while a client does not read its answers (back-pressure)', async () => {
    const rpc = new RpcServer({ log: silentLogger });
    let calls = 0;
    const big = 'x'.repeat(64 * 1024);
    rpc.register('big', () => {
      calls++;
      return big;
    });
    const { path } = await serve(rpc);
    const s = await client(path);
    s.pause();
    const N = 2000; // 128 MB of answers if all were made
    let text = '';
    for (let i = 1; i <= N; i++) text += req(i, 'big');
    s.write(text);
    await sleep(500);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(N);
    const lines = readLines(s, N);
    s.resume();
    const answers = await lines;
    expect(answers).toHaveLength(N);
    expect(calls).toBe(N);
    expect(answers.every((a) => a.result === big)).toBe(true);
  });

  it('cancels what a client left running when it hangs up', async () => {
    const rpc = new RpcServer({ log: silentLogger });
    const aborted: string[] = [];
    rpc.register('slow', async (_p, { signal }) => {
      signal.addEventListener('abort', () => aborted.push('slow'));
      await sleep(2000);
      return 'done';
    });
    const { path } = await serve(rpc);
    const s = await client(path);
    s.end(req(1, 'slow'));
    await new Promise((r) => s.once('close', r));
    await sleep(50);
    expect(aborted).toEqual(['slow']);
    expect(rpc.connectionCount).toBe(0);
  });

  it('aborts the handler’s signal on $/cancel and on disconnect; answers thrown errors', async () => {
    const rpc = new RpcServer({ log: silentLogger });
    const aborted: number[] = [];
    rpc.register('wait', (p, { signal }) => {
      const id = (p as { n: number }).n;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(id);
          reject(new Error('aborted'));
        }),
      );
    });
    rpc.register('boom', () => {
      throw new Error('kaput');
    });
    const { path } = await serve(rpc);
    const s = await client(path);
    const lines = readLines(s, 2);
    s.write(req(1, 'wait', { n: 1 }) + req(2, 'boom') + `${JSON.stringify({ jsonrpc: '2.0', method: '$/cancel', params: { id: 1 } })}\n`);
    const got = await lines;
    expect(got.find((l) => l.id === 1)!.error!.code).toBe(RPC_CANCELLED);
    expect(got.find((l) => l.id === 2)!.error).toEqual({ code: RPC_INTERNAL, message: 'kaput' });
    expect(aborted).toEqual([1]);
    s.write(req(3, 'wait', { n: 3 }));
    await sleep(50);
    s.destroy();
    await sleep(50);
    expect(aborted).toEqual([1, 3]);
  });

  it('notifies every client', async () => {
    const rpc = new RpcServer({ log: silentLogger });
    const { path } = await serve(rpc);
    const a = await client(path);
    const b = await client(path);
    await sleep(20);
    const la = readLines(a, 1);
    const lb = readLines(b, 1);
    rpc.notify('domain.removed', { uuid: 'u', name: 'n' });
    expect(await la).toEqual([{ jsonrpc: '2.0', method: 'domain.removed', params: { uuid: 'u', name: 'n' } }]);
    expect(await lb).toEqual(await la);
    expect(rpc.connectionCount).toBe(2);
    a.destroy();
    b.destroy();
  });
});
