import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints the state database's WAL on a thread of its own, so the main process never copies WAL frames back into
 * the database file itself. SQLite's default runs a checkpoint inside whichever COMMIT pushes the WAL past 1,000 pages:
 * a sync's batch, a task's stage, a click's audit row would stall the event loop for as long as the copy takes (bench
 * inventory-sync: 80 ms at the end of each re-sync of 100k, and a first sync of 100k copied some 200 MB that way). The
 * SQLite documentation names this as the way out: turn the automatic checkpoint off on the connection that writes and
 * checkpoint from another thread.
 *
 * The worker opens its own connection and, every `intervalMs`, runs a PASSIVE checkpoint: it copies what it can
 * without waiting for the writer or any reader, and never makes them wait either (its busy timeout is 0). Once the
 * copy has caught up, the main connection's next write starts the WAL over from its beginning, as before. It never
 * runs a FULL or RESTART checkpoint: those take the writer's lock, and a main-thread transaction that has read and then
 * wants to write would get SQLITE_BUSY at once (SQLite cannot wait there without risking a deadlock). A writer that
 * never pauses could keep the worker from catching up, so the main connection keeps an automatic checkpoint, only at
 * `fallbackFrames` (64 MiB) instead of 1,000 pages: if the WAL ever gets that long, a COMMIT copies what the worker has
 * not, and the WAL stays bounded as with SQLite's default.
 *
 * Durability is unchanged: a COMMIT is durable once in the WAL (synchronous = NORMAL), and a checkpoint only moves
 * committed pages into the database file.
 */
export interface CheckpointerOptions {
  /** How often the worker checkpoints (default 100 ms). */
  intervalMs?: number;
  /** The main connection's wal_autocheckpoint while the worker runs (default 16,384 frames: 64 MiB at 4 KiB pages). */
  fallbackFrames?: number;
}

export interface CheckpointerStats {
  /** Checkpoints that found something committed since the one before, and copied it. */
  copies: number;
  /** Frames in the WAL, and of them copied into the database, at the last checkpoint. */
  walFrames: number;
  copiedFrames: number;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
// [0] 1 once closed, [1] copies, [2] WAL frames, [3] frames copied
const s = new Int32Array(workerData.state);
let db;
let timer;
function checkpoint(mode) {
  try {
    const r = db.pragma('wal_checkpoint(' + mode + ')')[0];
    Atomics.store(s, 2, r.log);
    Atomics.store(s, 3, r.checkpointed);
    return r;
  } catch (e) {
    // SQLITE_BUSY: another checkpoint (the main connection's fallback) holds the lock; the next tick tries again.
    if (!/busy|locked/i.test(String(e && e.message))) parentPort.postMessage({ error: String(e && e.message || e) });
    return null;
  }
}
let seen = -1;
function tick() {
  // data_version changes when another connection (the app's) has committed since this one last looked.
  const version = db.pragma('data_version', { simple: true });
  const r = checkpoint('PASSIVE');
  if (r && version !== seen && r.checkpointed > 0) Atomics.add(s, 1, 1);
  if (r) seen = version;
  timer = setTimeout(tick, workerData.intervalMs);
}
function close() {
  clearTimeout(timer);
  try { if (db && db.open) db.close(); } finally {
    Atomics.store(s, 0, 1);
    Atomics.notify(s, 0);
    parentPort.close();
  }
}
parentPort.on('message', (m) => { if (m === 'close') close(); });
try {
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = NORMAL');
  parentPort.postMessage({ ready: true });
  tick();
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message || e) });
  close();
}
`;

const requireHere = createRequire(import.meta.url);

export class Checkpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * 4));
  readonly fallbackFrames: number;
  private readonly worker: Worker;
  private closed = false;

  /** `onError` hears what the worker could not do (it keeps trying at each tick). */
  constructor(file: string, o: CheckpointerOptions = {}, onError: (message: string) => void = () => {}) {
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        module: requireHere.resolve('better-sqlite3'),
        file,
        state: this.state.buffer,
        intervalMs: o.intervalMs ?? 100,
      },
    });
    this.fallbackFrames = o.fallbackFrames ?? 16_384;
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) onError(m.error);
    });
    this.worker.on('error', (e) => onError(e.message));
    // It must never keep the process alive on its own.
    this.worker.unref();
  }

  stats(): CheckpointerStats {
    return { copies: Atomics.load(this.state, 1), walFrames: Atomics.load(this.state, 2), copiedFrames: Atomics.load(this.state, 3) };
  }

  /**
   * Closes the worker's connection and waits for it (at most `timeoutMs`), so the main connection closes last and
   * removes the WAL as usual. Synchronous, like the rest of closing the database.
   */
  close(timeoutMs = 5_000): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.postMessage('close');
    Atomics.wait(this.state, 0, 0, timeoutMs);
    void this.worker.terminate();
  }
}
