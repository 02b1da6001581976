import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportFile, ReportPreview } from '@shared/contract/reports';
import { tempDir, testCore } from '../test/helpers';
import { openSnapshotFile, readSnapshotHeader, SnapshotError, MAGIC } from './snapshot';
import { call, reportFixture, runTask } from './testing';

type TestCore = Awaited<ReturnType<typeof testCore>>;
let dir: { path: string; cleanup(): void };
let source: TestCore;
let file: string;
const SECRET = 'hunter2-very-secret-password';

beforeAll(async () => {
  dir = tempDir();
  source = await testCore(join(dir.path, 'source'));
  reportFixture(source.db, { hosts: 12, guests: 120 });
  // Things a snapshot must leave behind: a vault secret (and the vault's key), a host's connection and trusted key,
  // settings, a schedule, task history.
  await source.vault.put('host:h1:auth', 'ssh-password', SECRET);
  const host = (source.db.prepare('SELECT id FROM hosts ORDER BY name LIMIT 1').get() as { id: string }).id;
  source.db.prepare(`INSERT INTO host_links (host_id, address, port, username, auth_method, created_at, updated_at) VALUES (?, '10.1.2.3', 22, 'root', 'password', 'x', 'x')`).run(host);
  source.db.prepare(`INSERT INTO known_host_keys (address, port, algorithm, fingerprint, trusted_at) VALUES ('10.1.2.3', 22, 'ssh-ed25519', 'SHA256:abc', 'x')`).run();
  await call(source, 'settings.set', { patch: { locale: 'zh-CN' } });
  await call(source, 'reports.setRateCard', { currency: 'EUR', vcpuMonth: 10, memoryGbMonth: 2, diskGbMonth: 0.1 });
  await call(source, 'favorites.add', { kind: 'guests', ids: ['g-zh'] });
  const t = await runTask(source, 'reports.exportSnapshot', { fileName: 'office' });
  expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
  file = (t.result as ReportFile).path;
});
afterAll(async () => {
  await source.close();
  dir.cleanup();
});

