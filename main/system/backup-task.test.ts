import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SkydeckEvent } from '@shared/events';
import { tempDir, testCore } from '../test/helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function core() {
  const d = tempDir();
  const c = await testCore(d.path);
  cleanups.push(d.cleanup, () => c.close());
  return { c, dir: d.path };
}
const ctx = { actor: 'test', transport: 'internal' as const };

describe('system.backup', () => {
  it('copies the live database to a valid SQLite file with progress', async () => {
    const { c, dir } = await core();
    await c.dispatch('settings.set', { patch: { locale: 'zh-CN' } }, ctx);
    // Enough rows for the copy to take several steps.
    for (let i = 0; i < 300; i++) await c.dispatch('settings.set', { patch: { pageSize: 10 + (i % 100) } }, ctx);
    const progress: number[] = [];
    c.events.on((e: SkydeckEvent) => {
      if (e.type === 'task.updated' && e.task.type === 'system.backup') progress.push(e.task.progress);
    });
    const dest = join(dir, 'copy.db');
    const { taskId } = (await c.dispatch('system.backup', { destination: dest, pagesPerStep: 1, pauseMs: 5 }, ctx)) as { taskId: string };
    const t = await c.engine.waitFor(taskId);
    expect(t).toMatchObject({ status: 'succeeded', result: { path: dest } });
    expect(new Set(progress).size).toBeGreaterThan(4);
    expect(existsSync(`${dest}.partial`)).toBe(false);
    const copy = new Database(dest, { readonly: true });
    expect(copy.prepare(`SELECT value FROM settings WHERE key = 'locale'`).get()).toEqual({ value: '"zh-CN"' });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
  });

  it('writes to the data dir\'s backups folder by default', async () => {
    const { c, dir } = await core();
    const { taskId } = (await c.dispatch('system.backup', {}, ctx)) as { taskId: string };
    const t = await c.engine.waitFor(taskId);
    expect((t.result as { path: string }).path.startsWith(join(dir, 'backups'))).toBe(true);
  });

  it('refuses a relative path at the boundary, and an existing file or a missing folder in the task', async () => {
    const { c, dir } = await core();
    await expect(c.dispatch('system.backup', { destination: 'backup.db' }, ctx)).rejects.toMatchObject({
      code: 'validation',
      details: { issues: [{ path: 'destination', message: 'destination must be an absolute path' }] },
    });
    writeFileSync(join(dir, 'exists.db'), 'x');
    const a = (await c.dispatch('system.backup', { destination: join(dir, 'exists.db') }, ctx)) as { taskId: string };
    expect(await c.engine.waitFor(a.taskId)).toMatchObject({ status: 'failed', error: { code: 'conflict' } });
    const b = (await c.dispatch('system.backup', { destination: join(dir, 'nope', 'x.db') }, ctx)) as { taskId: string };
    expect(await c.engine.waitFor(b.taskId)).toMatchObject({ status: 'failed', error: { code: 'validation', message: /does not exist/ } });
  });
});
