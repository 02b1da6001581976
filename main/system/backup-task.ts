import { createRequire } from 'node:module';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { ApiError } from '@shared/errors';
import { ShutdownSignal, type TaskType } from '../tasks/types';

/**
 * Online backup of the state database. The copy runs in a worker thread on its own read-only connection (WAL lets it
 * read while the app writes), so a large database never stalls the main process; pagesPerStep and pauseMs throttle it.
 * It writes `<destination>.partial` and renames it at the end, so a crash never leaves a half file under the real name.
 */
export const backupParams = z.object({
  destination: z.string().optional(),
  pagesPerStep: z.number().int().min(1).default(1000),
  pauseMs: z.number().int().min(0).default(0),
  resolved: z.string().optional(),
});
export type BackupParams = z.infer<typeof backupParams>;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.source, { readonly: true, fileMustExist: true });
// Hold one read transaction for the whole copy: the backup then reads one stable WAL snapshot, instead of restarting
// each time the app commits (progress updates, audit rows) through its own connection.
db.exec('BEGIN');
db.prepare('SELECT count(*) FROM sqlite_master').get();
const nap = new Int32Array(new SharedArrayBuffer(4));
db.backup(workerData.target, {
  progress({ totalPages, remainingPages }) {
    parentPort.postMessage({ totalPages, remainingPages });
    if (workerData.pauseMs > 0) Atomics.wait(nap, 0, 0, workerData.pauseMs);
    return workerData.pagesPerStep;
  },
}).then((r) => { db.exec('COMMIT'); db.close(); parentPort.postMessage({ done: true, totalPages: r.totalPages }); },
        (e) => { db.close(); parentPort.postMessage({ error: String(e && e.message || e) }); });
`;

const requireHere = createRequire(import.meta.url);

function runBackupWorker(
  source: string,
  target: string,
  o: { pagesPerStep: number; pauseMs: number },
  signal: AbortSignal,
  onProgress: (done: number, total: number) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { module: requireHere.resolve('better-sqlite3'), source, target, pagesPerStep: o.pagesPerStep, pauseMs: o.pauseMs },
    });
    const abort = () => {
      void worker.terminate();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: { totalPages?: number; remainingPages?: number; done?: boolean; error?: string }) => {
      if (m.error) {
        signal.removeEventListener('abort', abort);
        reject(new ApiError('internal', `backup failed: ${m.error}`));
      } else if (m.done) {
        signal.removeEventListener('abort', abort);
        resolve(m.totalPages ?? 0);
      } else if (m.totalPages) onProgress(m.totalPages - (m.remainingPages ?? 0), m.totalPages);
    });
    worker.on('error', (e) => {
      signal.removeEventListener('abort', abort);
      reject(e);
    });
  });
}

export function backupTask(o: { dataDir: string; dbFile: string }): TaskType<BackupParams> {
  return {
    type: 'system.backup',
    params: backupParams,
    stages: {
      async onInit({ params }) {
        const dest = params.destination ?? join(o.dataDir, 'backups', `skydeck-${new Date().toISOString().replace(/[:.]/g, '-')}.db`);
        if (params.destination) {
          if (!existsSync(dirname(dest)) || !statSync(dirname(dest)).isDirectory()) {
            throw new ApiError('validation', `the folder ${dirname(dest)} does not exist`, { issues: [{ path: 'destination', message: 'folder does not exist', code: 'not_found' }] });
          }
          if (existsSync(dest)) throw new ApiError('conflict', `${dest} already exists; choose another file name`);
        } else mkdirSync(dirname(dest), { recursive: true });
        return { next: 'onCopy', progress: 1, message: `backing up to ${dest}`, patch: { resolved: dest } };
      },
      async onCopy(ctx) {
        const dest = ctx.params.resolved!;
        const partial = `${dest}.partial`;
        rmSync(partial, { force: true }); // idempotent: a resumed copy starts over
        const pages = await runBackupWorker(o.dbFile, partial, ctx.params, ctx.signal, (done, total) =>
          ctx.progress(1 + (98 * done) / total, `copied ${done} of ${total} pages`),
        );
        return { next: 'onFinalize', progress: 99, message: `copied ${pages} pages` };
      },
      async onFinalize({ params }) {
        const dest = params.resolved!;
        renameSync(`${dest}.partial`, dest);
        return { done: { path: dest, bytes: statSync(dest).size }, message: `saved ${dest}` };
      },
    },
    failed: {
      async onCopyFailed({ params }, error) {
        if (!(error instanceof ShutdownSignal) && params.resolved) rmSync(`${params.resolved}.partial`, { force: true });
      },
    },
  };
}
