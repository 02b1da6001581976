import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportFile, Schedule } from '@shared/contract/reports';
import { createLogger } from '../log/logger';
import { openDatabase } from '../db/open';
import { tempDir, testCore } from '../test/helpers';
import { ReportFiles } from './retention';
import { call, reportFixture, runTask } from './testing';

type TestCore = Awaited<ReturnType<typeof testCore>>;
let dir: { path: string; cleanup(): void };
let out: string;
let core: TestCore;

interface FileRow {
  task_id: string;
  schedule_id: string | null;
  kind: string;
  path: string;
  pruned_at: string | null;
  prune_reason: string | null;
  prune_outcome: string | null;
}
const rows = (c: TestCore, where = '1 = 1', ...args: unknown[]) => c.db.prepare(`SELECT * FROM report_files WHERE ${where} ORDER BY created_at, task_id`).all(...args) as FileRow[];

async function runSchedule(id: string): Promise<{ task: string; path: string }> {
  const { taskId } = await call<{ taskId: string }>(core, 'reports.runSchedule', { id });
  const t = await core.engine.waitFor(taskId);
  expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
  return { task: t.id, path: (t.result as ReportFile).path };
}

beforeAll(async () => {
  dir = tempDir();
  out = join(dir.path, 'out');
  mkdirSync(out);
  core = await testCore(join(dir.path, 'data'));
  reportFixture(core.db, { hosts: 5, guests: 20 });
});
afterAll(async () => {
  await core.close();
  dir.cleanup();
});

