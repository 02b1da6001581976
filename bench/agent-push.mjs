// agent-push: pushing big files to a host over SSH (the agent bundle and Node runtime, disk images, ISOs). One real
// sshd host in a network namespace (scripts/peers/ssh-hosts.mjs), the test user's ed25519 key, 256 MiB of random
// bytes from the local page cache to the host's /tmp (the same disk, through its page cache):
//  - Skydeck: Ssh2Session.upload through the built core, each method it offers — `exec` (cat into a .part file, byte
//    count checked, renamed; the default) and `sftp` (fastPut, 64 × 32 KiB in flight, then posix-rename) — each
//    timed as a whole (connect + auth + upload + close, as an scp process does it) and as the upload alone on an open
//    session (how the bootstrap uses it); Skydeck's pinned cipher list (aes128-gcm first);
//  - peers: OpenSSH 9.2 with its defaults (chacha20-poly1305): `scp` (the SFTP protocol since 9.0), `scp -O` (the
//    legacy scp protocol), `sftp -b` (put); and `scp -c aes128-gcm@openssh.com`, the cipher Skydeck uses.
// Target: Skydeck ≥ 0.8× the throughput of the fastest OpenSSH tool at its defaults. After every run the file's sha256
// is checked on the host, then the file is removed. Medians of 3 runs after a warm-up, methods interleaved run by run
// (each run starting with the next one).
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './lib.mjs';
import { CORES, load1, loadBenchEntry, option, run, runStandalone, sshOpts, startHosts, withCpu } from './ssh/common.mjs';

const BENCH = 'agent-push';
const MIB = 1 << 20;
const SIZE_MIB = option('mib', 'SKYDECK_BENCH_PUSH_MIB', 256);
const RUNS = option('runs', 'SKYDECK_BENCH_PUSH_RUNS', 3);
const REMOTE = '/tmp/skydeck-bench-push.bin';
const log = (s) => process.stderr.write(`  ${s}\n`);

/** SIZE_MIB of random bytes and their sha256. */
function randomFile(dir) {
  const path = join(dir, 'push.bin');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(MIB);
  const fd = openSync(path, 'w');
  for (let i = 0; i < SIZE_MIB; i++) {
    randomFillSync(buf);
    hash.update(buf);
    writeSync(fd, buf);
  }
  closeSync(fd);
  return { path, sha256: hash.digest('hex') };
}

