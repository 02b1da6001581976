import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHosts, type SshHost, type SshHosts } from '../../scripts/peers/ssh-hosts.mjs';
import { DB_FILE } from '../db/open';
import pkg from '../../package.json' with { type: 'json' };
import { testServer } from '../test/helpers';
import { kvmApi, until } from './testing';

/**
 * KVM hosts end to end on the control plane, against real peers: sshd hosts in network namespaces (each with its own
 * /opt/skydeck and home directories), the real agent bundle uploaded with the Node 22 runtime Skydeck carries, and
 * libvirt's test driver (test:///default) behind the agent. No fakes between the core and the hosts.
 */

const pkgVersion = pkg.version;
let peers: SshHosts;
let t: Awaited<ReturnType<typeof testServer>>;
const { ok, task, guestsOn } = kvmApi(() => t);
let A: SshHost;
let B: SshHost;
let C: SshHost;
let D: SshHost;
let E: SshHost;
let F: SshHost;

beforeAll(async () => {
  peers = await startSshHosts({ count: 6, prefix: `skdk${process.pid % 100000}` });
  [A, B, C, D, E, F] = peers.hosts as [SshHost, SshHost, SshHost, SshHost, SshHost, SshHost];
  t = await testServer();
}, 120_000);

afterAll(async () => {
  await t?.close();
  await peers?.stop();
}, 60_000);

const host = (id: string) => ok('hosts.get', { id });

async function addHost(h: SshHost, auth: Record<string, unknown>, o: { username?: string; name?: string; jumpHost?: unknown } = {}) {
  const key = await ok('hosts.probeKey', { address: h.address, port: h.port, ...(o.jumpHost ? { jumpHost: o.jumpHost } : {}) });
  expect(key.fingerprint).toBe(h.hostKeyFingerprint);
  const r = await ok('hosts.add', { name: o.name ?? h.name, address: h.address, port: h.port, username: o.username ?? h.users.test.username, auth, hostKeyFingerprint: key.fingerprint, libvirtUri: 'test:///default', ...(o.jumpHost ? { jumpHost: o.jumpHost } : {}) });
  return { hostId: r.host.id as string, taskId: r.taskId as string, key };
}

