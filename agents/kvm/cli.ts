/** Command-line options: `--name value` pairs after the command word. */
export interface ServeOptions {
  dir: string;
  uri: string;
  metricsIntervalMs: number;
  metricsCapacity: number;
  pollMs: number;
  supervisor: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * Default ring size: a week of host samples at the default 10 s interval (6 × 60 × 24 × 7). Domain samples share the
 * ring, so with N running domains it covers a week / (1 + N) — still a day with six guests. About 250 bytes a sample
 * in memory and on disk (~15 MB at the default).
 */
export const DEFAULT_METRICS_CAPACITY = 60_480;

const SERVE_FLAGS = ['--dir', '--uri', '--metrics-interval', '--metrics-capacity', '--poll-interval', '--supervisor', '--log-level'];

export class UsageError extends Error {}

export function parseFlags(argv: string[], allowed: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const eq = a.indexOf('=');
    const [name, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (!allowed.includes(name)) throw new UsageError(`unknown option ${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    m.set(name, value);
  }
  return m;
}

function positiveInt(flags: Map<string, string>, name: string, fallback: number, min = 1): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}`);
  return n;
}

export function serveOptions(flags: Map<string, string>): ServeOptions {
  const dir = flags.get('--dir');
  if (!dir) throw new UsageError('--dir is required');
  const level = flags.get('--log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
  return {
    dir,
    uri: flags.get('--uri') ?? 'qemu:///system',
    metricsIntervalMs: positiveInt(flags, '--metrics-interval', 10_000, 100),
    metricsCapacity: positiveInt(flags, '--metrics-capacity', DEFAULT_METRICS_CAPACITY),
    pollMs: positiveInt(flags, '--poll-interval', 5000, 100),
    supervisor: flags.get('--supervisor') ?? 'foreground',
    logLevel: level as ServeOptions['logLevel'],
  };
}

export const parseServe = (argv: string[]): ServeOptions => serveOptions(parseFlags(argv, SERVE_FLAGS));

/** The serve flags again, as argv, minus --dir and --supervisor (which the caller sets). */
export function serveArgv(o: ServeOptions): string[] {
  return ['--uri', o.uri, '--metrics-interval', String(o.metricsIntervalMs), '--metrics-capacity', String(o.metricsCapacity), '--poll-interval', String(o.pollMs), '--log-level', o.logLevel];
}

export const SERVE_FLAG_NAMES = SERVE_FLAGS;

export const USAGE = `usage: skydeck-agent <command> [options]
  serve --dir DIR [--uri qemu:///system] [--metrics-interval MS] [--metrics-capacity N] [--poll-interval MS]
        [--supervisor NAME] [--log-level info]     run the agent in the foreground on DIR/agent.sock
  supervise --dir DIR [serve options]              run and restart \`serve\` from DIR/current/agent.cjs (no systemd)
  connect --dir DIR                                relay stdin/stdout to DIR/agent.sock
  systemd-unit --dir DIR --node PATH [serve options]  print a systemd unit for the agent
  version                                          print {"agentVersion","protocol"}`;
