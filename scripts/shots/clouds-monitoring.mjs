// Screenshots of Cloud accounts (an AWS account on the SigV4-checking EC2 fake; the add dialog with the tag → project
// mapping; an Alibaba Cloud instance's own VNC console relayed to a real QEMU display), cloud guests in Guests, and monitoring
// (a real sshd host with the real agent and libvirt's test driver, sampled every 2 s), in light and dark, English and
// Chinese: node scripts/shots/clouds-monitoring.mjs [outDir]. Needs root and a build.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { startSshHosts } from '../peers/ssh-hosts.mjs';
import { startAwsFake } from '../peers/clouds/aws/fake.mjs';
import { startTencentFake } from '../peers/clouds/tencent/fake.mjs';
import { startAliyunFake } from '../peers/clouds/aliyun/fake.mjs';
import { startQemuVnc } from '../peers/qemu-vnc.mjs';
import { navigate as go, startServer } from './server.mjs';

const outDir = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
const [peers, aws] = await Promise.all([startSshHosts({ count: 2, prefix: `skdcm${process.pid % 1000}` }), startAwsFake({ defaultInstances: 240 })]);
// An Alibaba Cloud account whose instances' VNC console (DescribeInstanceVncUrl) is a real QEMU display.
const qemu = await startQemuVnc({ password: 'ali123' });
const ali = await startAliyunFake({ instances: 24, regions: 1, vnc: { host: qemu.host, port: qemu.port } });
const tc = await startTencentFake({});
const dataDir = mkdtempSync(join(tmpdir(), 'skydeck-shots-'));
const server = await startServer(dataDir).catch(async (e) => {
  // Nothing below runs: stop the peers started above before failing.
  await Promise.allSettled([qemu.stop(), ali.close(), tc.close(), aws.close(), peers.stop()]);
  throw e;
});
const browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const api = server.api;
  await api('settings.set', { patch: { metricsIntervalSeconds: 2 } });
  const acct = await api('clouds.add', { name: 'aws-prod', credentials: { provider: 'aws', accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey }, endpoint: aws.endpoint, regions: ['us-east-1', 'eu-west-1'] });
  if (acct.taskId) await server.waitTask(acct.taskId);
  const web = await api('projects.create', { name: 'web' });
  const aliAcct = await api('clouds.add', { name: 'ali-prod', credentials: { provider: 'aliyun', accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret }, endpoint: ali.url, projectMapping: { tagKey: 'project', defaultProjectId: web.id } });
  if (aliAcct.taskId) await server.waitTask(aliAcct.taskId);
  const tcAcct = await api('clouds.add', { name: 'tc-gz', credentials: { provider: 'tencent', secretId: tc.secretId, secretKey: tc.secretKey }, endpoint: tc.url, regions: ['ap-guangzhou'] });
  if (tcAcct.taskId) await server.waitTask(tcAcct.taskId);
  const aliGuest = (await api('guests.list', { filter: ['provider:aliyun', 'status:running'], limit: 1 })).items[0];
  const awsGuest = (await api('guests.list', { filter: ['provider:aws', 'status:running'], limit: 1 })).items[0];
  const hostIds = [];
  for (const [i, h] of peers.hosts.entries()) {
    const key = await api('hosts.probeKey', { address: h.address, port: 22 });
    const r = await api('hosts.add', { name: `kvm-0${i + 1}`, address: h.address, username: 'root', auth: { method: 'key', privateKey: h.users.root.privateKey }, hostKeyFingerprint: key.fingerprint, libvirtUri: 'test:///default' });
    hostIds.push(r.host.id);
    await server.waitTask(r.taskId);
  }
  await api('alerts.createRule', { name: 'Host memory high', kind: 'host', metric: 'mem.util', condition: '>', threshold: 1, durationSeconds: 0, severity: 'warning' }).catch((e) => console.error('alert rule:', e.message));
  await new Promise((r) => setTimeout(r, 40_000)); // samples for the charts

  for (const theme of ['light', 'dark']) {
    for (const lang of ['en', 'zh-CN']) {
      await api('settings.set', { patch: { theme, locale: lang } });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(server.url);
      await page.getByTestId('page-dashboard').waitFor();
      const shot = (name) => page.screenshot({ path: join(outDir, `${name}-${theme}-${lang}.png`) });
      await go(page, '/cloud-accounts');
      await page.getByTestId('cloud-accounts-table').waitFor();
      await page.waitForTimeout(500);
      await shot('clouds-accounts');
      // The edit dialog with its credentials section open (Tencent Cloud: the billing currency is part of them).
      await page.getByTestId('cloud-account-tc-gz').locator('xpath=ancestor::tr').locator('button').nth(1).click();
      await page.getByTestId('edit-cloud-dialog').waitFor();
      await page.locator('[data-testid=edit-cloud-dialog] .sd-cred .el-collapse-item__header').click();
      await page.getByTestId('edit-cred-secretId').fill(tc.secretId);
      await page.waitForTimeout(400);
      await page.getByTestId('edit-cred-submit').scrollIntoViewIfNeeded();
      await page.waitForTimeout(400);
      await shot('clouds-edit-credentials');
      await page.keyboard.press('Escape');
      await page.getByTestId('edit-cloud-dialog').waitFor({ state: 'hidden' });
      await page.getByTestId('add-cloud').click();
      await page.waitForTimeout(500);
      await shot('clouds-add');
      // The same dialog validated for Alibaba Cloud, with the tag → project mapping offered at add time.
      await page.getByTestId('cloud-provider-aliyun').click();
      await page.getByTestId('cloud-name').fill('ali-staging');
      await page.getByTestId('cloud-cred-accessKeyId').fill(ali.accessKeyId);
      await page.getByTestId('cloud-cred-accessKeySecret').fill(ali.accessKeySecret);
      await page.locator('[data-testid=add-cloud-dialog] .el-collapse-item__header').click();
      await page.getByTestId('cloud-endpoint').fill(ali.url);
      await page.getByTestId('cloud-validate').click();
      await page.getByTestId('cloud-valid').waitFor();
      const addDialog = page.getByTestId('add-cloud-dialog');
      await addDialog.getByTestId('mapping-tag-key').fill('project');
      await addDialog.getByTestId('mapping-default-project').click();
      await page.locator('.el-select-dropdown__item:visible', { hasText: 'web' }).click();
      await addDialog.getByTestId('project-mapping').scrollIntoViewIfNeeded();
      await page.waitForTimeout(500);
      await shot('clouds-add-mapping');
      await page.keyboard.press('Escape');
      // A cloud instance's own VNC console, relayed by Skydeck (the Alibaba Cloud instance asks for its VNC password).
      await go(page, `/guests?open=${aliGuest.id}`);
      await page.getByTestId('cloud-guest-console').click();
      await page.getByTestId('vnc-password').waitFor({ timeout: 30_000 });
      await page.getByTestId('vnc-password').fill('ali123');
      await page.getByTestId('vnc-password-submit').click();
      await page.locator('[data-testid=vnc-console][data-state=connected]').waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1500);
      await shot('clouds-console');
      // A cloud guest's charts, from CloudWatch through the provider's monitoring API.
      await go(page, `/guests?open=${awsGuest.id}`);
      await page.getByTestId('guest-tab-monitoring').click();
      await page.getByTestId('metric-cloud-note').waitFor();
      await page.waitForTimeout(2000);
      await shot('clouds-guest-monitoring');
      await go(page, '/guests?filter=provider:aws');
      await page.waitForTimeout(1200);
      await shot('clouds-guests');
      await go(page, '/monitoring');
      await page.getByTestId('page-monitoring').waitFor();
      await page.waitForTimeout(1500);
      await shot('monitoring');
      await go(page, `/hosts?open=${hostIds[0]}`);
      await page.getByTestId('host-tab-monitoring').click();
      await page.waitForTimeout(2000);
      await shot('monitoring-host');
      await go(page, '/alerts');
      await page.getByTestId('page-alerts').waitFor();
      await page.waitForTimeout(800);
      await shot('alerts');
      await page.close();
    }
  }
  console.log(`screenshots in ${outDir}`);
} finally {
  await browser.close();
  await server.stop();
  await aws.close();
  await ali.close();
  await tc.close();
  await qemu.stop();
  await peers.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
