import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@shared/contract/tasks';
import type { ReportFile, ReportPreview } from '@shared/contract/reports';
import { tempDir, testCore } from '../test/helpers';
import type { PlatformPort } from '../platform/port';
import { reportHandlers } from './handlers';
import { RatesRepo } from './rates';
import { MetricsDb } from '../monitoring/store';
import type { ReportScheduler } from './schedules';
import { call, parseCsv, pdfText, reportFixture, runTask } from './testing';

type TestCore = Awaited<ReturnType<typeof testCore>>;
let dir: { path: string; cleanup(): void };
let core: TestCore;
const q = <T = Record<string, unknown>>(sql: string, ...args: unknown[]) => core.db.prepare(sql).all(...args) as T[];
const file = (t: Task) => t.result as ReportFile;
const gib = (mb: number) => Math.round((mb / 1024) * 100) / 100;
const r2 = (x: number) => Math.round(x * 100) / 100;

beforeAll(async () => {
  dir = tempDir();
  core = await testCore(dir.path);
  reportFixture(core.db);
});
afterAll(async () => {
  await core.close();
  dir.cleanup();
});

describe('XLSX', () => {
  it('writes one sheet per section with typed cells, a frozen bold header and an auto-filter, equal cell by cell to the database', async () => {
    const t = await runTask(core, 'reports.run', { report: { type: 'inventory', sections: ['hosts', 'guests', 'networks'] }, format: 'xlsx', locale: 'en' });
    expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
    const f = file(t);
    expect(f.path).toBe(join(dir.path, 'exports', f.file));
    expect(f.download).toBe(`/api/v1/exports/${f.file}`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(f.path);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Hosts', 'Guests', 'Networks and IP usage', 'About this report']);

    const hosts = wb.getWorksheet('Hosts')!;
    expect(hosts.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    const dbHosts = q<any>(`SELECT h.*, z.name AS zone FROM hosts h LEFT JOIN zones z ON z.id = h.zone_id ORDER BY h.name, h.rowid`);
    expect(hosts.autoFilter).toBe(`A1:S${dbHosts.length + 1}`);
    const header = hosts.getRow(1);
    expect(header.font?.bold).toBe(true);
    expect(header.getCell(1).value).toBe('Name');
    expect(header.getCell(8).value).toBe('CPU cores');
    dbHosts.forEach((h, i) => {
      const row = hosts.getRow(i + 2);
      expect(row.getCell(1).value).toBe(h.name);
      expect(row.getCell(2).value).toBe(h.status);
      expect(row.getCell(5).value ?? null).toBe(h.zone);
      expect(row.getCell(8).value).toBe(h.cpu_cores);
      expect(row.getCell(9).value).toBe(gib(h.memory_mb));
      expect(row.getCell(11).value).toBe(h.guest_count);
      expect(row.getCell(12).value).toBe(h.cpu_allocated);
      expect(row.getCell(15).value).toBe(h.enabled === 1);
      expect(row.getCell(17).value).toBeInstanceOf(Date);
      expect((row.getCell(17).value as Date).toISOString()).toBe(new Date(h.created_at).toISOString());
      expect(row.getCell(17).numFmt).toBe('yyyy-mm-dd hh:mm');
    });
    const foot = hosts.getRow(dbHosts.length + 2);
    expect(foot.getCell(1).value).toBe('Total');
    expect(foot.getCell(8).value).toBe(dbHosts.reduce((a, h) => a + h.cpu_cores, 0));
    expect(foot.font?.bold).toBe(true);

    const guests = wb.getWorksheet('Guests')!;
    const dbGuests = q<any>(`SELECT g.*, p.name AS project, h.name AS host FROM guests g LEFT JOIN projects p ON p.id = g.project_id LEFT JOIN hosts h ON h.id = g.host_id ORDER BY g.name, g.rowid`);
    expect(guests.rowCount).toBe(dbGuests.length + 2);
    dbGuests.forEach((g, i) => {
      const row = guests.getRow(i + 2);
      expect([row.getCell(1).value, row.getCell(3).value, row.getCell(4).value ?? null, row.getCell(5).value ?? null]).toEqual([g.name, g.provider, g.project, g.host]);
      expect(row.getCell(7).value).toBe(g.vcpu);
      expect(typeof row.getCell(7).value).toBe('number');
      expect(row.getCell(8).value).toBe(gib(g.memory_mb));
      expect(row.getCell(9).value).toBe(r2(g.disk_gb));
    });
    const zh = dbGuests.findIndex((g) => g.id === 'g-zh');
    expect(guests.getRow(zh + 2).getCell(4).value).toBe('数据平台');
    expect(guests.getRow(zh + 2).getCell(10).value).toBe('Debian 12, "bookworm"\nLTS');
    expect(guests.getRow(zh + 2).getCell(14).value).toBe('env=prod; team=数据');

    const nets = wb.getWorksheet('Networks and IP usage')!;
    const dbNets = q<any>(`SELECT n.name, n.ip_end_int - n.ip_start_int + 1 AS size, (SELECT count(*) FROM ip_allocations a WHERE a.network_id = n.id) AS used FROM networks n ORDER BY n.name, n.id`);
    dbNets.forEach((n, i) => {
      const row = nets.getRow(i + 2);
      expect([row.getCell(1).value, row.getCell(9).value, row.getCell(10).value, row.getCell(11).value]).toEqual([n.name, n.size, n.used, n.size - n.used]);
      expect(row.getCell(12).value).toBe(Math.round((1000 * n.used) / n.size) / 10);
    });
  });

  it('names sheets in Chinese for a zh-CN report', async () => {
    const t = await runTask(core, 'reports.run', { report: { type: 'capacity' }, format: 'xlsx', locale: 'zh-CN' });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file(t).path);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['按可用区', '按宿主机', '按项目', '报表说明']);
    const zones = wb.worksheets[0]!;
    expect(zones.getRow(1).getCell(1).value).toBe('可用区');
    const dbZones = q<any>(`SELECT coalesce(z.name, '（无）') AS zone, count(*) AS hosts, sum(h.cpu_cores) AS cores, sum(h.cpu_allocated) AS alloc FROM hosts h LEFT JOIN zones z ON z.id = h.zone_id GROUP BY h.zone_id ORDER BY z.name`);
    dbZones.forEach((z, i) => {
      const row = zones.getRow(i + 2);
      expect([row.getCell(1).value, row.getCell(2).value, row.getCell(3).value, row.getCell(4).value]).toEqual([z.zone, z.hosts, z.cores, z.alloc]);
      expect(row.getCell(6).value).toBe(Math.round((1000 * z.alloc) / z.cores) / 10);
    });
  });
});

