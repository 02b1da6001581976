import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHosts, type SshHost, type SshHosts } from '../../scripts/peers/ssh-hosts.mjs';
import { testServer } from '../test/helpers';
import { kvmApi, until } from '../kvm/testing';

/**
 * Monitoring end to end against real peers: two sshd hosts in network namespaces, the real agent bootstrapped by
 * hosts.add — on A a real libvirtd (qemu:///system, QEMU under TCG) running a domain defined with virsh (a disk and a
 * NIC on br0) and adopted, so its numbers are libvirt's real domstats; on B libvirt's test driver — the collector pulling
 * the agents' rings over the hosts' SSH links into SQLite. The workstation-away gap is real: the collector is stopped
 * while the agents keep sampling, and what they buffered is back-filled when it starts again.
 */

let peers: SshHosts;
let t: Awaited<ReturnType<typeof testServer>>;
const { ok, task, guestsOn } = kvmApi(() => t);
let A: SshHost;
let B: SshHost;
const hostIds: string[] = [];
let guestId = '';

beforeAll(async () => {
  [peers, t] = await Promise.all([startSshHosts({ count: 2, prefix: `skdm${process.pid % 100000}`, withLibvirt: 1 }), testServer()]);
  [A, B] = peers.hosts as [SshHost, SshHost];
}, 120_000);

afterAll(async () => {
  await t?.close();
  await peers?.stop();
}, 60_000);

const db = () => t.core.db;
// Raw samples as the store answers them (compressed blocks and the samples still pending in memory and the journal).
const raw = (kind: string, id: string, metric: string, from = 0, to = 8.64e15) => t.core.monitoring.mdb.series(kind, id, metric, from, to, 'raw');
const rawCount = (kind: string, id: string, metric: string, from?: number, to?: number) => raw(kind, id, metric, from, to).length;
const rawTs = (kind: string, id: string, metric: string) => raw(kind, id, metric).map((p) => p[0]);

