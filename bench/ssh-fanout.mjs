// ssh-fanout: reaching many KVM hosts at once. N real sshd hosts (default 50; `--hosts N` when run on its own, or
// SKYDECK_BENCH_SSH_HOSTS) in network namespaces on this machine (scripts/peers/ssh-hosts.mjs), the test user
// skydeck-test (shell /bin/sh) with an ed25519 key; on every host: connect, authenticate, run `uname -a`, disconnect.
//  - Skydeck: the real connectSsh (ssh2, host key pinned, the cipher list Skydeck pins) from the built core, with 10,
//    20, 50 (and 100, 200 when there are that many) hosts in flight → wall time until every host answered and its
//    connection closed, p50/p95 per host;
//  - peer: `parallel-ssh -p 20` (OpenSSH 9.2, its defaults: sntrup761x25519 kex, chacha20) — target Skydeck ≤ 0.5×
//    its wall time; also `parallel-ssh -p 50` to see whether OpenSSH is limited by its fan-out;
//  - reference: a plain sequential `ssh` loop;
//  - the product path: from "add N hosts" (hosts.probeKey + hosts.add through the core's dispatch, libvirt's test
//    driver) until every bootstrap task succeeded and every host is online: probe, Node runtime and agent upload,
//    start, handshake, first sync (SKYDECK_BENCH_SSH_ADD=0 skips it).
// Every run checks each host's answer (its own hostname in `uname -a`). Medians of 5 runs after a warm-up, the
// methods interleaved run by run (each run starting with the next) so a change of background load hits them alike;
// 3 runs of the sequential loop. CPU of this process and of the whole machine is recorded per method: every sshd runs
// on the same 2 cores as the client.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, percentile } from './lib.mjs';
import { CORES, ROOT, load1, loadBenchEntry, option, run, runStandalone, sshOpts, startHosts, withCpu } from './ssh/common.mjs';

const BENCH = 'ssh-fanout';
const RUNS = option('runs', 'SKYDECK_BENCH_SSH_RUNS', 5);
const LOOP_RUNS = Math.min(3, RUNS);
const log = (s) => process.stderr.write(`  ${s}\n`);
const ms = (x) => `${Math.round(x)} ms`;

