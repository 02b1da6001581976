/**
 * The tiny guest (scripts/peers/guest-image.mjs): built from Debian's kernel package and busybox-static (cached after
 * the first build), booted under TCG by kernel and by ISO until its banner shows on the serial port and on tty1 (what
 * VNC shows), powered off by the ACPI power button over QMP; then created from the ISO through a test host's real
 * libvirtd over ssh and shut down with `virsh shutdown`. Needs root, network to Debian's mirror on the first build.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyGuest, checkTinyGuest, tinyGuestXml, type TinyGuest } from './guest-image.mjs';
import { startSshHosts, type SshHosts } from './ssh-hosts.mjs';

const run = promisify(execFile);
let guest: TinyGuest;
let peers: SshHosts | undefined;

let firstBuildMs = 0;

beforeAll(async () => {
  guest = await buildTinyGuest(); // the first build on a machine downloads the kernel package (~70 MB)
  firstBuildMs = guest.buildMs;
}, 240_000);
afterAll(async () => {
  await peers?.stop();
}, 30_000);

describe('the tiny guest', () => {
  it('is built from Debian packages (kernel, busybox initramfs, ISO) and cached', async () => {
    expect(firstBuildMs).toBeGreaterThan(0);
    for (const f of [guest.kernel, guest.initrd, guest.iso!]) expect(statSync(f).size).toBeGreaterThan(100_000);
    expect(guest.banner).toBe('SKYDECK TINY GUEST');
    expect(guest.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    // The initramfs holds busybox, acpid's power-button rule and the modules, dependencies first.
    const list = (await run('sh', ['-c', `zcat ${guest.initrd} | cpio -it --quiet`], { maxBuffer: 1 << 22 })).stdout.split('\n');
    expect(list).toEqual(expect.arrayContaining(['init', 'bin/busybox', 'etc/acpi/PWRF/00000080', 'lib/modules/button.ko', 'lib/modules/evdev.ko', 'lib/modules/e1000.ko']));
    const again = await buildTinyGuest();
    expect(again).toMatchObject({ cached: true, kernel: guest.kernel, iso: guest.iso });
    expect(again.buildMs).toBeLessThan(5000);
  }, 60_000);

  it('boots by kernel to the banner with eth0 configured, and powers off on the ACPI button', async () => {
    const r = await checkTinyGuest(guest, { via: 'kernel' });
    expect(r.serial).toContain('SKYDECK TINY GUEST');
    expect(r.serial).toContain('eth0 10.0.2.15/24, acpid on');
    expect(r.screen).toContain('SKYDECK TINY GUEST'); // tty1, i.e. the VGA/VNC screen
    expect(r.bootMs).toBeLessThan(90_000); // ~5 s on an idle 2-core machine, much more under load (TCG)
    expect(r.powerOffMs).toBeLessThan(10_000);
  }, 120_000);

  it('boots from its ISO (grub, no menu delay) the same way', async () => {
    const r = await checkTinyGuest(guest, { via: 'iso' });
    expect(r.screen).toContain('SKYDECK TINY GUEST');
    expect(r.serial).toContain('acpid on');
    expect(r.powerOffMs).toBeLessThan(10_000);
  }, 120_000);

  it('is created from the ISO through a test host’s libvirtd over ssh, and shut down with virsh shutdown', async () => {
    peers = await startSshHosts({ count: 1, prefix: `skdg${process.pid % 100000}`, withLibvirt: true });
    const h = peers.hosts[0]!;
    const ssh = (cmd: string) =>
      run('ssh', ['-i', h.users.root.privateKeyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `root@${h.address}`, cmd], { timeout: 60_000 });
    expect(existsSync(guest.iso!)).toBe(true);
    const xml = tinyGuestXml(guest, { name: 'tiny-iso', via: 'iso', serialLog: '/var/log/libvirt/tiny-iso-serial.log', bridge: 'br0' });
    writeFileSync(`${h.root}/tmp/tiny-iso.xml`, xml); // the host's /tmp
    const started = await ssh('virsh define /tmp/tiny-iso.xml >/dev/null && virsh start tiny-iso >/dev/null && virsh domstate tiny-iso && virsh vncdisplay tiny-iso');
    expect(started.stdout).toMatch(/^running\s+127\.0\.0\.1:\d+/);
    const port = 5900 + Number(/:(\d+)/.exec(started.stdout)![1]);
    expect(port).toBeGreaterThanOrEqual(h.libvirtd!.vncPortMin);
    expect(port).toBeLessThanOrEqual(h.libvirtd!.vncPortMax);
    const t0 = Date.now();
    for (;;) {
      const log = (await h.exec('cat /var/log/libvirt/tiny-iso-serial.log')).stdout;
      if (log.includes('acpid on')) break;
      if (Date.now() - t0 > 60_000) throw new Error(`no banner within 60 s: ${log.slice(-800)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await ssh('virsh shutdown tiny-iso');
    const t1 = Date.now();
    for (;;) {
      const state = (await ssh('virsh domstate tiny-iso')).stdout.trim();
      if (state === 'shut off') break;
      if (Date.now() - t1 > 30_000) throw new Error(`still ${state} 30 s after virsh shutdown`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await ssh('virsh undefine tiny-iso');
  }, 150_000);
});
