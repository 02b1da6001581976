import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import { AGENT_PROTOCOL_VERSION } from '@shared/agent/protocol';
import { createLogger } from '../../log/logger';
import type { HostLink, HostLinkStatus, SshSession, SshTarget } from '../types';
import { backoffDelay, createHostLink, HostLinks, type HostLinkHandle, type HostLinkOptions } from './link';
import { connectSsh } from './session';
import { startFakeAgent, writeFakeConnectCli, type FakeAgent } from './testing/fake-agent';
import { startTestSshd, type TestSshd } from './testing/sshd';

const NODE = process.execPath;
let sshd: TestSshd;
let root: string;
const links: HostLink[] = [];
const agents: FakeAgent[] = [];
const lines: string[] = [];
const logger = createLogger({ level: 'debug', sink: (l) => lines.push(l) });

beforeAll(async () => {
  sshd = await startTestSshd();
  root = mkdtempSync(join(tmpdir(), 'skydeck-link-test-'));
  chmodSync(root, 0o755);
});
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  for (const a of agents.splice(0)) await a.stop();
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
async function agentDir(start = true): Promise<FakeAgent> {
  const dir = join(root, `agent-${++n}`);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { mode: 0o755 });
  const a = startFakeAgent(dir);
  agents.push(a);
  if (start) await a.start();
  return a;
}

function target(s: TestSshd = sshd, over: Partial<SshTarget> = {}): SshTarget {
  return { address: s.address, port: s.port, username: s.users.test.username, auth: { method: 'key', privateKey: s.users.test.privateKey }, hostKeyFingerprint: s.hostKeyFingerprint, ...over };
}

function link(over: Partial<HostLinkOptions> & { agent?: FakeAgent } = {}): HostLinkHandle & { history: HostLinkStatus[] } {
  const { agent, ...rest } = over;
  const l = createHostLink({
    hostId: 'h1',
    resolveTarget: async () => target(),
    agentSocketPath: () => agent?.path ?? '/nonexistent/agent.sock',
    appVersion: '1.2.3',
    logger,
    backoff: { initialMs: 100, maxMs: 400 },
    agentBackoff: { initialMs: 100, maxMs: 300 },
    ...rest,
  });
  const history: HostLinkStatus[] = [];
  l.onStatus((s) => history.push(s));
  links.push(l);
  return Object.assign(l, { history });
}

