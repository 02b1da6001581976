// cold-start: how fast the core comes up and how light it sits idle.
// - main: process start → all main-process modules loaded, and → API listening (database opened, migrations checked),
//   for `node out/main/serve.js` (the same core bundle the Electron main process loads);
// - renderer: navigation start → the shell is interactive (navigation and dashboard rendered) in Chromium, warm;
// - idle: resident memory of the core after it settles, and the renderer's JS heap.
// Electron's own start (~155 ms) and window RSS cannot be measured here: its binary cannot be downloaded on this machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { median } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..');
const RUNS = 7;

function startServer(dataDir) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(ROOT, 'out/main/serve.js'), '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, SKYDECK_TIMINGS: '1', SKYDECK_LOG_LEVEL: 'warn', SKYDECK_VAULT_PASSPHRASE: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const url = /Open (\S+)/.exec(out)?.[1];
      const timings = /timings (\{.*\})/.exec(out)?.[1];
      if (url && timings) resolve({ proc, url, wallMs: performance.now() - t0, ...JSON.parse(timings) });
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export default async function coldStart(rec) {
  const load = [];
  const ready = [];
  const wall = [];
  let last;
  for (let i = 0; i < RUNS + 1; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-'));
    const s = await startServer(dir);
    if (i > 0) {
      load.push(s.moduleLoadMs);
      ready.push(s.readyMs);
      wall.push(s.wallMs);
    }
    if (i < RUNS) {
      s.proc.kill('SIGTERM');
      await new Promise((r) => s.proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    } else last = { ...s, dir };
  }
  rec.add({ bench: 'cold-start', metric: 'main: process start → modules loaded', value: median(load), unit: 'ms', target: '< 150 ms', runs: RUNS });
  rec.add({ bench: 'cold-start', metric: 'main: process start → API listening', value: median(ready), unit: 'ms', runs: RUNS });
  rec.add({ bench: 'cold-start', metric: 'main: spawn → ready line (wall)', value: median(wall), unit: 'ms', runs: RUNS });

  const browser = await chromium.launch({
    executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const times = [];
    let heap = NaN;
    for (let i = 0; i < RUNS + 1; i++) {
      const page = await context.newPage();
      await page.goto(last.url);
      await page.getByTestId('page-dashboard').waitFor({ state: 'visible' });
      await page.getByTestId('nav-hosts').waitFor({ state: 'visible' });
      const t = await page.evaluate(() => performance.now());
      if (i > 0) times.push(t);
      if (i === RUNS) {
        const cdp = await context.newCDPSession(page);
        await cdp.send('HeapProfiler.collectGarbage');
        heap = (await cdp.send('Runtime.getHeapUsage')).usedSize / 1048576;
      }
      await page.close();
    }
    rec.add({ bench: 'cold-start', metric: 'renderer: navigation → interactive (warm)', value: median(times), unit: 'ms', target: '< 1000 ms', runs: RUNS });
    rec.add({ bench: 'cold-start', metric: 'renderer: JS heap after boot', value: heap, unit: 'MiB' });
  } finally {
    await browser.close();
  }
  await new Promise((r) => setTimeout(r, 3000));
  rec.add({ bench: 'cold-start', metric: 'core: idle RSS', value: rssMiB(last.proc.pid), unit: 'MiB', target: '< 250 MB (whole app)' });
  last.proc.kill('SIGTERM');
  await new Promise((r) => last.proc.once('exit', r));
  rmSync(last.dir, { recursive: true, force: true });
}
