import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from '@playwright/test';
import { removeDir, startServer } from './server';

// A real `kill -9` of the headless server in the middle of a task: on restart the engine must resume the task at its
// stage (stages are idempotent) and finish it exactly once.
test('a task survives kill -9 of the server and resumes at its stage', async () => {
  test.setTimeout(120_000);
  const first = await startServer();
  const dest = join(first.dataDir, 'survivor.db');
  const { taskId } = (await first.api('system.backup', { destination: dest, pagesPerStep: 1, pauseMs: 60 })).body as { taskId: string };
  await expect
    .poll(async () => (await first.api('tasks.get', { id: taskId })).body.stage, { timeout: 10_000 })
    .toBe('onCopy');
  await expect.poll(async () => (await first.api('tasks.get', { id: taskId })).body.progress, { timeout: 10_000 }).toBeGreaterThan(2);
  await first.stop('SIGKILL');

  const second = await startServer({ dataDir: first.dataDir });
  try {
    await expect.poll(async () => (await second.api('tasks.get', { id: taskId })).body.status, { timeout: 60_000 }).toBe('succeeded');
    const t = (await second.api('tasks.get', { id: taskId })).body as { attempts: number; history: { stage: string; status: string; message: string }[] };
    expect(t.attempts).toBe(2);
    expect(t.history.filter((h) => h.stage === 'onInit' && h.status === 'completed')).toHaveLength(1);
    expect(t.history.some((h) => h.message === 'resumed after a restart')).toBe(true);
    expect(existsSync(dest)).toBe(true);
    expect(existsSync(`${dest}.partial`)).toBe(false);
    const db = new Database(dest, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const tasks = (await second.api('tasks.list', { filter: ['type:system.backup'] })).body as { total: number };
    expect(tasks.total).toBe(1);
  } finally {
    await second.stop();
    removeDir(first.dataDir);
  }
});

test('start-up refuses a database from a newer Skydeck with a clear message and leaves it alone', async () => {
  const s = await startServer();
  await s.stop();
  const file = join(s.dataDir, 'skydeck.db');
  const db = new Database(file);
  db.pragma('user_version = 42');
  db.close();
  await expect(startServer({ dataDir: s.dataDir })).rejects.toThrow(/newer Skydeck \(schema 42/);
  const again = new Database(file, { readonly: true });
  expect(again.pragma('user_version', { simple: true })).toBe(42);
  again.close();
  removeDir(s.dataDir);
});

test('start-up refuses an unusable data directory with a clear message', async () => {
  await expect(startServer({ dataDir: '/dev/null/skydeck' })).rejects.toThrow(/data directory \/dev\/null\/skydeck cannot be created/);
});
