import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { startSshHosts, type SshHost, type SshHosts } from '../scripts/peers/ssh-hosts.mjs';
import { buildTinyGuest } from '../scripts/peers/guest-image.mjs';
import { expect, testWithOwnServer } from './fixtures';
import type { ServerHandle } from './server';

/** Its own server: this file adds real KVM hosts, which other specs sharing a worker must not see. */
const test = testWithOwnServer();

/**
 * Consoles in Chromium against real parts: an sshd peer host with a real libvirtd running the tiny busybox guest under
 * QEMU/TCG. The noVNC canvas is compared pixel by pixel with QEMU's own framebuffer (QMP screendump) at the same
 * moment (the guest paused); keys typed into the canvas run a command in the guest, whose effect shows on its serial
 * console in another tab; a terminal on the host runs a command and `cat`s 50 MB with bounded memory; a wrong or
 * reused ticket is refused; a stopped guest ends in an honest error rather than an endless "connecting".
 */

const GUEST = 'console-e2e';
const GUEST_IP = '192.168.254.21';
let peers: SshHosts;
let H: SshHost;
let hostId = '';
let guestId = '';

async function waitTask(server: ServerHandle, id: string, ms = 120_000): Promise<{ status: string; error: unknown }> {
  const end = Date.now() + ms;
  for (;;) {
    const t = (await server.api('tasks.get', { id })).body as { status: string; error: unknown };
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(t.status)) return t;
    if (Date.now() > end) throw new Error(`task ${id} still ${t.status}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test.beforeAll(async ({ server }) => {
  test.setTimeout(300_000);
  const [p, tiny] = await Promise.all([startSshHosts({ count: 1, prefix: `skdk${process.pid % 100000}`, withLibvirt: true }), buildTinyGuest()]);
  peers = p;
  H = peers.hosts[0]!;
  const key = (await server.api('hosts.probeKey', { address: H.address, port: H.port })).body;
  const added = (await server.api('hosts.add', { name: H.name, address: H.address, port: H.port, username: 'root', auth: { method: 'key', privateKey: H.users.root.privateKey }, hostKeyFingerprint: key.fingerprint, libvirtUri: H.libvirtd!.uri })).body;
  hostId = added.host.id;
  expect((await waitTask(server, added.taskId)).status).toBe('succeeded');
  const created = (
    await server.api('guests.create', {
      name: GUEST,
      hostId,
      vcpu: 1,
      memoryMb: 128,
      source: { kind: 'kernel', kernel: tiny.kernel, initrd: tiny.initrd, cmdline: `console=ttyS0 skydeck.ip=${GUEST_IP}/24` },
      diskGb: 0.05,
      nic: { bridge: 'br0' },
      vnc: true,
      vncPassword: 'e2e-vnc1',
    })
  ).body;
  guestId = created.guest.id;
  const done = await waitTask(server, created.taskId);
  expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
  // Booted to its shell (seen from inside the host, not through Skydeck).
  const end = Date.now() + 90_000;
  while ((await H.exec(`busybox ping -c1 -W1 ${GUEST_IP} >/dev/null 2>&1`)).code !== 0) {
    if (Date.now() > end) throw new Error('the guest did not boot');
  }
});
test.afterAll(async () => {
  await peers?.stop();
});

/** Client-side navigation (keeps the consoles workspace alive, as a user's clicks do). */
const go = (page: Page, path: string) =>
  page.evaluate((p) => {
    history.pushState({}, '', p);
    dispatchEvent(new PopStateEvent('popstate', { state: {} }));
  }, path);

const terminalLines = (term: Locator) =>
  term.evaluate((el) => {
    const b = (el as unknown as { __xterm: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).__xterm.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out.join('\n');
  });

async function typeInto(term: Locator, text: string): Promise<void> {
  await term.locator('.xterm-helper-textarea').focus();
  await term.page().keyboard.type(text);
  await term.page().keyboard.press('Enter');
}

/**
 * Types as a person does, Shift pressed for capitals and symbols. (keyboard.type sends "V" without Shift; with QEMU's
 * extended key events noVNC sends scancodes, so the guest would see "v".)
 */
async function typeKeys(page: Page, text: string): Promise<void> {
  const shifted: Record<string, string> = { $: 'Digit4', '(': 'Digit9', ')': 'Digit0', '*': 'Digit8', '>': 'Period', '<': 'Comma', '|': 'Backslash', '"': 'Quote', _: 'Minus', '+': 'Equal', ':': 'Semicolon', '&': 'Digit7', '!': 'Digit1' };
  for (const ch of text) {
    if (/[A-Z]/.test(ch)) await page.keyboard.press(`Shift+Key${ch}`);
    else if (shifted[ch]) await page.keyboard.press(`Shift+${shifted[ch]}`);
    else await page.keyboard.press(ch === ' ' ? 'Space' : ch);
  }
}

/** The guest's VNC console from its overview, connected. */
async function openVnc(page: Page): Promise<Locator> {
  await go(page, `/guests?open=${guestId}`);
  await page.getByTestId('guest-console-vnc').click();
  const vnc = page.getByTestId('vnc-console');
  await expect(vnc).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
  return vnc;
}

const virsh = (args: string) => H.exec(`virsh -q -c qemu:///system ${args}`);

test.describe.serial('consoles', () => {
  test("VNC shows the guest's real screen: the canvas equals QEMU's framebuffer (QMP screendump)", async ({ page, shell }) => {
    test.setTimeout(120_000);
    void shell;
    await openVnc(page);
    // Freeze the guest so the canvas and the screendump show the same moment, then let noVNC draw the last update.
    expect((await virsh(`suspend ${GUEST}`)).code).toBe(0);
    await page.waitForTimeout(2000);
    try {
      const dump = await virsh(`qemu-monitor-command ${GUEST} '{"execute":"screendump","arguments":{"filename":"/tmp/e2e-screen.ppm"}}'`);
      expect(dump.code, dump.stderr).toBe(0);
      const ppm = await H.exec('base64 -w0 /tmp/e2e-screen.ppm');
      const cmp = await page.evaluate((b64) => {
        const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        // P6 header: "P6\n<w> <h>\n255\n" (QEMU writes no comments)
        let pos = 0;
        const fields: string[] = [];
        while (fields.length < 4) {
          let s = '';
          while (raw[pos] !== 0x0a && raw[pos] !== 0x20) s += String.fromCharCode(raw[pos++]!);
          pos++;
          if (s) fields.push(s);
        }
        const [, w, h] = fields.map(Number) as [number, number, number, number];
        const canvas = document.querySelector('[data-testid=vnc-screen] canvas') as HTMLCanvasElement;
        const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let differ = 0;
        let lit = 0;
        for (let i = 0; i < w * h; i++) {
          const r = raw[pos + i * 3]!, g = raw[pos + i * 3 + 1]!, b = raw[pos + i * 3 + 2]!;
          if (r + g + b > 150) lit++;
          const d = Math.max(Math.abs(r - img[i * 4]!), Math.abs(g - img[i * 4 + 1]!), Math.abs(b - img[i * 4 + 2]!));
          if (d > 48) differ++;
        }
        return { w, h, cw: canvas.width, ch: canvas.height, differ, lit, total: w * h };
      }, ppm.stdout.trim());
      console.log('VNC canvas vs QMP screendump:', JSON.stringify(cmp));
      expect({ w: cmp.cw, h: cmp.ch }).toEqual({ w: cmp.w, h: cmp.h });
      // The screen shows text (the banner and a prompt), not an empty frame that would match anything black…
      expect(cmp.lit).toBeGreaterThan(cmp.total * 0.002);
      // …and noVNC drew it as QEMU has it (JPEG-encoded rectangles allow small colour differences, never a shifted glyph).
      expect(cmp.differ).toBeLessThan(cmp.total * 0.005);
    } finally {
      await virsh(`resume ${GUEST}`);
    }
  });

  test('keys typed into the VNC canvas run a command in the guest; its serial console in another tab shows the effect', async ({ page, shell }) => {
    test.setTimeout(90_000);
    void shell;
    await go(page, `/guests?open=${guestId}`);
    await page.getByTestId('guest-console-serial').click();
    const serial = page.locator('[data-testid=terminal][data-kind=serial]');
    await expect(serial).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    await openVnc(page);
    await page.locator('[data-testid=vnc-screen] canvas').click();
    await page.keyboard.press('Enter');
    await typeKeys(page, 'echo VNC$((6*7)) > /dev/ttyS0');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid^=console-tab-][data-kind=serial]').click();
    await expect.poll(() => terminalLines(serial), { timeout: 30_000 }).toContain('VNC42');
  });

  test('a host terminal runs a command, and a 50 MB cat completes with bounded memory', async ({ page, shell, server }) => {
    test.setTimeout(300_000);
    void shell;
    await go(page, `/hosts?open=${hostId}`);
    await page.getByTestId('host-action-terminal').click();
    const term = page.locator('[data-testid=terminal][data-kind=host-ssh]');
    await expect(term).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    await typeInto(term, 'echo E2E$((6*7)) $(hostname)');
    await expect.poll(() => terminalLines(term)).toContain(`E2E42 ${H.name}`);

    // 50 MB of text (base64 lines of 100 characters), written on the host.
    expect((await H.exec('head -c 37500000 /dev/urandom | base64 -w 100 > /root/big.txt && stat -c %s /root/big.txt')).stdout.trim()).toBe(String(Math.ceil(37_500_000 / 3) * 4 + 500_000));
    const rss = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) * 1024;
    const heap = () => page.evaluate(() => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize);
    const before = { rss: rss('VmRSS'), heap: await heap() };
    await typeInto(term, 'cat /root/big.txt; echo CAT-$((40+2))-DONE');
    await expect.poll(() => terminalLines(term), { timeout: 240_000, intervals: [1000] }).toContain('CAT-42-DONE');
    const after = { peakRss: rss('VmHWM'), heap: await heap() };
    console.log('50 MB cat memory:', JSON.stringify({ serverRssBeforeMiB: before.rss >> 20, serverPeakMiB: after.peakRss >> 20, pageHeapBeforeMiB: before.heap >> 20, pageHeapAfterMiB: after.heap >> 20 }));
    // The server never held more than its window per console; the page keeps only xterm's scrollback.
    expect(after.peakRss - before.rss).toBeLessThan(150 << 20);
    expect(after.heap).toBeLessThan(before.heap + (150 << 20));
    // And the terminal still answers.
    await typeInto(term, 'echo STILL-$((1+1))');
    await expect.poll(() => terminalLines(term)).toContain('STILL-2');
  });

  test('SSH through the host: the unknown host key is shown for confirmation, then the shell opens', async ({ page, shell }) => {
    test.setTimeout(90_000);
    void shell;
    await go(page, `/guests?open=${guestId}`);
    await page.getByTestId('guest-console-ssh').click();
    // The address offers the guest's known IPs and takes any other (the busybox guest runs no sshd: the host's own).
    await page.getByTestId('guest-ssh-address').click();
    await page.keyboard.type(H.address);
    await page.keyboard.press('Enter');
    await page.getByTestId('guest-ssh-username').fill(H.users.test.username);
    await page.getByTestId('guest-ssh-auth-password').click();
    await page.getByTestId('guest-ssh-password').fill(H.users.test.password);
    await page.getByTestId('dialog-submit').filter({ visible: true }).click();
    await expect(page.getByTestId('guest-ssh-key-unknown')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('guest-ssh-key-unknown')).toContainText(H.hostKeyFingerprint);
    await page.getByTestId('guest-ssh-key-confirm').click();
    await page.getByTestId('dialog-submit').filter({ visible: true }).click();
    const term = page.locator('[data-testid=terminal][data-kind=guest-ssh]');
    await expect(term).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    await typeInto(term, 'echo WHO=$(id -un)');
    await expect.poll(() => terminalLines(term)).toContain(`WHO=${H.users.test.username}`);
  });

  test('a wrong or used console ticket is refused', async ({ page, shell, server }) => {
    void shell;
    const ticket = (await server.api('consoles.open', { kind: 'host-ssh', hostId })).body as { path: string };
    const outcome = await page.evaluate(
      async ([wrong, path]) => {
        const attempt = (p: string, proto: string) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(`ws://${location.host}${p}`, [proto]);
            ws.onopen = () => {
              resolve('open');
              ws.close();
            };
            ws.onerror = () => resolve('refused');
          });
        const first = await attempt(path!, 'skydeck.terminal.v1');
        const again = await attempt(path!, 'skydeck.terminal.v1');
        return { wrong: await attempt(wrong!, 'binary'), first, again };
      },
      [`/api/v1/consoles/${'A'.repeat(43)}`, ticket.path],
    );
    expect(outcome).toEqual({ wrong: 'refused', first: 'open', again: 'refused' });
  });

  test('a guest that stops ends the VNC console in an honest error, not an endless "connecting"', async ({ page, shell, server }) => {
    test.setTimeout(120_000);
    void shell;
    const vnc = await openVnc(page);
    const stop = (await server.api('guests.action', { id: guestId, action: 'forceStop' })).body as { taskId: string };
    expect((await waitTask(server, stop.taskId)).status).toBe('succeeded');
    await expect(vnc).toHaveAttribute('data-state', 'failed', { timeout: 60_000 });
    await expect(page.getByTestId('vnc-reason').first()).toContainText('The guest is not running');
  });
});
