// A real VNC server for console tests that need no host: QEMU under TCG with no disk (SeaBIOS then shows "No bootable
// device" on its VGA screen), its VNC server on 127.0.0.1 at the first free display from 100 on, optionally with a VNC
// password, and QMP on a Unix socket for `screendump` (the exact framebuffer, to compare with what a client drew).
// Starts in well under a second; stop() kills it and removes its directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qmpConnect } from './qmp.mjs';

/**
 * @param {{ password?: string | null }} [o]
 * @returns {Promise<import('./qemu-vnc.d.mts').QemuVnc>}
 */
export async function startQemuVnc(o = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-qemu-vnc-'));
  const qmpPath = join(dir, 'qmp.sock');
  const vnc = `127.0.0.1:100,to=400${o.password ? ',password-secret=vncpw' : ''}`;
  const args = ['-machine', 'pc', '-accel', 'tcg', '-m', '64', '-nodefaults', '-vga', 'std', '-display', 'none', '-vnc', vnc, '-qmp', `unix:${qmpPath},server=on,wait=off`];
  if (o.password) args.unshift('-object', `secret,id=vncpw,data=${o.password}`);
  const proc = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  proc.on('exit', () => (exited = true));
  let qmp = null;
  const end = Date.now() + 20_000;
  while (!qmp) {
    if (exited) throw new Error(`qemu-system-x86_64 exited: ${stderr.trim()}`);
    try {
      qmp = await qmpConnect(qmpPath);
    } catch {
      if (Date.now() > end) throw new Error(`QMP did not come up: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const info = await qmp.cmd('query-vnc');
  const port = Number(info.service);
  return {
    host: '127.0.0.1',
    port,
    pid: proc.pid ?? 0,
    qmp: (execute, a) => qmp.cmd(execute, a),
    async screendump() {
      const file = join(dir, `screen-${Date.now()}.ppm`);
      await qmp.cmd('screendump', { filename: file });
      const ppm = readFileSync(file);
      rmSync(file, { force: true });
      return ppm;
    },
    async stop() {
      qmp.close();
      if (!exited) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A binary PPM (P6) as width, height and RGB bytes. */
export function parsePpm(ppm) {
  const head = ppm.subarray(0, 64).toString('latin1');
  const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
  if (!m) throw new Error('not a binary PPM');
  return { width: Number(m[1]), height: Number(m[2]), rgb: ppm.subarray(m[0].length) };
}