function until(l: HostLink, pred: (s: HostLinkStatus) => boolean, ms = 8000): Promise<HostLinkStatus> {
  if (pred(l.status())) return Promise.resolve(l.status());
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting; last status ${JSON.stringify(l.status())}`));
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

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (ApiError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('backoff', () => {
  it('doubles from 1 s to a 60 s cap, with jitter inside ±20 %', () => {
    const mid = (i: number) => backoffDelay(i, { random: () => 0.5 });
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map(mid)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(backoffDelay(0, { random: () => 0 })).toBe(800);
    expect(backoffDelay(0, { random: () => 1 })).toBe(1200);
    expect(backoffDelay(10, { random: () => 1 })).toBe(60000);
  });
});

describe('HostLink', () => {
  it('goes online: SSH, agent socket, hello; then calls, pings and notifications work', async () => {
    const agent = await agentDir();
    const l = link({ agent, pingIntervalMs: 100 });
    expect(l.status().state).toBe('connecting');
    const s = await until(l, (x) => x.state === 'online');
    expect(s.hello).toMatchObject({ agentVersion: '9.9.9-fake', protocol: AGENT_PROTOCOL_VERSION, installDir: agent.dir });
    expect(s.latencyMs).toBeGreaterThanOrEqual(0);
    expect(s.reason).toBeNull();
    expect(agent.received[0]).toMatchObject({ method: 'agent.hello', params: { appVersion: '1.2.3', protocol: AGENT_PROTOCOL_VERSION } });
    expect(await l.call('agent.ping', {})).toHaveProperty('now');
    const events: unknown[] = [];
    l.onNotification('domain.event', (p) => events.push(p));
    agent.notify('domain.event', { uuid: 'u', name: 'vm1', event: 'started', state: 'running' });
    await new Promise((r) => setTimeout(r, 350));
    expect(events).toEqual([{ uuid: 'u', name: 'vm1', event: 'started', state: 'running' }]);
    // Periodic pings ran, and did not emit status changes by themselves.
    expect(agent.received.filter((m) => m.method === 'agent.ping').length).toBeGreaterThanOrEqual(3);
    expect(l.history.map((h) => h.state)).toEqual(['online']);
    expect((await l.session()).hostKey.fingerprint).toBe(sshd.hostKeyFingerprint);
  });

  it('is offline with agent_down while the agent is not running, serves the session meanwhile, and comes online when it starts', async () => {
    const agent = await agentDir(false);
    const l = link({ agent });
    const down = await until(l, (x) => x.state === 'offline');
    expect(down.failure).toBe('agent_down');
    expect(down.reason).toMatch(/not running/);
    expect(down.nextRetryAt).not.toBeNull();
    // The session is up: a bootstrap can use it.
    const s = await l.session();
    expect((await s.exec('echo hi')).stdout).toBe('hi\n');
    const e = await rejection(l.call('agent.ping', {}));
    expect(e.code).toBe('unreachable');
    expect(e.details?.reason).toBe('agent_down');
    await agent.start();
    await until(l, (x) => x.state === 'online');
    // The agent restarts: offline, then online again on the same SSH session.
    agent.dropConnections();
    await until(l, (x) => x.state === 'offline' && x.failure === 'agent_down');
    await until(l, (x) => x.state === 'online');
    expect(await l.session()).toBe(s);
  });

  it('treats a socket path that cannot be resolved (agent not installed) as agent_down', async () => {
    const l = link({
      agentSocketPath: () => {
        throw new ApiError('conflict', 'the agent is not installed on this host yet', { reason: 'agent_missing' });
      },
    });
    const s = await until(l, (x) => x.state === 'offline');
    expect(s).toMatchObject({ failure: 'agent_down', reason: 'the agent is not installed on this host yet' });
  });

  it('reports an agent speaking another protocol as agent_version', async () => {
    const agent = await agentDir();
    agent.behaviour.protocol = AGENT_PROTOCOL_VERSION + 1;
    const l = link({ agent });
    const s = await until(l, (x) => x.state === 'offline');
    expect(s.failure).toBe('agent_version');
    expect(s.reason).toMatch(/protocol/);
  });

  it('drops a hung agent after a ping timeout and reconnects to it', async () => {
    const agent = await agentDir();
    const l = link({ agent, pingIntervalMs: 50, pingTimeoutMs: 150 });
    await until(l, (x) => x.state === 'online');
    agent.behaviour.hangPing = true;
    const s = await until(l, (x) => x.state === 'offline');
    expect(s.reason).toMatch(/ping/);
    agent.behaviour.hangPing = false;
    await until(l, (x) => x.state === 'online');
  });

  it('falls back to the agent CLI `connect` over exec where sshd refuses socket forwarding', async () => {
    const strict = await startTestSshd({ extraConfig: ['AllowStreamLocalForwarding no'] });
    try {
      const agent = await agentDir();
      const cmd = writeFakeConnectCli(agent.dir, NODE);
      const l = link({ agent, resolveTarget: async () => target(strict), fallbackCommand: () => cmd });
      const s = await until(l, (x) => x.state === 'online');
      expect(s.hello?.agentVersion).toBe('9.9.9-fake');
      expect(await l.call('agent.ping', {})).toHaveProperty('now');
      expect(strict.log()).toMatch(/refused streamlocal/);
      // Without a fallback: agent_down, saying why.
      const l2 = link({ agent, resolveTarget: async () => target(strict) });
      const s2 = await until(l2, (x) => x.state === 'offline');
      expect(s2.failure).toBe('agent_down');
      expect(s2.reason).toMatch(/refuses Unix socket forwarding/);
      // A relay that fails: what it says on stderr becomes the reason.
      const l4 = link({ agent, resolveTarget: async () => target(strict), fallbackCommand: () => `echo 'relay broke: EACCES' >&2; exit 1` });
      const s4 = await until(l4, (x) => x.state === 'offline');
      expect(s4).toMatchObject({ failure: 'agent_down' });
      expect(s4.reason).toMatch(/relay broke: EACCES/);
      // Fallback while the agent is down: there is no socket, so the agent is simply not running.
      await agent.stop();
      const l3 = link({ agent, resolveTarget: async () => target(strict), fallbackCommand: () => cmd });
      const s3 = await until(l3, (x) => x.state === 'offline');
      expect(s3.failure).toBe('agent_down');
      expect(s3.reason).toMatch(/not running/);
    } finally {
      await strict.stop();
    }
  });

  it('goes offline when sshd dies and comes back with back-off when it restarts', async () => {
    const host = await startTestSshd();
    try {
      const agent = await agentDir();
      const l = link({ agent, resolveTarget: async () => target(host) });
      await until(l, (x) => x.state === 'online');
      const before = await l.session();
      await host.killSshd();
      const off = await until(l, (x) => x.state === 'offline');
      expect(off.failure).toBe('closed');
      expect(off.reason).toMatch(/SSH connection lost/);
      expect(off.nextRetryAt).not.toBeNull();
      // Retries meet a refused port: unreachable/refused, still retrying.
      const un = await until(l, (x) => x.state === 'unreachable');
      expect(un.failure).toBe('refused');
      expect(un.nextRetryAt).not.toBeNull();
      expect((await rejection(l.call('agent.ping', {}))).code).toBe('unreachable');
      await new Promise((r) => setTimeout(r, 500));
      const retries = l.history.filter((h) => h.state === 'unreachable' && h.nextRetryAt).length;
      expect(retries).toBeGreaterThanOrEqual(2);
      await host.startSshd();
      await until(l, (x) => x.state === 'online');
      const after = await l.session();
      expect(after).not.toBe(before);
      expect((await after.exec('echo back')).stdout).toBe('back\n');
    } finally {
      await host.stop();
    }
  });

  it('stops at an auth failure (unreachable, no retry) until the credentials change or reconnect()', async () => {
    const agent = await agentDir();
    let connects = 0;
    let good = false;
    const l = link({
      agent,
      resolveTarget: async () => target(sshd, { auth: good ? { method: 'key', privateKey: sshd.users.test.privateKey } : { method: 'password', password: 'wrong-password-1' } }),
      connect: (t, o) => {
        connects++;
        return connectSsh(t, o);
      },
    });
    const s = await until(l, (x) => x.state === 'unreachable');
    expect(s).toMatchObject({ failure: 'auth_failed', nextRetryAt: null });
    expect(s.reason).toMatch(/authentication failed for skydeck-test/);
    await new Promise((r) => setTimeout(r, 600));
    expect(connects).toBe(1);
    // Asking for the session with the same credentials does not try them again.
    const e = await rejection(l.session());
    expect(e.details?.reason).toBe('auth_failed');
    expect(connects).toBe(1);
    expect(lines.join('\n')).not.toContain('wrong-password-1');
    // New credentials: the next session() tries them, without a reconnect().
    good = true;
    expect((await (await l.session()).exec('echo ok')).stdout).toBe('ok\n');
    expect(connects).toBe(2);
    await until(l, (x) => x.state === 'online');
    // reconnect() always connects again.
    l.reconnect();
    expect(l.status().state).toBe('connecting');
    await until(l, (x) => x.state === 'online');
    expect(connects).toBe(3);
  });

  it('stops at an unknown or changed host key', async () => {
    const agent = await agentDir();
    const l = link({ agent, resolveTarget: async () => target(sshd, { hostKeyFingerprint: null }) });
    const s = await until(l, (x) => x.state === 'unreachable');
    expect(s).toMatchObject({ failure: 'host_key_unknown', nextRetryAt: null });
    const e = await rejection(l.session());
    expect(e.code).toBe('conflict');
    expect(e.details?.fingerprint).toBe(sshd.hostKeyFingerprint);
    const l2 = link({ agent, resolveTarget: async () => target(sshd, { hostKeyFingerprint: 'SHA256:not-this-one' }) });
    expect(await until(l2, (x) => x.state === 'unreachable')).toMatchObject({ failure: 'host_key_changed', nextRetryAt: null });
  });

  it('stops at a host key that changed under it (sshd reinstalled) until the new key is accepted', async () => {
    const host = await startTestSshd();
    try {
      const agent = await agentDir();
      let fingerprint = host.hostKeyFingerprint;
      let attempts = 0;
      const l = link({
        agent,
        resolveTarget: async () => {
          attempts++;
          return target(host, { hostKeyFingerprint: fingerprint });
        },
      });
      await until(l, (x) => x.state === 'online');
      const old = host.hostKeyFingerprint;
      const fresh = await host.rotateHostKey();
      await host.killSshd();
      await host.startSshd();
      const s = await until(l, (x) => x.state === 'unreachable' && x.failure === 'host_key_changed');
      expect(s.nextRetryAt).toBeNull();
      expect(s.reason).toContain(old);
      expect(s.reason).toContain(fresh);
      const before = attempts;
      await new Promise((r) => setTimeout(r, 500));
      expect(attempts).toBe(before);
      fingerprint = fresh;
      l.reconnect();
      await until(l, (x) => x.state === 'online');
      expect((await l.session()).hostKey.fingerprint).toBe(fresh);
    } finally {
      await host.stop();
    }
  });

  it('close() stops everything and leaves no timers behind', async () => {
    const baseline = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const agent = await agentDir(false);
    const host = await startTestSshd();
    try {
      const a = link({ agent }); // offline, agent retry timer pending
      const b = link({ agent, resolveTarget: async () => target(host) });
      await until(a, (x) => x.state === 'offline');
      await until(b, (x) => x.state === 'offline');
      await host.killSshd();
      await until(b, (x) => x.nextRetryAt !== null && x.failure !== 'agent_down'); // SSH retry timer pending
      const c = link({ agent, resolveTarget: () => new Promise<SshTarget>(() => {}) }); // attempt pending forever
      expect(a.timerCount() + b.timerCount()).toBeGreaterThanOrEqual(2);
      const seen: HostLinkStatus[] = [];
      for (const l of [a, b, c]) l.onStatus((s) => seen.push(s));
      for (const l of [a, b, c]) l.close();
      expect(a.timerCount() + b.timerCount() + c.timerCount()).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([]);
      expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(baseline);
      expect((await rejection(a.session())).details?.reason).toBe('closed');
      expect((await rejection(a.call('agent.ping', {}))).code).toBe('unreachable');
    } finally {
      await host.stop();
    }
  });

  it('works with any SshSession (injected connect), and the registry manages links per host', async () => {
    const agent = await agentDir();
    let connects = 0;
    const reg = new HostLinks((hostId) =>
      createHostLink({
        hostId,
        resolveTarget: async () => target(),
        agentSocketPath: () => agent.path,
        appVersion: '1.2.3',
        logger,
        connect: async (t, o): Promise<SshSession> => {
          connects++;
          return connectSsh(t, o);
        },
      }),
    );
    const a = reg.ensure('a');
    expect(reg.ensure('a')).toBe(a);
    const b = reg.ensure('b');
    await until(a, (x) => x.state === 'online');
    await until(b, (x) => x.state === 'online');
    expect(connects).toBe(2);
    expect(reg.ids().sort()).toEqual(['a', 'b']);
    expect(reg.statuses()).toEqual({ a: 'online', b: 'online' });
    expect(reg.remove('a')).toBe(true);
    expect(reg.get('a')).toBeUndefined();
    expect(a.status().state).toBe('offline');
    reg.closeAll();
    expect(reg.size).toBe(0);
    expect(b.status().state).toBe('offline');
  });
});
