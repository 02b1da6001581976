import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildHostAssets } from './build-stamp.mjs';

const root = join(import.meta.dirname, '..');

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) if (!e.name.endsWith('.test.ts')) m = Math.max(m, newest(join(path, e.name)));
  return m;
}

/**
 * Integration tests install the real agent on real sshd hosts: build its bundle (and fetch the Node runtimes for hosts)
 * first when agents/ or the protocol changed since the last build. Takes well under a second when nothing changed.
 */
export default function setup(): void {
  const bundle = join(root, 'out', 'agent', 'skydeck-agent.cjs');
  const stale = !existsSync(bundle) || Math.max(newest(join(root, 'agents')), newest(join(root, 'shared', 'agent')), newest(join(root, 'package.json'))) > statSync(bundle).mtimeMs;
  const runtimes = existsSync(join(root, 'out', 'runtimes')) && readdirSync(join(root, 'out', 'runtimes')).filter((f) => f.endsWith('.tgz')).length >= 2;
  if ((stale || !runtimes) && !buildHostAssets(root)) throw new Error('building the host agent or fetching the host runtimes failed');
}
