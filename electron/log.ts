import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '../main/log/logger';

export const LOG_FILE = 'skydeck.log';
const MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface DesktopLogger {
  logger: Logger;
  /** Where the log is written, or null when the data dir is not writable (stderr only). */
  file: string | null;
  close(): Promise<void>;
}

/**
 * The desktop app has no visible stderr, so lines also go to `<data dir>/logs/skydeck.log` (one previous file is
 * kept as skydeck.log.1). The logger itself (main/log/logger.ts) redacts secrets before anything is written.
 */
export function createDesktopLogger(dataDir: string): DesktopLogger {
  let stream: WriteStream | null = null;
  let file: string | null = join(dataDir, 'logs', LOG_FILE);
  try {
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    try {
      if (statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`);
    } catch {
      /* no previous log */
    }
    stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    stream.on('error', () => {
      stream = null;
    });
  } catch {
    stream = null;
    file = null;
  }
  const logger = createLogger({
    sink: (line) => {
      process.stderr.write(line + '\n');
      stream?.write(line + '\n');
    },
  }, 'desktop');
  return {
    logger,
    file,
    close: () =>
      new Promise<void>((resolve) => {
        const s = stream;
        stream = null;
        if (!s) return resolve();
        s.end(() => resolve());
      }),
  };
}