export default async function agentPush(rec) {
  const e = await loadBenchEntry();
  const load0 = load1();
  const peers = await startHosts(1);
  const work = mkdtempSync(join(tmpdir(), 'skydeck-bench-push-'));
  try {
    const h = peers.hosts[0];
    const user = h.users.test.username;
    const src = randomFile(work);
    log(`host ${h.name} (${h.address}), ${SIZE_MIB} MiB of random bytes, sha256 ${src.sha256.slice(0, 12)}…; load ${load0}, ${CORES} cores`);
    const batch = join(work, 'sftp.batch');
    writeFileSync(batch, `put ${src.path} ${REMOTE}\n`);
    const target = { address: h.address, port: h.port, username: user, auth: { method: 'key', privateKey: h.users.test.privateKey }, hostKeyFingerprint: h.hostKeyFingerprint };
    const ssh = sshOpts(h.users.test.privateKeyPath);
    const dest = `${user}@${h.address}:${REMOTE}`;

    /** Skydeck: connect, upload, close; the upload alone is timed inside. */
    const skydeck = (method, ciphers) => async () => {
      const t0 = performance.now();
      const s = await e.connectSsh(target, ciphers ? { ciphers } : {});
      const t1 = performance.now();
      await s.upload(src.path, REMOTE, { method });
      const uploadMs = performance.now() - t1;
      await new Promise((resolve) => {
        s.onClose(resolve);
        s.close();
      });
      return { uploadMs, connectMs: t1 - t0 };
    };
    const openssh = (cmd, args) => async () => {
      const r = await run(cmd, args);
      if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    };
    const methods = [
      { key: 'skydeck exec', fn: skydeck('exec') },
      { key: 'skydeck sftp', fn: skydeck('sftp') },
      { key: 'skydeck exec, chacha20-poly1305', fn: skydeck('exec', ['chacha20-poly1305@openssh.com']), info: true },
      { key: 'scp', fn: openssh('scp', [...ssh, src.path, dest]), openssh: true },
      { key: 'scp -O', fn: openssh('scp', ['-O', ...ssh, src.path, dest]), openssh: true },
      { key: 'sftp -b', fn: openssh('sftp', ['-b', batch, ...ssh, `${user}@${h.address}`]), openssh: true },
      { key: 'scp -c aes128-gcm', fn: openssh('scp', ['-c', 'aes128-gcm@openssh.com', ...ssh, src.path, dest]), info: true },
    ];
    const res = Object.fromEntries(methods.map((m) => [m.key, { total: [], upload: [], connect: [], nodeCpu: [], machineCpu: [] }]));
    const mibs = (ms) => SIZE_MIB / (ms / 1000);
    for (let i = 0; i <= RUNS; i++) {
      const line = [];
      // Each run starts with the next method, so that no method always follows the same one.
      for (const m of methods.map((_, j) => methods[(i + j) % methods.length])) {
        await h.exec(`rm -f ${REMOTE} ${REMOTE}.part`);
        const r = await withCpu(m.fn);
        // No run counts unless the host holds exactly the bytes sent.
        const sum = await h.exec(`sha256sum ${REMOTE}`);
        if (sum.stdout.split(/\s/)[0] !== src.sha256) throw new Error(`${m.key}: sha256 on the host is ${sum.stdout.trim() || sum.stderr.trim()}, expected ${src.sha256}`);
        line.push(`${m.key} ${Math.round(mibs(r.wallMs))}${r.value ? ` (upload ${Math.round(mibs(r.value.uploadMs))})` : ''}`);
        if (i === 0) continue;
        const into = res[m.key];
        into.total.push(mibs(r.wallMs));
        if (r.value) {
          into.upload.push(mibs(r.value.uploadMs));
          into.connect.push(r.value.connectMs);
        }
        into.nodeCpu.push(r.nodeCpuMs);
        into.machineCpu.push(r.machineCpuMs);
      }
      log(`run ${i}${i ? '' : ' (warm-up)'} MiB/s: ${line.join(', ')}; load ${load1()}`);
    }
    await h.exec(`rm -f ${REMOTE} ${REMOTE}.part`);

    const med = (k, f = 'total') => median(res[k][f]);
    const all = (k, f = 'total') => res[k][f].map((x) => Math.round(x));
    // CPU-seconds per second of transfer: this process (ssh2: crypto, packets, streams) and the whole machine.
    const cpu = (k) => {
      const wallS = SIZE_MIB / med(k);
      return { nodeCores: Math.round((median(res[k].nodeCpu) / 1000 / wallS) * 100) / 100, machineCores: Math.round((median(res[k].machineCpu) / 1000 / wallS) * 100) / 100 };
    };
    const defaults = methods.filter((m) => m.openssh);
    const bestPeer = defaults.reduce((a, m) => (med(m.key) > med(a.key) ? m : a), defaults[0]);
    const peerMibs = med(bestPeer.key);
    for (const k of ['skydeck exec', 'skydeck sftp']) {
      rec.add({ bench: BENCH, metric: `${SIZE_MIB} MiB, ${k} (connect + upload + close)`, value: med(k), unit: 'MiB/s', peer: `OpenSSH ${bestPeer.key}`, peerValue: peerMibs, ratio: med(k) / peerMibs, target: '≥ 0.8×', runs: RUNS, all: all(k), peerAll: all(bestPeer.key), ...cpu(k) });
      rec.add({ bench: BENCH, metric: `${SIZE_MIB} MiB, ${k}: upload alone on an open session`, value: med(k, 'upload'), unit: 'MiB/s', peer: `OpenSSH ${bestPeer.key}`, peerValue: peerMibs, ratio: med(k, 'upload') / peerMibs, runs: RUNS, all: all(k, 'upload'), connectMs: Math.round(med(k, 'connect')) });
    }
    const chacha = 'skydeck exec, chacha20-poly1305';
    rec.add({ bench: BENCH, metric: `${SIZE_MIB} MiB, ${chacha} (OpenSSH's default cipher)`, value: med(chacha), unit: 'MiB/s', peer: 'OpenSSH scp', peerValue: med('scp'), ratio: med(chacha) / med('scp'), runs: RUNS, all: all(chacha), ...cpu(chacha) });
    for (const m of methods.filter((x) => x.openssh || x.key === 'scp -c aes128-gcm')) {
      rec.add({ bench: BENCH, metric: `${SIZE_MIB} MiB, OpenSSH ${m.key}`, value: med(m.key), unit: 'MiB/s', runs: RUNS, all: all(m.key), ...cpu(m.key) });
    }
    rec.add({ bench: BENCH, metric: 'machine load (1-min average) before / after', value: load0, unit: '', after: load1(), cores: CORES });
  } finally {
    await peers.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await runStandalone(import.meta.url, agentPush);