describe('report file retention', () => {
  it('has sensible defaults and refuses bad values with a clear message', async () => {
    const s = await call(core, 'settings.get');
    expect([s.reportKeepRuns, s.reportRetentionDays]).toEqual([30, 90]);
    for (const [key, value] of [['reportKeepRuns', -1], ['reportKeepRuns', 1.5], ['reportKeepRuns', 1001], ['reportRetentionDays', 3651], ['reportRetentionDays', '7']] as const) {
      const e = await call(core, 'settings.set', { patch: { [key]: value } }).catch((x: unknown) => x);
      expect(e, `${key}=${value}`).toMatchObject({ code: 'validation' });
      const issue = (e as { details: { issues: { path: string; message: string }[] } }).details.issues[0]!;
      expect(issue.path).toBe(`patch.${key}`);
      expect(issue.message).toMatch(key === 'reportKeepRuns' ? /^Report runs to keep must be a whole number from 0 \(keep all\) to 1000$/ : /^Report file age must be a whole number of days from 0 \(never delete\) to 3650$/);
    }
  });

  it('keeps the last N runs of each schedule, deleting only the files Skydeck wrote, after each run', async () => {
    await call(core, 'settings.set', { patch: { reportKeepRuns: 2, reportRetentionDays: 0 } });
    // The user's own files in the same folder, one named like a run: never touched.
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, 'hosts-daily-20200101-0000.csv'), 'mine too');
    const a = await call<Schedule>(core, 'reports.createSchedule', { name: 'hosts daily', report: { type: 'inventory', sections: ['hosts'] }, format: 'csv', cadence: { kind: 'daily', time: '06:00' }, folder: out });
    const b = await call<Schedule>(core, 'reports.createSchedule', { name: 'zones daily', report: { type: 'capacity', sections: ['zones'] }, format: 'csv', cadence: { kind: 'daily', time: '06:00' }, folder: out });
    const runs: { task: string; path: string }[] = [];
    for (let i = 0; i < 4; i++) runs.push(await runSchedule(a.id));
    const other = await runSchedule(b.id);
    const state = () => rows(core).map((r) => [r.task_id, r.prune_reason, r.prune_outcome]);
    await expect
      .poll(state)
      .toEqual([
        [runs[0]!.task, 'runs', 'deleted'],
        [runs[1]!.task, 'runs', 'deleted'],
        [runs[2]!.task, null, null],
        [runs[3]!.task, null, null],
        [other.task, null, null],
      ]);
    // What is left in the folder: the user's two files and the three kept runs (a freed name may be used again).
    expect(readdirSync(out).sort()).toEqual(['hosts-daily-20200101-0000.csv', 'notes.txt', ...[runs[2]!, runs[3]!, other].map((r) => basename(r.path))].sort());
  });

  it('prunes at start, tolerating files the user already removed and leaving alone files that were replaced', async () => {
    const live = rows(core, "pruned_at IS NULL AND schedule_id IS NOT NULL AND path LIKE '%hosts-daily%'");
    expect(live).toHaveLength(2);
    rmSync(live[0]!.path); // the user deleted the older one
    await call(core, 'settings.set', { patch: { reportKeepRuns: 0, reportRetentionDays: 30 } });
    // An ad-hoc export and a snapshot in the data folder, both "old"; the snapshot's file was since replaced.
    const report = await runTask(core, 'reports.run', { report: { type: 'inventory', sections: ['hosts'] }, format: 'csv' });
    const snap = await runTask(core, 'reports.exportSnapshot', {});
    const reportPath = (report.result as ReportFile).path;
    const snapPath = (snap.result as ReportFile).path;
    writeFileSync(snapPath, 'the user saved something else here');
    const d = core.dataDir;
    await core.close();
    const db = new Database(join(d, 'skydeck.db'));
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    db.prepare('UPDATE report_files SET created_at = ? WHERE task_id IN (?, ?, ?)').run(old, live[0]!.task_id, report.id, snap.id);
    db.close();
    core = await testCore(d);
    const byTask = (id: string) => rows(core, 'task_id = ?', id)[0]!;
    expect([byTask(live[0]!.task_id).prune_reason, byTask(live[0]!.task_id).prune_outcome]).toEqual(['age', 'missing']);
    expect([byTask(report.id).kind, byTask(report.id).prune_outcome, existsSync(reportPath)]).toEqual(['report', 'deleted', false]);
    expect([byTask(snap.id).kind, byTask(snap.id).prune_outcome, existsSync(snapPath)]).toEqual(['snapshot', 'changed', true]);
    expect(existsSync(live[1]!.path)).toBe(true);
    expect(existsSync(join(out, 'notes.txt'))).toBe(true);
  });

  it('keeps a file it cannot delete on record and tries again at the next pass; a file replaced in place is left alone', () => {
    const folder = join(dir.path, 'unit-files');
    mkdirSync(folder);
    const opened = openDatabase(join(dir.path, 'unit'), '0.1.0-test');
    try {
      let busy = true;
      const files = new ReportFiles({
        db: opened.db,
        logger: createLogger({ sink: () => {} }),
        settings: () => ({ reportKeepRuns: 1, reportRetentionDays: 0 }),
        remove: (path) => {
          if (busy) throw Object.assign(new Error(`EBUSY: resource busy or locked, unlink '${path}'`), { code: 'EBUSY' });
          rmSync(path);
        },
      });
      for (const [i, name] of ['a.csv', 'b.csv', 'c.csv'].entries()) {
        writeFileSync(join(folder, name), name);
        files.track({ taskId: `t${i}`, scheduleId: 's', kind: 'report', path: join(folder, name), createdAt: `2026-01-0${i + 1}T00:00:00.000Z` });
      }
      // b.csv: the same size, but written again later by someone else.
      writeFileSync(join(folder, 'b.csv'), 'B.csv');
      utimesSync(join(folder, 'b.csv'), new Date('2030-01-01'), new Date('2030-01-01'));
      const first = files.prune();
      expect(first.failed).toEqual([{ path: join(folder, 'a.csv'), error: 'EBUSY' }]);
      expect(first.pruned).toEqual([{ taskId: 't1', scheduleId: 's', path: join(folder, 'b.csv'), reason: 'runs', outcome: 'changed' }]);
      busy = false;
      expect(files.prune().pruned).toEqual([{ taskId: 't0', scheduleId: 's', path: join(folder, 'a.csv'), reason: 'runs', outcome: 'deleted' }]);
      expect(readdirSync(folder).sort()).toEqual(['b.csv', 'c.csv']);
      expect(files.prune()).toEqual({ pruned: [], failed: [] });
    } finally {
      opened.close();
    }
  });
});
