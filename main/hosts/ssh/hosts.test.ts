/**
 * Several real hosts (sshd in network namespaces, scripts/peers/ssh-hosts.mjs): each has its own address, hostname,
 * /tmp, home and /opt/skydeck, so host links, jump hosts and agent installs are checked the way they meet real hosts.
 * Its hosts get a prefix and a /16 of their own (10.214–10.253), apart from other files' hosts (10.213).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import { AGENT_DIR_ROOT, AGENT_PROTOCOL_VERSION } from '@shared/agent/protocol';
import { createLogger } from '../../log/logger';
import type { HostLink, HostLinkStatus, SshEndpoint, SshTarget } from '../types';
import { ensureRuntime, installAgent, probeHost, startAgent, uninstallAgent } from './bootstrap';
import { createHostLink, HostLinks } from './link';
import { connectSsh, probeHostKey, type Ssh2Session } from './session';
import { startFakeAgent, type FakeAgent } from './testing/fake-agent';
import { cleanupStale, startSshHosts, type SshHost, type SshHosts } from '../../../scripts/peers/ssh-hosts.mjs';
import { buildAgent } from '../../../scripts/build-agent.mjs';
import { ensureRuntimes } from '../../../scripts/fetch-runtimes.mjs';

const repo = join(import.meta.dirname, '..', '..', '..');
// Per test process: startSshHosts first removes whatever carries its prefix, so two runs of this file at the same time
// (two people, or `npm test` beside a single-file run) must not share one, nor a subnet. Leftovers of killed runs
// (their pid gone) are removed below.
const PREFIX = `skds${process.pid}`;
const SUBNET = `10.${214 + (process.pid % 40)}`;
const VERSION = '0.0.0-hosts-test';
let peers: SshHosts;
let A: SshHost;
let B: SshHost;
let C: SshHost;
let D: SshHost;
let bundle: string;
let tmp: string;
let runtimes: { x64: string; arm64: string };
const logger = createLogger({ level: 'warn', sink: () => {} });
const sessions: Ssh2Session[] = [];
const links: HostLink[] = [];
const agents: FakeAgent[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'skydeck-hosts-test-'));
  for (const line of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
    const pid = /^skds(\d+)-/.exec(line)?.[1];
    if (pid && Number(pid) !== process.pid && !existsSync(`/proc/${pid}`)) await cleanupStale(`skds${pid}`);
  }
  const [p, built] = await Promise.all([startSshHosts({ count: 4, prefix: PREFIX, subnet: SUBNET }), buildAgent({ outFile: join(tmp, 'skydeck-agent.cjs'), version: VERSION })]);
  peers = p;
  [A, B, C, D] = p.hosts as [SshHost, SshHost, SshHost, SshHost];
  bundle = built.outFile;
  runtimes = ensureRuntimes(repo) as { x64: string; arm64: string };
}, 120_000);
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  for (const a of agents.splice(0)) await a.stop();
});
afterAll(async () => {
  for (const s of sessions) s.close();
  await peers?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

function endpoint(h: SshHost, user: 'test' | 'root' = 'test'): SshEndpoint {
  return { address: h.address, port: h.port, username: h.users[user].username, auth: { method: 'key', privateKey: h.users[user].privateKey }, hostKeyFingerprint: h.hostKeyFingerprint };
}

async function open(t: SshTarget): Promise<Ssh2Session> {
  const s = await connectSsh(t);
  sessions.push(s);
  return s;
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

function until(l: HostLink, pred: (s: HostLinkStatus) => boolean, ms = 15_000): Promise<HostLinkStatus> {
  if (pred(l.status())) return Promise.resolve(l.status());
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out; last status ${JSON.stringify(l.status())}`));
    }, ms);
    const off = l.onStatus((s) => {
      if (pred(s)) {
        clearTimeout(t);
        off();
        resolve(s);
      }
    });
  });
}

/** A fake agent whose socket the host sees at /tmp/<name>/agent.sock (its /tmp is host.root/tmp here). */
async function fakeAgentOn(h: SshHost, name: string): Promise<{ agent: FakeAgent; path: string }> {
  const dir = join(h.root, 'tmp', name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const agent = startFakeAgent(dir);
  agents.push(agent);
  await agent.start();
  return { agent, path: `/tmp/${name}/agent.sock` };
}

describe('several hosts', () => {
  it('reaches each host on its own address, with its own hostname and files', async () => {
    const t0 = performance.now();
    const ss = await Promise.all([A, B, C, D].map((h) => open(endpoint(h))));
    const names = await Promise.all(ss.map(async (s) => (await s.exec('uname -n; echo "$HOME"; ls /tmp | wc -l')).stdout.split('\n')[0]));
    expect(names).toEqual([A, B, C, D].map((h) => h.name));
    expect(performance.now() - t0).toBeLessThan(5000);
    // A file written on A is not on B.
    await ss[0]!.upload(Buffer.from('only on A'), '/tmp/marker.txt');
    expect((await ss[0]!.exec('cat /tmp/marker.txt')).stdout).toBe('only on A');
    expect((await ss[1]!.exec('cat /tmp/marker.txt')).code).not.toBe(0);
  });

  it('reaches B through A as a jump host (B sees A as the client), checking both keys', async () => {
    const s = await open({ ...endpoint(B), jump: endpoint(A) });
    const r = await s.exec('uname -n; echo "$SSH_CONNECTION"');
    const [name, conn] = r.stdout.split('\n');
    expect(name).toBe(B.name);
    expect(conn?.split(' ')[0]).toBe(A.address);
    expect(conn?.split(' ')[2]).toBe(B.address);
    const wrongJump = await rejection(connectSsh({ ...endpoint(B), jump: { ...endpoint(A), hostKeyFingerprint: B.hostKeyFingerprint } }));
    expect(wrongJump.details).toMatchObject({ reason: 'host_key_changed', expected: B.hostKeyFingerprint, fingerprint: A.hostKeyFingerprint });
    expect(wrongJump.message).toMatch(/jump host/);
    const wrongTarget = await rejection(connectSsh({ ...endpoint(B), hostKeyFingerprint: A.hostKeyFingerprint, jump: endpoint(A) }));
    expect(wrongTarget.details).toMatchObject({ reason: 'host_key_changed', fingerprint: B.hostKeyFingerprint });
    // A big upload through the jump host (the Node runtime goes this way to hosts behind a bastion).
    const big = Buffer.alloc(48 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    expect(await s.upload(big, '/tmp/big.bin', { mode: 0o644 })).toBe(big.length);
    expect((await s.exec('sha256sum /tmp/big.bin')).stdout.split(' ')[0]).toBe(createHash('sha256').update(big).digest('hex'));
    // B's key read through A without logging in to B.
    expect(await probeHostKey({ address: B.address, port: B.port, jump: endpoint(A) })).toEqual({ algorithm: 'ssh-ed25519', fingerprint: B.hostKeyFingerprint });
    // Port 23 on B is closed: refused, as seen from A.
    const refused = await rejection(connectSsh({ ...endpoint(B), port: 23, jump: endpoint(A) }));
    expect(refused.details?.reason).toBe('refused');
  });

  it('maps an address on the bridge where no host answers to net (no route / ARP fails)', async () => {
    const e = await rejection(connectSsh({ ...endpoint(A), address: `${SUBNET}.0.250` }, { readyTimeoutMs: 8000 }));
    expect(e.code).toBe('unreachable');
    expect(e.details?.reason).toBe('net');
  }, 15_000);

  it('keeps one link per host: a host going down leaves the others online, and it comes back', async () => {
    const paths = new Map<string, string>();
    for (const h of [A, B, C]) paths.set(h.name, (await fakeAgentOn(h, `fake-${h.name}`)).path);
    const byName = new Map([A, B, C].map((h) => [h.name, h]));
    const reg = new HostLinks((id) => {
      const l = createHostLink({
        hostId: id,
        resolveTarget: async () => endpoint(byName.get(id)!),
        agentSocketPath: () => paths.get(id)!,
        appVersion: VERSION,
        logger,
        backoff: { initialMs: 200, maxMs: 800 },
      });
      links.push(l);
      return l;
    });
    const [la, lb, lc] = [A, B, C].map((h) => reg.ensure(h.name)) as [HostLink, HostLink, HostLink];
    await Promise.all([la, lb, lc].map((l) => until(l, (s) => s.state === 'online')));
    expect(lb.status().hello?.installDir).toBe(join(B.root, 'tmp', `fake-${B.name}`));

    const seenB: string[] = [];
    lb.onStatus((s) => seenB.push(`${s.state}:${s.failure ?? ''}`));
    await B.killSshd();
    await until(lb, (s) => s.state === 'offline');
    await until(lb, (s) => s.state === 'unreachable' && s.failure === 'refused');
    expect(la.status().state).toBe('online');
    expect(lc.status().state).toBe('online');
    expect(await la.call('agent.ping', {})).toHaveProperty('now');
    await B.startSshd();
    await until(lb, (s) => s.state === 'online');
    expect(seenB[0]).toBe('offline:closed');
    expect(seenB.at(-1)).toBe('online:');
    reg.closeAll();
  });

  it('stops a link whose host was reinstalled with a new key, until the new key is accepted', async () => {
    const { path } = await fakeAgentOn(C, 'fake-rotate');
    let fingerprint = C.hostKeyFingerprint;
    const l = createHostLink({
      hostId: 'C',
      resolveTarget: async () => ({ ...endpoint(C), hostKeyFingerprint: fingerprint }),
      agentSocketPath: () => path,
      appVersion: VERSION,
      logger,
      backoff: { initialMs: 200, maxMs: 800 },
    });
    links.push(l);
    await until(l, (s) => s.state === 'online');
    const old = fingerprint;
    const fresh = await C.rotateHostKey();
    expect(fresh).not.toBe(old);
    const s = await until(l, (x) => x.state === 'unreachable' && x.failure === 'host_key_changed');
    expect(s.nextRetryAt).toBeNull();
    expect(s.reason).toContain(fresh);
    fingerprint = fresh;
    l.reconnect();
    await until(l, (x) => x.state === 'online');
  });
});

describe('the real agent on real hosts, in the default install directories', () => {
  const cases = [
    { title: 'as the test user on A', host: () => A, user: 'test' as const, jump: undefined as (() => SshHost) | undefined },
    { title: 'as root on D, reached through A as a jump host', host: () => D, user: 'root' as const, jump: () => A },
  ];
  it.each(cases)('bootstraps $title, handshakes, and reads host.facts and domains.list', async ({ host, user, jump }) => {
    const h = host();
    const target: SshTarget = { ...endpoint(h, user), ...(jump ? { jump: endpoint(jump()) } : {}) };
    const s = await open(target);
    const probe = await probeHost(s);
    expect(probe.installDir).toBe(user === 'root' ? AGENT_DIR_ROOT : '/home/skydeck-test/.local/share/skydeck-agent');
    expect(probe.virsh).not.toBeNull();
    const node = await ensureRuntime(s, probe, runtimes);
    await installAgent(s, probe.installDir, bundle, VERSION);
    const how = await startAgent(s, { dir: probe.installDir, nodePath: node, libvirtUri: 'test:///default', systemd: probe.systemd });
    expect(how).toBe('supervisor'); // no systemd in the namespaces
    const again = await probeHost(s);
    expect(again.agent).toMatchObject({ installed: true, version: VERSION, socket: true, running: 'supervisor', current: `versions/${VERSION}` });

    const l = createHostLink({
      hostId: h.name,
      resolveTarget: async () => target,
      agentSocketPath: () => `${probe.installDir}/agent.sock`,
      appVersion: VERSION,
      logger,
    });
    links.push(l);
    const st = await until(l, (x) => x.state === 'online', 20_000);
    expect(st.hello).toMatchObject({ agentVersion: VERSION, protocol: AGENT_PROTOCOL_VERSION, installDir: probe.installDir, libvirtUri: 'test:///default', supervisor: 'supervisor' });
    const facts = await l.call('host.facts', {});
    expect(facts.hostname).toBe(h.name);
    expect(facts.libvirt.uri).toBe('test:///default');
    const domains = await l.call('domains.list', {});
    expect(domains.find((d) => d.name === 'test')).toMatchObject({ state: 'running' });
    l.close();
    await uninstallAgent(s, probe.installDir);
    expect((await h.exec(`[ -e ${probe.installDir} ] && echo left || echo gone`)).stdout.trim()).toBe('gone');
  }, 60_000);
});
