/**
 * A tiny stand-in for the host agent, for the link tests: NDJSON JSON-RPC on a Unix socket that the SSH user can reach
 * (the test sshd runs on this machine, so the "host side" is this process). Answers agent.hello and agent.ping, and can
 * go down, hang, speak another protocol version or push notifications on demand.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AGENT_PROTOCOL_VERSION, type AgentHello } from '@shared/agent/protocol';

export interface FakeAgent {
  dir: string;
  path: string;
  /** Requests seen, in order. */
  received: { method: string; params?: unknown; id?: number }[];
  connections: Set<Socket>;
  behaviour: { protocol: number; hangPing: boolean; agentVersion: string };
  start(): Promise<void>;
  /** Stops listening and drops every connection (agent down). */
  stop(): Promise<void>;
  /** Drops the connections but keeps listening (agent restarted). */
  dropConnections(): void;
  notify(method: string, params: unknown): void;
  readonly listening: boolean;
}

export function fakeHello(dir: string, version: string, protocol: number): AgentHello {
  return { agentVersion: version, protocol, pid: process.pid, node: process.version, libvirtUri: 'test:///default', startedAt: new Date().toISOString(), installDir: dir, supervisor: 'foreground' };
}

export function startFakeAgent(dir: string): FakeAgent {
  const path = join(dir, 'agent.sock');
  const connections = new Set<Socket>();
  const received: FakeAgent['received'] = [];
  const behaviour = { protocol: AGENT_PROTOCOL_VERSION, hangPing: false, agentVersion: '9.9.9-fake' };
  let server: Server | null = null;

  const handle = (sock: Socket) => {
    connections.add(sock);
    sock.on('close', () => connections.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = JSON.parse(line) as { id?: number; method: string; params?: unknown };
        received.push(m);
        const reply = (body: object) => sock.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, ...body }) + '\n');
        if (m.id === undefined) continue;
        if (m.method === 'agent.hello') reply({ result: fakeHello(dir, behaviour.agentVersion, behaviour.protocol) });
        else if (m.method === 'agent.ping') {
          if (!behaviour.hangPing) reply({ result: { now: Date.now() } });
        } else if (m.method === 'test.echo') reply({ result: m.params });
        else reply({ error: { code: -32601, message: `no method ${m.method}` } });
      }
    });
  };

  const agent: FakeAgent = {
    dir,
    path,
    received,
    connections,
    behaviour,
    get listening() {
      return server !== null;
    },
    async start() {
      if (server) return;
      rmSync(path, { force: true });
      const s = createServer(handle);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(path, () => resolve());
      });
      chmodSync(path, 0o777);
      server = s;
    },
    async stop() {
      const s = server;
      server = null;
      agent.dropConnections();
      if (s) await new Promise<void>((r) => s.close(() => r()));
      rmSync(path, { force: true });
    },
    dropConnections() {
      for (const c of connections) c.destroy();
      connections.clear();
    },
    notify(method, params) {
      for (const c of connections) c.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
    },
  };
  return agent;
}

/**
 * Writes `<dir>/current/agent.cjs` with just the `connect --dir DIR` subcommand (stdio ↔ DIR/agent.sock), as the real
 * agent's CLI has it, and returns the command line the link's fallback runs.
 */
export function writeFakeConnectCli(dir: string, nodePath: string): string {
  const cur = join(dir, 'current');
  rmSync(cur, { recursive: true, force: true });
  mkdirSync(cur, { recursive: true, mode: 0o755 });
  writeFileSync(
    join(cur, 'agent.cjs'),
    `const net = require('node:net');
const args = process.argv.slice(2);
if (args[0] !== 'connect') { process.stderr.write('usage: agent.cjs connect --dir DIR\\n'); process.exit(2); }
const dir = args[args.indexOf('--dir') + 1];
const s = net.connect(dir + '/agent.sock');
s.on('error', (e) => { process.stderr.write('skydeck-agent is not running (' + e.code + ')\\n'); process.exit(3); });
s.on('connect', () => { process.stdin.pipe(s); s.pipe(process.stdout); });
s.on('close', () => process.exit(0));
process.stdin.on('end', () => s.end());
`,
    { mode: 0o755 },
  );
  return `'${nodePath}' '${cur}/agent.cjs' connect --dir '${dir}'`;
}

/**
 * A whole fake agent bundle (one CommonJS file) with the real agent's CLI surface: `version`, `systemd-unit`,
 * `supervise --dir --uri` (serves agent.hello / agent.ping on DIR/agent.sock), `connect --dir`. For bootstrap tests
 * that should not depend on the real agent's libvirt code.
 */
export function fakeBundle(version: string): string {
  return `#!/usr/bin/env node
'use strict';
const net = require('node:net'), fs = require('node:fs'), path = require('node:path');
const VERSION = ${JSON.stringify(version)};
const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf('--' + n); return i >= 0 ? args[i + 1] : d; };
const cmd = args[0];
if (cmd === 'version') { console.log(JSON.stringify({ agentVersion: VERSION, protocol: 1 })); process.exit(0); }
if (cmd === 'systemd-unit') {
  console.log('[Unit]\\nDescription=Skydeck agent\\n[Service]\\nExecStart=' + opt('node') + ' ' + opt('dir') + '/current/agent.cjs supervise --dir ' + opt('dir') + ' --uri ' + opt('uri') + '\\n[Install]\\nWantedBy=multi-user.target');
  process.exit(0);
}
if (cmd === 'connect') {
  const s = net.connect(path.join(opt('dir'), 'agent.sock'));
  s.on('error', (e) => { process.stderr.write('skydeck-agent is not running (' + e.code + ')\\n'); process.exit(3); });
  s.on('connect', () => { process.stdin.pipe(s); s.pipe(process.stdout); });
  s.on('close', () => process.exit(0));
  return;
}
if (cmd === 'supervise' || cmd === 'serve') {
  const dir = opt('dir'), sock = path.join(dir, 'agent.sock');
  try { fs.unlinkSync(sock); } catch {}
  if (cmd === 'supervise') fs.writeFileSync(path.join(dir, 'supervisor.pid'), process.pid + '\\n');
  const started = new Date().toISOString();
  const srv = net.createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('error', () => {});
    c.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
        if (m.id === undefined) continue;
        const reply = (b) => c.write(JSON.stringify(Object.assign({ jsonrpc: '2.0', id: m.id }, b)) + '\\n');
        if (m.method === 'agent.hello') reply({ result: { agentVersion: VERSION, protocol: 1, pid: process.pid, node: process.version, libvirtUri: opt('uri', 'qemu:///system'), startedAt: started, installDir: dir, supervisor: cmd === 'supervise' ? 'supervisor' : 'foreground' } });
        else if (m.method === 'agent.ping') reply({ result: { now: Date.now() } });
        else reply({ error: { code: -32601, message: 'no method ' + m.method } });
      }
    });
  });
  srv.listen(sock, () => { fs.chmodSync(sock, 0o600); console.log('listening on ' + sock); });
  const bye = () => { try { fs.unlinkSync(sock); } catch {} process.exit(0); };
  process.on('SIGTERM', bye); process.on('SIGINT', bye);
  return;
}
process.stderr.write('unknown command ' + cmd + '\\n'); process.exit(2);
`;
}
