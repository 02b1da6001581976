import { mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { Agent } from './agent';
import type { ServeOptions } from './cli';
import { createLogger } from './log';
import { agentPaths, EXIT_ALREADY_RUNNING, EXIT_NO_RESTART } from './paths';
import { RpcServer } from './rpc';

/** Answers whether something accepts connections on the socket (a live agent), as opposed to a stale file. */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // The socket is created owner-only (umask while it is bound), then chmod'ed to be sure: it is root's libvirt.
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
}

/** `serve`: the agent in the foreground until SIGTERM/SIGINT (exit 0) or agent.shutdown (exit 64). */
export async function serve(o: ServeOptions): Promise<void> {
  const log = createLogger('agent', o.logLevel);
  const p = agentPaths(o.dir);
  mkdirSync(p.state, { recursive: true, mode: 0o700 });

  if (await socketAlive(p.socket)) {
    log.error('another agent is already listening', { socket: p.socket });
    process.exit(EXIT_ALREADY_RUNNING);
  }
  rmSync(p.socket, { force: true });

  const rpc = new RpcServer({ log });
  let stopping = false;
  const server = createServer((socket) => rpc.attach(socket));
  const agent = new Agent({ dir: p.dir, uri: o.uri, metricsIntervalMs: o.metricsIntervalMs, metricsCapacity: o.metricsCapacity, pollMs: o.pollMs, supervisor: o.supervisor }, rpc, log, () => void stop(EXIT_NO_RESTART, 'agent.shutdown'));

  async function stop(code: number, why: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { why });
    setTimeout(() => process.exit(code), 5000).unref(); // whatever hangs, go
    server.close();
    rpc.closeAll();
    await agent.stop().catch((e: Error) => log.warn('stop failed', { error: e.message }));
    rmSync(p.socket, { force: true });
    try {
      if (readFileSync(p.pid, 'utf8').trim() === String(process.pid)) rmSync(p.pid, { force: true });
    } catch {
      // already gone
    }
    process.exit(code);
  }

  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  process.on('SIGINT', () => void stop(0, 'SIGINT'));
  process.on('SIGHUP', () => undefined); // a closed terminal or SSH session is no reason to stop

  const started = performance.now();
  await agent.start();
  await listen(server, p.socket);
  chmodSync(p.socket, 0o600);
  writeFileSync(p.pid, `${process.pid}\n`);
  log.info('listening', { socket: p.socket, uri: o.uri, metricsIntervalMs: o.metricsIntervalMs, metricsCapacity: o.metricsCapacity, supervisor: o.supervisor, node: process.version, ms: Math.round(performance.now() - started) });
}
