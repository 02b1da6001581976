// A tiny bootable guest for KVM tests, built from Debian packages only: Debian's kernel (the linux-image-amd64 .deb,
// unpacked, never installed) and a busybox-static initramfs that loads a few modules (button, evdev, e1000, virtio),
// powers off on the ACPI power button (busybox acpid → `sync; poweroff -f`), configures eth0 from the kernel command
// line (`skydeck.ip=10.0.2.15/24 skydeck.gw=10.0.2.2`), prints a banner on tty1 and ttyS0 and respawns a shell on both.
// The same kernel and initramfs are also wrapped in a BIOS-bootable ISO (grub-mkrescue, no menu delay).
//
//   const g = await buildTinyGuest();            // cached: only the first call builds (~20 s)
//   await checkTinyGuest(g, { via: 'kernel' });   // boots it under TCG, waits for the banner, powers it off over QMP
//
// Needs apt-get (network to Debian's mirror on the first build), dpkg-deb, depmod (kmod), busybox-static, and for the
// ISO grub-mkrescue (grub-pc-bin, grub-common, xorriso, mtools). Checks need qemu-system-x86.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sh, sleep } from './proc.mjs';
import { qmpConnect } from './qmp.mjs';

export const BANNER = 'SKYDECK TINY GUEST';
/** Kernel modules the guest loads (with their dependencies, in order); missing ones (built in) are skipped. */
const MODULES = ['button', 'evdev', 'e1000', 'virtio_pci', 'virtio_net', 'virtio_blk'];
/** The command line of the ISO and the default for direct kernel boot. */
export const DEFAULT_CMDLINE = 'console=tty0 console=ttyS0,115200 quiet nokaslr';

const INIT = `#!/bin/sh
# PID 1 of the tiny guest: mounts, modules, acpid, then busybox init (inittab).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for m in $(cat /etc/modules); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
acpid -c /etc/acpi -a /etc/acpid.conf -l /run/acpid.log
# A shell on the serial port only when there is one (no respawn loop on a guest without a UART).
stty -F /dev/ttyS0 >/dev/null 2>&1 && echo 'ttyS0::respawn:-/bin/sh' >> /etc/inittab
exec /sbin/init
`;

const INITTAB = `::sysinit:/etc/init.d/rcS
tty1::respawn:-/bin/sh
::ctrlaltdel:/sbin/poweroff -f
::shutdown:/bin/sync
`;

const RCS = `#!/bin/sh
# sysinit: hostname, eth0 (skydeck.ip= / skydeck.gw= from the kernel command line), the banner on tty1 and ttyS0.
hostname skydeck-tiny
ip link set lo up
IP=
GW=
for a in $(cat /proc/cmdline); do
  case "$a" in
    skydeck.ip=*) IP="\${a#skydeck.ip=}" ;;
    skydeck.gw=*) GW="\${a#skydeck.gw=}" ;;
    skydeck.hostname=*) hostname "\${a#skydeck.hostname=}" ;;
  esac
done
NET="no eth0"
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  NET="eth0 up"
  if [ -n "$IP" ] && ip addr add "$IP" dev eth0; then NET="eth0 $IP"; fi
  if [ -n "$GW" ]; then ip route add default via "$GW"; fi
fi
for t in /dev/tty1 /dev/ttyS0; do
  printf '\\n${BANNER}\\n%s %s, %s, acpid %s\\n\\n' "$(hostname)" "$(uname -r)" "$NET" "$(pidof acpid >/dev/null && echo on || echo off)" > "$t" 2>/dev/null
done
`;

const POWER = `#!/bin/sh
# The ACPI power button (virsh shutdown, QMP system_powerdown): off at once.
echo "acpid: power button, powering off" > /dev/console
sync
poweroff -f
`;

const PROFILE = `export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='\\h:\\w# '
`;

/**
 * A newc cpio archive (what the kernel unpacks as the initramfs); device nodes need no root this way.
 * @param {Array<{ name: string, mode: number, data?: Buffer | string, rdev?: [number, number] }>} entries
 */
function cpioNewc(entries) {
  /** @type {Buffer[]} */
  const parts = [];
  let ino = 1;
  const pad = (/** @type {number} */ n) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (/** @type {number} */ n) => n.toString(16).padStart(8, '0');
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const name = Buffer.from(`${e.name}\0`);
    const [maj, min] = /** @type {{ rdev?: [number, number] }} */ (e).rdev ?? [0, 0];
    const isDir = (e.mode & 0o170000) === 0o040000;
    const header = `070701${[e.name === 'TRAILER!!!' ? 0 : ino++, e.mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, maj, min, name.length, 0].map(hex).join('')}`;
    parts.push(Buffer.from(header), name, pad(110 + name.length), data, pad(data.length));
  }
  return Buffer.concat(parts);
}