describe('CSV', () => {
  it('streams RFC 4180 with a BOM on request, and parses back to the database rows', async () => {
    const t = await runTask(core, 'reports.run', { report: { type: 'inventory', sections: ['guests'] }, format: 'csv', locale: 'en', bom: true });
    const bytes = readFileSync(file(t).path);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes.subarray(3).toString('utf8'));
    expect(rows[0]).toEqual(['Name', 'Status', 'Provider', 'Project', 'Host', 'Zone', 'vCPU', 'Memory (GiB)', 'Disk (GiB)', 'Operating system', 'Instance type', 'IP addresses', 'Created (UTC)', 'Tags']);
    const dbGuests = q<any>(`SELECT g.*, p.name AS project FROM guests g LEFT JOIN projects p ON p.id = g.project_id ORDER BY g.name, g.rowid`);
    expect(rows.length).toBe(dbGuests.length + 1);
    expect(file(t).rows).toBe(dbGuests.length);
    dbGuests.forEach((g, i) => {
      const r = rows[i + 1]!;
      expect(r[0]).toBe(g.name.startsWith('=') ? `'${g.name}` : g.name);
      expect(r[3]).toBe(g.project ?? '');
      expect(Number(r[6])).toBe(g.vcpu);
      expect(Number(r[7])).toBe(gib(g.memory_mb));
      expect(r[9]).toBe(g.os);
      expect(r[12]).toBe(g.created_at);
    });
    const zh = rows.find((r) => r[0] === '报表测试机')!;
    expect(zh[9]).toBe('Debian 12, "bookworm"\nLTS');
    expect(zh[11]).toBe('10.99.0.5, 10.99.0.6');
    // Text a spreadsheet would run as a formula starts with an apostrophe.
    expect(rows.some((r) => r[0] === "'=cmd")).toBe(true);
  });

  it('writes several sections one after the other, each with its title and header, and no BOM unless asked', async () => {
    const t = await runTask(core, 'reports.run', { report: { type: 'capacity', sections: ['zones', 'projects'] }, format: 'csv', locale: 'zh-CN' });
    const text = readFileSync(file(t).path, 'utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['按可用区']);
    expect(rows[1]![0]).toBe('可用区');
    const blank = rows.findIndex((r) => r.length === 1 && r[0] === '');
    expect(rows[blank + 1]).toEqual(['按项目']);
    const projects = rows.slice(blank + 3);
    expect(projects.map((r) => r[0])).toEqual(q<{ name: string }>('SELECT name FROM projects ORDER BY name').map((p) => p.name));
  });
});