/** connect + auth + `uname -a` + close on every host, `limit` at a time. Per-host latency and what each answered. */
async function skydeckFanout(e, hosts, limit) {
  let next = 0;
  const lat = [];
  const worker = async () => {
    for (let i = next++; i < hosts.length; i = next++) {
      const h = hosts[i];
      const t0 = performance.now();
      const s = await e.connectSsh({ address: h.address, port: h.port, username: h.users.test.username, auth: { method: 'key', privateKey: h.users.test.privateKey }, hostKeyFingerprint: h.hostKeyFingerprint });
      let r;
      try {
        r = await s.exec('uname -a', { timeoutMs: 30_000 });
      } finally {
        await new Promise((resolve) => {
          s.onClose(resolve);
          s.close();
        });
      }
      lat.push(performance.now() - t0);
      if (r.code !== 0 || !r.stdout.includes(` ${h.name} `)) throw new Error(`${h.name}: unexpected answer to uname -a: ${JSON.stringify(r)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, hosts.length) }, worker));
  return lat;
}

async function pssh(hostsFile, keyPath, n, par) {
  const r = await run('parallel-ssh', ['-p', String(par), '-t', '60', '-h', hostsFile, '-l', 'skydeck-test', '-x', sshOpts(keyPath).join(' '), 'uname', '-a']);
  const ok = r.stdout.split('\n').filter((l) => l.includes('[SUCCESS]')).length;
  if (r.code !== 0 || ok !== n) throw new Error(`parallel-ssh -p ${par}: exit ${r.code}, ${ok}/${n} hosts succeeded\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
}

async function sshLoop(hosts, keyPath) {
  for (const h of hosts) {
    const r = await run('ssh', [...sshOpts(keyPath), `${h.users.test.username}@${h.address}`, 'uname', '-a']);
    if (r.code !== 0 || !r.stdout.includes(` ${h.name} `)) throw new Error(`ssh ${h.name}: exit ${r.code}: ${r.stderr}`);
  }
}

/** The product path: add every host through the core's commands, wait for each bootstrap task and for online. */
async function addAll(e, hosts) {
  const dataDir = mkdtempSync(join(tmpdir(), 'skydeck-bench-fanout-'));
  const logger = e.createLogger({ level: 'error' });
  const platform = new e.HeadlessPlatform({ dataDir, logger, passphrase: 'bench passphrase' });
  const core = await e.openCore({ dataDir, platform, logger, version: e.VERSION, kvmAssets: e.kvmAssetsIn(join(ROOT, 'out')), sshAuthSock: null });
  platform.bus = core.events;
  const ctx = { actor: 'bench', transport: 'internal' };
  try {
    const concurrency = core.dispatch('settings.get', {}, ctx).then((s) => s.taskConcurrency, () => null);
    const taskIds = [];
    const measured = await withCpu(() =>
      Promise.all(
        hosts.map(async (h) => {
          const key = await core.dispatch('hosts.probeKey', { address: h.address, port: h.port }, ctx);
          if (key.fingerprint !== h.hostKeyFingerprint) throw new Error(`${h.name}: probeKey answered ${key.fingerprint}`);
          const added = await core.dispatch(
            'hosts.add',
            { name: h.name, address: h.address, port: h.port, username: h.users.test.username, auth: { method: 'key', privateKey: h.users.test.privateKey }, hostKeyFingerprint: key.fingerprint, libvirtUri: 'test:///default' },
            ctx,
          );
          taskIds.push(added.taskId);
          const t = await core.engine.waitFor(added.taskId, 900_000);
          if (t.status !== 'succeeded') throw new Error(`${h.name}: bootstrap ${t.status}: ${JSON.stringify(t.error)}`);
          const end = Date.now() + 60_000;
          for (;;) {
            const got = await core.dispatch('hosts.get', { id: added.host.id }, ctx);
            if (got.status === 'online') break;
            if (Date.now() > end) throw new Error(`${h.name}: still ${got.status} a minute after its bootstrap (${got.statusReason})`);
            await new Promise((r) => setTimeout(r, 50));
          }
        }),
      ),
    );
    // Where the time went: mean seconds per stage and in the queue (the engine runs taskConcurrency tasks at once).
    const q = `SELECT t.id, t.created_at, t.started_at, s.stage, s.status, s.at FROM tasks t JOIN task_stages s ON s.task_id = t.id WHERE t.id IN (${taskIds.map(() => '?').join(',')}) ORDER BY s.id`;
    const rows = core.db.prepare(q).all(...taskIds);
    const stages = new Map();
    const entered = new Map();
    let queued = 0;
    const seen = new Set();
    for (const r of rows) {
      if (!seen.has(r.id)) {
        seen.add(r.id);
        queued += (Date.parse(r.started_at) - Date.parse(r.created_at)) / 1000;
      }
      if (r.status === 'entered') entered.set(`${r.id}/${r.stage}`, Date.parse(r.at));
      else if (r.status === 'completed' && entered.has(`${r.id}/${r.stage}`)) stages.set(r.stage, (stages.get(r.stage) ?? 0) + (Date.parse(r.at) - entered.get(`${r.id}/${r.stage}`)) / 1000);
    }
    const breakdown = Object.fromEntries([['queued', queued], ...stages].map(([k, v]) => [k, Math.round((v / hosts.length) * 100) / 100]));
    return { ...measured, breakdown, taskConcurrency: await concurrency };
  } finally {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export default async function sshFanout(rec) {
  const N = option('hosts', 'SKYDECK_BENCH_SSH_HOSTS', 50);
  const limits = [10, 20, 50, 100, 200].filter((c) => c <= N);
  if (!limits.includes(N) && N < 200) limits.push(N);
  const e = await loadBenchEntry();
  const load0 = load1();
  const peers = await startHosts(N);
  const work = mkdtempSync(join(tmpdir(), 'skydeck-bench-fanout-'));
  try {
    log(`${N} sshd hosts up in ${ms(peers.startMs)} (${peers.subnet}.0.0/16); load ${load0}, ${CORES} cores`);
    const hosts = peers.hosts;
    const keyPath = hosts[0].users.test.privateKeyPath;
    const hostsFile = join(work, 'hosts');
    writeFileSync(hostsFile, hosts.map((h) => h.address).join('\n') + '\n');

    const methods = [
      ...limits.map((c) => ({ key: `skydeck/${c}`, fn: () => skydeckFanout(e, hosts, c) })),
      { key: 'pssh/20', fn: () => pssh(hostsFile, keyPath, N, 20) },
      { key: 'pssh/50', fn: () => pssh(hostsFile, keyPath, N, 50) },
      { key: 'loop', fn: () => sshLoop(hosts, keyPath), runs: LOOP_RUNS },
    ];
    const res = Object.fromEntries(methods.map((m) => [m.key, { wall: [], nodeCpu: [], machineCpu: [], lat: [] }]));
    for (let i = 0; i <= RUNS; i++) {
      const line = [];
      // Each run starts with the next method, so that no method always follows the same one.
      for (const m of methods.map((_, j) => methods[(i + j) % methods.length])) {
        if (i > (m.runs ?? RUNS) || (i === 0 && m.key === 'loop')) continue;
        const r = await withCpu(m.fn);
        line.push(`${m.key} ${ms(r.wallMs)}`);
        if (i === 0) continue;
        const into = res[m.key];
        into.wall.push(r.wallMs);
        into.nodeCpu.push(r.nodeCpuMs);
        into.machineCpu.push(r.machineCpuMs);
        if (Array.isArray(r.value)) into.lat.push(...r.value);
      }
      log(`run ${i}${i ? '' : ' (warm-up)'}: ${line.join(', ')}; load ${load1()}`);
    }

    const med = (k) => median(res[k].wall);
    const best = limits.reduce((a, c) => (med(`skydeck/${c}`) < med(`skydeck/${a}`) ? c : a), limits[0]);
    const psshMs = med('pssh/20');
    const loopMs = med('loop');
    const runs = (k) => res[k].wall.map((x) => Math.round(x));
    const cpu = (k) => ({ nodeCpuMsPerHost: Math.round((median(res[k].nodeCpu) / N) * 10) / 10, machineCpuMsPerHost: Math.round((median(res[k].machineCpu) / N) * 10) / 10, machineBusyCores: Math.round((median(res[k].machineCpu) / med(k)) * 100) / 100 });

    rec.add({ bench: BENCH, metric: `${N} hosts: connect+auth+uname, best limit (${best} in flight)`, value: med(`skydeck/${best}`), unit: 'ms', peer: 'parallel-ssh -p 20', peerValue: psshMs, ratio: med(`skydeck/${best}`) / psshMs, target: '≤ 0.5×', runs: RUNS, all: runs(`skydeck/${best}`), peerAll: runs('pssh/20') });
    for (const c of limits) {
      const k = `skydeck/${c}`;
      rec.add({ bench: BENCH, metric: `${N} hosts, ${c} in flight`, value: med(k), unit: 'ms', peer: 'parallel-ssh -p 20', peerValue: psshMs, ratio: med(k) / psshMs, runs: RUNS, all: runs(k), p50: Math.round(percentile(res[k].lat, 50)), p95: Math.round(percentile(res[k].lat, 95)), ...cpu(k) });
    }
    for (const c of limits) {
      const lat = res[`skydeck/${c}`].lat;
      rec.add({ bench: BENCH, metric: `per host, ${c} in flight: p50 (p95 ${Math.round(percentile(lat, 95))} ms)`, value: percentile(lat, 50), unit: 'ms', p95: Math.round(percentile(lat, 95)), hosts: lat.length });
    }
    rec.add({ bench: BENCH, metric: `${N} hosts, ${best} in flight vs a sequential ssh loop`, value: med(`skydeck/${best}`), unit: 'ms', peer: 'ssh loop', peerValue: loopMs, ratio: med(`skydeck/${best}`) / loopMs, runs: LOOP_RUNS, peerAll: runs('loop') });
    rec.add({ bench: BENCH, metric: `${N} hosts: parallel-ssh -p 50 (OpenSSH at Skydeck's widest fan-out)`, value: med('pssh/50'), unit: 'ms', peer: 'parallel-ssh -p 20', peerValue: psshMs, ratio: med('pssh/50') / psshMs, runs: RUNS, all: runs('pssh/50'), ...cpu('pssh/50') });
    rec.add({ bench: BENCH, metric: 'CPU per host: Skydeck (this process + sshd) vs parallel-ssh -p 20 (ssh + sshd)', value: cpu(`skydeck/${best}`).machineCpuMsPerHost, unit: 'CPU-ms', peer: 'parallel-ssh -p 20', peerValue: cpu('pssh/20').machineCpuMsPerHost, ratio: cpu(`skydeck/${best}`).machineCpuMsPerHost / cpu('pssh/20').machineCpuMsPerHost, ...cpu(`skydeck/${best}`), peerCpu: cpu('pssh/20') });

    if (process.env.SKYDECK_BENCH_SSH_ADD !== '0') {
      log(`adding ${N} hosts through the core (probeKey, add, bootstrap: runtime + agent upload, start, handshake, sync)…`);
      const a = await addAll(e, hosts);
      log(`all ${N} online in ${ms(a.wallMs)}; mean s per host: ${JSON.stringify(a.breakdown)}; load ${load1()}`);
      rec.add({ bench: BENCH, metric: `add ${N} hosts → all online (probeKey + add + bootstrap, taskConcurrency ${a.taskConcurrency})`, value: a.wallMs / 1000, unit: 's', runs: 1, meanStageSecondsPerHost: a.breakdown, nodeCpuS: Math.round(a.nodeCpuMs / 100) / 10, machineCpuS: Math.round(a.machineCpuMs / 100) / 10 });
    }
    rec.add({ bench: BENCH, metric: 'machine load (1-min average) before / after', value: load0, unit: '', after: load1(), cores: CORES });
  } finally {
    await peers.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await runStandalone(import.meta.url, sshFanout);
