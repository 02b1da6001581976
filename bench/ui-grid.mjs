/* global document, requestAnimationFrame, window */
// ui-grid: the inventory list at 100,000 guests in Chromium, against Element Plus's plain el-table with 10,000 rows.
// - mount: the Guests route from a click in the navigation to its first rows painted (the first page is fetched from
//   the server: 100k guests, seeded by the seed CLI), and a cold load of /guests from navigation start;
// - scroll: frames per second while the list is scrolled programmatically for 3 s, steadily (rows load as they come) and
//   as a fling from top to bottom (every frame shows new rows); DOM rows stay few;
// - heap: the renderer's JS heap after mount and scrolling (after GC).
// The peer is a tiny harness page (bench/ui-grid/harness.html) built with vite into a temp dir: nothing bench-only
// enters the product.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { median } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..');
const HOSTS = Number(process.env.SKYDECK_BENCH_HOSTS ?? 10_000);
const GUESTS = Number(process.env.SKYDECK_BENCH_GUESTS ?? 100_000);
const PEER_ROWS = 10_000;
const RUNS = 7;
const SCROLL_MS = 3000;
const STEADY_PX_S = 3600; // ~90 rows a second: reading while scrolling
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function seed(dir) {
  const entry = join(ROOT, 'out/main/seed.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run build)`);
  const r = spawnSync(process.execPath, [entry, '--hosts', String(HOSTS), '--guests', String(GUESTS), '--data-dir', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed failed: ${r.stderr || r.stdout}`);
}

function startServer(dataDir) {
  const proc = spawn(process.execPath, [join(ROOT, 'out/main/serve.js'), '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, SKYDECK_LOG_LEVEL: 'warn', SKYDECK_VAULT_PASSPHRASE: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const url = /Open (\S+)/.exec(out)?.[1];
      if (url) resolve({ proc, url: new URL(url) });
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
}

/** Builds the peer harness with vite's JS API into a temp dir and serves it on 127.0.0.1. */
async function peerHarness() {
  const outDir = mkdtempSync(join(tmpdir(), 'skydeck-ui-grid-'));
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: join(ROOT, 'bench/ui-grid'),
    base: './',
    logLevel: 'warn',
    define: { 'process.env.NODE_ENV': '"production"' },
    build: { outDir, emptyOutDir: true, target: 'es2022', minify: true, chunkSizeWarningLimit: 5000, rollupOptions: { input: join(ROOT, 'bench/ui-grid/harness.html') } },
  });
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(outDir, path === '/' ? 'harness.html' : path);
    if (!file.startsWith(outDir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/harness.html`, close: () => (server.close(), rmSync(outDir, { recursive: true, force: true })) };
}

/**
 * In the page: scrolls `el` for `ms`, by time (not by frame, so a slow frame does not slow the scroll down): steadily at
 * `pxPerSecond` (wrapping at the bottom), or as a fling that reaches the bottom at `ms`. Counts animation frames.
 */
function scrollInPage({ selector, pxPerSecond, ms, fling }) {
  const el = typeof selector === 'string' ? document.querySelector(selector) : window.__bench.scroller();
  return new Promise((resolve) => {
    const gaps = [];
    let start = 0;
    let last = 0;
    const tick = (now) => {
      if (!start) start = last = now;
      else {
        gaps.push(now - last);
        last = now;
      }
      const bottom = el.scrollHeight - el.clientHeight;
      const t = Math.min(ms, now - start);
      el.scrollTop = fling ? Math.round((bottom * t) / ms) : Math.round((pxPerSecond * t) / 1000) % Math.max(1, bottom);
      if (now - start < ms) requestAnimationFrame(tick);
      else {
        const sorted = [...gaps].sort((a, b) => a - b);
        resolve({
          fps: (gaps.length * 1000) / (now - start),
          p95: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
          long: gaps.filter((g) => g > 25).length,
          frames: gaps.length,
          reachedEnd: el.scrollTop >= bottom - 2,
          scrollHeight: el.scrollHeight,
        });
      }
    };
    requestAnimationFrame(tick);
  });
}

async function heapMiB(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const used = (await cdp.send('Runtime.getHeapUsage')).usedSize / 1048576;
  await cdp.detach();
  return used;
}

const LIST = '[data-testid="resource-list-guests"]';
const SCROLLER = `${LIST} .el-table-v2__main .el-table-v2__body > div`;

export default async function uiGrid(rec) {
  const dataDir = mkdtempSync(join(tmpdir(), 'skydeck-bench-grid-'));
  const t0 = performance.now();
  seed(dataDir);
  console.error(`ui-grid: seeded ${HOSTS.toLocaleString('en-US')} hosts and ${GUESTS.toLocaleString('en-US')} guests in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  let srv = null;
  let peer = null;
  let browser = null;
  try {
    srv = await startServer(dataDir);
    peer = await peerHarness();
    browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
    // ---- Skydeck: the Guests route at 100k guests ----
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(srv.url.href);
    await page.getByTestId('page-dashboard').waitFor();
    const mounts = [];
    const step = (what) => console.error(`ui-grid: ${what}`);
    step('mounting the Guests route');
    for (let i = 0; i < RUNS + 1; i++) {
      const ms = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const t = performance.now();
            document.querySelector('[data-testid="nav-guests"]').click();
            const poll = () => {
              if (document.querySelector('[data-testid^="row-guests-"]')) requestAnimationFrame(() => resolve(performance.now() - t));
              else requestAnimationFrame(poll);
            };
            requestAnimationFrame(poll);
          }),
      );
      if (i > 0) mounts.push(ms); // the first one warms the route's code and the server's page cache
      await page.getByTestId('nav-dashboard').click();
      await page.getByTestId('page-dashboard').waitFor();
    }
    await page.getByTestId('nav-guests').click();
    await page.locator('[data-testid^="row-guests-"]').first().waitFor();
    const total = Number(await page.locator(LIST).getAttribute('data-total'));
    const domRowsTop = await page.locator(`${LIST} .el-table-v2__row`).count();
    step('scrolling');
    // One second of scrolling first, for both tables: the first frames of any scroll pay for JIT and for the mount's garbage.
    await page.evaluate(scrollInPage, { selector: SCROLLER, pxPerSecond: STEADY_PX_S, ms: 1000, fling: false });
    await page.evaluate((sel) => (document.querySelector(sel).scrollTop = 0), SCROLLER);
    await page.waitForTimeout(500);
    const steady = await page.evaluate(scrollInPage, { selector: SCROLLER, pxPerSecond: STEADY_PX_S, ms: SCROLL_MS, fling: false });
    await page.waitForTimeout(500);
    const fling = await page.evaluate(scrollInPage, { selector: SCROLLER, pxPerSecond: 0, ms: SCROLL_MS, fling: true });
    // At the bottom the last rows arrive on demand.
    const lastLoaded = await page
      .waitForFunction((sel) => document.querySelectorAll(`${sel} [data-testid^="row-guests-"]`).length > 5, LIST, { timeout: 10_000 })
      .then(() => true)
      .catch(() => false);
    const domRowsEnd = await page.locator(`${LIST} .el-table-v2__row`).count();
    const heap = await heapMiB(context, page);

    step('cold loads');
    const cold = [];
    for (let i = 0; i < 4; i++) {
      const p = await context.newPage();
      await p.goto(`${srv.url.origin}/guests?token=${srv.url.searchParams.get('token')}`);
      await p.locator('[data-testid^="row-guests-"]').first().waitFor();
      const ms = await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
      if (i > 0) cold.push(ms);
      await p.close();
    }
    await context.close();

    // ---- peer: el-table v1 with 10k rows in memory ----
    step('peer');
    const peerMounts = [];
    let peerSteady = null;
    let peerFling = null;
    let peerHeap = NaN;
    let peerDomRows = 0;
    for (let i = 0; i < 3; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const p = await ctx.newPage();
      await p.goto(peer.url);
      await p.waitForFunction(() => !!window.__bench);
      const m = await p.evaluate((n) => window.__bench.mount(n), PEER_ROWS);
      peerMounts.push(m.ms);
      peerDomRows = m.domRows;
      if (i === 2) {
        await p.evaluate(scrollInPage, { selector: null, pxPerSecond: STEADY_PX_S, ms: 1000, fling: false });
        await p.evaluate(() => (window.__bench.scroller().scrollTop = 0));
        await p.waitForTimeout(500);
        peerSteady = await p.evaluate(scrollInPage, { selector: null, pxPerSecond: STEADY_PX_S, ms: SCROLL_MS, fling: false });
        await p.waitForTimeout(500);
        peerFling = await p.evaluate(scrollInPage, { selector: null, pxPerSecond: 0, ms: SCROLL_MS, fling: true });
        peerHeap = await heapMiB(ctx, p);
      }
      await ctx.close();
    }

    const peerName = `el-table v1, ${PEER_ROWS.toLocaleString('en-US')} rows in memory`;
    const mount = median(mounts);
    const peerMount = median(peerMounts);
    rec.add({ bench: 'ui-grid', metric: `mount: Guests nav click → first rows painted (${total.toLocaleString('en-US')} guests)`, value: mount, unit: 'ms', peer: peerName, peerValue: peerMount, ratio: mount / peerMount, target: '< 300 ms', runs: RUNS });
    rec.add({ bench: 'ui-grid', metric: 'mount: cold load of /guests → first rows (from navigation start)', value: median(cold), unit: 'ms', runs: cold.length });
    rec.add({ bench: 'ui-grid', metric: `scroll: steady ${STEADY_PX_S} px/s for 3 s`, value: steady.fps, unit: 'fps', peer: peerName, peerValue: peerSteady.fps, ratio: steady.fps / peerSteady.fps, target: '≥ 55 fps' });
    rec.add({ bench: 'ui-grid', metric: 'scroll: steady, p95 frame time', value: steady.p95, unit: 'ms', peer: peerName, peerValue: peerSteady.p95 });
    rec.add({ bench: 'ui-grid', metric: 'scroll: fling top → bottom in 3 s', value: fling.fps, unit: 'fps', peer: peerName, peerValue: peerFling.fps, ratio: fling.fps / peerFling.fps, target: '≥ 55 fps' });
    rec.add({ bench: 'ui-grid', metric: 'scroll: fling, frames over 25 ms', value: fling.long, unit: 'frames', peer: peerName, peerValue: peerFling.long });
    rec.add({ bench: 'ui-grid', metric: 'DOM rows (top / after reaching the end)', value: Math.max(domRowsTop, domRowsEnd), unit: 'rows', peer: peerName, peerValue: peerDomRows });
    rec.add({ bench: 'ui-grid', metric: 'renderer JS heap after mount and scrolling', value: heap, unit: 'MiB', peer: peerName, peerValue: peerHeap });
    if (!fling.reachedEnd || !lastLoaded) console.error(`ui-grid: warning: the fling did not reach the end (${JSON.stringify({ reachedEnd: fling.reachedEnd, lastLoaded })})`);
  } finally {
    await browser?.close();
    peer?.close();
    if (srv && srv.proc.exitCode === null) {
      srv.proc.kill('SIGTERM');
      await new Promise((r) => srv.proc.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}
