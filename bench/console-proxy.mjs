/* global window */
// console-proxy: the VNC WebSocket proxy (main/consoles/bridge.ts bridgeRaw behind the console service's upgrade path,
// main/bench/entry.ts startConsoleProxy) against Debian's websockify 0.10, each proxy in its own process, the TCP end
// (bench/console-proxy/peer.mjs) in a third and the WebSocket client (`ws`, no permessage-deflate offered: neither proxy
// would accept it) in this one. Measured side by side, methods interleaved run by run, medians of 5 runs after a
// warm-up:
//  1. throughput: 512 MiB remote → browser (a TCP source writes, the WebSocket client reads: the direction of
//     framebuffer updates) and browser → remote (64 KiB frames, a TCP sink counts and answers one byte), MB/s from the
//     WebSocket's creation to the last byte. Skydeck with a direct TCP remote (the same path as websockify) vs
//     websockify; and the product path, the remote being an SSH forwardTcp through a real sshd host (network namespace,
//     scripts/peers/ssh-hosts.mjs) to a source on that host's loopback: no peer, it shows what SSH costs.
//  2. small frames: 10,000 binary frames of 16–64 bytes (the size of VNC key/pointer events and small updates) echoed
//     one at a time by a TCP echo server; added latency = round trip through the proxy − round trip of a direct TCP
//     connection to the same echo server (p50 from p50, p99 from p99); the SSH path's echo server sits on the sshd
//     host's loopback, and its added latency is taken against the same direct round trip on this machine's loopback.
//  3. noVNC frames per second in Chromium (bench/console-proxy/harness.*: noVNC's RFB from node_modules/@novnc/novnc)
//     against QEMU under TCG at 1024×768: the tiny guest's framebuffer console scrolling ~35 lines a second
//     (bench/console-proxy/guest.mjs), so that the whole screen changes at every VNC refresh. Frames = Display.flip()
//     calls that drew a changed region. Through Skydeck (direct), websockify, Skydeck over SSH, and QEMU's own WebSocket
//     listener (no proxy: the ceiling of QEMU + noVNC on this machine).
// CPU: machine-wide per run (everything on 2 cores: client, proxy, source, sshd) and the proxy process's own.
// Every process (proxies, websockify, peers, qemu, Chromium, the sshd namespace) is stopped on the way out, on error
// and on SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { median, percentile } from './lib.mjs';
import { freePort, startDisplayGuest } from './console-proxy/guest.mjs';
import { CORES, ROOT, load1, loadBenchEntry, option, runStandalone, startHosts, withCpu } from './ssh/common.mjs';

const BENCH = 'console-proxy';
const RUNS = option('runs', 'SKYDECK_BENCH_CONSOLE_RUNS', 5);
const MIB = option('mib', 'SKYDECK_BENCH_CONSOLE_MIB', 512);
const BYTES = MIB << 20;
const FRAMES = option('frames', 'SKYDECK_BENCH_CONSOLE_FRAMES', 10_000);
const FPS_S = option('fps-seconds', 'SKYDECK_BENCH_CONSOLE_FPS_S', 10);
const SSH = process.env.SKYDECK_BENCH_CONSOLE_SSH !== '0';
const HERE = join(import.meta.dirname, 'console-proxy');
const NOVNC = join(ROOT, 'node_modules/@novnc/novnc');
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const log = (s) => process.stderr.write(`  ${s}\n`);

// ---------------------------------------------------------------------------------------------------------------
// processes: every child is tracked and killed on the way out (own process group, so websockify's per-connection
// children go too)

const children = new Set();
function track(p, group = false) {
  const entry = { p, group };
  children.add(entry);
  p.once('exit', () => children.delete(entry));
  return p;
}
function killAll(signal) {
  for (const { p, group } of children) {
    try {
      if (group) process.kill(-p.pid, signal);
      else p.kill(signal);
    } catch {
      /* gone */
    }
  }
}
process.on('exit', () => killAll('SIGKILL'));

