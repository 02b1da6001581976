import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { serveArgv, type ServeOptions } from './cli';
import { createLogger } from './log';
import { agentPaths, EXIT_ALREADY_RUNNING, EXIT_NO_RESTART } from './paths';

/**
 * `supervise`: systemd's job on hosts without it. Runs `serve` from DIR/current/agent.cjs — the current bundle, so a
 * restart after an upgrade runs the new code — with this same node, and restarts it when it dies: after 1, 2, 4 … 30 s
 * while it keeps dying, 1 s again once it had run for a minute. It writes the child's output to DIR/agent.log, which it
 * rotates (one old file, agent.log.1) so that a long-lived agent does not fill the disk. SIGTERM stops both.
 */
const ROTATE_BYTES = 8 * 1024 * 1024;
const MAX_BACKOFF_MS = 30_000;
const STABLE_MS = 60_000;

class LogFile {
  private fd: number;
  private size: number;

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  write(chunk: Buffer | string): void {
    try {
      this.size += typeof chunk === 'string' ? writeSync(this.fd, chunk) : writeSync(this.fd, chunk);
      if (this.size > ROTATE_BYTES) this.rotate();
    } catch {
      // a full disk must not take the supervisor down
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}

/** True when pid is a live process whose command line mentions `supervise` (not a recycled pid). */
function supervisorAlive(pidFile: string): boolean {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid || pid === process.pid) return false;
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('supervise');
  } catch {
    return false;
  }
}

export function supervise(o: ServeOptions): void {
  const p = agentPaths(o.dir);
  const out = new LogFile(p.log);
  const log = createLogger('supervisor', o.logLevel, (line) => out.write(line));
  if (supervisorAlive(p.supervisorPid)) {
    log.error('a supervisor is already running', { pidFile: p.supervisorPid });
    process.exit(EXIT_ALREADY_RUNNING);
  }
  writeFileSync(p.supervisorPid, `${process.pid}\n`);

  let child: ChildProcess | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let backoffMs = 1000;
  let stopping = false;

  const finish = (code: number): never => {
    try {
      if (readFileSync(p.supervisorPid, 'utf8').trim() === String(process.pid)) rmSync(p.supervisorPid, { force: true });
    } catch {
      // gone already
    }
    process.exit(code);
  };

  const start = (): void => {
    restartTimer = null;
    if (stopping) return;
    if (!existsSync(p.bundle)) log.error('the agent bundle is missing', { bundle: p.bundle });
    const started = Date.now();
    const c = spawn(process.execPath, [p.bundle, 'serve', '--dir', p.dir, ...serveArgv(o), '--supervisor', 'supervisor'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d: Buffer) => out.write(d));
    c.stderr?.on('data', (d: Buffer) => out.write(d));
    c.on('error', (e) => log.error('cannot start the agent', { error: e.message }));
    c.on('exit', (code, signal) => {
      child = null;
      if (stopping) return finish(0);
      if (code === EXIT_NO_RESTART) {
        log.info('the agent was shut down; the supervisor stops too');
        return finish(0);
      }
      if (Date.now() - started >= STABLE_MS) backoffMs = 1000;
      log.warn('the agent exited; restarting', { code, signal, inMs: backoffMs });
      restartTimer = setTimeout(start, backoffMs);
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    });
    log.info('agent started', { childPid: c.pid });
  };

  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { why });
    if (restartTimer) clearTimeout(restartTimer);
    if (!child) return finish(0);
    child.kill('SIGTERM');
    const c = child;
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  };

  // Into agent.log, not to stderr: the shell's redirection of stderr may write at offset 0 of the log we append to.
  process.on('uncaughtException', (e) => {
    log.error('supervisor crashed', { error: e.stack ?? e.message });
    child?.kill('SIGTERM');
    finish(1);
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined);
  log.info('supervisor started', { dir: p.dir, node: process.execPath });
  start();
}
