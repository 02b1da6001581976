/**
 * The test peers themselves (scripts/peers/ssh-hosts.mjs): three sshd hosts in network namespaces, one with a real
 * libvirtd. Logs in the ways the product does (password and keys through ssh2, keys through OpenSSH's client), checks
 * that each host has its own hostname, /tmp, /opt/skydeck and home, that the sshd can be lost and come back with a new
 * host key, and that stop() and cleanupStale() leave nothing behind. Needs root.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, startSshHosts, type SshHost, type SshHosts } from './ssh-hosts.mjs';

const run = promisify(execFile);
const PREFIX = `skdp${process.pid % 100000}`;
let peers: SshHosts;
let A: SshHost;
let B: SshHost;
let L: SshHost;

beforeAll(async () => {
  peers = await startSshHosts({ count: 3, prefix: PREFIX, withLibvirt: 1 });
  [L, A, B] = peers.hosts as [SshHost, SshHost, SshHost];
}, 60_000);
afterAll(async () => {
  await peers?.stop();
}, 30_000);

interface Login {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

/** One command over ssh2 (what the product uses), verifying the host key against the expected fingerprint. */
function ssh2Exec(h: SshHost, login: Login, cmd: string): Promise<{ code: number; stdout: string; served: string }> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    let served = '';
    c.on('ready', () => {
      c.exec(cmd, (err, stream) => {
        if (err) return reject(err);
        let stdout = '';
        stream.on('data', (d: Buffer) => (stdout += d));
        stream.stderr.on('data', () => {});
        stream.on('close', (code: number) => {
          c.end();
          resolve({ code, stdout, served });
        });
      });
    });
    c.on('error', reject);
    c.connect({
      host: h.address,
      port: h.port,
      ...login,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => {
        served = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        return served === h.hostKeyFingerprint;
      },
    });
  });
}