/** A child that prints one JSON line when ready (peer.mjs, proxy.mjs). */
function startJsonChild(cmd, args, what) {
  const p = track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true }), true);
  let err = '';
  p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ p, info: JSON.parse(out.slice(0, nl)) });
    });
    p.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${err.trim()}`)));
    p.once('error', reject);
  });
}

function waitListening(host, port, p, ms = 10_000) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (p.exitCode !== null) return reject(new Error(`exited (${p.exitCode}) before listening on ${host}:${port}`));
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`nothing listening on ${host}:${port} after ${ms} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Debian's websockify 0.10 (its defaults: a forked process per connection, numpy for unmasking) → host:port. */
async function startWebsockify(target) {
  const port = await freePort();
  const p = track(spawn('websockify', [`127.0.0.1:${port}`, `${target.host}:${target.port}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true }), true);
  let err = '';
  p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  await waitListening('127.0.0.1', port, p).catch((e) => {
    throw new Error(`websockify: ${e.message}: ${err.trim()}`);
  });
  return { port, pid: p.pid };
}

/** CPU ticks (10 ms) of a process and its reaped children (websockify forks one per connection). */
function procTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const s = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(s[11]) + Number(s[12]) + Number(s[13]) + Number(s[14]);
}
/** Waits until a process has no children left (websockify reaps its per-connection child after a close). */
async function noChildren(pid, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    let kids;
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    } catch {
      return;
    }
    if (!kids || Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the WebSocket client (`ws`, as a browser: subprotocol binary; no permessage-deflate offered)

function openWs(url) {
  const ws = new WebSocket(url, 'binary', { perMessageDeflate: false });
  ws.on('error', () => {}); // each use also listens; this one keeps a late error from being uncaught
  return ws;
}

function closeWs(ws) {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const t = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2000);
    ws.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    // With a code: websockify 0.10 answers a close without one with 1005 on the wire, which `ws` rejects.
    ws.close(1000);
  });
}

/** Remote → browser: reads BYTES from the proxy; the source starts writing as soon as the proxy connects to it. */
function down(url) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = openWs(url);
    let got = 0;
    let frames = 0;
    ws.on('message', (d) => {
      got += d.length;
      frames++;
      if (got === BYTES) {
        const ms = performance.now() - t0;
        const info = { ms, frames, protocol: ws.protocol, extensions: ws.extensions };
        void closeWs(ws).then(() => resolve(info));
      }
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => {
      if (got < BYTES) reject(new Error(`${url}: closed after ${got} of ${BYTES} bytes (${code} ${reason})`));
    });
  });
}

/** Browser → remote: 64 KiB frames, at most 4 MiB buffered; done when the sink answers "K" after BYTES. */
function up(url) {
  const chunk = Buffer.alloc(64 << 10, 0x5a);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = openWs(url);
    let sent = 0;
    let done = false;
    const pump = () => {
      while (sent < BYTES && ws.bufferedAmount < 4 << 20) {
        const n = Math.min(chunk.length, BYTES - sent);
        sent += n;
        ws.send(n === chunk.length ? chunk : chunk.subarray(0, n), { binary: true }, (err) => {
          if (!err && ws.bufferedAmount < 1 << 20) pump();
        });
      }
    };
    ws.on('open', pump);
    ws.on('message', (d) => {
      if (d.toString() === 'K') {
        done = true;
        const ms = performance.now() - t0;
        void closeWs(ws).then(() => resolve({ ms, frames: Math.ceil(BYTES / chunk.length), protocol: ws.protocol, extensions: ws.extensions }));
      }
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => {
      if (!done) reject(new Error(`${url}: closed before the sink answered (${code} ${reason})`));
    });
  });
}

/** Frame sizes 16–64 bytes, the same sequence for every method. */
const SIZES = (() => {
  let x = 0x2545f491;
  return Array.from({ length: FRAMES + 500 }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 16 + ((x >>> 0) % 49);
  });
})();
const PAYLOAD = Buffer.alloc(64, 0x41);

/** Round trips of SIZES frames, one at a time: `send(buf)` and a byte counter fed by the transport. µs each. */
async function pingPong(send, onBytes) {
  let want = 0;
  let got = 0;
  let wake = null;
  onBytes((n) => {
    got += n;
    if (got >= want && wake) {
      const w = wake;
      wake = null;
      w();
    }
  });
  const rtt = [];
  for (let i = 0; i < SIZES.length; i++) {
    want += SIZES[i];
    const t = performance.now();
    const arrived = new Promise((r) => (wake = r));
    send(PAYLOAD.subarray(0, SIZES[i]));
    if (got < want) await arrived;
    else wake = null;
    if (i >= 500) rtt.push((performance.now() - t) * 1000);
  }
  return rtt;
}

async function echoWs(url) {
  const ws = openWs(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  try {
    return await pingPong(
      (b) => ws.send(b, { binary: true }),
      (f) => ws.on('message', (d) => f(d.length)),
    );
  } finally {
    await closeWs(ws);
  }
}

async function echoTcp(target) {
  const s = connect({ host: target.host, port: target.port, noDelay: true });
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  try {
    return await pingPong(
      (b) => s.write(b),
      (f) => s.on('data', (d) => f(d.length)),
    );
  } finally {
    s.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// noVNC in Chromium

function startStatic() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const [base, rel] = path.startsWith('/novnc/') ? [NOVNC, path.slice('/novnc/'.length)] : [HERE, path.slice(1)];
    const file = join(base, rel);
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile() || !/\.(html|js|mjs|json)$/.test(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'max-age=3600' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) })),
  );
}

/** One noVNC session: connect, 2 s to settle, then FPS_S seconds counted (warm-up runs: 3 s, not counted). */
async function fpsRun(browser, origin, wsUrl, seconds) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
  try {
    await page.goto(`${origin}/harness.html?url=${encodeURIComponent(wsUrl)}`);
    await page.waitForFunction(() => window.__bench && window.__bench.state().status !== 'connecting' && window.__bench.state().fbWidth > 0, null, { timeout: 20_000 });
    const st = await page.evaluate(() => window.__bench.state());
    if (st.status !== 'connected') throw new Error(`noVNC: ${st.status} (${st.reason}) on ${wsUrl}`);
    await page.waitForTimeout(2000);
    await page.evaluate(() => window.__bench.reset());
    await page.waitForTimeout(seconds * 1000);
    const r = await page.evaluate(() => window.__bench.read());
    const after = await page.evaluate(() => ({ ...window.__bench.state(), inked: window.__bench.inked() }));
    if (after.status !== 'connected') throw new Error(`noVNC disconnected during the run (${after.reason}) on ${wsUrl}`);
    await page.evaluate(() => window.__bench.disconnect());
    const s = r.ms / 1000;
    return { fps: r.frames / s, ups: r.updates / s, mbps: r.bytes / s / 1e6, screenShare: r.frames ? r.area / r.frames / (after.fbWidth * after.fbHeight) : 0, fb: `${after.fbWidth}x${after.fbHeight}`, canvas: after.canvas.join('x'), inked: after.inked, protocol: after.protocol };
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

const mbs = (ms) => BYTES / 1e6 / (ms / 1000);
const r1 = (x) => Math.round(x * 10) / 10;

export default async function consoleProxy(rec) {
  const e = await loadBenchEntry();
  if (typeof e.startConsoleProxy !== 'function') throw new Error('out/main/bench-entry.js has no startConsoleProxy: rebuild (npm run build)');
  if (!existsSync(join(NOVNC, 'core/rfb.js'))) throw new Error(`${NOVNC} is missing: npm install`);
  const load0 = load1();
  let hosts = null;
  let guest = null;
  let browser = null;
  let web = null;
  let stopping = null;
  const cleanup = () =>
    (stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await browser?.close().catch(() => {});
      await web?.close();
      await guest?.stop();
      killAll('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      killAll('SIGKILL');
      await hosts?.stop();
    })());
  const onSignal = (sig) => {
    process.stderr.write(`  ${sig}: stopping qemu, websockify, the proxies and the sshd host\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // ---- the TCP ends, the proxies ----
    const peer = (await startJsonChild(process.execPath, [join(HERE, 'peer.mjs'), '--host', '127.0.0.1', '--bytes', String(BYTES)], 'peer')).info;
    let sshCfg = null;
    let sshPeer = null;
    if (SSH) {
      try {
        hosts = await startHosts(1);
        const h = hosts.hosts[0];
        sshCfg = { address: h.address, port: h.port, username: h.users.test.username, privateKeyPath: h.users.test.privateKeyPath, hostKeyFingerprint: h.hostKeyFingerprint };
        // The source/sink/echo on the sshd host's own loopback (its network namespace), as a VNC server on a KVM host.
        sshPeer = (await startJsonChild('nsenter', ['--target', String(h.nsPid), '--net', process.execPath, join(HERE, 'peer.mjs'), '--host', '127.0.0.1', '--bytes', String(BYTES)], 'peer in the sshd host')).info;
        log(`sshd host ${h.name} at ${h.address} up in ${hosts.startMs} ms`);
      } catch (err) {
        log(`no SSH forward path: ${err.message}`);
        await hosts?.stop();
        hosts = null;
      }
    }
    const proxyChild = await startJsonChild(process.execPath, [join(HERE, 'proxy.mjs'), join(ROOT, 'out/main/bench-entry.js'), JSON.stringify({ ssh: sshCfg })], 'Skydeck proxy');
    const sky = { port: proxyChild.info.port, pid: proxyChild.p.pid };
    const wsk = {};
    for (const k of ['down', 'up', 'echo']) wsk[k] = await startWebsockify({ host: '127.0.0.1', port: peer[k] });
    const url = (method, k) => {
      if (method === 'websockify') return `ws://127.0.0.1:${wsk[k].port}/`;
      const ticket = method === 'skydeck' ? `direct:127.0.0.1:${peer[k]}` : `ssh:127.0.0.1:${sshPeer[k]}`;
      return `ws://127.0.0.1:${sky.port}/api/v1/consoles/${encodeURIComponent(ticket)}`;
    };
    const proxyPid = (method, k) => (method === 'websockify' ? wsk[k].pid : sky.pid);

    // ---- 1 and 2: throughput and small frames ----
    const methods = ['skydeck', 'websockify', ...(hosts ? ['skydeck-ssh'] : [])];
    const tp = {};
    const lat = { direct: [] };
    const echoCpu = {};
    for (const m of methods) {
      tp[`${m}/down`] = { mbs: [], machineCpu: [], proxyCpu: [], frames: [] };
      tp[`${m}/up`] = { mbs: [], machineCpu: [], proxyCpu: [], frames: [] };
      lat[m] = [];
      echoCpu[m] = [];
    }
    let negotiated = null;
    log(`${MIB} MiB each way and ${FRAMES} small frames, ${RUNS} runs after a warm-up; load ${load0}, ${CORES} cores`);
    for (let i = 0; i <= RUNS; i++) {
      const line = [];
      for (const m of methods.map((_, j) => methods[(i + j) % methods.length])) {
        for (const [k, fn] of [
          ['down', down],
          ['up', up],
        ]) {
          const pid = proxyPid(m, k);
          const c0 = procTicks(pid);
          const r = await withCpu(() => fn(url(m, k)));
          await noChildren(pid);
          const proxyCpuMs = (procTicks(pid) - c0) * 10;
          negotiated ??= { protocol: r.value.protocol, extensions: r.value.extensions };
          line.push(`${m} ${k} ${Math.round(mbs(r.value.ms))} MB/s`);
          if (i === 0) continue;
          const into = tp[`${m}/${k}`];
          into.mbs.push(mbs(r.value.ms));
          into.machineCpu.push(r.machineCpuMs);
          into.proxyCpu.push(proxyCpuMs);
          into.frames.push(r.value.frames);
        }
      }
      const echoMethods = ['direct', ...methods];
      const last = {};
      for (const m of echoMethods.map((_, j) => echoMethods[(i + j) % echoMethods.length])) {
        const pid = m === 'direct' ? null : proxyPid(m, 'echo');
        const c0 = pid ? procTicks(pid) : 0;
        const rtt = m === 'direct' ? await echoTcp({ host: '127.0.0.1', port: peer.echo }) : await echoWs(url(m, 'echo'));
        if (pid) await noChildren(pid);
        last[m] = rtt;
        if (i > 0) {
          lat[m].push(rtt);
          if (pid) echoCpu[m].push(((procTicks(pid) - c0) * 10_000) / SIZES.length);
        }
      }
      line.push(`echo p50/p99 ${echoMethods.map((m) => `${m} ${Math.round(percentile(last[m], 50))}/${Math.round(percentile(last[m], 99))}`).join(' ')} µs`);
      log(`run ${i}${i ? '' : ' (warm-up)'}: ${line.join(', ')}; load ${load1()}`);
    }
    const medTp = (key) => median(tp[key].mbs);
    const cpuPerGiB = (key, which) => Math.round(median(tp[key][which]) / 1000 / (BYTES / 2 ** 30) * 100) / 100;
    const frameKiB = (key) => r1(BYTES / median(tp[key].frames) / 1024);
    const tpExtra = (key) => ({ runs: RUNS, all: tp[key].mbs.map(Math.round), proxyCpuSPerGiB: cpuPerGiB(key, 'proxyCpu'), machineCpuSPerGiB: cpuPerGiB(key, 'machineCpu'), meanFrameKiB: frameKiB(key) });
    for (const [k, what] of [
      ['down', 'remote → browser'],
      ['up', 'browser → remote'],
    ]) {
      rec.add({ bench: BENCH, metric: `${MIB} MiB ${what}, direct TCP remote`, value: medTp(`skydeck/${k}`), unit: 'MB/s', peer: 'websockify', peerValue: medTp(`websockify/${k}`), ratio: medTp(`skydeck/${k}`) / medTp(`websockify/${k}`), target: '≥ 1.0×', ...tpExtra(`skydeck/${k}`), peerAll: tp[`websockify/${k}`].mbs.map(Math.round), peerProxyCpuSPerGiB: cpuPerGiB(`websockify/${k}`, 'proxyCpu'), peerMachineCpuSPerGiB: cpuPerGiB(`websockify/${k}`, 'machineCpu'), peerMeanFrameKiB: frameKiB(`websockify/${k}`) });
    }
    if (hosts) {
      for (const [k, what] of [
        ['down', 'remote → browser'],
        ['up', 'browser → remote'],
      ]) {
        rec.add({ bench: BENCH, metric: `${MIB} MiB ${what}, through an SSH forward (product path)`, value: medTp(`skydeck-ssh/${k}`), unit: 'MB/s', ...tpExtra(`skydeck-ssh/${k}`), vsDirect: Math.round((medTp(`skydeck-ssh/${k}`) / medTp(`skydeck/${k}`)) * 100) / 100 });
      }
    }
    const pct = (m, p) => median(lat[m].map((r) => percentile(r, p)));
    const added = (m, p) => pct(m, p) - pct('direct', p);
    for (const p of [50, 99]) {
      rec.add({ bench: BENCH, metric: `${FRAMES} frames of 16–64 B echoed: added latency p${p}`, value: added('skydeck', p), unit: 'µs', peer: 'websockify', peerValue: added('websockify', p), ratio: added('skydeck', p) / added('websockify', p), ...(p === 99 ? { target: '< 1000 µs' } : {}), runs: RUNS, rttUs: r1(pct('skydeck', p)), peerRttUs: r1(pct('websockify', p)), directRttUs: r1(pct('direct', p)), all: lat.skydeck.map((r) => Math.round(percentile(r, p))), peerAll: lat.websockify.map((r) => Math.round(percentile(r, p))), proxyCpuUsPerRoundTrip: r1(median(echoCpu.skydeck)), peerProxyCpuUsPerRoundTrip: r1(median(echoCpu.websockify)) });
    }
    if (hosts) {
      for (const p of [50, 99]) rec.add({ bench: BENCH, metric: `${FRAMES} frames echoed through an SSH forward: added latency p${p}`, value: added('skydeck-ssh', p), unit: 'µs', runs: RUNS, rttUs: r1(pct('skydeck-ssh', p)), directRttUs: r1(pct('direct', p)), all: lat['skydeck-ssh'].map((r) => Math.round(percentile(r, p))), proxyCpuUsPerRoundTrip: r1(median(echoCpu['skydeck-ssh'])) });
    }
    log(`negotiated: subprotocol ${JSON.stringify(negotiated?.protocol)}, extensions ${JSON.stringify(negotiated?.extensions)}`);

    // ---- 3: noVNC frames per second against QEMU ----
    log('booting the display guest (QEMU TCG, vesafb 1024×768, a scrolling console)…');
    guest = await startDisplayGuest({ root: ROOT, extraHost: hosts ? `${hosts.subnet}.0.1` : null, track: (p) => track(p), log });
    const wskVnc = await startWebsockify(guest.vnc);
    web = await startStatic();
    browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
    const vncUrl = {
      skydeck: `ws://127.0.0.1:${sky.port}/api/v1/consoles/${encodeURIComponent(`direct:${guest.vnc.host}:${guest.vnc.port}`)}`,
      websockify: `ws://127.0.0.1:${wskVnc.port}/`,
      'qemu-websocket': `ws://127.0.0.1:${guest.ws.port}/`,
      ...(hosts ? { 'skydeck-ssh': `ws://127.0.0.1:${sky.port}/api/v1/consoles/${encodeURIComponent(`ssh:${guest.extra.host}:${guest.extra.port}`)}` } : {}),
    };
    const fpsMethods = Object.keys(vncUrl);
    const fps = Object.fromEntries(fpsMethods.map((m) => [m, []]));
    for (let i = 0; i <= RUNS; i++) {
      const line = [];
      for (const m of fpsMethods.map((_, j) => fpsMethods[(i + j) % fpsMethods.length])) {
        const r = await withCpu(() => fpsRun(browser, web.origin, vncUrl[m], i === 0 ? 3 : FPS_S));
        if (r.value.fb !== '1024x768') throw new Error(`the guest's display is ${r.value.fb}, not 1024x768`);
        line.push(`${m} ${r1(r.value.fps)} fps (${r1(r.value.mbps)} MB/s)`);
        if (i > 0) fps[m].push({ ...r.value, busyCores: r.machineCpuMs / r.wallMs });
      }
      log(`fps run ${i}${i ? '' : ' (warm-up)'}: ${line.join(', ')}; load ${load1()}`);
    }
    const f = (m, k = 'fps') => median(fps[m].map((x) => x[k]));
    const fpsExtra = (m) => ({ runs: RUNS, all: fps[m].map((x) => r1(x.fps)), updatesPerS: r1(f(m, 'ups')), wireMBs: r1(f(m, 'mbps')), screenSharePerFrame: Math.round(f(m, 'screenShare') * 100) / 100, inked: Math.round(f(m, 'inked') * 1000) / 1000, busyCores: Math.round(f(m, 'busyCores') * 100) / 100, fb: fps[m][0].fb, canvas: fps[m][0].canvas });
    rec.add({ bench: BENCH, metric: 'noVNC frames drawn per second, QEMU 1024×768 scrolling console', value: f('skydeck'), unit: 'fps', peer: 'websockify', peerValue: f('websockify'), ratio: f('skydeck') / f('websockify'), target: '≥ 20 fps', ...fpsExtra('skydeck'), peerExtra: fpsExtra('websockify') });
    if (hosts) rec.add({ bench: BENCH, metric: 'noVNC frames/s through an SSH forward (product path)', value: f('skydeck-ssh'), unit: 'fps', ...fpsExtra('skydeck-ssh') });
    rec.add({ bench: BENCH, metric: "noVNC frames/s on QEMU's own WebSocket listener (no proxy: the ceiling)", value: f('qemu-websocket'), unit: 'fps', ...fpsExtra('qemu-websocket') });
    rec.add({ bench: BENCH, metric: 'machine load (1-min average) before / after', value: load0, unit: '', after: load1(), cores: CORES });
  } finally {
    await cleanup();
  }
}

await runStandalone(import.meta.url, consoleProxy);
