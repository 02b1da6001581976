import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { expect, test, type Page } from '@playwright/test';
import { removeDir, startServer, type ServerHandle } from './server';

/**
 * Reports against a real headless server on a seeded inventory: built and previewed in the UI, exported as CSV (the
 * browser downloads it), XLSX and PDF (read back), a schedule that fires, and an inventory snapshot opened read-only by
 * a second server with a fresh data directory.
 */
const ROOT = join(import.meta.dirname, '..');
let server: ServerHandle;
let seedDir: string;
const extra: ServerHandle[] = [];
const dirs: string[] = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  seedDir = mkdtempSync(join(tmpdir(), 'skydeck-e2e-reports-'));
  const r = spawnSync(process.execPath, [join(ROOT, 'out', 'main', 'seed.js'), '--hosts', '40', '--guests', '400', '--data-dir', seedDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  server = await startServer({ dataDir: seedDir });
});

test.afterAll(async () => {
  await Promise.all([server?.stop(), ...extra.map((s) => s.stop())]);
  for (const d of [seedDir, ...dirs, ...extra.map((s) => s.dataDir)]) removeDir(d);
});

async function api<T = any>(s: ServerHandle, command: string, input: unknown = {}): Promise<T> {
  const res = await s.api<T>(command, input);
  if (res.status !== 200) throw new Error(`${command} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function waitTask(s: ServerHandle, id: string, ms = 60_000): Promise<any> {
  const end = Date.now() + ms;
  for (;;) {
    const t = await api(s, 'tasks.get', { id });
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(t.status)) return t;
    if (Date.now() > end) throw new Error(`task ${id} still ${t.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function open(page: Page, s: ServerHandle, path: string): Promise<void> {
  await page.goto(s.url);
  await expect(page.getByTestId('page-dashboard')).toBeVisible();
  await page.evaluate((p) => {
    history.pushState({}, '', p);
    dispatchEvent(new PopStateEvent('popstate', { state: {} }));
  }, path);
}

/** RFC 4180, independent of the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        f += '"';
        i++;
      } else if (c === '"') q = false;
      else f += c;
    } else if (c === '"' && f === '') q = true;
    else if (c === ',') {
      row.push(f);
      f = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
      i++;
    } else f += c;
  }
  return rows;
}

test('a capacity report is built and previewed in the UI, exported as CSV and downloaded, and equals the inventory', async ({ page }) => {
  await open(page, server, '/reports');
  await expect(page.getByTestId('page-reports')).toBeVisible();
  await page.getByTestId('report-type-capacity').click();
  await page.getByTestId('report-preview-run').click();
  await expect(page.getByTestId('report-preview-title')).toHaveText('Capacity and allocation report');
  await expect(page.getByTestId('report-chart-allocationByZone')).toBeVisible();
  await expect(page.getByTestId('report-preview-notes')).toContainText('monitoring');
  const zonesList = await api(server, 'zones.list', { limit: 1000 });
  const hosts = await api(server, 'hosts.list', { limit: 1000 });
  const zoneIds = new Set(hosts.items.map((h: any) => h.zoneId));
  await expect(page.getByTestId('report-section-count-zones')).toContainText(`of ${zoneIds.size} rows`);

  await page.getByTestId('report-format-csv').click();
  await expect(page.getByTestId('report-bom').locator('input')).toBeChecked();
  await page.getByTestId('report-export-run').click();
  const row = page.locator('[data-testid^="report-file-"][data-status="succeeded"]').first();
  await expect(row).toBeVisible({ timeout: 20_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid^="report-file-save-"]').click()]);
  expect(download.suggestedFilename()).toMatch(/^capacity-\d{8}-\d{6}\.csv$/);
  const bytes = readFileSync(await download.path());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const rows = parseCsv(bytes.subarray(3).toString('utf8'));
  // Three sections, each a title, a header and its rows.
  expect(rows[0]).toEqual(['By zone']);
  expect(rows[1]!.slice(0, 4)).toEqual(['Zone', 'Hosts', 'CPU cores', 'vCPU allocated']);
  const zoneRows = rows.slice(2, 2 + zoneIds.size);
  const name = (id: string | null) => zonesList.items.find((z: any) => z.id === id)?.name ?? '(none)';
  for (const id of zoneIds) {
    const mine = hosts.items.filter((h: any) => h.zoneId === id);
    const r = zoneRows.find((x) => x[0] === name(id as string | null))!;
    expect(r, name(id as string | null)).toBeTruthy();
    expect(r.slice(1, 4).map(Number)).toEqual([mine.length, mine.reduce((a: number, h: any) => a + h.cpuCores, 0), mine.reduce((a: number, h: any) => a + h.cpuAllocated, 0)]);
  }
});

test('XLSX is served for download and reads back equal to the hosts list; a Chinese PDF reads back with pdftotext', async () => {
  const { taskId } = await api(server, 'reports.run', { report: { type: 'inventory', sections: ['hosts'] }, format: 'xlsx', locale: 'en' });
  const t = await waitTask(server, taskId);
  expect(t.status).toBe('succeeded');
  const res = await fetch(`${server.origin}${t.result.download}`, { headers: { Authorization: `Bearer ${server.token}` } });
  expect(res.status).toBe(200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
  const ws = wb.getWorksheet('Hosts')!;
  expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
  const hosts = (await api(server, 'hosts.list', { limit: 1000, sort: 'name' })).items;
  expect(ws.autoFilter).toBe(`A1:S${hosts.length + 1}`);
  hosts.forEach((h: any, i: number) => {
    const r = ws.getRow(i + 2);
    expect([r.getCell(1).value, r.getCell(2).value, r.getCell(8).value, r.getCell(9).value, r.getCell(11).value, r.getCell(12).value]).toEqual([
      h.name,
      h.status,
      h.cpuCores,
      Math.round((h.memoryMb / 1024) * 100) / 100,
      h.guestCount,
      h.cpuAllocated,
    ]);
  });

  const pdf = await waitTask(server, (await api(server, 'reports.run', { report: { type: 'capacity' }, format: 'pdf', locale: 'zh-CN' })).taskId);
  expect(pdf.status, JSON.stringify(pdf.error)).toBe('succeeded');
  const text = execFileSync('pdftotext', ['-layout', pdf.result.path, '-'], { encoding: 'utf8' });
  expect(text).toContain('容量与分配报表');
  expect(text).toContain('各可用区容量分配率');
  expect(text).toContain('按宿主机');
  expect(text).toContain(hosts[0].name);
});

test('a schedule made in the UI fires while the app runs and writes its file into its folder', async ({ page }) => {
  test.setTimeout(150_000);
  const folder = mkdtempSync(join(tmpdir(), 'skydeck-e2e-sched-'));
  dirs.push(folder);
  await open(page, server, '/reports?tab=schedules');
  await page.getByTestId('schedule-new').click();
  const dialog = page.getByTestId('schedule-dialog');
  await dialog.getByTestId('schedule-name').fill('every minute');
  await dialog.getByTestId('schedule-kind-cron').click();
  await dialog.getByTestId('schedule-cron').fill('25 * * * *');
  await dialog.getByTestId('schedule-folder').fill(folder);
  await expect(dialog.getByTestId('schedule-upcoming')).toContainText(':25');
  // A bad expression is refused with the field named.
  await dialog.getByTestId('schedule-cron').fill('* 24 * * *');
  await page.getByTestId('dialog-submit').click();
  await expect(page.getByTestId('field-error-cadence.expression')).toHaveText('hour: 24 is outside 0-23');
  await dialog.getByTestId('schedule-cron').fill('* * * * *');
  await page.getByTestId('dialog-submit').click();
  await expect(page.getByTestId('schedule-row-every minute')).toBeVisible();
  await expect(page.getByTestId('schedule-next-every minute')).toBeVisible();
  await expect.poll(() => readdirSync(folder).filter((f) => f.endsWith('.xlsx')).length, { timeout: 90_000, intervals: [1000] }).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('schedule-last-every minute')).toContainText(/Succeeded/, { timeout: 20_000 });
  const s = (await api(server, 'reports.listSchedules')).items.find((x: any) => x.name === 'every minute');
  expect(s.lastTrigger).toBe('schedule');
  expect(s.lastFile.startsWith(folder)).toBe(true);
  await api(server, 'reports.updateSchedule', { id: s.id, patch: { enabled: false } });
});

test('an inventory snapshot exported in the UI opens read-only on a second server with a fresh data directory', async ({ page }) => {
  test.setTimeout(120_000);
  await open(page, server, '/reports?tab=snapshot');
  await page.getByTestId('snapshot-run').click();
  const row = page.locator('[data-testid^="report-file-"][data-status="succeeded"]').filter({ hasText: '.sdsnap' }).first();
  await expect(row).toBeVisible({ timeout: 30_000 });
  const task = (await api(server, 'tasks.list', { filter: ['type:reports.snapshot'], sort: '-created_at', limit: 1 })).items[0];
  const file: string = task.result.path;
  expect(file).toMatch(/\.sdsnap$/);

  const viewer = await startServer({ args: ['--snapshot', file] });
  extra.push(viewer);
  expect(viewer.output()).toContain('Opened the inventory snapshot taken');
  for (const kind of ['hosts', 'guests', 'networks', 'disks', 'projects']) {
    const a = await api(server, `${kind}.list`, { limit: 200, sort: 'name' });
    const b = await api(viewer, `${kind}.list`, { limit: 200, sort: 'name' });
    expect(b.total, kind).toBe(a.total);
    expect(b.items, kind).toEqual(a.items);
  }
  expect((await api(viewer, 'guests.list', { q: a0(await api(server, 'guests.list', { limit: 1 })) })).total).toBeGreaterThan(0);
  expect((await api(viewer, 'system.info')).readOnly).toBe(true);
  const refused = await viewer.api('projects.create', { name: 'not-here' });
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({ code: 'forbidden', details: { reason: 'read_only_snapshot', snapshotAt: task.result.createdAt } });
  const capacity = await api(viewer, 'reports.preview', { report: { type: 'capacity' } });
  expect(capacity.sections).toEqual((await api(server, 'reports.preview', { report: { type: 'capacity' } })).sections);
  expect(capacity.snapshotAt).toBe(task.result.createdAt);

  await open(page, viewer, '/hosts');
  await expect(page.locator('.sd-readonly')).toContainText('read-only snapshot');
  await expect(page.getByTestId('readonly-banner')).toHaveAttribute('data-origin', 'snapshot');
  await open(page, viewer, '/reports?tab=snapshot');
  await expect(page.getByTestId('snapshot-current')).toContainText('Taken');
});

function a0(list: { items: { name: string }[] }): string {
  return list.items[0]!.name;
}

test('a corrupt or foreign snapshot file is refused at start with the reason', async () => {
  const task = (await api(server, 'tasks.list', { filter: ['type:reports.snapshot'], sort: '-created_at', limit: 1 })).items[0];
  const bytes = readFileSync(task.result.path);
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-e2e-badsnap-'));
  dirs.push(dir);
  const cases: [string, Buffer, RegExp][] = [
    ['truncated.sdsnap', bytes.subarray(0, Math.floor(bytes.length / 2)), /is damaged: its data is truncated or corrupt/],
    ['foreign.sdsnap', Buffer.from('name,status\r\nweb-01,running\r\n'), /is not a Skydeck inventory snapshot/],
  ];
  for (const [name, data, why] of cases) {
    writeFileSync(join(dir, name), data);
    const r = spawnSync(process.execPath, [join(ROOT, 'out', 'main', 'serve.js'), '--port', '0', '--snapshot', join(dir, name), '--data-dir', join(dir, `data-${name}`)], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, name).toBe(1);
    expect(r.stderr, name).toMatch(/^Skydeck cannot open the snapshot: /);
    expect(r.stderr, name).toMatch(why);
  }
});

test('every reports command answers bad input with a validation error naming the field', async () => {
  const bad = async (command: string, input: unknown) => {
    const r = await server.api(command, input);
    expect(r.status, command).toBe(400);
    expect(r.body.code).toBe('validation');
    return r.body.details.issues[0];
  };
  expect(await bad('reports.preview', { report: { type: 'capacity', sections: ['guests'] } })).toMatchObject({ path: 'report.sections.0' });
  expect(await bad('reports.run', { report: { type: 'cost' }, format: 'xlsx', locale: 'fr' })).toMatchObject({ path: 'locale' });
  expect(await bad('reports.createSchedule', { name: 'x', report: { type: 'cost' }, format: 'csv', cadence: { kind: 'cron', expression: '0 25 * * *' }, folder: '/tmp' })).toMatchObject({
    path: 'cadence.expression',
    message: 'hour: 25 is outside 0-23',
  });
  expect(await bad('reports.setRateCard', { currency: 'US', vcpuMonth: 1, memoryGbMonth: 1, diskGbMonth: 1 })).toMatchObject({ path: 'currency' });
  expect(await bad('reports.exportSnapshot', { fileName: 'a/b' })).toMatchObject({ path: 'fileName' });
});

test('report files are kept as Settings → Retention says: a schedule’s older runs are deleted after each run, the folder’s other files never', async ({ page }) => {
  const folder = mkdtempSync(join(tmpdir(), 'skydeck-e2e-retention-'));
  dirs.push(folder);
  writeFileSync(join(folder, 'mine.xlsx'), 'the user’s own file');
  await open(page, server, '/settings');
  const keep = page.getByTestId('settings-reportKeepRuns').locator('input');
  await expect(keep).toHaveValue('30');
  await expect(page.getByTestId('settings-reportRetentionDays').locator('input')).toHaveValue('90');
  await keep.fill('2');
  await keep.blur();
  await page.getByTestId('settings-save').click();
  await expect.poll(async () => (await api(server, 'settings.get')).reportKeepRuns).toBe(2);
  await page.reload();
  await expect(page.getByTestId('settings-reportKeepRuns').locator('input')).toHaveValue('2');
  // The server refuses what the field would not let through, with a message naming the rule.
  const r = await server.api('settings.set', { patch: { reportRetentionDays: -3 } });
  expect(r.status).toBe(400);
  expect(r.body.details.issues[0]).toMatchObject({ path: 'patch.reportRetentionDays', message: 'Report file age must be a whole number of days from 0 (never delete) to 3650' });

  const s = await api(server, 'reports.createSchedule', { name: 'retention e2e', report: { type: 'inventory', sections: ['hosts'] }, format: 'csv', cadence: { kind: 'daily', time: '03:00' }, folder });
  const files: string[] = [];
  for (let i = 0; i < 3; i++) files.push((await waitTask(server, (await api(server, 'reports.runSchedule', { id: s.id })).taskId)).result.file);
  await expect.poll(() => readdirSync(folder).sort()).toEqual(['mine.xlsx', ...files.slice(1)].sort());
  await api(server, 'reports.deleteSchedule', { id: s.id });
  await api(server, 'settings.reset', { keys: ['reportKeepRuns'] });
});
