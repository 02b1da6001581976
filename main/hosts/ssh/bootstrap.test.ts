import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import { AGENT_DIR_ROOT } from '@shared/agent/protocol';
import { createLogger } from '../../log/logger';
import type { ExecResult, SshSession, SshTarget } from '../types';
import { agentStatus, ensureRuntime, installAgent, probeHost, startAgent, stopAgent, uninstallAgent, type HostProbe } from './bootstrap';
import { createHostLink } from './link';
import { connectSsh, type Ssh2Session } from './session';
import { fakeBundle } from './testing/fake-agent';
import { startTestSshd, type TestSshd } from './testing/sshd';
import { ensureRuntimes } from '../../../scripts/fetch-runtimes.mjs';

const repo = join(import.meta.dirname, '..', '..', '..');
let sshd: TestSshd;
let tmp: string;
let runtimes: { x64: string; arm64: string };
const sessions: Ssh2Session[] = [];

beforeAll(async () => {
  sshd = await startTestSshd();
  tmp = mkdtempSync(join(tmpdir(), 'skydeck-boot-'));
  chmodSync(tmp, 0o777);
  runtimes = ensureRuntimes(repo) as { x64: string; arm64: string };
}, 120_000);
afterAll(async () => {
  for (const s of sessions) s.close();
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function target(user: 'test' | 'root'): SshTarget {
  const u = sshd.users[user];
  return { address: sshd.address, port: sshd.port, username: u.username, auth: { method: 'key', privateKey: u.privateKey }, hostKeyFingerprint: sshd.hostKeyFingerprint };
}

async function open(user: 'test' | 'root' = 'test'): Promise<Ssh2Session> {
  const s = await connectSsh(target(user));
  sessions.push(s);
  return s;
}

function local(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (ApiError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** A session whose exec answers canned stdout (for the refusals). */
function stub(stdout: string): SshSession {
  const r: ExecResult = { code: 0, signal: null, stdout, stderr: '' };
  return { target: target('test'), hostKey: { algorithm: 'x', fingerprint: 'y' }, exec: async () => r } as unknown as SshSession;
}

describe('probeHost', () => {
  it('reads the facts of a host as a normal user and as root', async () => {
    const p = await probeHost(await open('test'));
    const pretty = /^PRETTY_NAME="?(.*?)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))![1];
    expect(p).toMatchObject({
      os: 'Linux',
      arch: local('uname -m') === 'aarch64' ? 'arm64' : 'x64',
      kernel: local('uname -r'),
      osPrettyName: pretty,
      uid: sshd.users.test.uid,
      user: 'skydeck-test',
      home: sshd.users.test.home,
      installDir: `${sshd.users.test.home}/.local/share/skydeck-agent`,
      systemd: existsSync('/run/systemd/system'),
      virsh: existsSync('/usr/bin/virsh') ? '/usr/bin/virsh' : null,
      kvmDevice: existsSync('/dev/kvm'),
      kvm: false, // not in the kvm group
      // sshd's default PATH, not this test's (which has the pinned Node 22 first)
      nodePath: local('PATH=/usr/local/bin:/usr/bin:/bin command -v node'),
      nodeVersion: local('PATH=/usr/local/bin:/usr/bin:/bin node -v'),
    });
    expect(p.freeKb).toBeGreaterThan(1000);
    expect(p.agent).toEqual({ installed: false, version: null, current: null, socket: false, running: null });
    const r = await probeHost(await open('root'));
    expect(r.uid).toBe(0);
    expect(r.installDir).toBe(AGENT_DIR_ROOT);
    expect(r.kvm).toBe(existsSync('/dev/kvm'));
  });

  it('refuses a host that is not Linux or has an unsupported CPU', async () => {
    const bsd = await rejection(probeHost(stub('@@os=FreeBSD\n@@machine=amd64\n')));
    expect(bsd.code).toBe('validation');
    expect(bsd.details?.reason).toBe('not_linux');
    expect(bsd.message).toMatch(/not a Linux host: .*FreeBSD/);
    const riscv = await rejection(probeHost(stub('noise from a login script\n@@os=Linux\n@@machine=riscv64\n')));
    expect(riscv.code).toBe('not_supported');
    expect(riscv.details?.reason).toBe('unsupported_arch');
    expect(await probeHost(stub('@@os=Linux\n@@machine=aarch64\n@@uid=1000\n@@home=/home/u\n@@node_version=v22.3.0\n'))).toMatchObject({ arch: 'arm64', nodeMajor: 22, installDir: '/home/u/.local/share/skydeck-agent' });
  });
});

describe('bootstrap with a fake agent bundle', () => {
  it('uses the host node when it is new enough', async () => {
    const p = { arch: 'x64', nodePath: '/usr/local/bin/node', nodeMajor: 22 } as HostProbe;
    expect(await ensureRuntime(stub(''), p, {})).toBe('/usr/local/bin/node');
  });

  it('installs runtime and agent, starts, links, restarts, stops and uninstalls (non-root, supervisor)', async () => {
    const s = await open('test');
    const dir = join(tmp, 'user', 'skydeck-agent');
    const probe = await probeHost(s, { dir });
    expect(probe.installDir).toBe(dir);
    expect(probe.nodeMajor).toBeLessThan(22); // the system node here is 20: the runtime gets uploaded

    const steps: number[] = [];
    const t0 = Date.now();
    const node = await ensureRuntime(s, probe, runtimes, (sent, total) => steps.push(sent / total));
    const firstMs = Date.now() - t0;
    expect(node).toMatch(new RegExp(`^${dir}/runtime/node-v22\\.\\d+\\.\\d+-linux-x64/bin/node$`));
    expect(local(`'${node}' -v`)).toMatch(/^v22\./);
    expect(steps.at(-1)).toBe(1);
    expect(existsSync(join(dir, 'runtime', 'node-v' + local(`'${node}' -v`).slice(1) + '-linux-x64', 'include'))).toBe(false); // only bin/node
    expect(local(`ls -A '${dir}/runtime'`).split('\n')).toHaveLength(1); // no tarball or temp dir left
    // Cached: the second call neither uploads nor unpacks.
    const again: number[] = [];
    const t1 = Date.now();
    expect(await ensureRuntime(s, await probeHost(s, { dir }), runtimes, (x) => again.push(x))).toBe(node);
    expect(again).toEqual([]);
    expect(Date.now() - t1).toBeLessThan(firstMs);

    const bundle = join(tmp, 'agent-1.cjs');
    writeFileSync(bundle, fakeBundle('1.0.0'));
    const inst = await installAgent(s, dir, bundle, '1.0.0');
    expect(inst.uploaded).toBe(true);
    expect(readlinkSync(join(dir, 'current'))).toBe('versions/1.0.0');
    expect((await installAgent(s, dir, bundle, '1.0.0')).uploaded).toBe(false);

    const how = await startAgent(s, { dir, nodePath: node, libvirtUri: 'test:///default', systemd: true });
    expect(how).toBe('supervisor'); // not root
    const st = await agentStatus(s, dir);
    expect(st).toMatchObject({ installed: true, version: '1.0.0', current: 'versions/1.0.0', socket: true, running: 'supervisor' });

    const l = createHostLink({ hostId: 'boot', resolveTarget: async () => target('test'), agentSocketPath: () => `${dir}/agent.sock`, appVersion: '1.0.0', logger: createLogger({ level: 'warn', sink: () => {} }) });
    try {
      await new Promise<void>((resolve) => {
        if (l.status().state === 'online') resolve();
        l.onStatus((x) => x.state === 'online' && resolve());
      });
      expect(l.status().hello).toMatchObject({ agentVersion: '1.0.0', installDir: dir, libvirtUri: 'test:///default', supervisor: 'supervisor' });

      // Upgrade: a new bundle, restart; the old supervisor is gone, the new one answers.
      const pid1 = readFileSync(join(dir, 'supervisor.pid'), 'utf8').trim();
      writeFileSync(bundle, fakeBundle('1.1.0'));
      await installAgent(s, dir, bundle, '1.1.0');
      await startAgent(s, { dir, nodePath: node, libvirtUri: 'test:///default', systemd: false });
      const pid2 = readFileSync(join(dir, 'supervisor.pid'), 'utf8').trim();
      expect(pid2).not.toBe(pid1);
      expect(local(`kill -0 ${pid1} 2>/dev/null && echo alive || echo gone`)).toBe('gone');
      l.reconnect();
      await new Promise<void>((resolve) => l.onStatus((x) => x.state === 'online' && resolve()));
      expect(l.status().hello?.agentVersion).toBe('1.1.0');
      expect(local(`ls '${dir}/versions'`).split('\n').sort()).toEqual(['1.0.0', '1.1.0']);
    } finally {
      l.close();
    }

    await stopAgent(s, dir);
    expect(await agentStatus(s, dir)).toMatchObject({ installed: true, socket: false, running: null });
    await uninstallAgent(s, dir);
    expect(existsSync(dir)).toBe(false);
    await uninstallAgent(s, dir); // idempotent
    expect((await rejection(uninstallAgent(s, '/home'))).details?.reason).toBe('bad_dir');
  }, 60_000);

  it('reports an agent that does not come up, with its log', async () => {
    const s = await open('test');
    const dir = join(tmp, 'broken', 'skydeck-agent');
    const bundle = join(tmp, 'broken.cjs');
    writeFileSync(bundle, "console.error('boom: cannot open libvirt'); process.exit(1);\n");
    await installAgent(s, dir, bundle, '0.0.1');
    const e = await rejection(startAgent(s, { dir, nodePath: process.execPath, libvirtUri: 'test:///default', systemd: false, waitMs: 800 }));
    expect(e.details?.reason).toBe('agent_start_failed');
    expect(e.message).toMatch(/boom: cannot open libvirt/);
    await uninstallAgent(s, dir);
  });
});
