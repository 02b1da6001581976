/**
 * Scoped, redacting logger. Every line is one JSON object on stderr (or a sink given by the composition root).
 * Values under secret-looking keys and strings that look like keys or tokens are masked before anything is written:
 * a secret must never reach a log, whatever a caller passes.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  scope(name: string): Logger;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const SECRET_KEY = /pass(word|phrase)?|secret|token|private.?key|credential|authorization|api.?key|cookie/i;
const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const TOKEN_PARAM = /([?&](?:token|access_token|signature|x-amz-signature)=)[^&\s"]+/gi;
export const MASK = '***';

export function redactString(s: string): string {
  return s.replace(PEM, '[private key redacted]').replace(BEARER, `$1${MASK}`).replace(TOKEN_PARAM, `$1${MASK}`);
}

/** Deep copy with secret-looking keys masked and secret-looking strings scrubbed. Handles cycles and errors. */
export function redact(value: unknown, extraKeys: readonly string[] = [], seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message), stack: value.stack ? redactString(value.stack) : undefined };
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redact(v, extraKeys, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) || extraKeys.includes(k) ? (v === undefined || v === null || v === '' ? v : MASK) : redact(v, extraKeys, seen);
  }
  return out;
}

export interface LoggerOptions {
  level?: Level;
  sink?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}, scopeName = 'core'): Logger {
  const min = ORDER[options.level ?? ((process.env.SKYDECK_LOG_LEVEL as Level | undefined) ?? 'info')] ?? ORDER.info;
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const rec = { t: new Date().toISOString(), level, scope: scopeName, msg: redactString(msg), ...(fields ? (redact(fields) as object) : {}) };
    sink(JSON.stringify(rec));
  };
  return {
    scope: (name) => createLogger(options, `${scopeName}.${name}`),
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
