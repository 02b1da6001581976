import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHosts, type SshHost, type SshHosts } from '../../scripts/peers/ssh-hosts.mjs';
import { testServer } from '../test/helpers';
import { kvmApi, until } from '../kvm/testing';

/**
 * Alerts end to end: a real agent on an sshd peer host feeds real metrics; a rule on the host's memory use fires and
 * resolves; notifications go to a real SMTP server (Debian's python3-aiosmtpd, started here) and a real HTTP webhook
 * receiver; unreachable targets show as failed deliveries; silences hold notifications back; the built-in host-offline
 * rule fires when the host goes away.
 */

let peers: SshHosts;
let H: SshHost;
let t: Awaited<ReturnType<typeof testServer>>;
const { ok, task } = kvmApi(() => t);
let hostId = '';
let smtp: ChildProcess;
let smtpOut = '';
let smtpPort = 0;
let hook: Server;
const hooks: any[] = [];
let hookUrl = '';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

beforeAll(async () => {
  [peers, t] = await Promise.all([startSshHosts({ count: 1, prefix: `skda${process.pid % 100000}` }), testServer()]);
  H = peers.hosts[0]!;
  smtpPort = await freePort();
  smtp = spawn('/usr/bin/python3', ['-u', '-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Debugging', 'stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  smtp.stdout!.on('data', (d: Buffer) => (smtpOut += d.toString()));
  smtp.stderr!.on('data', (d: Buffer) => (smtpOut += d.toString()));
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const status = new URL(req.url ?? '/', 'http://x').searchParams.get('status');
      if (status) return void res.writeHead(Number(status)).end('broken on purpose');
      hooks.push({ path: req.url, contentType: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  await until('the SMTP server to listen', () => new Promise<boolean>((r) => {
    const s = createNetServer();
    void s;
    fetch(`http://127.0.0.1:${smtpPort}`).then(() => r(true), (e: Error & { cause?: { code?: string } }) => r(e.cause?.code !== 'ECONNREFUSED'));
  }), 15_000);
}, 120_000);

afterAll(async () => {
  smtp?.kill();
  hook?.close();
  await t?.close();
  await peers?.stop();
}, 60_000);

const alertsOf = async (state: 'firing' | 'resolved' | 'all') => (await ok('alerts.list', { state })).items as Record<string, any>[];

describe('alerts on real metrics', () => {
  let ruleId = '';

  it('refuses unknown metrics, negative durations and thresholds of the wrong unit at save time', async () => {
    const base = { name: 'x', kind: 'host', metric: 'cpu.util', condition: '>', threshold: 50, durationSeconds: 10 };
    const bad = [
      [{ ...base, metric: 'cpu.bogus' }, 'metric'],
      [{ ...base, durationSeconds: -5 }, 'durationSeconds'],
      [{ ...base, threshold: 150 }, 'threshold'],
      [{ ...base, metric: 'mem.used_bytes', threshold: -1 }, 'threshold'],
      [{ ...base, kind: 'guest', metric: 'load.1' }, 'metric'],
    ] as const;
    for (const [rule, path] of bad) {
      const r = await t.call('alerts.createRule', rule);
      expect(r.status, JSON.stringify(rule)).toBe(400);
      expect(JSON.stringify(r.body.details.issues)).toContain(path);
    }
    expect((await t.call('alerts.setChannels', { webhook: { url: 'ftp://x' } })).status).toBe(400);
  });

  it('fires on a real host metric after its duration and notifies by desktop, SMTP and webhook; then resolves', async () => {
    await ok('settings.set', { patch: { metricsIntervalSeconds: 1 } });
    const key = await ok('hosts.probeKey', { address: H.address, port: H.port });
    const r = await ok('hosts.add', { name: H.name, address: H.address, port: H.port, username: H.users.test.username, auth: { method: 'password', password: H.users.test.password }, hostKeyFingerprint: key.fingerprint, libvirtUri: 'test:///default' });
    hostId = r.host.id;
    expect((await task(r.taskId, 120_000)).status).toBe('succeeded');
    await ok('alerts.setChannels', { email: { host: '127.0.0.1', port: smtpPort, from: 'skydeck@example.test', to: ['ops@example.test'] }, webhook: { url: hookUrl } });
    await until('memory samples', async () => Object.keys((await ok('monitoring.latest', { kind: 'host', id: hostId })).values).includes('mem.util'), 30_000);

    const rule = await ok('alerts.createRule', { name: 'Memory in use', kind: 'host', metric: 'mem.util', scope: { type: 'resource', id: hostId }, condition: '>', threshold: 1, durationSeconds: 3, severity: 'critical', channels: ['desktop', 'email', 'webhook'] });
    ruleId = rule.id;
    const created = Date.now();
    // Fired, and all three channels tried (the alert row is written before its notifications go out).
    const firing = await until(
      'the alert to fire and its three notifications to be recorded',
      async () => (await alertsOf('firing')).find((a) => a.ruleId === ruleId && a.deliveries.filter((d: any) => d.event === 'firing').length >= 3),
      30_000,
    );
    // Not before the condition held for its duration: the host's samples go back at least 3 s before it fired.
    const oldest = t.core.monitoring.mdb.series('host', hostId, 'mem.util', 0, 8.64e15, 'raw')[0]![0];
    expect(Date.parse(firing!.firedAt) - oldest).toBeGreaterThanOrEqual(3000);
    expect(Date.now() - created).toBeLessThan(30_000);
    expect(firing).toMatchObject({ ruleName: 'Memory in use', resourceId: hostId, resourceName: H.name, severity: 'critical', state: 'firing' });
    expect(firing!.value).toBeGreaterThan(1);
    expect(firing!.deliveries.map((d: any) => [d.event, d.channel, d.status])).toEqual(expect.arrayContaining([['firing', 'desktop', 'sent'], ['firing', 'email', 'sent'], ['firing', 'webhook', 'sent']]));
    await until('the mail at the SMTP server', () => smtpOut.includes(`Subject: [Skydeck] CRITICAL firing: Memory in use - ${H.name}`), 10_000);
    expect(smtpOut).toContain('To: ops@example.test');
    const h = hooks.find((x) => x.body.event === 'firing')!;
    expect(h).toMatchObject({ path: '/hook', contentType: 'application/json', body: { event: 'firing', alert: { ruleId, metric: 'mem.util', condition: '>', threshold: 1, resourceId: hostId, severity: 'critical' } } });
    // Evaluated again: still one alert, no new notification.
    await ok('alerts.evaluate', {});
    expect((await alertsOf('all')).filter((a) => a.ruleId === ruleId)).toHaveLength(1);

    // The condition stops holding: resolved, and said so on every channel.
    await ok('alerts.updateRule', { id: ruleId, rule: { name: 'Memory in use', kind: 'host', metric: 'mem.util', scope: { type: 'resource', id: hostId }, condition: '>', threshold: 99.99, durationSeconds: 3, severity: 'critical', channels: ['desktop', 'email', 'webhook'] } });
    await until('the alert to resolve and its three notifications to be recorded', async () => (await alertsOf('resolved')).some((a) => a.ruleId === ruleId && a.deliveries.filter((d: any) => d.event === 'resolved').length >= 3), 15_000);
    const [resolved] = (await alertsOf('resolved')).filter((a) => a.ruleId === ruleId);
    expect(resolved!.resolvedAt).toBeTruthy();
    expect(resolved!.deliveries.filter((d: any) => d.event === 'resolved').map((d: any) => d.status)).toEqual(['sent', 'sent', 'sent']);
    await until('the resolved webhook', () => hooks.some((x) => x.body.event === 'resolved'), 5000);
    await until('the resolved mail', () => smtpOut.includes(`Subject: [Skydeck] Resolved: Memory in use - ${H.name}`), 10_000);
  }, 240_000);

  it('holds notifications back while silenced, and records them as silenced', async () => {
    await ok('alerts.silence', { ruleId, until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'maintenance' });
    const mails = smtpOut.length;
    const hooksBefore = hooks.length;
    await ok('alerts.updateRule', { id: ruleId, rule: { name: 'Memory in use', kind: 'host', metric: 'mem.util', scope: { type: 'all' }, condition: '>', threshold: 1, durationSeconds: 0, severity: 'warning', channels: ['email', 'webhook'] } });
    const a = await until('the silenced alert to fire', async () => (await alertsOf('firing')).find((x) => x.ruleId === ruleId), 15_000);
    expect(a.silenced).toBe(true);
    expect(a.deliveries.map((d: any) => d.status)).toEqual(['silenced', 'silenced']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtpOut.length).toBe(mails);
    expect(hooks.length).toBe(hooksBefore);
  });

  it('says when a target cannot be reached: the delivery fails with the reason', async () => {
    const dead = await freePort();
    await ok('alerts.setChannels', { email: { host: '127.0.0.1', port: dead, from: 'skydeck@example.test', to: ['ops@example.test'] }, webhook: { url: `http://127.0.0.1:${dead}/nowhere` } });
    const mail = await ok('alerts.testChannel', { channel: 'email' });
    expect(mail.status).toBe('failed');
    expect(mail.error).toMatch(/ECONNREFUSED|connect/i);
    const wh = await ok('alerts.testChannel', { channel: 'webhook' });
    expect(wh.status).toBe('failed');
    expect(wh.error).toMatch(/ECONNREFUSED|fetch failed/i);
    await ok('alerts.setChannels', { email: null, webhook: { url: `${hookUrl}?status=500` } });
    expect((await ok('alerts.testChannel', { channel: 'email' })).error).toMatch(/not set up/);
    expect(await ok('alerts.testChannel', { channel: 'webhook' })).toEqual({ status: 'failed', error: 'the webhook answered HTTP 500' });
    // The secret never comes back.
    await ok('alerts.setChannels', { email: { host: '127.0.0.1', port: smtpPort, user: 'u', password: 'smtp-secret-pw', from: 'a@b.test', to: ['c@d.test'] }, webhook: null });
    expect(JSON.stringify(await ok('alerts.getChannels', {}))).not.toContain('smtp-secret-pw');
    expect(t.core.db.prepare(`SELECT count(*) FROM alert_channels WHERE config LIKE '%smtp-secret-pw%'`).pluck().get()).toBe(0);
  });

  it('fires the built-in agent-lost alert when SSH still works but the agent is gone, and resolves it when it is back', async () => {
    const rules = (await ok('alerts.listRules', {})).items as Record<string, any>[];
    const builtin = rules.find((r) => r.builtin && r.metric === 'agent.lost')!;
    expect(builtin).toMatchObject({ name: 'Agent lost', severity: 'warning' });
    await ok('alerts.updateRule', { id: builtin.id, rule: { name: builtin.name, kind: 'host', metric: 'agent.lost', condition: '>=', threshold: 1, durationSeconds: 0, severity: 'warning', channels: ['desktop'] } });
    // The agent and its supervisor die; sshd stays.
    await H.exec("pkill -KILL -f '[a]gent.cjs'");
    await until('the host to show its agent down', async () => (await ok('hosts.get', { id: hostId })).status === 'offline', 60_000);
    const a = await until('the agent-lost alert', async () => {
      await ok('alerts.evaluate', {});
      return (await alertsOf('firing')).find((x) => x.ruleId === builtin.id);
    }, 30_000);
    expect(a).toMatchObject({ resourceId: hostId, message: expect.stringContaining('its agent does not') });
    // Host offline is for a host SSH cannot reach: it stays quiet.
    expect((await alertsOf('firing')).find((x) => x.ruleId === rules.find((r) => r.metric === 'host.offline')!.id)).toBeUndefined();
    // The agent back (a bootstrap reinstalls and starts it): resolved.
    const fix = await ok('hosts.upgradeAgent', { id: hostId });
    expect((await t.core.engine.waitFor(fix.taskId, 90_000)).status).toBe('succeeded');
    await until('the host online again', async () => (await ok('hosts.get', { id: hostId })).status === 'online', 90_000);
    await until('the agent-lost alert resolved', async () => {
      await ok('alerts.evaluate', {});
      return (await alertsOf('resolved')).find((x) => x.ruleId === builtin.id);
    }, 30_000);
  }, 180_000);

  it('fires the built-in host-offline alert when the host goes away', async () => {
    const builtin = ((await ok('alerts.listRules', {})).items as Record<string, any>[]).find((r) => r.builtin && r.metric === 'host.offline')!;
    expect(builtin).toMatchObject({ metric: 'host.offline', severity: 'critical' });
    expect((await t.call('alerts.deleteRule', { id: builtin.id })).status).toBe(409);
    await ok('alerts.updateRule', { id: builtin.id, rule: { name: builtin.name, kind: 'host', metric: 'host.offline', condition: '>=', threshold: 1, durationSeconds: 0, severity: 'critical', channels: ['desktop'] } });
    await peers.stop();
    await until('the host to be offline', async () => (await ok('hosts.get', { id: hostId })).status !== 'online', 60_000);
    const a = await until('the host-offline alert', async () => {
      await ok('alerts.evaluate', {});
      return (await alertsOf('firing')).find((x) => x.ruleId === builtin.id);
    }, 30_000);
    expect(a).toMatchObject({ resourceId: hostId, message: expect.stringContaining('is offline') });
  }, 120_000);
});