describe('PDF', () => {
  it('prints the report with its charts through Chromium, and pdftotext reads the English and Chinese text back', async () => {
    const en = await runTask(core, 'reports.run', { report: { type: 'capacity' }, format: 'pdf', locale: 'en' });
    expect(en.status, JSON.stringify(en.error)).toBe('succeeded');
    const f = file(en);
    expect(readFileSync(f.path).subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(f.path);
    expect(text).toContain('Capacity and allocation report');
    expect(text).toContain('Allocated share of capacity by zone');
    expect(text).toContain('By zone');
    expect(text).toContain('hourly rollups of monitoring');
    for (const z of q<{ name: string }>(`SELECT DISTINCT z.name FROM hosts h JOIN zones z ON z.id = h.zone_id`)) expect(text).toContain(z.name);

    const zh = await runTask(core, 'reports.run', { report: { type: 'inventory', sections: ['guests'], filters: { projects: ['p-zh'] } }, format: 'pdf', locale: 'zh-CN' });
    expect(zh.status, JSON.stringify(zh.error)).toBe('succeeded');
    const zt = pdfText(file(zh).path);
    expect(zt).toContain('资源清单报表');
    expect(zt).toContain('各平台虚拟机数');
    expect(zt).toContain('报表测试机');
    expect(zt).toContain('数据平台');
    expect(zt).toContain('筛选条件：项目: 数据平台');
    expect(file(zh).rows).toBe(2);
  }, 60_000);
});

describe('preview', () => {
  it('answers the first rows of each section, totals, charts and notes, in the asked language', async () => {
    const p = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'inventory' }, locale: 'en', limit: 5 });
    expect(p.title).toBe('Inventory report');
    expect(p.sections.map((s) => s.key)).toEqual(['hosts', 'guests', 'disks', 'networks', 'cloud']);
    const guests = p.sections.find((s) => s.key === 'guests')!;
    expect(guests.rows.length).toBe(5);
    expect(guests.total).toBe(q<{ n: number }>('SELECT count(*) AS n FROM guests')[0]!.n);
    expect(guests.footer?.[6]).toBe(q<{ n: number }>('SELECT sum(vcpu) AS n FROM guests')[0]!.n);
    const cloud = p.sections.find((s) => s.key === 'cloud')!;
    const dbCloud = q<any>(`SELECT ca.name AS account, r.name AS region, count(*) AS n FROM guests g JOIN cloud_accounts ca ON ca.id = g.cloud_account_id LEFT JOIN zones z ON z.id = g.zone_id LEFT JOIN regions r ON r.id = z.region_id GROUP BY ca.id, r.id ORDER BY ca.name, r.name`);
    expect(cloud.total).toBe(dbCloud.length);
    expect(cloud.rows.map((r) => [r[0], r[2], r[3]])).toEqual(dbCloud.slice(0, 5).map((c) => [c.account, c.region, c.n]));
    expect(p.charts.map((c) => c.key)).toEqual(['guestsByProvider', 'ipUsage']);
    expect(p.filters).toEqual(['Filters: none (everything)']);
  });

  it('filters by project, provider, zone and tag', async () => {
    const zone = q<{ id: string }>(`SELECT zone_id AS id FROM guests WHERE id = 'g-zh'`)[0]!.id;
    const p = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'inventory', sections: ['guests'], filters: { providers: ['kvm'], zones: [zone], tags: ['team=数据', 'env'] } }, locale: 'zh-CN' });
    expect(p.sections[0]!.rows.map((r) => r[0])).toEqual(['报表测试机']);
    expect(p.filters[0]).toContain('标签: team=数据, env');
    const byProject = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'capacity', sections: ['hosts'], filters: { projects: ['p-zh'] } } });
    // Allocation counts only the project's guests: one host, with the project's two guests.
    expect(byProject.sections[0]!.rows.map((r) => [r[5], r[13]])).toEqual([[5, 2]]);
  });

  it('shows each host\'s CPU and memory use from the hourly rollups of monitoring, blank where nothing was collected', async () => {
    const hosts = q<{ id: string; name: string }>('SELECT id, name FROM hosts ORDER BY name, rowid');
    const host = hosts[0]!;
    const now = Date.now();
    // Two hours of samples: CPU 10 then 30 (avg 20, peak 30); memory 50 and 70; one old sample outside the window.
    const m = MetricsDb.of(core.db); // the monitoring service's store: the report folds its pending samples in
    m.insertMany([
      { kind: 'host', resourceId: host.id, metric: 'cpu.util', ts: now - 2 * 3_600_000, value: 10 },
      { kind: 'host', resourceId: host.id, metric: 'cpu.util', ts: now - 3_600_000, value: 30 },
      { kind: 'host', resourceId: host.id, metric: 'mem.util', ts: now - 2 * 3_600_000, value: 50 },
      { kind: 'host', resourceId: host.id, metric: 'mem.util', ts: now - 3_600_000, value: 70 },
      { kind: 'host', resourceId: host.id, metric: 'cpu.util', ts: now - 30 * 86_400_000, value: 99 },
    ]);
    const p = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'capacity', sections: ['hosts'] } });
    const s = p.sections[0]!;
    const col = (label: string) => s.columns.findIndex((c) => c.key === label || c.label === label);
    const row = s.rows.find((r) => r[0] === host.name)!;
    const [ca, cp, ma, mp] = ['cpuUseAvg', 'cpuUsePeak', 'memoryUseAvg', 'memoryUsePeak'].map(col);
    expect([row[ca!], row[cp!], row[ma!], row[mp!]]).toEqual([20, 30, 60, 70]);
    // Other hosts: no samples, blank.
    expect(s.rows.filter((r) => r[0] !== host.name).every((r) => r[ca!] === null)).toBe(true);
    expect(p.notes.join(' ')).toContain('hourly rollups of monitoring');
    // A period in the past: nothing collected then.
    const old = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'capacity', sections: ['hosts'], filters: { period: { from: '2020-01-01', to: '2020-01-31' } } } });
    expect(old.sections[0]!.rows.find((r) => r[0] === host.name)![ca!]).toBeNull();
  });

  it('lists the audit log of a period as changes, with a summary by action', async () => {
    await call(core, 'settings.set', { patch: { pageSize: 50 } });
    await call(core, 'settings.set', { patch: { pageSize: 100 } });
    await call(core, 'reports.setRateCard', { currency: 'EUR', vcpuMonth: 10, memoryGbMonth: 2, diskGbMonth: 0.1 });
    const p = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'changes', filters: { period: { preset: 'last7d' }, projects: ['p-zh'] } } });
    const summary = p.sections[0]!;
    expect(summary.rows.find((r) => r[0] === 'settings.set')?.[1]).toBe(2);
    const changes = p.sections[1]!;
    expect(changes.total).toBe(q<{ n: number }>('SELECT count(*) AS n FROM audit_log')[0]!.n);
    expect(p.notes[0]).toContain('Only the period applies');
    expect(p.charts[0]!.key).toBe('changesPerDay');
    const none = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'changes', filters: { period: { from: '2020-01-01', to: '2020-01-31' } } } });
    expect(none.sections[1]!.total).toBe(0);
    expect(none.period).toEqual({ from: '2020-01-01T00:00:00.000Z', to: '2020-02-01T00:00:00.000Z' });
  });

  it('charges own guests by the rate card and cloud instances by their stored prices, pro rata over the period', async () => {
    await call(core, 'reports.setRateCard', { currency: 'EUR', vcpuMonth: 10, memoryGbMonth: 2, diskGbMonth: 0.1 });
    const inst = q<any>(`SELECT g.provider, g.instance_type, r.name AS region FROM guests g JOIN zones z ON z.id = g.zone_id JOIN regions r ON r.id = z.region_id WHERE g.cloud_account_id IS NOT NULL ORDER BY g.name LIMIT 1`)[0];
    await call(core, 'reports.setPrice', { provider: inst.provider, instanceType: inst.instance_type, hourly: 0.5 });
    await call(core, 'reports.setPrice', { provider: inst.provider, region: inst.region, instanceType: inst.instance_type, hourly: 0.25 });
    const period = { from: '2026-10-01', to: '2026-10-31' };
    const p = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'cost', filters: { period, projects: ['p-zh'] } }, limit: 1000 });
    const guests = p.sections.find((s) => s.key === 'guests')!;
    expect(guests.columns.at(-1)!.label).toBe('Cost (EUR)');
    // g-zh: created 2026-10-01, so charged the whole of October: (4 vCPU × 10 + 8 GiB × 2 + 100 GiB × 0.1) × 31 / 30.4375.
    const zh = guests.rows.find((r) => r[0] === '报表测试机')!;
    expect(zh[8]).toBe(31);
    expect(zh[10]).toBe(r2(((4 * 10 + 8 * 2 + 100 * 0.1) * 31) / (365.25 / 12)));
    const proj = p.sections.find((s) => s.key === 'projects')!;
    expect(proj.rows[0]![0]).toBe('数据平台');
    expect(proj.rows[0]![12]).toBe(r2(Number(zh[10]) + Number(guests.rows.find((r) => r[0] === '=cmd')![10])));

    const cloud = await call<ReportPreview>(core, 'reports.preview', { report: { type: 'cost', sections: ['guests'], filters: { period: { from: '2026-11-01', to: '2026-11-10' }, providers: [inst.provider] } }, limit: 1000 });
    const rows = cloud.sections[0]!.rows;
    const priced = rows.filter((r) => r[4] === inst.instance_type);
    expect(priced.length).toBeGreaterThan(0);
    for (const r of priced) {
      expect(r[9]).toBe(r[3] === inst.region ? 0.25 : 0.5);
      expect(r[10]).toBe(r2(Number(r[9]) * Number(r[8]) * 24));
    }
    const unpriced = rows.filter((r) => r[9] === null).length;
    if (unpriced) expect(cloud.notes.some((n) => n.includes(`${unpriced} cloud instances have no stored price`))).toBe(true);
  });
});

