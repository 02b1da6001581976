import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportFile } from '@shared/contract/reports';
import type { Task } from '@shared/contract/tasks';
import { seedInventory } from '../seed/seed';
import { tempDir, testCore } from '../test/helpers';
import { runTask } from './testing';

/**
 * A 100k-row export stays within bounded memory: the seed's 10,000 hosts and 100,000 guests, the guest inventory
 * written as CSV and as XLSX, with the process's RSS sampled while each runs.
 */
type TestCore = Awaited<ReturnType<typeof testCore>>;
let dir: { path: string; cleanup(): void };
let core: TestCore;

beforeAll(async () => {
  dir = tempDir();
  core = await testCore(dir.path);
  seedInventory(core.db, { hosts: 10_000, guests: 100_000, seed: 1, at: new Date('2026-11-20T08:00:00.000Z') });
}, 120_000);
afterAll(async () => {
  await core.close();
  dir.cleanup();
});

async function measured(input: unknown): Promise<{ task: Task; peakMb: number; ms: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    const task = await runTask(core, 'reports.run', input, 120_000);
    return { task, peakMb: (peak - base) / 2 ** 20, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

describe('100k-row exports', () => {
  it('stops within a chunk when cancelled, and leaves no partial file', async () => {
    const { taskId } = (await core.dispatch('reports.run', { report: { type: 'inventory' }, format: 'xlsx' }, { actor: 'test', transport: 'internal' })) as { taskId: string };
    await expect.poll(() => core.engine.repo.get(taskId)!.progress, { timeout: 30_000, interval: 20 }).toBeGreaterThan(3);
    const asked = performance.now();
    await core.dispatch('tasks.cancel', { id: taskId }, { actor: 'test', transport: 'internal' });
    const t = await core.engine.waitFor(taskId);
    expect(t.status).toBe('cancelled');
    expect(performance.now() - asked).toBeLessThan(2000);
    expect(readdirSync(join(dir.path, 'exports')).filter((f) => f.endsWith('.partial'))).toEqual([]);
  }, 60_000);

  for (const format of ['csv', 'xlsx'] as const) {
    it(`writes 100,000 guests as ${format.toUpperCase()} with bounded memory`, async () => {
      const { task, peakMb, ms } = await measured({ report: { type: 'inventory', sections: ['guests'] }, format });
      expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
      const f = task.result as ReportFile;
      expect(f.rows).toBe(100_000);
      const mb = statSync(f.path).size / 2 ** 20;
      console.log(`${format}: ${f.rows} rows in ${Math.round(ms)} ms (${Math.round(f.rows / (ms / 1000))} rows/s), ${mb.toFixed(1)} MiB file, RSS growth at peak ${peakMb.toFixed(1)} MiB`);
      // Bounded: well under the file's own size for CSV, and a small multiple of a chunk for XLSX (its zip deflates as it goes).
      expect(peakMb).toBeLessThan(format === 'csv' ? 64 : 160);
    }, 180_000);
  }
});
