// Screenshots of the consoles against real peers (an sshd host with a real libvirtd running the tiny busybox guest under
// QEMU/TCG), in light and dark, English and Chinese: node scripts/shots/consoles.mjs [outDir]. Needs root and a build.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { startSshHosts } from '../peers/ssh-hosts.mjs';
import { buildTinyGuest } from '../peers/guest-image.mjs';
import { navigate as go, startServer } from './server.mjs';

const outDir = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
const [peers, tiny] = await Promise.all([startSshHosts({ count: 1, prefix: `skdcs${process.pid % 1000}`, withLibvirt: true }), buildTinyGuest()]);
const H = peers.hosts[0];
const dataDir = mkdtempSync(join(tmpdir(), 'skydeck-shots-'));
const server = await startServer(dataDir);
const browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const api = server.api;
  const key = await api('hosts.probeKey', { address: H.address, port: 22 });
  const added = await api('hosts.add', { name: 'kvm-01', address: H.address, username: 'root', auth: { method: 'key', privateKey: H.users.root.privateKey }, hostKeyFingerprint: key.fingerprint, libvirtUri: H.libvirtd.uri });
  await server.waitTask(added.taskId);
  const hostId = added.host.id;
  const created = await api('guests.create', { name: 'web-01', hostId, vcpu: 1, memoryMb: 128, source: { kind: 'kernel', kernel: tiny.kernel, initrd: tiny.initrd, cmdline: 'console=ttyS0 skydeck.ip=192.168.254.31/24' }, diskGb: 0.05, nic: { bridge: 'br0' }, vnc: true });
  await server.waitTask(created.taskId);
  const guestId = created.guest.id;
  await new Promise((r) => setTimeout(r, 15_000)); // boot to the shell

  for (const theme of ['light', 'dark']) {
    for (const lang of ['en', 'zh-CN']) {
      await api('settings.set', { patch: { theme, locale: lang } });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(server.url);
      await page.getByTestId('page-dashboard').waitFor();
      const shot = (name) => page.screenshot({ path: join(outDir, `consoles-${name}-${theme}-${lang}.png`) });
      await go(page, '/consoles');
      await page.getByTestId('page-consoles').waitFor();
      await shot('empty');
      // Guest overview with the console buttons.
      await go(page, `/guests?open=${guestId}`);
      await page.getByTestId('guest-console-vnc').waitFor();
      await page.waitForTimeout(600);
      await shot('guest-entry');
      await page.getByTestId('guest-console-vnc').click();
      await page.locator('[data-testid=vnc-console][data-state=connected]').waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1500);
      await shot('vnc');
      await page.getByTestId('vnc-keys').click();
      await page.waitForTimeout(300);
      await shot('vnc-keys');
      await page.keyboard.press('Escape');
      await page.getByTestId('vnc-paste').click();
      await page.getByTestId('vnc-paste-text').fill('uname -a\n');
      await page.waitForTimeout(300);
      await shot('vnc-paste');
      await page.keyboard.press('Escape');
      // Serial console and a host terminal.
      await go(page, `/guests?open=${guestId}`);
      await page.getByTestId('guest-console-serial').click();
      const serial = page.locator('[data-testid=terminal][data-kind=serial]');
      await serial.and(page.locator('[data-state=connected]')).waitFor({ timeout: 30_000 });
      await serial.locator('.xterm-helper-textarea').focus();
      await page.keyboard.type('uname -a; ls /');
      await page.keyboard.press('Enter');
      await page.waitForTimeout(1200);
      await shot('serial');
      await go(page, `/hosts?open=${hostId}`);
      await page.getByTestId('host-action-terminal').click();
      const term = page.locator('[data-testid=terminal][data-kind=host-ssh]');
      await term.and(page.locator('[data-state=connected]')).waitFor({ timeout: 30_000 });
      await term.locator('.xterm-helper-textarea').focus();
      await page.keyboard.type('virsh list --all; df -h / | tail -1');
      await page.keyboard.press('Enter');
      await page.waitForTimeout(1500);
      await page.getByTestId('terminal-search-toggle').filter({ visible: true }).click();
      await page.getByTestId('terminal-search-input').filter({ visible: true }).fill('running');
      await page.waitForTimeout(400);
      await shot('terminal');
      // The SSH dialog and an unknown host key.
      await go(page, `/guests?open=${guestId}`);
      await page.getByTestId('guest-console-ssh').click();
      await page.getByTestId('guest-ssh-address').click();
      await page.keyboard.type(H.address);
      await page.keyboard.press('Enter');
      await page.getByTestId('guest-ssh-username').fill(H.users.test.username);
      await page.getByTestId('guest-ssh-auth-password').click();
      await page.getByTestId('guest-ssh-password').fill(H.users.test.password);
      await page.getByTestId('dialog-submit').filter({ visible: true }).click();
      await page.getByTestId('guest-ssh-key-unknown').waitFor({ timeout: 20_000 });
      await page.waitForTimeout(300);
      await shot('ssh-hostkey');
      await page.keyboard.press('Escape');
      // A stopped guest: the honest error.
      if (theme === 'dark' && lang === 'zh-CN') {
        await go(page, '/consoles');
        await page.locator('[data-testid^=console-tab-][data-kind=vnc]').click();
        await server.waitTask((await api('guests.action', { id: guestId, action: 'forceStop' })).taskId);
        await page.locator('[data-testid=vnc-console][data-state=failed]').waitFor({ timeout: 60_000 });
        await shot('vnc-failed');
      }
      await page.close();
    }
  }
  // English light of the failure too.
  await api('settings.set', { patch: { theme: 'light', locale: 'en' } });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  await page.getByTestId('page-dashboard').waitFor();
  await go(page, `/guests?open=${guestId}`);
  await page.getByTestId('guest-console-vnc-wrap').waitFor();
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(outDir, 'consoles-guest-stopped-light-en.png') });
  await server.waitTask((await api('guests.action', { id: guestId, action: 'start' })).taskId);
  await new Promise((r) => setTimeout(r, 1000));
  await go(page, '/consoles');
  await go(page, `/guests?open=${guestId}`);
  await page.getByTestId('guest-console-vnc').click();
  await page.locator('[data-testid=vnc-console]').waitFor();
  await api('guests.action', { id: guestId, action: 'forceStop' });
  await page.locator('[data-testid=vnc-console][data-state=failed]').waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(outDir, 'consoles-vnc-failed-light-en.png') });
  console.log(`screenshots in ${outDir}`);
} finally {
  await browser.close();
  await server.stop();
  await peers.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