/** OpenSSH's client, non-interactive (keys only). */
function opensshExec(h: SshHost, user: string, keyPath: string, cmd: string) {
  return run('ssh', ['-i', keyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', `${user}@${h.address}`, cmd], { timeout: 20_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

function portOpen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    s.setTimeout(3000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const netnsList = async () => (await run('ip', ['netns', 'list'])).stdout;
const linkList = async () => (await run('ip', ['-o', 'link', 'show'])).stdout;

describe('ssh hosts in network namespaces', () => {
  it('gives each host its own name, address and host key, as ssh-keygen and the served key say', async () => {
    expect(new Set(peers.hosts.map((h) => h.address)).size).toBe(3);
    expect(new Set(peers.hosts.map((h) => h.hostKeyFingerprint)).size).toBe(3);
    expect(peers.hosts.map((h) => h.address)).toEqual([`${peers.subnet}.0.2`, `${peers.subnet}.0.3`, `${peers.subnet}.0.4`]);
    for (const h of peers.hosts) {
      const lf = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${h.hostKeyPath}.pub`])).stdout;
      expect(lf.split(' ')[1]).toBe(h.hostKeyFingerprint);
      expect((await h.exec('hostname')).stdout.trim()).toBe(h.name);
    }
    // Names resolve without DNS: its own and its peers'; other names fail at once (DNS is the host's loopback).
    const t0 = Date.now();
    expect((await A.exec(`getent ahostsv4 ${A.name} | head -1`)).stdout).toMatch(/^127\.0\.1\.1\s/);
    expect((await A.exec(`getent ahostsv4 ${B.name} | head -1`)).stdout.split(/\s+/)[0]).toBe(B.address);
    expect((await A.exec('getent hosts deb.debian.org')).code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await A.exec('exit 3')).toEqual({ code: 3, stdout: '', stderr: '' });
  });

  it('logs skydeck-test in with the password, the key and the encrypted key (ssh2), and root with its key', async () => {
    const t = A.users.test;
    const pw = await ssh2Exec(A, { username: t.username, password: t.password }, 'id -un; hostname; echo "$HOME"; echo "$SHELL"');
    expect(pw.stdout.split('\n').slice(0, 4)).toEqual(['skydeck-test', A.name, '/home/skydeck-test', '/bin/sh']);
    expect(pw.served).toBe(A.hostKeyFingerprint);
    expect((await ssh2Exec(B, { username: t.username, privateKey: t.privateKey }, 'hostname')).stdout.trim()).toBe(B.name);
    expect((await ssh2Exec(B, { username: t.username, privateKey: t.encryptedKey.privateKey, passphrase: t.encryptedKey.passphrase }, 'id -un')).stdout.trim()).toBe('skydeck-test');
    await expect(ssh2Exec(A, { username: t.username, password: 'wrong' }, 'true')).rejects.toThrow(/authentication/i);
    expect((await ssh2Exec(A, { username: 'root', privateKey: A.users.root.privateKey }, 'id -u; hostname')).stdout).toBe(`0\n${A.name}\n`);
  });

  it('takes keys from the OpenSSH client too, and refuses the key that is not authorized', async () => {
    const ok = await opensshExec(A, 'skydeck-test', A.users.test.privateKeyPath, 'echo "$SSH_CONNECTION"');
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split(' ')[2]).toBe(A.address);
    const wrong = await opensshExec(A, 'skydeck-test', A.users.test.otherKey.privateKeyPath, 'true');
    expect(wrong.code).toBe(255);
    expect(wrong.stderr).toMatch(/Permission denied/);
    // Root's bashrc is an empty file in every host: an exec as root is fast.
    const t0 = Date.now();
    expect((await opensshExec(A, 'root', A.users.root.privateKeyPath, 'cat ~/.bashrc | wc -c')).stdout.trim()).toBe('0');
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('keeps /tmp, /opt/skydeck, the test home and ~root/.local private to each host', async () => {
    const paths = ['/tmp/m', '/opt/skydeck/m', '/home/skydeck-test/m', '/root/.local/m'];
    expect((await A.exec(paths.map((p) => `echo "A ${p}" > ${p}`).join('; '))).code).toBe(0);
    for (const p of paths) {
      expect((await A.exec(`cat ${p}`)).stdout).toBe(`A ${p}\n`);
      expect((await B.exec(`cat ${p}`)).code).not.toBe(0);
      expect(existsSync(p)).toBe(false); // nor on this machine
    }
    expect(readFileSync(`${A.root}/opt/m`, 'utf8')).toBe('A /opt/skydeck/m\n');
    expect(readFileSync(`${A.root}/tmp/m`, 'utf8')).toBe('A /tmp/m\n');
    // The test user can write its own home (a non-root agent installs under ~/.local/share).
    const mk = await ssh2Exec(B, { username: 'skydeck-test', privateKey: B.users.test.privateKey }, 'mkdir -p ~/.local/share/skydeck-agent && echo ok > ~/.local/share/skydeck-agent/x && cat ~/.local/share/skydeck-agent/x');
    expect(mk.stdout).toBe('ok\n');
    expect(existsSync(`${B.root}/home/.local/share/skydeck-agent/x`)).toBe(true);
    expect((await A.exec('test -e /home/skydeck-test/.local/share/skydeck-agent/x')).code).toBe(1);
    // Each host has its own PID namespace: its init is PID 1 and no process of another host is visible.
    const ps = (await A.exec('ps -e -o pid=,comm=')).stdout;
    expect(ps).toMatch(/^\s*1 skydeck-peer-in/m);
    expect(ps).not.toMatch(/libvirtd/);
  });

  it('runs a real libvirtd (qemu:///system) that virsh reaches over ssh, with a default pool and br0', async () => {
    expect(L.libvirtd).toMatchObject({ uri: 'qemu:///system' });
    expect(L.libvirtd!.vncPortMax).toBeGreaterThan(L.libvirtd!.vncPortMin);
    expect(A.libvirtd).toBeUndefined();
    const r = await opensshExec(L, 'root', L.users.root.privateKeyPath, 'virsh list --all && virsh -c qemu:///system pool-list --all --name && virsh uri && ip -o link show br0');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Id\s+Name\s+State/);
    expect(r.stdout).toMatch(/^default\s*$/m);
    expect(r.stdout).toMatch(/^qemu:\/\/\/system$/m);
    expect(r.stdout).toMatch(/br0/);
    // The other hosts have no libvirtd of their own (and do not see L's).
    expect((await A.exec('virsh -c qemu:///system list')).code).not.toBe(0);
  });

  it('loses the sshd (killSshd) and gets it back, and rotates the host key', async () => {
    await B.killSshd();
    expect(await portOpen(B.address, 22)).toBe(false);
    expect((await B.exec('hostname')).stdout.trim()).toBe(B.name); // the host itself is still there
    await B.startSshd();
    const old = B.hostKeyFingerprint;
    const fresh = await B.rotateHostKey();
    expect(fresh).not.toBe(old);
    expect(fresh).toBe(B.hostKeyFingerprint);
    const r = await ssh2Exec(B, { username: 'skydeck-test', password: B.users.test.password }, 'hostname');
    expect(r.served).toBe(fresh);
  });
});

describe('cleanup', () => {
  it('removes what a killed run left (cleanupStale by prefix)', async () => {
    const prefix = `skdq${process.pid % 100000}`;
    const cli = spawn(process.execPath, [`${import.meta.dirname}/cli.mjs`, 'up', '--count', '2', '--prefix', prefix], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d));
    await new Promise<void>((resolve, reject) => {
      cli.stdout.on('data', () => out.trimEnd().endsWith('}') && resolve());
      cli.once('exit', (code) => reject(new Error(`cli up exited ${code}`)));
    });
    const described = JSON.parse(out) as { hosts: { nsPid: number; root: string }[]; bridge: string; keys: { test: string } };
    cli.kill('SIGKILL'); // crashed: nothing of its own cleanup runs
    await new Promise((r) => cli.once('exit', r));
    expect(await netnsList()).toContain(`${prefix}-1`);
    expect(described.hosts.every((h) => alive(h.nsPid))).toBe(true);
    await cleanupStale(prefix);
    expect(await netnsList()).not.toContain(`${prefix}-`);
    expect(await linkList()).not.toContain(`${described.bridge}:`);
    expect(described.hosts.some((h) => alive(h.nsPid) || existsSync(h.root))).toBe(false);
    expect(existsSync(described.keys.test)).toBe(false);
  });

  it('stop() ends every process and removes the namespaces, the bridge, the private directories and the keys', async () => {
    const pids = peers.hosts.flatMap((h) => [h.nsPid, h.holderPid, h.libvirtd?.pid ?? 0]).filter(Boolean);
    expect(pids.every(alive)).toBe(true);
    await peers.stop();
    expect(pids.some(alive)).toBe(false);
    expect(await netnsList()).not.toMatch(new RegExp(`^${PREFIX}-`, 'm'));
    expect(await linkList()).not.toContain(`${peers.bridge}:`);
    expect(peers.hosts.some((h) => existsSync(h.root))).toBe(false);
    expect(existsSync(peers.keysDir)).toBe(false);
    // No route into the subnet is left (beyond it, this machine's uplink may accept any TCP connection).
    expect((await run('ip', ['route', 'show', `${peers.subnet}.0.0/16`])).stdout).toBe('');
  });
});