/**
 * The current Debian kernel (what linux-image-amd64 depends on), e.g. linux-image-6.1.0-56-amd64.
 */
async function currentKernelPackage() {
  const out = (await sh('apt-cache', ['depends', 'linux-image-amd64'])).stdout;
  const m = /Depends:\s*(linux-image-\S+-amd64)/.exec(out);
  if (!m?.[1]) throw new Error(`cannot find the kernel package linux-image-amd64 depends on: ${out.trim()}`);
  return m[1];
}

/** @param {string[]} parts */
const hashOf = (...parts) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 12);

/**
 * @typedef {{ kernel: string, initrd: string, iso?: string, banner: string, cmdline: string, kernelVersion: string, dir: string, buildMs: number, cached: boolean }} TinyGuest
 */

/**
 * Builds the tiny guest (kernel, initramfs and, when grub-mkrescue is available, an ISO) into `cacheDir`, or answers
 * the cached one. Concurrent builds are safe (each builds apart; the first to finish publishes).
 * @param {{ cacheDir?: string, iso?: boolean, log?: (line: string) => void }} [o]
 * @returns {Promise<TinyGuest>}
 */
export async function buildTinyGuest({ cacheDir = '/var/cache/skydeck-peers', iso = true, log = () => {} } = {}) {
  const t0 = Date.now();
  const recipe = hashOf(INIT, INITTAB, RCS, POWER, PROFILE, MODULES.join(','), DEFAULT_CMDLINE, String(statSync('/bin/busybox').size), '2');
  /** @type {string} */
  let pkg;
  try {
    pkg = await currentKernelPackage();
  } catch (e) {
    // No apt metadata (offline, or apt lists cleaned): any complete build of this recipe will do.
    const built = existsSync(cacheDir) ? readdirSync(cacheDir).filter((d) => d.startsWith('tiny-guest-') && d.endsWith(`-${recipe}`) && existsSync(join(cacheDir, d, 'initrd.gz'))) : [];
    if (!built.length) throw e;
    pkg = `linux-image-${built.sort().at(-1)?.slice('tiny-guest-'.length, -(recipe.length + 1))}`;
  }
  const kver = pkg.replace(/^linux-image-/, '');
  const dir = join(cacheDir, `tiny-guest-${kver}-${recipe}`);
  const result = (/** @type {boolean} */ cached) => {
    const isoPath = join(dir, 'tiny.iso');
    return {
      kernel: join(dir, 'vmlinuz'),
      initrd: join(dir, 'initrd.gz'),
      ...(existsSync(isoPath) ? { iso: isoPath } : {}),
      banner: BANNER,
      cmdline: DEFAULT_CMDLINE,
      kernelVersion: kver,
      dir,
      buildMs: Date.now() - t0,
      cached,
    };
  };
  const haveIso = !iso || existsSync(join(dir, 'tiny.iso')) || !(await hasGrubMkrescue());
  if (existsSync(join(dir, 'vmlinuz')) && existsSync(join(dir, 'initrd.gz')) && haveIso) return result(true);

  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  const work = mkdtempSync(join(cacheDir, '.build-'));
  try {
    const out = join(work, 'out');
    mkdirSync(out);
    if (existsSync(join(dir, 'vmlinuz')) && existsSync(join(dir, 'initrd.gz'))) {
      // Only the ISO is missing (grub-mkrescue installed since).
      copyFileSync(join(dir, 'vmlinuz'), join(out, 'vmlinuz'));
      copyFileSync(join(dir, 'initrd.gz'), join(out, 'initrd.gz'));
    } else {
      // The kernel .deb, kept beside the images so that a recipe change does not download it again.
      const debs = join(cacheDir, 'debs');
      mkdirSync(debs, { recursive: true });
      let deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) {
        log(`downloading ${pkg}`);
        await sh('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], { cwd: debs });
        deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
        if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
      }
      log(`unpacking ${deb}`);
      const kx = join(work, 'kernel');
      await sh('dpkg-deb', ['-x', join(debs, deb), kx]);
      const vmlinuz = join(kx, 'boot', `vmlinuz-${kver}`);
      if (!existsSync(vmlinuz)) throw new Error(`${deb} has no boot/vmlinuz-${kver}`);
      copyFileSync(vmlinuz, join(out, 'vmlinuz'));
      await sh('depmod', ['-b', kx, kver]);
      const order = moduleOrder(join(kx, 'lib', 'modules', kver), MODULES);
      log(`modules: ${order.map((m) => m.name).join(' ')}`);
      const applets = (await sh('/bin/busybox', ['--list-full'])).stdout.split('\n').filter(Boolean);
      writeFileSync(join(out, 'initrd.gz'), gzipSync(initramfs(order, applets), { level: 9 }));
      rmSync(kx, { recursive: true, force: true });
    }
    if (iso && (await hasGrubMkrescue())) {
      log('grub-mkrescue');
      const isoDir = join(work, 'iso');
      mkdirSync(join(isoDir, 'boot', 'grub'), { recursive: true });
      copyFileSync(join(out, 'vmlinuz'), join(isoDir, 'boot', 'vmlinuz'));
      copyFileSync(join(out, 'initrd.gz'), join(isoDir, 'boot', 'initrd.gz'));
      writeFileSync(
        join(isoDir, 'boot', 'grub', 'grub.cfg'),
        [
          'set timeout=0',
          'set timeout_style=hidden',
          'set default=0',
          'menuentry "Skydeck tiny guest" {',
          `  linux /boot/vmlinuz ${DEFAULT_CMDLINE}`,
          '  initrd /boot/initrd.gz',
          '}',
          '',
        ].join('\n'),
      );
      await sh('grub-mkrescue', ['-o', join(out, 'tiny.iso'), isoDir]);
    }
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ package: pkg, kernelVersion: kver, recipe, banner: BANNER, cmdline: DEFAULT_CMDLINE, modules: MODULES, builtAt: new Date().toISOString() }, null, 2)}\n`);
    for (const f of readdirSync(out)) chmodSync(join(out, f), 0o644);
    chmodSync(out, 0o755);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(out, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'initrd.gz'))) throw e; // another build published first
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Builds of earlier recipes or kernels are not used any more.
  for (const d of readdirSync(cacheDir)) if (d.startsWith('tiny-guest-') && d !== basename(dir)) rmSync(join(cacheDir, d), { recursive: true, force: true });
  return result(false);
}

async function hasGrubMkrescue() {
  return (await sh('sh', ['-c', 'command -v grub-mkrescue && command -v xorriso && test -d /usr/lib/grub/i386-pc'], { allowFail: true })).code === 0;
}

/**
 * The modules to insmod, dependencies first (from the unpacked kernel's modules.dep); built-in or absent ones skipped.
 * @param {string} modDir @param {string[]} wanted
 * @returns {Array<{ name: string, path: string }>}
 */
function moduleOrder(modDir, wanted) {
  /** @type {Map<string, { path: string, deps: string[] }>} */
  const dep = new Map();
  const norm = (/** @type {string} */ p) => basename(p).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
  for (const line of readFileSync(join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (!mod) continue;
    dep.set(norm(mod), { path: join(modDir, mod), deps: (rest ?? '').trim().split(/\s+/).filter(Boolean).map(norm) });
  }
  /** @type {Array<{ name: string, path: string }>} */
  const order = [];
  const seen = new Set();
  const visit = (/** @type {string} */ name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const m = dep.get(name);
    if (!m) return; // built in
    for (const d of m.deps) visit(d);
    if (/\.ko\.(xz|zst|gz)$/.test(m.path)) throw new Error(`compressed module ${m.path}: busybox insmod cannot load it`);
    order.push({ name, path: m.path });
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'));
  return order;
}

/** @param {Array<{ name: string, path: string }>} modules @param {string[]} applets busybox --list-full */
function initramfs(modules, applets) {
  const DIR = 0o040755;
  const FILE = 0o100644;
  const EXE = 0o100755;
  const LINK = 0o120777;
  const CHR = 0o020600;
  /** @type {Array<{ name: string, mode: number, data?: Buffer | string, rdev?: [number, number] }>} */
  const entries = [];
  const dirs = new Set();
  const dir = (/** @type {string} */ d) => {
    if (!d || d === '.' || dirs.has(d)) return;
    dir(dirname(d));
    dirs.add(d);
    entries.push({ name: d, mode: DIR });
  };
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/init.d', 'etc/acpi/PWRF', 'lib/modules', 'proc', 'sys', 'dev', 'run', 'tmp', 'root', 'var/log']) dir(d);
  entries.push({ name: 'dev/console', mode: CHR, rdev: [5, 1] }, { name: 'dev/null', mode: 0o020666, rdev: [1, 3] }, { name: 'dev/tty1', mode: CHR, rdev: [4, 1] });
  entries.push({ name: 'bin/busybox', mode: EXE, data: readFileSync('/bin/busybox') });
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    dir(dirname(a));
    entries.push({ name: a, mode: LINK, data: '/bin/busybox' });
  }
  entries.push({ name: 'init', mode: EXE, data: INIT });
  entries.push({ name: 'etc/inittab', mode: FILE, data: INITTAB });
  entries.push({ name: 'etc/init.d/rcS', mode: EXE, data: RCS });
  entries.push({ name: 'etc/acpid.conf', mode: FILE, data: 'PWRF PWRF/00000080\n' });
  entries.push({ name: 'etc/acpi/PWRF/00000080', mode: EXE, data: POWER });
  entries.push({ name: 'etc/profile', mode: FILE, data: PROFILE });
  entries.push({ name: 'etc/passwd', mode: FILE, data: 'root:x:0:0:root:/root:/bin/sh\n' });
  entries.push({ name: 'etc/group', mode: FILE, data: 'root:x:0:\n' });
  entries.push({ name: 'etc/hostname', mode: FILE, data: 'skydeck-tiny\n' });
  entries.push({ name: 'etc/modules', mode: FILE, data: `${modules.map((m) => m.name).join('\n')}\n` });
  for (const m of modules) entries.push({ name: `lib/modules/${m.name}.ko`, mode: FILE, data: readFileSync(m.path) });
  return cpioNewc(entries);
}

/**
 * Boots the tiny guest under TCG (`qemu-system-x86_64 -machine pc -accel tcg -m 128 -nodefaults -vga std -display none`,
 * the serial port logged to a file, an e1000 NIC on user networking), waits for the banner on the serial log, reads
 * the text of tty1 (what a VNC viewer shows) through the serial shell (`cat /dev/vcs1`), then presses the ACPI power
 * button over QMP (system_powerdown) and waits for qemu to exit. Throws with the serial log's tail on failure.
 * @param {TinyGuest} guest
 * @param {{ via?: 'kernel' | 'iso', timeoutMs?: number, powerOffTimeoutMs?: number }} [o]
 * @returns {Promise<{ bootMs: number, powerOffMs: number, serial: string, screen: string }>}
 */
export async function checkTinyGuest(guest, { via = 'kernel', timeoutMs = 90_000, powerOffTimeoutMs = 30_000 } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'skd-guest-check-'));
  const serialPath = join(work, 'serial.log');
  const serialSock = join(work, 'serial.sock');
  const qmpPath = join(work, 'qmp.sock');
  const args = ['-machine', 'pc', '-accel', 'tcg', '-m', '128', '-nodefaults', '-vga', 'std', '-display', 'none'];
  args.push('-chardev', `socket,id=ser0,path=${serialSock},server=on,wait=off,logfile=${serialPath}`, '-serial', 'chardev:ser0');
  args.push('-qmp', `unix:${qmpPath},server=on,wait=off`, '-nic', 'user,model=e1000');
  if (via === 'iso') {
    if (!guest.iso) throw new Error('the tiny guest has no ISO (grub-mkrescue missing when it was built)');
    args.push('-cdrom', guest.iso, '-boot', 'd');
  } else {
    args.push('-kernel', guest.kernel, '-initrd', guest.initrd, '-append', `${guest.cmdline} skydeck.ip=10.0.2.15/24 skydeck.gw=10.0.2.2`);
  }
  const t0 = Date.now();
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  qemu.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => qemu.once('exit', (code) => resolve(code)));
  const serial = () => (existsSync(serialPath) ? readFileSync(serialPath, 'utf8') : '');
  const fail = (/** @type {string} */ why) => new Error(`${why} (qemu: ${err.trim() || 'no stderr'}; serial: …${serial().slice(-1500)})`);
  /** @param {(s: string) => boolean} ok @param {number} ms @param {string} what */
  const waitSerial = async (ok, ms, what) => {
    const end = Date.now() + ms;
    while (!ok(serial())) {
      if (qemu.exitCode !== null) throw fail(`qemu exited (${qemu.exitCode}) before ${what}`);
      if (Date.now() > end) throw fail(`no ${what} within ${ms} ms`);
      await sleep(100);
    }
  };
  /** @type {import('node:net').Socket | null} */
  let console_ = null;
  try {
    await waitSerial((s) => s.includes(guest.banner), timeoutMs, 'banner');
    const bootMs = Date.now() - t0;
    // tty1's text through the serial shell: what the VGA console (and so a VNC viewer) shows.
    const sock = connect(serialSock);
    console_ = sock;
    sock.on('error', () => {});
    await new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    let screen = '';
    // Read tty1 through the serial shell until the banner comes through whole: a busy TCG guest's serial line now and
    // then repeats a character, so one read can be garbled.
    for (let attempt = 0; attempt < 20 && !screen.replace(/ {2,}/g, ' ').includes(BANNER); attempt++) {
      const mark = serial().length;
      sock.write('\necho V""CS; cat /dev/vcs1; echo; echo E""ND\n');
      try {
        await waitSerial((s) => /VCS\r?\n[\s\S]*END/.test(s.slice(mark)), 3000, 'screen text');
        screen = /VCS\r?\n([\s\S]*?)\r?\nEND/.exec(serial().slice(mark))?.[1] ?? '';
      } catch (e) {
        if (qemu.exitCode !== null) throw e;
      }
    }
    sock.destroy();
    const qmp = await qmpConnect(qmpPath);
    const t1 = Date.now();
    await qmp.cmd('system_powerdown');
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), powerOffTimeoutMs)))]);
    clearTimeout(timer);
    qmp.close();
    if (code === 'timeout') throw fail(`still running ${powerOffTimeoutMs} ms after system_powerdown`);
    return { bootMs, powerOffMs: Date.now() - t1, serial: serial(), screen: screen.replace(/ {2,}/g, ' ').trim() };
  } finally {
    /** @type {any} */ (console_)?.destroy();
    if (qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill('SIGKILL');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/** @param {string} s */
const xmlEscape = (s) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/**
 * A libvirt domain for the tiny guest (`type='qemu'`, i.e. TCG): direct kernel boot (default) or the ISO as a CD-ROM;
 * VNC on autoport, the serial port logged to `serialLog` when given, a NIC of type bridge when `bridge` is given.
 * @param {TinyGuest} guest
 * @param {{ name: string, via?: 'kernel' | 'iso', memoryMiB?: number, serialLog?: string, bridge?: string, nicModel?: string, ip?: string, gateway?: string, disk?: string }} o
 */
export function tinyGuestXml(guest, { name, via = 'kernel', memoryMiB = 128, serialLog, bridge, nicModel = 'e1000', ip, gateway, disk }) {
  const cmdline = [guest.cmdline, ip ? `skydeck.ip=${ip}` : '', gateway ? `skydeck.gw=${gateway}` : ''].filter(Boolean).join(' ');
  const os =
    via === 'iso'
      ? `<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/></os>`
      : `<os><type arch='x86_64' machine='pc'>hvm</type><kernel>${xmlEscape(guest.kernel)}</kernel><initrd>${xmlEscape(guest.initrd)}</initrd><cmdline>${xmlEscape(cmdline)}</cmdline></os>`;
  if (via === 'iso' && !guest.iso) throw new Error('the tiny guest has no ISO');
  return [
    `<domain type='qemu'>`,
    `  <name>${xmlEscape(name)}</name>`,
    `  <memory unit='MiB'>${memoryMiB}</memory>`,
    `  <vcpu>1</vcpu>`,
    `  ${os}`,
    `  <features><acpi/></features>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <devices>`,
    via === 'iso' ? `    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${xmlEscape(/** @type {string} */ (guest.iso))}'/><target dev='hdc' bus='ide'/><readonly/></disk>` : '',
    disk ? `    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${xmlEscape(disk)}'/><target dev='vda' bus='virtio'/></disk>` : '',
    serialLog ? `    <serial type='file'><source path='${xmlEscape(serialLog)}'/><target port='0'/></serial>` : `    <serial type='pty'><target port='0'/></serial>`,
    bridge ? `    <interface type='bridge'><source bridge='${xmlEscape(bridge)}'/><model type='${xmlEscape(nicModel)}'/></interface>` : '',
    `    <graphics type='vnc' autoport='yes'/>`,
    `    <video><model type='vga'/></video>`,
    `  </devices>`,
    `</domain>`,
  ]
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n');
}
