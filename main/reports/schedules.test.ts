import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schedule } from '@shared/contract/reports';
import type { Task } from '@shared/contract/tasks';
import { tempDir, testCore } from '../test/helpers';
import { cadenceCron, nextRun } from './schedules';
import { call, reportFixture } from './testing';

type TestCore = Awaited<ReturnType<typeof testCore>>;
let dir: { path: string; cleanup(): void };
let out: string;
let core: TestCore;

const tasksOf = (c: TestCore, scheduleId: string) =>
  (c.db.prepare(`SELECT id FROM tasks WHERE type = 'reports.run' AND json_extract(params, '$.scheduleId') = ? ORDER BY created_at`).all(scheduleId) as { id: string }[]).map((r) => r.id);
const schedule = (c: TestCore, id: string) => call<{ items: (Schedule & { lastStatus: string | null; lastFile: string | null })[] }>(c, 'reports.listSchedules').then((r) => r.items.find((s) => s.id === id)!);

beforeAll(async () => {
  dir = tempDir();
  out = join(dir.path, 'out');
  mkdirSync(out);
  core = await testCore(join(dir.path, 'data'));
  reportFixture(core.db, { hosts: 10, guests: 60 });
});
afterAll(async () => {
  await core.close();
  dir.cleanup();
});

describe('cadences', () => {
  it('turns daily, weekly and monthly into cron and finds their next time', () => {
    expect(cadenceCron({ kind: 'daily', time: '06:30' })).toBe('30 6 * * *');
    expect(cadenceCron({ kind: 'weekly', time: '07:05', weekday: 1 })).toBe('5 7 * * 1');
    expect(cadenceCron({ kind: 'monthly', time: '00:00', day: 28 })).toBe('0 0 28 * *');
    expect(nextRun({ kind: 'weekly', time: '07:05', weekday: 1 }, new Date(2026, 4, 1, 12))).toEqual(new Date(2026, 4, 4, 7, 5));
  });
});

describe('schedules', () => {
  it('fires when its time comes, while the app runs, and writes into its folder', async () => {
    const s = await call<Schedule>(core, 'reports.createSchedule', {
      name: 'capacity nightly',
      report: { type: 'capacity', sections: ['zones'] },
      format: 'csv',
      cadence: { kind: 'cron', expression: '0 0 1 1 *' },
      folder: out,
    });
    expect(Date.parse(s.nextRunAt!)).toBeGreaterThan(Date.now());
    // Bring its time to 300 ms from now (as if the year had passed), and let the scheduler re-read it.
    core.db.prepare('UPDATE report_schedules SET next_run_at = ? WHERE id = ?').run(new Date(Date.now() + 300).toISOString(), s.id);
    await call(core, 'reports.updateSchedule', { id: s.id, patch: { name: 'capacity nightly' } });
    expect(tasksOf(core, s.id)).toEqual([]);
    await expect.poll(() => tasksOf(core, s.id).length, { timeout: 5000, interval: 50 }).toBe(1);
    const t: Task = await core.engine.waitFor(tasksOf(core, s.id)[0]!);
    expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
    const after = await schedule(core, s.id);
    expect(after.lastTrigger).toBe('schedule');
    expect(after.lastStatus).toBe('succeeded');
    expect(after.lastFile!.startsWith(out)).toBe(true);
    expect(existsSync(after.lastFile!)).toBe(true);
    expect(readdirSync(out).filter((f) => f.startsWith('capacity-nightly-') && f.endsWith('.csv')).length).toBe(1);
    expect(new Date(after.nextRunAt!).getMonth()).toBe(0);
    expect(Date.parse(after.nextRunAt!)).toBeGreaterThan(Date.now());
  });

  it('runs once at start for a time missed while the app was closed, however many were missed', async () => {
    const s = await call<Schedule>(core, 'reports.createSchedule', { name: 'daily inventory', report: { type: 'inventory', sections: ['hosts'] }, format: 'xlsx', cadence: { kind: 'daily', time: '06:00' }, folder: out });
    const d = core.dataDir;
    await core.close();
    // Three days' runs came due while it was closed.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(d, 'skydeck.db'));
    db.prepare('UPDATE report_schedules SET next_run_at = ? WHERE id = ?').run(new Date(Date.now() - 3 * 86_400_000).toISOString(), s.id);
    db.close();
    core = await testCore(d);
    await expect.poll(() => tasksOf(core, s.id).length, { timeout: 5000, interval: 50 }).toBe(1);
    const t = await core.engine.waitFor(tasksOf(core, s.id)[0]!);
    expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
    const after = await schedule(core, s.id);
    expect(after.lastTrigger).toBe('missed');
    expect(Date.parse(after.nextRunAt!)).toBeGreaterThan(Date.now());
    expect(Date.parse(after.nextRunAt!) - Date.now()).toBeLessThanOrEqual(86_400_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(tasksOf(core, s.id).length).toBe(1);
  });

  it('runs on demand without moving its next time, stays quiet while disabled, and fails clearly when its folder is gone', async () => {
    const gone = join(dir.path, 'gone');
    mkdirSync(gone);
    const s = await call<Schedule>(core, 'reports.createSchedule', { name: 'weekly cost', report: { type: 'cost' }, format: 'pdf', locale: 'zh-CN', cadence: { kind: 'weekly', time: '08:00', weekday: 1 }, folder: gone, enabled: false });
    expect(s.nextRunAt).toBeNull();
    const on = await call<Schedule>(core, 'reports.updateSchedule', { id: s.id, patch: { enabled: true } });
    expect(new Date(on.nextRunAt!).getDay()).toBe(1);
    rmSync(gone, { recursive: true });
    const { taskId } = await call<{ taskId: string }>(core, 'reports.runSchedule', { id: s.id });
    const t = await core.engine.waitFor(taskId);
    expect(t.status).toBe('failed');
    expect(t.error?.message).toBe(`folder: the folder ${gone} does not exist`);
    const after = await schedule(core, s.id);
    expect([after.lastTrigger, after.lastStatus, after.nextRunAt]).toEqual(['manual', 'failed', on.nextRunAt]);
    await expect(call(core, 'reports.createSchedule', { name: 'weekly cost', report: { type: 'cost' }, format: 'pdf', cadence: { kind: 'daily', time: '08:00' }, folder: out })).rejects.toMatchObject({ code: 'conflict' });
    await call(core, 'reports.deleteSchedule', { id: s.id });
    expect((await call<{ items: Schedule[] }>(core, 'reports.listSchedules')).items.map((x) => x.name)).not.toContain('weekly cost');
  });
});
