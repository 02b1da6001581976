import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { tempDir } from '../test/helpers';
import { SettingsRepo } from './settings-repo';

let o: OpenedDatabase;
let cleanup: () => void;
afterEach(() => (o.close(), cleanup()));

function repo() {
  const d = tempDir();
  cleanup = d.cleanup;
  o = openDatabase(d.path, 't');
  return new SettingsRepo(o.db);
}

describe('settings', () => {
  it('answers defaults until something is set', () => {
    expect(repo().get()).toEqual({ theme: 'system', locale: 'en', pageSize: 100, taskRetentionDays: 30, auditRetentionDays: 365, taskConcurrency: 8, schedulerStrategy: 'spread', metricsIntervalSeconds: 10, metricsRawRetentionDays: 2, metrics1mRetentionDays: 30, metrics1hRetentionDays: 400, reportKeepRuns: 30, reportRetentionDays: 90 });
  });

  it('changes only what a patch names', () => {
    const r = repo();
    r.set({ locale: 'zh-CN' });
    r.set({ pageSize: 50 });
    expect(r.get()).toMatchObject({ locale: 'zh-CN', pageSize: 50, theme: 'system' });
  });

  it('resets some or all settings', () => {
    const r = repo();
    r.set({ locale: 'zh-CN', theme: 'dark' });
    expect(r.reset(['theme'])).toMatchObject({ locale: 'zh-CN', theme: 'system' });
    expect(r.reset()).toMatchObject({ locale: 'en' });
  });

  it('reads a damaged or out-of-range stored value as its default and keeps the rest', () => {
    const r = repo();
    r.set({ locale: 'zh-CN' });
    o.db.prepare(`INSERT INTO settings VALUES ('pageSize', '5', 'x'), ('theme', '{not json', 'x'), ('obsolete', '1', 'x')`).run();
    // As the next start reads them (the repo caches what it wrote itself).
    const fresh = new SettingsRepo(o.db);
    expect(fresh.get()).toEqual(expect.objectContaining({ locale: 'zh-CN', pageSize: 100, theme: 'system' }));
    expect(fresh.get()).not.toHaveProperty('obsolete');
  });
});
