// Screenshots of the Reports screens (and Settings → Retention of their files) on a seeded inventory, and of an inventory snapshot opened read-only by a second
// server, in light and dark, English and Chinese: node scripts/shots/reports.mjs [outDir]. Needs a build.
/* global document */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { startTencentFake } from '../peers/clouds/tencent/fake.mjs';
import { navigate as go, startServer } from './server.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const outDir = process.argv[2] ?? join(ROOT, 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'skydeck-shots-'));
const seeded = spawnSync(process.execPath, [join(ROOT, 'out', 'main', 'seed.js'), '--hosts', '200', '--guests', '2000', '--data-dir', dataDir], { encoding: 'utf8' });
if (seeded.status !== 0) throw new Error(seeded.stderr);
const folder = mkdtempSync(join(tmpdir(), 'skydeck-shots-reports-'));
const server = await startServer(dataDir);
const tc = await startTencentFake();
let viewer = null;
const browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const api = server.api;
  await api('reports.setRateCard', { currency: 'USD', vcpuMonth: 8.5, memoryGbMonth: 2.1, diskGbMonth: 0.06, exchangeRates: { CNY: 0.14, EUR: 1.08 } });
  // A Tencent Cloud account (the signature-checking fake): its sync stores the CNY prices of its instance types, converted.
  const tcAcct = await api('clouds.add', { name: 'tc-gz', credentials: { provider: 'tencent', secretId: tc.secretId, secretKey: tc.secretKey }, endpoint: tc.url, regions: ['ap-guangzhou'] });
  if (tcAcct.taskId) await server.waitTask(tcAcct.taskId);
  for (const [provider, instanceType, hourly] of [['aws', 'm6i.large', 0.096], ['aws', 'm6i.xlarge', 0.192], ['aliyun', 'ecs.g7.large', 0.62], ['azure', 'Standard_D2s_v5', 0.096]]) {
    await api('reports.setPrice', { provider, instanceType, hourly });
  }
  await api('reports.setPrice', { provider: 'aws', region: 'eu-west-1', instanceType: 'm6i.large', hourly: 0.107 });
  await api('reports.createSchedule', { name: 'Weekly capacity', report: { type: 'capacity' }, format: 'pdf', locale: 'zh-CN', cadence: { kind: 'weekly', time: '07:00', weekday: 1 }, folder });
  const daily = await api('reports.createSchedule', { name: 'Daily inventory', report: { type: 'inventory', sections: ['hosts', 'guests'] }, format: 'xlsx', cadence: { kind: 'daily', time: '06:30' }, folder });
  await api('reports.createSchedule', { name: 'Monthly cost', report: { type: 'cost', filters: { period: { preset: 'lastMonth' } } }, format: 'xlsx', cadence: { kind: 'monthly', time: '08:00', day: 1 }, folder });
  await server.waitTask((await api('reports.runSchedule', { id: daily.id })).taskId);
  await server.waitTask((await api('reports.run', { report: { type: 'capacity' }, format: 'pdf', locale: 'en' })).taskId);
  await server.waitTask((await api('reports.run', { report: { type: 'inventory' }, format: 'csv', bom: true })).taskId);
  const snap = await server.waitTask((await api('reports.exportSnapshot', {})).taskId);
  const viewerDir = mkdtempSync(join(tmpdir(), 'skydeck-shots-viewer-'));
  rmSync(viewerDir, { recursive: true });
  viewer = await startServer(viewerDir, ['--snapshot', snap.result.path]);

  for (const theme of ['light', 'dark']) {
    for (const lang of ['en', 'zh-CN']) {
      await api('settings.set', { patch: { theme, locale: lang } });
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      await page.goto(server.url);
      await page.getByTestId('page-dashboard').waitFor();
      const shot = async (name, p = page) => {
        await p.mouse.move(0, 0);
        await p.evaluate(() => document.activeElement?.blur?.());
        await p.locator('.sd-main').evaluate((e) => e.scrollTo(0, 0));
        await p.screenshot({ path: join(outDir, `reports-${name}-${theme}-${lang}.png`) });
      };
      await go(page, '/reports');
      await page.getByTestId('page-reports').waitFor();
      await page.getByTestId('report-type-capacity').click();
      await page.getByTestId('report-preview-run').click();
      await page.getByTestId('report-preview').waitFor();
      await page.waitForTimeout(400);
      await shot('capacity');
      await page.getByTestId('report-type-cost').click();
      await page.getByTestId('report-preview-run').click();
      await page.getByTestId('report-section-guests').waitFor();
      await page.waitForTimeout(400);
      await shot('cost');
      await go(page, '/reports?tab=schedules');
      await page.getByTestId('schedules-table').waitFor();
      await page.waitForTimeout(400);
      await shot('schedules');
      await page.getByTestId('schedule-new').click();
      await page.getByTestId('schedule-dialog').waitFor();
      await page.waitForTimeout(400);
      await shot('schedule-dialog');
      await page.keyboard.press('Escape');
      await go(page, '/reports?tab=rates');
      await page.getByTestId('prices-table').waitFor();
      await page.waitForTimeout(400);
      await shot('rates');
      await go(page, '/reports?tab=snapshot');
      await page.getByTestId('snapshot-export').waitFor();
      await page.waitForTimeout(400);
      await shot('snapshot');
      // Settings → Retention: how long report and snapshot files are kept.
      await go(page, '/settings');
      await page.getByTestId('settings-reportKeepRuns').waitFor();
      await page.mouse.move(0, 0);
      await page.evaluate(() => document.activeElement?.blur?.());
      await page.getByTestId('settings-auditRetentionDays').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(outDir, `reports-settings-retention-${theme}-${lang}.png`) });
      await page.close();

      await viewer.api('settings.set', { patch: { theme, locale: lang } });
      const vp = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await vp.goto(viewer.url);
      await vp.getByTestId('page-dashboard').waitFor();
      await vp.waitForTimeout(800);
      await shot('viewer-dashboard', vp);
      await go(vp, '/reports?tab=snapshot');
      await vp.getByTestId('snapshot-current').waitFor();
      await vp.waitForTimeout(400);
      await shot('viewer-snapshot', vp);
      await vp.close();
    }
  }
  console.log(`screenshots in ${outDir}`);
} finally {
  await browser.close();
  await server.stop();
  await tc.close();
  if (viewer) await viewer.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
}