describe('metrics from real agents', () => {
  it('collects host and guest samples from every online KVM host into the database at the interval set in settings', async () => {
    await ok('settings.set', { patch: { metricsIntervalSeconds: 1 } });
    for (const h of [A, B]) {
      const key = await ok('hosts.probeKey', { address: h.address, port: h.port });
      const who = h.libvirtd
        ? { username: 'root', auth: { method: 'key', privateKey: h.users.root.privateKey }, libvirtUri: h.libvirtd.uri }
        : { username: h.users.test.username, auth: { method: 'password', password: h.users.test.password }, libvirtUri: 'test:///default' };
      const r = await ok('hosts.add', { name: h.name, address: h.address, port: h.port, hostKeyFingerprint: key.fingerprint, ...who });
      const done = await task(r.taskId, 120_000);
      expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
      hostIds.push(r.host.id);
    }
    // A running QEMU domain on A with a qcow2 disk and a NIC (SeaBIOS finds no OS on the empty disk and keeps a vCPU busy).
    const xml = [
      "<domain type='qemu'>",
      '  <name>mon-1</name>',
      "  <memory unit='MiB'>48</memory>",
      '  <vcpu>1</vcpu>',
      "  <os><type arch='x86_64' machine='pc'>hvm</type></os>",
      '  <devices>',
      "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/mon-1.qcow2'/><target dev='vda' bus='virtio'/></disk>",
      "    <interface type='bridge'><source bridge='br0'/><model type='e1000'/></interface>",
      "    <memballoon model='virtio'/>",
      '  </devices>',
      '</domain>',
    ].join('\n');
    const v = await A.exec(`qemu-img create -q -f qcow2 /var/lib/libvirt/images/mon-1.qcow2 16M && cat > /tmp/mon-1.xml <<'EOF'\n${xml}\nEOF\nvirsh -q -c qemu:///system define /tmp/mon-1.xml && virsh -q -c qemu:///system start mon-1`);
    expect(v.code, v.stderr).toBe(0);
    const synced = await task((await ok('hosts.sync', { id: hostIds[0] })).taskId);
    expect(synced.status, JSON.stringify(synced.error)).toBe('succeeded');
    guestId = (await guestsOn(hostIds[0]!)).find((g) => g.name === 'mon-1')!.id;
    // The collector told each agent to sample every second (agents start at 10 s) and reads their rings.
    await until('both agents configured to 1 s', () => t.core.monitoring.sources().filter((s) => s.intervalMs === 1000).length === 2, 40_000);
    for (const id of hostIds) await until(`5 host cpu.util samples of ${id}`, () => rawCount('host', id, 'cpu.util') >= 5, 30_000);
    await until('guest samples of the adopted domain', () => rawCount('guest', guestId, 'cpu.util') >= 3 && rawCount('guest', guestId, 'blk.rd_bytes_per_s') >= 2, 30_000);

    const latest = (await ok('monitoring.latest', { kind: 'host', id: hostIds[0] })).values;
    for (const m of ['cpu.util', 'mem.util', 'mem.used_bytes', 'mem.total_bytes', 'load.1', 'load.5', 'load.15', 'blk.rd_bytes_per_s', 'blk.wr_bytes_per_s', 'net.rx_bytes_per_s', 'net.tx_bytes_per_s']) {
      expect(latest[m], m).toBeDefined();
    }
    expect(latest['cpu.util']!.value).toBeGreaterThanOrEqual(0);
    expect(latest['cpu.util']!.value).toBeLessThanOrEqual(100);
    expect(latest['mem.total_bytes']!.value).toBeGreaterThan(64 * 1024 * 1024);
    const g = (await ok('monitoring.latest', { kind: 'guest', id: guestId })).values;
    for (const m of ['cpu.util', 'cpu.time_ns_per_s', 'vcpu.current', 'mem.max_bytes', 'mem.current_bytes', 'blk.rd_bytes_per_s', 'blk.wr_bytes_per_s', 'net.rx_bytes_per_s', 'net.tx_bytes_per_s']) expect(g[m], m).toBeDefined();
    expect(g['vcpu.current']!.value).toBe(1);
    expect(g['mem.max_bytes']!.value).toBe(48 * 1024 * 1024);
    // Booting SeaBIOS under TCG burns CPU; once it halts at "no bootable device" a sample may show 0, so look at the history.
    const maxCpuRate = Math.max(...raw('guest', guestId, 'cpu.time_ns_per_s').map((p) => p[1]));
    expect(maxCpuRate).toBeGreaterThan(0);

    const sources = (await ok('monitoring.sources', {})).items as Record<string, any>[];
    expect(sources.map((s) => s.name).sort()).toEqual([A.name, B.name].sort());
    for (const s of sources) expect(s).toMatchObject({ kind: 'kvm', droppedTotal: 0, intervalMs: 1000, lastError: null });
    for (const s of sources) expect(s.lastSeq).toBeGreaterThan(0);
  }, 300_000);

  it('answers series, top-N and the Prometheus exposition from what was collected', async () => {
    const now = Date.now();
    const s = await ok('monitoring.series', { kind: 'host', id: hostIds[0], metrics: ['cpu.util', 'net.rx_bytes_per_s'], from: now - 3_600_000, to: now });
    expect(s.resolution).toBe('raw');
    expect(s.series[0].points.length).toBeGreaterThanOrEqual(5);
    const day = await ok('monitoring.series', { kind: 'host', id: hostIds[0], metrics: ['cpu.util'], from: now - 86_400_000, to: now });
    expect(day.resolution).toBe('1m');
    expect(day.series[0].points.length).toBeGreaterThanOrEqual(1);
    const [ts, avg, min, max] = day.series[0].points.at(-1);
    expect(ts % 60_000).toBe(0);
    expect(min).toBeLessThanOrEqual(avg);
    expect(avg).toBeLessThanOrEqual(max);

    const top = (await ok('monitoring.top', { kind: 'host', metric: 'mem.used_bytes', limit: 5 })).items as Record<string, any>[];
    expect(top.map((i) => i.id).sort()).toEqual([...hostIds].sort());
    expect(top[0]!.value).toBeGreaterThanOrEqual(top[1]!.value);
    const gtop = (await ok('monitoring.top', { kind: 'guest', metric: 'vcpu.current' })).items as Record<string, any>[];
    expect(gtop.map((i) => i.id)).toContain(guestId);

    const bad = await t.call('monitoring.series', { kind: 'host', id: hostIds[0], metrics: ['cpu.util'], from: now, to: now - 1 });
    expect(bad.status).toBe(400);

    const unauth = await fetch(`${t.base}/api/v1/metrics`);
    expect(unauth.status).toBe(401);
    const res = await fetch(`${t.base}/api/v1/metrics`, { headers: { Authorization: `Bearer ${t.server.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE skydeck_cpu_util gauge');
    expect(text).toMatch(new RegExp(`skydeck_cpu_util\\{kind="host",id="${hostIds[0]}",name="${A.name}",host="${hostIds[0]}"\\} [\\d.]+ \\d+`));
    expect(text).toMatch(new RegExp(`skydeck_vcpu_current\\{kind="guest",id="${guestId}",name="mon-1",host="${hostIds[0]}"\\} 1 \\d+`));
    expect(text).toContain('# TYPE skydeck_net_rx_bytes_total counter');
  }, 60_000);

  it('back-fills the samples the agents buffered while the app was not collecting', async () => {
    const id = hostIds[1]!;
    t.core.monitoring.stop();
    await new Promise((r) => setTimeout(r, 500)); // a collection in flight ends
    const stoppedAt = Date.now();
    const before = rawCount('host', id, 'cpu.util');
    await new Promise((r) => setTimeout(r, 6000));
    // Nothing was collected while away …
    expect(rawCount('host', id, 'cpu.util')).toBe(before);
    const resumedAt = Date.now();
    t.core.monitoring.start();
    // … and everything the agent sampled meanwhile arrives when collection resumes.
    await until('the gap back-filled', () => rawCount('host', id, 'cpu.util', stoppedAt, resumedAt) >= 5, 30_000);
    const ts = rawTs('host', id, 'cpu.util').filter((x) => x >= stoppedAt - 5000);
    const gaps = ts.slice(1).map((x, i) => x - ts[i]!);
    expect(Math.max(...gaps)).toBeLessThan(2500); // 1 s sampling, no hole where the app was away
    const src = t.core.monitoring.sources().find((s) => s.sourceId === `kvm:${id}`)!;
    expect(src.droppedTotal).toBe(0);
    // Guests are back-filled too.
    await until('the guest’s gap back-filled (host A)', () => rawCount('guest', guestId, 'vcpu.current', stoppedAt, resumedAt) >= 4, 30_000);
  }, 60_000);

  it('starts over from the agent’s numbering when the agent’s state was wiped (its lastSeq is behind what the app read)', async () => {
    const id = hostIds[0]!;
    t.core.monitoring.stop();
    await new Promise((r) => setTimeout(r, 500));
    const r = await t.core.kvm.call(id, 'metrics.read', { afterSeq: 0, limit: 1 });
    const first = r.samples[0]!.seq;
    // A read position from a "previous agent" beyond this agent's lastSeq: the collector must start over, not stall.
    db().prepare('UPDATE metric_sources SET last_seq = ? WHERE source_id = ?').run(r.lastSeq + 1_000_000, `kvm:${id}`);
    t.core.monitoring.start();
    await until('the collector to restart from the agent’s numbering', () => {
      const s = t.core.monitoring.sources().find((x) => x.sourceId === `kvm:${id}`)!;
      return s.lastSeq > r.lastSeq && s.lastSeq < r.lastSeq + 1_000_000;
    }, 30_000);
    expect(first).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