describe('tasks', () => {
  it('reports progress and removes the partial file when cancelled', async () => {
    const { taskId } = await call<{ taskId: string }>(core, 'reports.run', { report: { type: 'inventory' }, format: 'pdf', locale: 'en' });
    const seen: number[] = [];
    const off = core.engine.onTaskUpdate((t) => {
      if (t.id === taskId) seen.push(t.progress);
    });
    await new Promise((r) => setTimeout(r, 50));
    await call(core, 'tasks.cancel', { id: taskId });
    const t = await core.engine.waitFor(taskId);
    off();
    expect(t.status).toBe('cancelled');
    expect(readdirSync(join(dir.path, 'exports')).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('takes a file name, and never overwrites an earlier file', async () => {
    const a = await runTask(core, 'reports.run', { report: { type: 'capacity', sections: ['zones'] }, format: 'csv', fileName: 'weekly capacity' });
    const b = await runTask(core, 'reports.run', { report: { type: 'capacity', sections: ['zones'] }, format: 'csv', fileName: 'weekly capacity' });
    expect([file(a).file, file(b).file]).toEqual(['weekly capacity.csv', 'weekly capacity-2.csv']);
    expect(existsSync(file(a).path) && existsSync(file(b).path)).toBe(true);
  });
});

describe('save as', () => {
  it('copies a finished report to where the desktop save dialog says, and answers null when there is none (headless)', async () => {
    const t = await runTask(core, 'reports.run', { report: { type: 'capacity', sections: ['zones'] }, format: 'csv' });
    const target = join(dir.path, 'chosen.csv');
    const desktop = { chooseSaveFile: async () => target } as unknown as PlatformPort;
    const h = reportHandlers({ db: core.db, engine: core.engine, platform: desktop, rates: new RatesRepo(core.db), scheduler: {} as ReportScheduler });
    const ctx = { actor: 'test', transport: 'internal' as const };
    expect(await h['reports.saveAs']({ taskId: t.id }, ctx)).toEqual({ path: target });
    expect(readFileSync(target)).toEqual(readFileSync(file(t).path));
    expect(await call(core, 'reports.saveAs', { taskId: t.id })).toEqual({ path: null });
  });
});

describe('validation', () => {
  const bad = async (name: string, input: unknown) => {
    try {
      await call(core, name, input);
    } catch (e) {
      return e as { code: string; message: string; details: { issues: { path: string; message: string }[] } };
    }
    throw new Error(`${name} accepted ${JSON.stringify(input)}`);
  };
  const issue = async (name: string, input: unknown) => {
    const e = await bad(name, input);
    expect(e.code).toBe('validation');
    return e.details.issues[0]!;
  };

  it('names the field and the reason for every bad input', async () => {
    expect(await issue('reports.preview', { report: { type: 'sales' } })).toMatchObject({ path: 'report.type' });
    expect(await issue('reports.preview', { report: { type: 'inventory', sections: ['hosts', 'zones'] } })).toMatchObject({ path: 'report.sections.1', message: 'a inventory report has no section "zones"; it has hosts, guests, disks, networks, cloud' });
    expect(await issue('reports.preview', { report: { type: 'cost', filters: { period: { from: '2026-02-01', to: '2026-01-01' } } } })).toMatchObject({ path: 'report.filters.period.to', message: 'the period ends before it starts' });
    expect(await issue('reports.preview', { report: { type: 'cost', filters: { period: { from: 'yesterday', to: '2026-01-01' } } } })).toMatchObject({ path: 'report.filters.period.from', message: 'must be a date (YYYY-MM-DD) or an ISO 8601 time' });
    expect(await issue('reports.preview', { report: { type: 'inventory', filters: { tags: ['=x'] } } })).toMatchObject({ path: 'report.filters.tags.0', message: 'a tag filter is key or key=value' });
    expect(await issue('reports.preview', { report: { type: 'inventory', filters: { providers: ['gcp'] } } })).toMatchObject({ path: 'report.filters.providers.0' });
    expect(await issue('reports.preview', { report: { type: 'inventory', filters: { project: ['p'] } } })).toMatchObject({ code: 'unrecognized_keys' });
    expect(await issue('reports.preview', { report: { type: 'inventory' }, limit: 5000 })).toMatchObject({ path: 'limit' });
    expect(await issue('reports.run', { report: { type: 'inventory' }, format: 'docx' })).toMatchObject({ path: 'format' });
    expect(await issue('reports.run', { report: { type: 'inventory' }, format: 'csv', fileName: '../etc/passwd' })).toMatchObject({ path: 'fileName' });
    expect(await issue('reports.setRateCard', { currency: 'euro', vcpuMonth: 1, memoryGbMonth: 1, diskGbMonth: 1 })).toMatchObject({ path: 'currency' });
    expect(await issue('reports.setRateCard', { currency: 'EUR', vcpuMonth: -1, memoryGbMonth: 1, diskGbMonth: 1 })).toMatchObject({ path: 'vcpuMonth' });
    expect(await issue('reports.setPrice', { provider: 'kvm', instanceType: 'x', hourly: 1 })).toMatchObject({ path: 'provider' });
    const sched = { name: 'n', report: { type: 'inventory' }, format: 'csv', folder: dir.path };
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'daily', time: '25:00' } })).toMatchObject({ path: 'cadence.time', message: 'a time of day as HH:MM (24 hours)' });
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'monthly', time: '06:00', day: 31 } })).toMatchObject({ path: 'cadence.day' });
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'cron', expression: '0 25 * * *' } })).toMatchObject({ path: 'cadence.expression', message: 'hour: 25 is outside 0-23' });
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'cron', expression: '* * *' } })).toMatchObject({ path: 'cadence.expression' });
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'hourly' } })).toMatchObject({ path: 'cadence.kind' });
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'daily', time: '06:00' }, folder: 'reports' })).toMatchObject({ path: 'folder', message: 'must be an absolute path' });
    expect(await issue('reports.createSchedule', { ...sched, cadence: { kind: 'daily', time: '06:00' }, folder: join(dir.path, 'nope') })).toMatchObject({ path: 'folder', code: 'not_found' });
  });

  it('answers not_found and conflict where the input is well-formed but wrong', async () => {
    expect((await bad('reports.deleteSchedule', { id: 'nope' })).code).toBe('not_found');
    expect((await bad('reports.saveAs', { taskId: 'nope' })).code).toBe('not_found');
    expect((await bad('reports.deletePrice', { provider: 'aws', instanceType: 'x9.huge' })).code).toBe('not_found');
  });
});
