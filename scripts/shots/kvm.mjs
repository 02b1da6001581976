// Screenshots of the KVM screens against real peers (sshd hosts in network namespaces, the real agent, libvirt's test
// driver), in light and dark, English and Chinese: node scripts/shots/kvm.mjs [outDir]. Needs root and a build.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { startSshHosts } from '../peers/ssh-hosts.mjs';
import { startServer } from './server.mjs';

const outDir = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
const peers = await startSshHosts({ count: 3, prefix: `skdshot${process.pid % 1000}` });
const dataDir = mkdtempSync(join(tmpdir(), 'skydeck-shots-'));
const server = await startServer(dataDir);
const browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const api = server.api;
  const zone = await api('zones.create', { name: 'rack-a' });
  const hostIds = [];
  for (const [i, h] of peers.hosts.entries()) {
    const key = await api('hosts.probeKey', { address: h.address, port: 22 });
    const r = await api('hosts.add', { name: `kvm-0${i + 1}`, address: h.address, username: i === 0 ? 'root' : h.users.test.username, auth: i === 0 ? { method: 'key', privateKey: h.users.root.privateKey } : { method: 'password', password: h.users.test.password }, hostKeyFingerprint: key.fingerprint, zoneId: zone.id, libvirtUri: 'test:///default' });
    hostIds.push(r.host.id);
    await server.waitTask(r.taskId);
  }
  for (const [n, name] of ['web-01', 'web-02', 'db-01'].entries()) {
    const r = await api('guests.create', { name, hostId: hostIds[n % 2], vcpu: 2, memoryMb: 2048, source: { kind: 'none' }, diskGb: 0, nic: { libvirtNetwork: 'default' } });
    await server.waitTask(r.taskId);
  }
  const web = (await api('guests.list', { filter: ['name:web-01'] })).items[0];
  await server.waitTask((await api('guests.snapshotCreate', { id: web.id, name: 'before-upgrade', description: 'nightly' })).taskId);
  // One host lost, to show how that looks.
  await peers.hosts[2].killSshd();
  await api('hosts.reconnect', { id: hostIds[2] });
  await new Promise((r) => setTimeout(r, 3000));

  for (const theme of ['light', 'dark']) {
    for (const lang of ['en', 'zh-CN']) {
      await api('settings.set', { patch: { theme, locale: lang } });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(server.url);
      await page.getByTestId('page-dashboard').waitFor();
      const shot = (name) => page.screenshot({ path: join(outDir, `kvm-${name}-${theme}-${lang}.png`) });
      await page.getByTestId('nav-hosts').click();
      await page.getByTestId('page-hosts').waitFor();
      await page.waitForTimeout(500);
      await shot('hosts');
      await page.locator('[data-testid^="row-hosts-"][data-name="kvm-01"]').click();
      await page.getByTestId('host-connection-state').waitFor();
      await page.waitForTimeout(400);
      await shot('host-overview');
      await page.getByTestId('host-tab-hardware').click();
      await page.waitForTimeout(300);
      await shot('host-hardware');
      await page.keyboard.press('Escape');
      await page.locator('[data-testid^="row-hosts-"][data-name="kvm-03"]').click();
      await page.getByTestId('host-connection-state').waitFor();
      await page.waitForTimeout(400);
      await shot('host-unreachable');
      await page.keyboard.press('Escape');
      await page.getByTestId('add-host').click();
      await page.getByTestId('add-host-address').fill(peers.hosts[1].address);
      await page.getByTestId('add-host-probe').click();
      await page.getByTestId('add-host-fingerprint').waitFor();
      await page.waitForTimeout(300);
      await shot('add-host-key');
      await page.keyboard.press('Escape');
      await page.getByTestId('add-host-dialog').waitFor({ state: 'hidden' });
      await page.getByTestId('nav-guests').click();
      await page.getByTestId('page-guests').waitFor();
      await page.waitForTimeout(500);
      await shot('guests');
      await page.locator('[data-testid^="row-guests-"][data-name="web-01"]').click();
      await page.getByTestId('guest-tabs').waitFor();
      await page.waitForTimeout(500);
      await shot('guest-overview');
      await page.getByTestId('guest-tab-snapshots').click();
      await page.waitForTimeout(500);
      await shot('guest-snapshots');
      await page.keyboard.press('Escape');
      await page.getByTestId('create-guest').click();
      await page.getByTestId('create-guest-dialog').waitFor();
      await page.waitForTimeout(400);
      await shot('create-guest');
      await page.close();
    }
  }
  console.log(`screenshots in ${outDir}`);
} finally {
  await browser.close();
  await server.stop();
  await peers.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