describe('inventory snapshots', () => {
  it('is one file: a header naming the snapshot, then the gzip’d database without secrets', () => {
    expect(file).toBe(join(dir.path, 'source', 'exports', 'office.sdsnap'));
    const { header, offset } = readSnapshotHeader(file);
    expect(header).toMatchObject({ format: 'skydeck.inventory-snapshot', version: 1, app: '0.1.0-test' });
    expect(header.counts.guests).toBe((source.db.prepare('SELECT count(*) AS n FROM guests').get() as { n: number }).n);
    const db = gunzipSync(readFileSync(file).subarray(offset));
    expect(db.subarray(0, 15).toString()).toBe('SQLite format 3');
    expect(db.includes(Buffer.from(SECRET))).toBe(false);
    expect(db.includes(Buffer.from('10.1.2.3'))).toBe(false);
  });

  it('opens read-only in a fresh data directory: the same inventory, searchable and reportable, marked with its date', async () => {
    const dataDir = join(dir.path, 'viewer');
    const header = await openSnapshotFile(file, dataDir);
    const viewer = await testCore(dataDir);
    try {
      const info = await call(viewer, 'system.info');
      expect(info.readOnly).toBe(true);
      const caps = await call(viewer, 'system.capabilities');
      expect(caps.inventoryOrigin).toMatchObject({ kind: 'snapshot', at: header.createdAt });
      for (const kind of ['hosts', 'guests', 'networks', 'projects', 'disks', 'cloudAccounts']) {
        const a = await call(source, `${kind}.list`, { limit: 1000 });
        const b = await call(viewer, `${kind}.list`, { limit: 1000 });
        expect(b.total, kind).toBe(a.total);
        // The same rows, now all read-only.
        expect(b.items.map((x: { readOnly: boolean }) => x.readOnly).every(Boolean), kind).toBe(true);
        expect(b.items.map(({ readOnly: _r, ...x }: { readOnly: boolean }) => x), kind).toEqual(a.items.map(({ readOnly: _r, ...x }: { readOnly: boolean }) => x));
      }
      // Free-text search (FTS) works on the snapshot.
      const found = await call(viewer, 'guests.list', { q: '报表测试机' });
      expect(found.items.map((g: { id: string }) => g.id)).toEqual(['g-zh']);
      // Reports run, with the snapshot's date in them.
      const p = await call<ReportPreview>(viewer, 'reports.preview', { report: { type: 'capacity' } });
      const q = await call<ReportPreview>(source, 'reports.preview', { report: { type: 'capacity' } });
      expect(p.sections).toEqual(q.sections);
      expect(p.snapshotAt).toBe(header.createdAt);
      const csv = await runTask(viewer, 'reports.run', { report: { type: 'cost' }, format: 'csv' });
      expect(csv.status).toBe('succeeded');
      expect(await call(viewer, 'reports.getRateCard')).toEqual({ currency: 'EUR', vcpuMonth: 10, memoryGbMonth: 2, diskGbMonth: 0.1, exchangeRates: {} });
      // What was left out.
      const n = (sql: string) => (viewer.db.prepare(sql).get() as { n: number }).n;
      expect(n('SELECT count(*) AS n FROM secrets')).toBe(0);
      expect(n(`SELECT count(*) AS n FROM meta WHERE key = 'vault.master'`)).toBe(0);
      expect(n('SELECT count(*) AS n FROM host_links')).toBe(0);
      expect(n('SELECT count(*) AS n FROM known_host_keys')).toBe(0);
      expect(n(`SELECT count(*) AS n FROM tasks WHERE type <> 'reports.run'`)).toBe(0);
      expect(n('SELECT count(*) AS n FROM settings')).toBe(0);
      // Changes are refused with the snapshot named; the viewer's own things still work.
      await expect(call(viewer, 'projects.create', { name: 'new' })).rejects.toMatchObject({ code: 'forbidden', details: { reason: 'read_only_snapshot', snapshotAt: header.createdAt } });
      await expect(call(viewer, 'reports.setRateCard', { currency: 'USD', vcpuMonth: 1, memoryGbMonth: 1, diskGbMonth: 1 })).rejects.toMatchObject({ code: 'forbidden' });
      await expect(call(viewer, 'reports.createSchedule', { name: 'x', report: { type: 'cost' }, format: 'csv', cadence: { kind: 'daily', time: '06:00' }, folder: dir.path })).rejects.toMatchObject({ code: 'forbidden' });
      await call(viewer, 'favorites.add', { kind: 'hosts', ids: ['x'] });
      await call(viewer, 'settings.set', { patch: { theme: 'dark' } });
    } finally {
      await viewer.close();
    }
    // Opening it again in the same directory reuses it; another database there is refused.
    await expect(openSnapshotFile(file, dataDir)).resolves.toMatchObject({ id: header.id });
    await expect(openSnapshotFile(file, join(dir.path, 'source'))).rejects.toThrow(/already holds a Skydeck database/);
  });

  it('refuses a corrupt, truncated or foreign file with a clear error, and writes nothing', async () => {
    const bytes = readFileSync(file);
    const { offset } = readSnapshotHeader(file);
    const cases: [string, Buffer, RegExp][] = [
      ['flipped.sdsnap', Buffer.concat([bytes.subarray(0, offset + 2000), Buffer.from([bytes[offset + 2000]! ^ 0xff]), bytes.subarray(offset + 2001)]), /is damaged: its data (is truncated or corrupt|does not match the checksum)/],
      ['truncated.sdsnap', bytes.subarray(0, bytes.length - 5000), /is damaged: its data is truncated or corrupt/],
      ['header.sdsnap', Buffer.concat([Buffer.from(MAGIC), Buffer.from('{"format":"skydeck.inv')]), /is damaged: its header/],
      ['foreign.sdsnap', readFileSync(join(dir.path, 'source', 'skydeck.db')).subarray(0, 8192), /is not a Skydeck inventory snapshot/],
      ['empty.sdsnap', Buffer.alloc(0), /is not a Skydeck inventory snapshot/],
      ['newer.sdsnap', Buffer.from(bytes.toString('latin1').replace(/"schemaVersion":\d+/, '"schemaVersion":99'), 'latin1'), /from a newer Skydeck .*schema 99/],
    ];
    for (const [name, data, error] of cases) {
      const f = join(dir.path, name);
      writeFileSync(f, data);
      const target = join(dir.path, `open-${name}`);
      await expect(openSnapshotFile(f, target), name).rejects.toThrow(error);
      await expect(openSnapshotFile(f, target), name).rejects.toBeInstanceOf(SnapshotError);
      mkdirSync(target, { recursive: true });
      expect(() => new Database(join(target, 'skydeck.db'), { fileMustExist: true }), name).toThrow();
    }
    await expect(openSnapshotFile(join(dir.path, 'missing.sdsnap'), join(dir.path, 'm'))).rejects.toThrow(/cannot read .*missing\.sdsnap \(ENOENT\)/);
    copyFileSync(file, join(dir.path, 'copy.sdsnap'));
  });
});
