// Is out/ older than any source it is built from? Used by `npm run serve` and the e2e setup to build only when needed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SOURCES = ['main', 'shared', 'renderer', 'electron', 'agents', 'electron.vite.config.ts', 'package.json', 'tsconfig.base.json'];
const OUTPUTS = ['out/agent/skydeck-agent.cjs', 'out/main/serve.js', 'out/main/seed.js', 'out/main/bench-entry.js', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.endsWith('.test.ts')) continue;
    m = Math.max(m, newest(join(path, e.name)));
  }
  return m;
}

export function isBuildStale(root) {
  const outs = OUTPUTS.map((o) => join(root, o));
  if (!outs.every(existsSync)) return true;
  const built = Math.min(...outs.map((o) => statSync(o).mtimeMs));
  return SOURCES.some((s) => newest(join(root, s)) > built);
}

/** Builds (electron-vite, then the host agent and the runtimes for hosts, as `npm run build`) when out/ is stale; answers false when the build failed. */
export function buildIfStale(root) {
  if (!isBuildStale(root)) return true;
  console.error('Building Skydeck…');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) return false;
  return buildHostAssets(root);
}

/** The agent bundle (scripts/build-agent.mjs) and the Node runtimes for hosts (scripts/fetch-runtimes.mjs), in out/. */
export function buildHostAssets(root) {
  for (const script of ['build-agent.mjs', 'fetch-runtimes.mjs']) {
    const r = spawnSync(process.execPath, [join(root, 'scripts', script)], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) return false;
  }
  return true;
}
