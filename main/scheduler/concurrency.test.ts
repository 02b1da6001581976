import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open';
import { tempDir } from '../test/helpers';
import { addHost } from './fixtures';

/**
 * Truly concurrent callers: worker threads, each with its own connection to the same database file (as separate
 * processes would be), hammer schedule() at once. Capacity must be booked exactly once: every success is whole, the
 * number of successes is what fits, and no host holds more than it has.
 */

const ROOT = resolve(import.meta.dirname, '../..');
let dir: ReturnType<typeof tempDir>;
let bundle: string;

beforeAll(() => {
  dir = tempDir('skydeck-sched-conc-');
  bundle = join(dir.path, 'schedule.mjs');
  buildSync({
    entryPoints: [join(ROOT, 'main/scheduler/schedule.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile: bundle,
    alias: { '@shared': join(ROOT, 'shared') },
    logLevel: 'silent',
  });
  writeFileSync(
    join(dir.path, 'worker.mjs'),
    `import { parentPort, workerData } from 'node:worker_threads';
     import { createRequire } from 'node:module';
     const { schedule } = await import(workerData.bundle);
     const Database = createRequire(workerData.root + '/package.json')('better-sqlite3');
     const db = new Database(workerData.file);
     db.pragma('busy_timeout = 10000');
     const out = { ok: 0, refused: {} };
     for (let i = 0; i < workerData.calls; i++) {
       try { schedule(db, workerData.request, { actor: 'w' + workerData.n }); out.ok++; }
       catch (e) { const r = e.details?.reason ?? e.code ?? String(e); out.refused[r] = (out.refused[r] ?? 0) + 1; }
     }
     db.close();
     parentPort.postMessage(out);`,
  );
});
afterAll(() => dir.cleanup());

describe('concurrent placement', () => {
  it('8 threads × 100 calls on 4 hosts: exactly the capacity is booked, never more', async () => {
    const data = join(dir.path, 'data');
    const opened = openDatabase(data, 'test');
    const db = opened.db;
    for (let i = 0; i < 4; i++) addHost(db, `h${i}`, { memoryMb: 16384 });
    const file = db.name;
    try {
      const request = { vcpu: 1, memoryMb: 256, count: 2 };
      const runs = await Promise.all(
        Array.from(
          { length: 8 },
          (_, n) =>
            new Promise<{ ok: number; refused: Record<string, number> }>((res, rej) => {
              const w = new Worker(join(dir.path, 'worker.mjs'), { workerData: { bundle, root: ROOT, file, request, calls: 100, n } });
              w.once('message', res);
              w.once('error', rej);
            }),
        ),
      );
      const ok = runs.reduce((n, r) => n + r.ok, 0);
      // 4 hosts × 64 slots of 256 MiB = 256 slots; each success books 2, so 128 of the 800 calls succeed.
      expect(ok).toBe(128);
      const refused = runs.reduce((n, r) => n + Object.values(r.refused).reduce((a, b) => a + b, 0), 0);
      expect(refused).toBe(672);
      for (const r of runs) for (const k of Object.keys(r.refused)) expect(['no_host', 'no_capacity']).toContain(k);
      const per = db.prepare('SELECT host_id AS h, sum(memory_mb) AS mb, count(*) AS n FROM sched_host_reservations GROUP BY host_id').all() as { h: string; mb: number; n: number }[];
      expect(per.reduce((n, p) => n + p.n, 0)).toBe(256);
      for (const p of per) expect(p.mb).toBeLessThanOrEqual(16384);
    } finally {
      opened.close();
    }
  });
});
