import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MIGRATIONS } from './migrations';
import { latestVersion, migrate, MigrationError, type Migration } from './migrate';
import { Checkpointer, type CheckpointerOptions } from './checkpointer';

export const DB_FILE = 'skydeck.db';
const LOCK_FILE = 'skydeck.lock';

/** A reason Skydeck cannot start on this data directory, worded for the person who must fix it. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface OpenedDatabase {
  db: Database.Database;
  schemaVersion: number;
  /** The thread that checkpoints the WAL (null when turned off: SQLite's automatic checkpoint then runs in COMMIT). */
  checkpointer: Checkpointer | null;
  /** Releases the data directory's lock and closes the database. */
  close(): void;
}

function errno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message}` : String(err.message ?? e);
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdir spins forever on some pseudo file systems (/proc), and a
 * data directory must fail fast with a clear reason instead.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) mkdirSync(m, { mode: 0o700 });
}

/** Creates the data directory if needed and proves it is writable, with a message that names the directory. */
export function prepareDataDir(dataDir: string): void {
  try {
    makeDirs(dataDir);
  } catch (e) {
    throw new StartupError(`data directory ${dataDir} cannot be created (${errno(e)})`);
  }
  const probe = join(dataDir, `.write-test-${process.pid}`);
  try {
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (e) {
    throw new StartupError(`data directory ${dataDir} is not writable (${errno(e)})`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One Skydeck process per data directory: two task engines on one database would run the same tasks twice.
 * A lock left by a process that died (kill -9, power loss) is taken over.
 */
function takeLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StartupError(`cannot lock data directory ${dataDir} (${errno(e)})`);
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isFinite(pid) && pid !== process.pid && isAlive(pid)) {
        throw new StartupError(`data directory ${dataDir} is in use by another Skydeck (process ${pid})`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new StartupError(`cannot lock data directory ${dataDir}`);
}

/** Reads the schema version without writing anything (no WAL switch, no journal), so a newer database stays untouched. */
function peekVersion(file: string): number {
  let probe: Database.Database | undefined;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true });
    return probe.pragma('user_version', { simple: true }) as number;
  } catch (e) {
    throw new StartupError(`${file} is not a Skydeck database or is damaged (${(e as Error).message})`);
  } finally {
    probe?.close();
  }
}

export interface OpenOptions {
  /** The WAL checkpointer thread (checkpointer.ts); false leaves checkpoints to SQLite's default, inside COMMIT. */
  checkpointer?: CheckpointerOptions | false;
  /** Hears what the checkpointer could not do. */
  onCheckpointError?: (message: string) => void;
}

export function openDatabase(dataDir: string, appVersion: string, migrations: readonly Migration[] = MIGRATIONS, options: OpenOptions = {}): OpenedDatabase {
  prepareDataDir(dataDir);
  const file = join(dataDir, DB_FILE);
  const latest = latestVersion(migrations);
  if (existsSync(file)) {
    const v = peekVersion(file);
    if (v > latest) {
      throw new StartupError(
        `${file} was written by a newer Skydeck (schema ${v}; this version ${appVersion} knows up to ${latest}). ` +
          'Open it with that version or newer, or choose another data directory. Nothing was changed.',
      );
    }
  }
  const release = takeLock(dataDir);
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // WAL + NORMAL: COMMIT returns once the transaction is in the WAL (the OS's page cache), so a process that dies (a
    // crash, kill -9: the task-journal bench) loses nothing committed; the WAL is fsynced at each checkpoint, so a power
    // loss or kernel crash can roll back the last commits but never corrupts the database (SQLite's WAL guarantee).
    // FULL would fsync every commit: measured on task transitions, 35k/s -> 25k/s even with the engine's group commit.
    db.pragma('synchronous = NORMAL');
    db.pragma('temp_store = MEMORY'); // statement journals in RAM, not a temp file per statement: writes to tables with triggers run 2-3x faster
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations, appVersion);
    const opened = db;
    // Checkpoints run on their own thread, never inside one of this connection's COMMITs (checkpointer.ts).
    const checkpointer = options.checkpointer === false ? null : new Checkpointer(file, options.checkpointer, options.onCheckpointError);
    if (checkpointer) opened.pragma(`wal_autocheckpoint = ${checkpointer.fallbackFrames}`);
    return {
      db: opened,
      schemaVersion: opened.pragma('user_version', { simple: true }) as number,
      checkpointer,
      close() {
        try {
          checkpointer?.close();
          if (opened.open) {
            opened.pragma('optimize');
            opened.close();
          }
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    db?.close();
    release();
    if (e instanceof MigrationError) throw new StartupError(`cannot upgrade ${file}: ${e.message}`);
    if (e instanceof StartupError) throw e;
    throw new StartupError(`cannot open ${file} (${errno(e)})`);
  }
}
