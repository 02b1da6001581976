// The VNC display of the console-proxy benchmark: QEMU under TCG (`-vga std -display none`) booting the tiny guest
// (scripts/peers/guest-image.mjs: Debian's kernel + a busybox initramfs) with `vga=0x318`, i.e. vesafb at 1024×768,
// and one more initramfs archive appended that replaces the guest's inittab so that tty1 runs a loop printing a line of
// text every 20 ms, each line the previous one rotated by a character: the framebuffer console scrolls ~35 lines a
// second and every character cell changes at each scroll, so every screen refresh of QEMU's VNC server (30 ms) finds
// the whole 1024×768 screen changed. QEMU's VNC listens on 127.0.0.1 (with its own WebSocket listener,
// the no-proxy reference) and, when given, on a second address (the sshd hosts' bridge) for the SSH forward path.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export const DISPLAY_SCRIPT = `#!/bin/sh
# tty1 of the console-proxy benchmark's guest: a line every 20 ms, so that the framebuffer console keeps scrolling.
# Each line is the previous one rotated by a character, so that after a scroll every character cell differs from
# what was there: the whole screen changes, not just a counter.
A=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
S="$A$A$A$A"
i=0
while :; do
  i=$((i+1))
  printf '%06d %s\\n' "$i" "\${S:$((i % 64)):118}"
  usleep 20000
done
`;
const INITTAB = `::sysinit:/etc/init.d/rcS
tty1::respawn:/bin/sh /etc/bench-display.sh
::ctrlaltdel:/sbin/poweroff -f
`;
export const CMDLINE = 'console=ttyS0,115200 console=tty0 quiet nokaslr vga=0x318';

/** A newc cpio archive of regular files (the kernel unpacks appended archives over the first one). */
function cpio(files) {
  const parts = [];
  let ino = 900000;
  const pad = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n) => n.toString(16).padStart(8, '0');
  for (const f of [...files, { name: 'TRAILER!!!', mode: 0, data: '' }]) {
    const data = Buffer.from(f.data);
    const name = Buffer.from(`${f.name}\0`);
    const header = `070701${[f.name === 'TRAILER!!!' ? 0 : ino++, f.mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0].map(hex).join('')}`;
    parts.push(Buffer.from(header), name, pad(110 + name.length), data, pad(data.length));
  }
  return Buffer.concat(parts);
}

/** A free TCP port on `host` (bound and released: good enough on a machine where nothing races for it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function waitPort(host, port, ms, alive) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const why = alive();
      if (why) return reject(new Error(why));
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`${host}:${port} not listening after ${ms} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * Boots the display guest. `track(child)` is told about the qemu process (the benchmark kills what it tracks on exit).
 * @returns {Promise<{ vnc: { host: string, port: number }, ws: { host: string, port: number }, extra: { host: string, port: number } | null, pid: number, serialLog: string, stop(): Promise<void> }>}
 */
export async function startDisplayGuest({ root, extraHost = null, track = () => {}, log = () => {} }) {
  const { buildTinyGuest } = await import(pathToFileURL(join(root, 'scripts/peers/guest-image.mjs')).href);
  const guest = await buildTinyGuest({ iso: false, log });
  const work = mkdtempSync(join(tmpdir(), 'skydeck-bench-console-'));
  const initrd = join(work, 'initrd.gz');
  const extra = gzipSync(cpio([{ name: 'etc/inittab', mode: 0o100644, data: INITTAB }, { name: 'etc/bench-display.sh', mode: 0o100755, data: DISPLAY_SCRIPT }]));
  writeFileSync(initrd, Buffer.concat([readFileSync(guest.initrd), extra]));
  const serialLog = join(work, 'serial.log');
  const vncPort = await freePort('127.0.0.1');
  const wsPort = await freePort('127.0.0.1');
  const extraPort = extraHost ? await freePort(extraHost) : 0;
  const args = ['-machine', 'pc', '-accel', 'tcg,tb-size=32', '-m', '128', '-nodefaults', '-vga', 'std', '-display', 'none'];
  args.push('-vnc', `127.0.0.1:${vncPort - 5900},websocket=${wsPort}`);
  if (extraHost) args.push('-vnc', `${extraHost}:${extraPort - 5900},id=ssh`);
  args.push('-serial', `file:${serialLog}`, '-kernel', guest.kernel, '-initrd', initrd, '-append', CMDLINE);
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  track(qemu);
  let err = '';
  qemu.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const exited = new Promise((resolve) => qemu.once('exit', resolve));
  // An interrupted benchmark may exit before stop() ran: qemu and the work dir go anyway.
  const onExit = () => {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill('SIGKILL');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const alive = () => (qemu.exitCode !== null ? `qemu exited (${qemu.exitCode}): ${err.trim()}` : null);
    await waitPort('127.0.0.1', vncPort, 20_000, alive);
    // Booted when the guest's loop has printed for a while (its output reaches the serial log through /dev/console
    // only for the kernel; the loop writes to tty1, so wait for busybox's shell banner on ttyS0 and then some).
    const end = Date.now() + 120_000;
    while (!(existsSync(serialLog) && /BusyBox|SKYDECK TINY GUEST/.test(readFileSync(serialLog, 'utf8')))) {
      const why = alive();
      if (why) throw new Error(why);
      if (Date.now() > end) throw new Error(`the guest did not boot in 120 s: ${existsSync(serialLog) ? readFileSync(serialLog, 'utf8').slice(-1500) : ''}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { vnc: { host: '127.0.0.1', port: vncPort }, ws: { host: '127.0.0.1', port: wsPort }, extra: extraHost ? { host: extraHost, port: extraPort } : null, pid: qemu.pid, serialLog, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
