/**
 * Test helpers (imported by the *.test.ts files only, never bundled): build the agent once per test file, run it as a
 * real child process, and talk to it over its Unix socket like the app does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentMethod, AgentParams, AgentResult, RpcErrorBody } from '@shared/agent/protocol';
import { buildAgent } from '../../scripts/build-agent.mjs';

export function tempDir(prefix = 'skd-agent-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export async function buildBundle(dir: string): Promise<string> {
  return (await buildAgent({ outFile: join(dir, 'skydeck-agent.cjs'), version: '9.9.9-test' })).outFile;
}

export class RpcFailure extends Error {
  constructor(readonly body: RpcErrorBody) {
    super(body.message);
  }
  get code(): number {
    return this.body.code;
  }
}

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** A JSON-RPC client on the agent's socket; notifications are collected in `notifications`. */
export class Client {
  private buf = '';
  private nextId = 1;
  private readonly waiting = new Map<number | string | null, Waiter>();
  readonly notifications: { method: string; params: unknown }[] = [];
  /** Responses without a waiter (parse errors answer with id null). */
  readonly stray: unknown[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('the agent closed the connection'));
      this.waiting.clear();
    });
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl)) as { id?: number | string | null; method?: string; params?: unknown; result?: unknown; error?: RpcErrorBody };
        this.buf = this.buf.slice(nl + 1);
        if (msg.method && msg.id === undefined) {
          this.notifications.push({ method: msg.method, params: msg.params });
          continue;
        }
        const w = this.waiting.get(msg.id ?? null);
        if (!w) {
          this.stray.push(msg);
          continue;
        }
        this.waiting.delete(msg.id ?? null);
        if (msg.error) w.reject(new RpcFailure(msg.error));
        else w.resolve(msg.result);
      }
    });
  }

  static connect(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }

  call<M extends AgentMethod>(method: M, params: AgentParams<M>): Promise<AgentResult<M>> {
    return this.raw(method, params) as Promise<AgentResult<M>>;
  }

  /** Any method and params, typed or not (for the error cases). */
  raw(method: string, params?: unknown, id: number = this.nextId++): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /** Sends text as is and waits for the answer with this id (null for parse errors). */
  sendText(text: string, id: number | null): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.write(text);
    });
  }

  nextRequestId(): number {
    return this.nextId++;
  }

  async waitNotification(pred: (n: { method: string; params: unknown }) => boolean, timeoutMs = 5000): Promise<{ method: string; params: unknown }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const n = this.notifications.find(pred);
      if (n) return n;
      if (Date.now() > end) throw new Error(`no matching notification within ${timeoutMs} ms; got ${JSON.stringify(this.notifications)}`);
      await sleep(20);
    }
  }

  close(): void {
    this.socket.end();
  }
}

/**
 * The node that runs the agent under test: this one, or SKYDECK_AGENT_NODE (e.g. a Node 18 binary, the oldest the
 * bundle targets).
 */
export const AGENT_NODE = process.env.SKYDECK_AGENT_NODE || process.execPath;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Repeats fn until it returns a value that is not undefined (or throws after timeoutMs). */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(25);
  }
}

export interface RunningAgent {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

/** Starts `node BUNDLE ...args` and, for serve, waits until the socket answers. */
export function startProcess(bundle: string, args: string[]): RunningAgent {
  const proc = spawn(AGENT_NODE, [bundle, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stderr: () => err,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export async function startAgent(bundle: string, dir: string, extra: string[] = []): Promise<RunningAgent & { client: Client }> {
  const a = startProcess(bundle, ['serve', '--dir', dir, '--uri', 'test:///default', ...extra]);
  const end = Date.now() + 10_000;
  for (;;) {
    if (a.proc.exitCode !== null) throw new Error(`agent exited ${a.proc.exitCode}: ${a.stderr()}`);
    try {
      return { ...a, client: await Client.connect(join(dir, 'agent.sock')) };
    } catch (e) {
      if (Date.now() > end) throw new Error(`the agent socket did not answer: ${(e as Error).message}; ${a.stderr()}`, { cause: e });
      await sleep(20);
    }
  }
}