describe('adding KVM hosts over SSH', () => {
  let hostA = '';

  it('trusts on first use, bootstraps the agent with the Node runtime it carries, and adopts the host’s VMs', async () => {
    const probe = await ok('hosts.probeKey', { address: A.address, port: 22 });
    expect(probe).toMatchObject({ trust: 'new', fingerprint: A.hostKeyFingerprint, expected: null });
    const { hostId, taskId, key } = await addHost(A, { method: 'password', password: A.users.test.password });
    hostA = hostId;
    expect(key.trust).toBe('new');
    const done = await task(taskId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const stages = (t.core.db.prepare(`SELECT stage FROM task_stages WHERE task_id = ? AND status = 'completed' ORDER BY id`).all(taskId) as { stage: string }[]).map((r) => r.stage);
    expect(stages).toEqual(['onInit', 'onConnect', 'onProbe', 'onRuntime', 'onUpload', 'onStart', 'onHandshake', 'onSync']);
    const h = await host(hostId);
    expect(h).toMatchObject({ status: 'online', provider: 'kvm', agentVersion: pkgVersion, statusReason: null });
    expect(h.cpuCores).toBeGreaterThan(0);
    const conn = await ok('hosts.connection', { id: hostId });
    expect(conn).toMatchObject({ state: 'online', authMethod: 'password', hostKeyFingerprint: A.hostKeyFingerprint, agentVersion: pkgVersion, agentSupervisor: 'supervisor', libvirtUri: 'test:///default' });
    expect(conn.installDir).toBe('/home/skydeck-test/.local/share/skydeck-agent');
    // The host had Node 20: the Node 22 runtime went to the agent's directory on that host only.
    const v = await A.exec(`${conn.installDir}/runtime/*/bin/node -v`);
    expect(v.stdout.trim()).toMatch(/^v22\./);
    expect((await B.exec(`ls ${conn.installDir} 2>&1 || true`)).stdout).toMatch(/No such file/);
    // libvirt's test driver defines one running domain, "test": adopted as it is.
    const g = await guestsOn(hostId);
    expect(g.map((x) => [x.name, x.status])).toEqual([['test', 'running']]);
    const facts = await ok('hosts.facts', { id: hostId });
    expect(facts.facts).toMatchObject({ libvirt: { uri: 'test:///default', reachable: true } });
    // The second probe of the same address now matches what was trusted.
    expect((await ok('hosts.probeKey', { address: A.address, port: 22 })).trust).toBe('match');
  });

  it('keeps the password only in the vault: not in tasks, audit, logs or the database in plain text', async () => {
    const pw = A.users.test.password;
    expect(t.lines.join('\n')).not.toContain(pw);
    const audit = await ok('audit.list', { limit: 50 });
    expect(JSON.stringify(audit)).not.toContain(pw);
    expect(JSON.stringify(await ok('tasks.list', { limit: 50 }))).not.toContain(pw);
    t.core.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(t.dataDir, DB_FILE)).includes(Buffer.from(pw))).toBe(false);
    expect(JSON.stringify(await ok('hosts.connection', { id: hostA }))).not.toContain(pw);
  });

  it('drives the guest lifecycle through the agent, with the status table refusing what it must', async () => {
    const [g] = await guestsOn(hostA);
    const act = async (action: string, expected: string) => {
      const r = await ok('guests.action', { id: g!.id, action });
      const tk = await task(r.taskId);
      expect(tk.status, `${action}: ${JSON.stringify(tk.error)}`).toBe('succeeded');
      expect((await ok('guests.get', { id: g!.id })).status).toBe(expected);
    };
    await act('suspend', 'suspended');
    const refused = await t.call('guests.action', { id: g!.id, action: 'suspend' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/while it is suspended/);
    await act('resume', 'running');
    await act('reboot', 'running');
    await act('stop', 'ready');
    await act('start', 'running');
    await act('forceStop', 'ready');
    await act('start', 'running');
  });

  it('creates a guest, takes, reverts and deletes a snapshot, resizes it, and deletes it', async () => {
    const r = await ok('guests.create', { name: 'vm-one', hostId: hostA, vcpu: 1, memoryMb: 128, source: { kind: 'none' }, diskGb: 0, nic: { libvirtNetwork: 'default' }, start: true });
    const done = await task(r.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const g = await ok('guests.get', { id: r.guest.id });
    expect(g).toMatchObject({ name: 'vm-one', status: 'running', vcpu: 1, memoryMb: 128, hostId: hostA });
    expect(g.nics).toHaveLength(1);
    expect(g.externalId).toMatch(new RegExp(`^${hostA}/[0-9a-f-]{36}$`));
    const snap = await ok('guests.snapshotCreate', { id: g.id, name: 'before' });
    expect((await task(snap.taskId)).status).toBe('succeeded');
    const list = await ok('guests.snapshots', { id: g.id });
    expect(list.items.map((s: { name: string }) => s.name)).toEqual(['before']);
    expect((await ok('snapshots.list', { filter: [`guest_id:${g.id}`] })).items).toHaveLength(1);
    expect((await task((await ok('guests.snapshotRevert', { id: g.id, name: 'before' })).taskId)).status).toBe('succeeded');
    expect((await task((await ok('guests.snapshotDelete', { id: g.id, name: 'before' })).taskId)).status).toBe('succeeded');
    expect((await ok('guests.snapshots', { id: g.id })).items).toEqual([]);
    expect((await task((await ok('guests.action', { id: g.id, action: 'forceStop' })).taskId)).status).toBe('succeeded');
    expect((await task((await ok('guests.resize', { id: g.id, vcpu: 2, memoryMb: 256 })).taskId)).status).toBe('succeeded');
    expect(await ok('guests.get', { id: g.id })).toMatchObject({ vcpu: 2, memoryMb: 256 });
    const del = await task((await ok('guests.action', { id: g.id, action: 'delete' })).taskId);
    expect(del.status, JSON.stringify(del.error)).toBe('succeeded');
    expect((await t.call('guests.get', { id: g.id })).status).toBe(404);
  });

  it('refuses bad input before anything changes on a host', async () => {
    const bad = async (command: string, body: unknown, field: RegExp) => {
      const r = await t.call(command, body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(JSON.stringify(r.body.details?.issues ?? r.body), JSON.stringify(r.body)).toMatch(field);
    };
    const base = { address: A.address, port: 22, username: 'root', hostKeyFingerprint: A.hostKeyFingerprint, auth: { method: 'password', password: 'x' } };
    await bad('hosts.add', { ...base, address: 'not an address!' }, /not a host name/);
    await bad('hosts.add', { ...base, port: 0 }, /ports are 1–65535/);
    await bad('hosts.add', { ...base, username: 'bad user' }, /Unix user name/);
    await bad('hosts.add', { ...base, hostKeyFingerprint: 'MD5:aa' }, /SHA256/);
    await bad('hosts.add', { ...base, auth: { method: 'key', privateKey: 'hello' } }, /not a private key/);
    await bad('hosts.add', { ...base, auth: { method: 'key', privateKey: readFileSync(`${A.users.test.privateKeyPath}.pub`, 'utf8') } }, /public key/);
    await bad('hosts.add', { ...base, auth: { method: 'key', privateKeyPath: '/nonexistent/id_ed25519' } }, /cannot read the key file .*no such file/);
    await bad('hosts.add', { ...base, auth: { method: 'key', privateKey: A.users.test.encryptedKey.privateKey } }, /encrypted: give its passphrase/);
    await bad('hosts.add', { ...base, auth: { method: 'key', privateKey: A.users.test.encryptedKey.privateKey, passphrase: 'wrong' } }, /passphrase/);
    await bad('guests.create', { name: 'bad/name', hostId: hostA, vcpu: 1, memoryMb: 128, source: { kind: 'none' } }, /guest name/);
    await bad('guests.create', { name: 'huge', hostId: hostA, vcpu: 500, memoryMb: 128, source: { kind: 'none' }, diskGb: 0 }, /logical CPUs/);
    await bad('guests.create', { name: 'huge', hostId: hostA, vcpu: 1, memoryMb: 4 * 1024 * 1024, source: { kind: 'none' }, diskGb: 0 }, /"memoryMb","message":"needs 4096 GiB, the largest kvm/);
    expect((await guestsOn(hostA)).map((g) => g.name)).toEqual(['test']);
    expect((await ok('hosts.list', { limit: 50 })).items).toHaveLength(1);
  });
});

describe('credentials, keys and failures', () => {
  it('adds a host as root with a key, and one through a jump host with an encrypted key', async () => {
    const b = await addHost(B, { method: 'key', privateKey: B.users.root.privateKey }, { username: 'root' });
    const bt = await task(b.taskId);
    expect(bt.status, JSON.stringify(bt.error)).toBe('succeeded');
    expect((await ok('hosts.connection', { id: b.hostId })).installDir).toBe('/opt/skydeck/agent');
    const jumpHost = { address: A.address, port: 22, username: A.users.test.username, auth: { method: 'password', password: A.users.test.password }, hostKeyFingerprint: A.hostKeyFingerprint };
    const c = await addHost(C, { method: 'key', privateKey: C.users.test.encryptedKey.privateKey, passphrase: C.users.test.encryptedKey.passphrase }, { jumpHost });
    const done = await task(c.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(await ok('hosts.connection', { id: c.hostId })).toMatchObject({ state: 'online', jumpHost: `${A.users.test.username}@${A.address}:22`, authMethod: 'key' });
  });

  it('ends a wrong password and a wrong key in `unreachable` with the reason, and recovers with new credentials', async () => {
    const d = await addHost(D, { method: 'password', password: 'not-the-password' });
    const failed = await task(d.taskId);
    expect(failed).toMatchObject({ status: 'failed', error: { reason: 'auth_failed' } });
    expect(await host(d.hostId)).toMatchObject({ status: 'unreachable' });
    expect((await host(d.hostId)).statusReason).toMatch(/authentication failed/i);
    const e = await addHost(E, { method: 'key', privateKey: E.users.test.otherKey.privateKey });
    expect(await task(e.taskId)).toMatchObject({ status: 'failed', error: { reason: 'auth_failed' } });
    // A host without libvirt is refused at the probe, before anything is installed on it.
    await E.exec('mount --bind /dev/null /usr/bin/virsh');
    await ok('hosts.setCredentials', { id: e.hostId, auth: { method: 'key', privateKey: E.users.test.privateKey } });
    const noVirt = await task((await ok('hosts.upgradeAgent', { id: e.hostId })).taskId);
    expect(noVirt).toMatchObject({ status: 'failed', error: { reason: 'libvirt_missing' } });
    expect(noVirt.error!.message).toMatch(/libvirt is not installed/);
    expect(await host(e.hostId)).toMatchObject({ status: 'error' });
    expect((await E.exec('ls /home/skydeck-test/.local/share/skydeck-agent 2>&1')).stdout).toMatch(/No such file/);
    // The admin fixes the password and runs the bootstrap again.
    await ok('hosts.setCredentials', { id: d.hostId, auth: { method: 'password', password: D.users.test.password } });
    const again = await task((await ok('hosts.upgradeAgent', { id: d.hostId })).taskId);
    expect(again.status, JSON.stringify(again.error)).toBe('succeeded');
    expect(await host(d.hostId)).toMatchObject({ status: 'online' });
  }, 120_000);

  it('refuses an unreachable address with the reason', async () => {
    const r = await t.call('hosts.probeKey', { address: `${peers.subnet}.250.250`, port: 22 });
    // No answer on that address: ARP fails (EHOSTUNREACH, 502) or the handshake times out (504), depending on timing.
    expect([502, 504]).toContain(r.status);
    expect(r.body.details.reason).toMatch(/timeout|net/);
  }, 60_000);

  it('refuses a changed host key until the admin accepts it', async () => {
    const id = (await ok('hosts.list', { filter: [`address:${B.address}`] })).items[0].id as string;
    const old = B.hostKeyFingerprint;
    const fresh = await B.rotateHostKey();
    await ok('hosts.reconnect', { id });
    const h = await until('host B unreachable', async () => {
      const x = await host(id);
      return x.status === 'unreachable' ? x : null;
    });
    expect(h.statusReason).toMatch(/host key/i);
    const probe = await ok('hosts.probeKey', { address: B.address, port: 22, hostId: id });
    expect(probe).toMatchObject({ trust: 'changed', fingerprint: fresh, expected: old });
    await ok('hosts.acceptHostKey', { id, fingerprint: fresh });
    await until('host B online again', async () => (await host(id)).status === 'online');
  }, 60_000);

  it('upgrades an older agent in place as soon as it answers', async () => {
    const id = (await ok('hosts.list', { filter: [`address:${B.address}`] })).items[0].id as string;
    const dir = (await ok('hosts.connection', { id })).installDir as string;
    // The host runs an agent that says it is 0.0.1 (as after an app update): patch the installed file, restart it.
    const r = await B.exec(`sed -i 's/var AGENT_VERSION = "[^"]*"/var AGENT_VERSION = "0.0.1"/' ${dir}/current/agent.cjs && kill -9 $(cat ${dir}/agent.pid)`);
    expect(r.code, r.stderr).toBe(0);
    const upgrade = await until('an upgrade task', () => t.core.db.prepare(`SELECT id FROM tasks WHERE type = 'hosts.bootstrap' AND target_id = ? AND params LIKE '%"upgrade"%'`).get(id) as { id: string } | undefined, 60_000);
    const done = await task(upgrade.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(await ok('hosts.connection', { id })).toMatchObject({ state: 'online', agentVersion: pkgVersion });
    expect((await B.exec(`${dir}/runtime/*/bin/node ${dir}/current/agent.cjs version`)).stdout).toContain(`"agentVersion":"${pkgVersion}"`);
  }, 90_000);

  it('keeps the inventory when the host is lost and when its agent is killed, and comes back by itself', async () => {
    const id = (await ok('hosts.list', { filter: [`address:${C.address}`] })).items[0].id as string;
    const before = await guestsOn(id);
    expect(before.length).toBeGreaterThan(0);
    await C.killSshd();
    const lost = await until('host C lost', async () => {
      const x = await host(id);
      return x.status === 'offline' || x.status === 'unreachable' ? x : null;
    }, 60_000);
    expect(lost.statusReason).toBeTruthy();
    const stale = await guestsOn(id);
    expect(stale.map((g) => [g.id, g.status, g.stale])).toEqual(before.map((g) => [g.id, g.status, true]));
    await C.startSshd();
    await ok('hosts.reconnect', { id });
    await until('host C back', async () => (await host(id)).status === 'online', 60_000);
    expect((await guestsOn(id)).map((g) => g.stale)).toEqual(before.map(() => false));

    // The agent process dies on the host: the link reports it, the supervisor restarts it, the link reconnects.
    const conn = await ok('hosts.connection', { id });
    await C.exec(`kill -9 $(cat ${conn.installDir}/agent.pid)`);
    await until('agent down noticed', async () => (await host(id)).status !== 'online', 30_000);
    await until('agent back', async () => (await host(id)).status === 'online', 60_000);
    expect((await guestsOn(id)).map((g) => g.id)).toEqual(before.map((g) => g.id));
  }, 180_000);

  it('fails a bootstrap whose host is lost mid-task with the reason, and finishes it once the host is back', async () => {
    const { hostId, taskId } = await addHost(F, { method: 'password', password: F.users.test.password });
    // Kill the host's sshd (listener and sessions) the moment the task starts uploading the runtime.
    await until('the runtime stage', () => t.core.db.prepare(`SELECT 1 FROM tasks WHERE id = ? AND stage IN ('onRuntime', 'onUpload', 'onStart')`).get(taskId), 30_000);
    await F.killSshd();
    const failed = await task(taskId);
    expect(failed.status).toBe('failed');
    expect(failed.error!.code).toMatch(/unreachable|timeout/);
    const h = await host(hostId);
    expect(['unreachable', 'offline']).toContain(h.status);
    expect(h.statusReason).toBeTruthy();
    await F.startSshd();
    const again = await task((await ok('hosts.upgradeAgent', { id: hostId })).taskId);
    expect(again.status, JSON.stringify(again.error)).toBe('succeeded');
    expect((await guestsOn(hostId)).map((g) => g.name)).toEqual(['test']);
  }, 120_000);

  it('removes a host: uninstalls the agent, forgets its VMs and credentials', async () => {
    const id = (await ok('hosts.list', { filter: [`address:${D.address}`] })).items[0].id as string;
    const conn = await ok('hosts.connection', { id });
    const plainDelete = await t.call('hosts.delete', { id });
    expect(plainDelete).toMatchObject({ status: 409, body: { details: { reason: 'use_remove' } } });
    const r = await task((await ok('hosts.remove', { id, uninstallAgent: true })).taskId);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect((await t.call('hosts.get', { id })).status).toBe(404);
    expect(await guestsOn(id)).toEqual([]);
    expect((await D.exec(`test -e ${conn.installDir}/current && echo present || echo gone`)).stdout.trim()).toBe('gone');
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM secrets WHERE id LIKE ?`).get(`host:${id}:%`)).toEqual({ n: 0 });
  }, 60_000);
});
