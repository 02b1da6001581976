import { homedir } from 'node:os';
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
