import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isBuildStale } from '../scripts/build-stamp.mjs';

/** The e2e suite runs the built app: build it first if a source changed. */
export default function globalSetup(): void {
  const root = join(import.meta.dirname, '..');
  if (!isBuildStale(root)) return;
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}
