// Shared by the SSH benchmarks (bench/ssh-fanout.mjs, bench/agent-push.mjs): the built core, real sshd hosts in
// network namespaces (scripts/peers/ssh-hosts.mjs) that are stopped even when a run fails or is interrupted, OpenSSH
// client commands with the options every peer uses, and CPU accounting to tell what a run was limited by.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Recorder } from '../lib.mjs';

export const ROOT = join(import.meta.dirname, '..', '..');

/** The core as built (out/main/bench-entry.js, see main/bench/entry.ts), rebuilt first when out/ is stale. */
export async function loadBenchEntry() {
  const { buildIfStale } = await import(pathToFileURL(join(ROOT, 'scripts/build-stamp.mjs')).href);
  if (!buildIfStale(ROOT)) throw new Error('the build failed');
  return import(pathToFileURL(join(ROOT, 'out/main/bench-entry.js')).href);
}

/**
 * `count` sshd hosts with a prefix of this process's own. The returned stop() is idempotent and also runs on SIGINT /
 * SIGTERM (then the process exits), so that no namespace or sshd outlives the benchmark.
 */
export async function startHosts(count) {
  const { startSshHosts, cleanupStale } = await import(pathToFileURL(join(ROOT, 'scripts/peers/ssh-hosts.mjs')).href);
  const prefix = `skdb${process.pid % 10000}`;
  let peers = null;
  let stopping = null;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (peers) await peers.stop();
      else await cleanupStale(prefix);
    })());
  const onSignal = (sig) => {
    process.stderr.write(`  ${sig}: stopping the sshd hosts\n`);
    void stop().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    peers = await startSshHosts({ count, prefix });
  } catch (e) {
    await stop();
    throw e;
  }
  return { ...peers, prefix, stop };
}

/** OpenSSH client options of every peer: the test user's key, no known_hosts, no prompts, no banner noise. */
export function sshOpts(keyPath) {
  return ['-i', keyPath, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'];
}

/** Runs a command to completion: wall ms, exit code, output. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    const out = [];
    const err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ ms: performance.now() - t0, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Whole-machine CPU counters (/proc/stat, in clock ticks of 10 ms). */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: f.reduce((a, b) => a + b, 0) - idle };
}

/**
 * Measures what a piece of work cost in CPU: this process (ssh2 and everything else in Node) and the whole machine
 * (sshd, ssh, parallel-ssh and anything else running), both in CPU-milliseconds, and the wall time.
 */
export async function withCpu(fn) {
  const m0 = machineTicks();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const p = process.cpuUsage(p0);
  const m1 = machineTicks();
  return { value, wallMs, nodeCpuMs: (p.user + p.system) / 1000, machineCpuMs: (m1.busy - m0.busy) * 10 };
}

export const CORES = cpus().length;

/** The 1-minute load average, to tell a quiet machine from a busy one in the results. */
export function load1() {
  return Math.round(loadavg()[0] * 100) / 100;
}

/** `--name value` from the command line (a standalone run), else the environment variable, else the default. */
export function option(name, env, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : process.env[env];
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n > 0 ? n : dflt;
}

/**
 * Lets a benchmark also run on its own (`node bench/ssh-fanout.mjs --hosts 200`), printing its results and the table
 * without touching bench/results/latest.json.
 */
export async function runStandalone(metaUrl, bench) {
  if (process.argv[1] !== fileURLToPath(metaUrl)) return;
  const rec = new Recorder();
  try {
    await bench(rec);
  } finally {
    console.log('\n' + rec.table());
  }
}
