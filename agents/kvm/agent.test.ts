import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RPC_CANCELLED, RPC_INVALID_PARAMS, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND, RPC_NOT_FOUND, RPC_PARSE_ERROR, RPC_STATE, type DomainInfo } from '@shared/agent/protocol';
import { AGENT_NODE, buildBundle, Client, RpcFailure, startAgent, tempDir, type RunningAgent } from './testing';

/**
 * The agent as the app sees it: the built bundle running `serve` against libvirt's test driver (test:///default, whose
 * state lives in the agent's one virsh process), every method over the real socket protocol.
 */
const tmp = tempDir();
let agent: RunningAgent & { client: Client };
let c: Client;

async function rpcError(p: Promise<unknown>): Promise<RpcFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcFailure) return e;
    throw e;
  }
  throw new Error('expected an RPC error');
}

const GUEST_ID = 'g-0123456789';
const DISK = join(tmp.path, "disk with 'quote' and spaces.qcow2");

function domainXml(name: string, extra = ''): string {
  return `<domain type='kvm'>
  <name>${name}</name>
  <description>made by the agent test &amp; friends</description>
  <metadata><skydeck:guest xmlns:skydeck="https://skydeck.dev/xmlns/guest/1" id="${GUEST_ID}"/></metadata>
  <memory unit='MiB'>1024</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file="${DISK.replace(/'/g, '&apos;')}"/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:aa:00:01'/><source network='default'/><model type='virtio'/></interface>
    <graphics type='vnc' port='5907' autoport='no' listen='127.0.0.1' passwd='secret'/>
    <serial type='pty'><target port='0'/></serial>
    ${extra}
  </devices>
</domain>`;
}

beforeAll(async () => {
  const bundle = await buildBundle(tmp.path);
  agent = await startAgent(bundle, join(tmp.path, 'agent'), ['--metrics-interval', '60000', '--poll-interval', '300']);
  c = agent.client;
});

afterAll(async () => {
  c?.close();
  await agent?.stop();
  tmp.cleanup();
});

describe('agent over its socket (test:///default)', () => {
  it('says hello and answers pings', async () => {
    const h = await c.call('agent.hello', { appVersion: '0.1.0', protocol: 1 });
    expect(h).toMatchObject({ agentVersion: '9.9.9-test', protocol: 1, libvirtUri: 'test:///default', supervisor: 'foreground', installDir: join(tmp.path, 'agent'), pid: agent.proc.pid });
    expect(h.node).toEqual(AGENT_NODE === process.execPath ? process.version : expect.stringMatching(/^v\d+\./));
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await c.call('agent.ping', {});
    console.log(`agent.ping round trip: ${((performance.now() - t0) / 20).toFixed(2)} ms`);
    expect((await c.call('agent.ping', {})).now).toBeGreaterThan(Date.now() - 5000);
  });

  it('lists the test driver domain', async () => {
    let t0 = performance.now();
    const list = await c.call('domains.list', {});
    const first = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < 10; i++) await c.call('domains.list', {});
    console.log(`domains.list (${list.length} domain): first ${first.toFixed(1)} ms, then ${((performance.now() - t0) / 10).toFixed(1)} ms`);
    const test = list.find((d) => d.name === 'test');
    expect(test).toMatchObject({ state: 'running', persistent: true, virtType: 'test', vcpu: 2, maxVcpu: 2, memoryMb: 2048, maxMemoryMb: 8192, osType: 'hvm', bootOrder: ['hd'] });
    expect(test!.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(test!.disks[0]).toMatchObject({ target: 'vda', device: 'disk', source: '/guest/diskimage1' });
    expect(test!.nics[0]).toMatchObject({ mac: 'aa:bb:cc:dd:ee:ff', type: 'network', source: 'default', target: 'testnet0' });
    expect(await c.call('domains.get', { uuid: test!.uuid })).toEqual(await c.call('domains.get', { name: 'test' }));
  });

  let vm: DomainInfo;
  it('defines a domain from XML and reads it back whole', async () => {
    vm = await c.call('domains.define', { xml: domainXml('vm-one') });
    expect(vm).toMatchObject({
      name: 'vm-one',
      state: 'shutoff',
      persistent: true,
      autostart: false,
      vcpu: 1,
      maxVcpu: 2,
      memoryMb: 512,
      maxMemoryMb: 1024,
      virtType: 'kvm',
      arch: 'x86_64',
      machine: 'pc',
      bootOrder: ['cdrom', 'hd'],
      description: 'made by the agent test & friends',
      skydeckGuestId: GUEST_ID,
      snapshotCount: 0,
    });
    expect(vm.disks).toEqual([
      expect.objectContaining({ target: 'vda', device: 'disk', bus: 'virtio', source: DISK, format: 'qcow2', readonly: false }),
      expect.objectContaining({ target: 'sda', device: 'cdrom', bus: 'sata', source: null, readonly: true, capacityBytes: null }),
    ]);
    // (The test driver names a tap device even for a domain that is off.)
    expect(vm.nics).toEqual([{ mac: '52:54:00:aa:00:01', type: 'network', source: 'default', model: 'virtio', target: expect.any(String), addresses: [] }]);
    expect(vm.graphics).toEqual([{ type: 'vnc', port: 5907, listen: '127.0.0.1', autoport: false, passwordSet: true }]);
    // Redefining is idempotent.
    expect((await c.call('domains.define', { xml: domainXml('vm-one') })).uuid).toBe(vm.uuid);
  });

  it('drives the lifecycle, idempotent where libvirt allows', async () => {
    const ref = { uuid: vm.uuid };
    expect((await c.call('domains.start', ref)).state).toBe('running');
    expect((await c.call('domains.start', ref)).state).toBe('running');
    expect(await c.call('domains.vnc', ref)).toEqual({ port: 5907, listen: '127.0.0.1', passwordSet: true });
    expect((await c.call('domains.get', ref)).nics[0]!.addresses.length).toBeGreaterThan(0);
    expect((await c.call('domains.suspend', ref)).state).toBe('paused');
    expect((await c.call('domains.resume', ref)).state).toBe('running');
    expect((await rpcError(c.call('domains.resume', ref))).code).toBe(RPC_STATE);
    expect((await c.call('domains.reboot', ref)).state).toBe('running');
    expect((await c.call('domains.reset', ref)).state).toBe('running');
    const off = await c.call('domains.shutdown', { ...ref, timeoutMs: 5000 });
    expect(off).toMatchObject({ state: 'shutoff' });
    expect((await c.call('domains.shutdown', ref)).state).toBe('shutoff');
    await c.call('domains.start', { name: 'vm-one' });
    expect((await c.call('domains.destroy', ref)).state).toBe('shutoff');
    expect((await c.call('domains.destroy', ref)).state).toBe('shutoff');
  });

  it('changes vCPUs and memory both ways', async () => {
    const ref = { uuid: vm.uuid };
    expect(await c.call('domains.setResources', { ...ref, vcpu: 4, memoryMb: 2048 })).toMatchObject({ vcpu: 4, maxVcpu: 4, memoryMb: 2048, maxMemoryMb: 2048 });
    expect(await c.call('domains.setResources', { ...ref, vcpu: 1 })).toMatchObject({ vcpu: 1, maxVcpu: 1, memoryMb: 2048 });
    expect(await c.call('domains.setResources', { ...ref, memoryMb: 256 })).toMatchObject({ vcpu: 1, memoryMb: 256, maxMemoryMb: 256 });
  });

  it('attaches and detaches disks and NICs, inserts and ejects media', async () => {
    const ref = { uuid: vm.uuid };
    const extra = join(tmp.path, 'extra disk.raw');
    writeFileSync(extra, Buffer.alloc(1024 * 1024));
    let d = await c.call('domains.attachDisk', { ...ref, source: extra, target: 'vdb' });
    expect(d.disks.find((k) => k.target === 'vdb')).toMatchObject({ source: extra, format: 'raw', bus: 'virtio', device: 'disk' });
    expect((await rpcError(c.call('domains.attachDisk', { ...ref, source: extra, target: 'vdb' }))).code).toBe(RPC_STATE);
    d = await c.call('domains.detachDisk', { ...ref, target: 'vdb' });
    expect(d.disks.map((k) => k.target)).toEqual(['vda', 'sda']);
    expect((await rpcError(c.call('domains.detachDisk', { ...ref, target: 'vdz' }))).code).toBe(RPC_NOT_FOUND);

    d = await c.call('domains.attachNic', { ...ref, type: 'bridge', source: 'br0', mac: '52:54:00:aa:00:02', model: 'e1000' });
    expect(d.nics.find((n) => n.mac === '52:54:00:aa:00:02')).toMatchObject({ type: 'bridge', source: 'br0', model: 'e1000' });
    d = await c.call('domains.detachNic', { ...ref, mac: '52:54:00:AA:00:02' });
    expect(d.nics.map((n) => n.mac)).toEqual(['52:54:00:aa:00:01']);
    expect((await rpcError(c.call('domains.detachNic', { ...ref, mac: '52:54:00:aa:00:09' }))).code).toBe(RPC_NOT_FOUND);

    const iso = join(tmp.path, 'install media.iso');
    writeFileSync(iso, Buffer.alloc(4096));
    d = await c.call('domains.changeMedia', { ...ref, target: 'sda', source: iso });
    expect(d.disks.find((k) => k.target === 'sda')).toMatchObject({ device: 'cdrom', source: iso });
    d = await c.call('domains.changeMedia', { ...ref, target: 'sda', source: null });
    expect(d.disks.find((k) => k.target === 'sda')!.source).toBeNull();
    expect((await c.call('domains.changeMedia', { ...ref, target: 'sda', source: null })).disks.find((k) => k.target === 'sda')!.source).toBeNull();
  });

  it('creates, lists, reverts and deletes snapshots', async () => {
    // Snapshot calls name the domain by uuid: `name` is the snapshot's.
    const ref = { uuid: vm.uuid };
    const s1 = await c.call('snapshots.create', { ...ref, name: 'before upgrade', description: 'first one' });
    expect(s1).toMatchObject({ name: 'before upgrade', description: 'first one', current: true, parent: null, state: 'shutoff' });
    expect(Date.parse(s1.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    const s2 = await c.call('snapshots.create', { ...ref, name: 's2', description: 'two\tcolumns\nand lines' });
    expect(s2).toMatchObject({ name: 's2', description: 'two\tcolumns\nand lines', current: true, parent: 'before upgrade' });
    const list = await c.call('snapshots.list', ref);
    expect(list.map((s) => [s.name, s.current])).toEqual([
      ['before upgrade', false],
      ['s2', true],
    ]);
    expect((await c.call('domains.get', ref)).snapshotCount).toBe(2);
    expect((await c.call('snapshots.list', { name: 'vm-one' })).length).toBe(2);
    expect((await rpcError(c.raw('snapshots.create', { name: 'vm-one' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await c.call('snapshots.revert', { ...ref, name: 'before upgrade' })).name).toBe('vm-one');
    expect((await c.call('snapshots.list', ref)).find((s) => s.current)?.name).toBe('before upgrade');
    expect(await c.call('snapshots.delete', { ...ref, name: 's2' })).toEqual({ ok: true });
    expect((await rpcError(c.call('snapshots.delete', { ...ref, name: 's2' }))).code).toBe(RPC_NOT_FOUND);
    expect((await rpcError(c.call('snapshots.revert', { ...ref, name: 'nope' }))).code).toBe(RPC_NOT_FOUND);
    expect((await c.call('snapshots.list', ref)).map((s) => s.name)).toEqual(['before upgrade']);
  });

  it('tells other clients about changes (domain.event, domain.removed)', async () => {
    const watcher = await Client.connect(join(tmp.path, 'agent', 'agent.sock'));
    try {
      await c.call('domains.start', { uuid: vm.uuid });
      expect((await watcher.waitNotification((n) => n.method === 'domain.event' && (n.params as { uuid: string }).uuid === vm.uuid)).params).toEqual({ uuid: vm.uuid, name: 'vm-one', event: 'started', state: 'running' });
      await c.call('domains.destroy', { uuid: vm.uuid });
      expect((await watcher.waitNotification((n) => n.method === 'domain.event' && (n.params as { state: string }).state === 'shutoff')).params).toMatchObject({ uuid: vm.uuid, event: 'stopped' });
      const other = await c.call('domains.define', { xml: domainXml('vm-two').replace(/<disk type='file' device='disk'>.*?<\/disk>/, '') });
      expect((await watcher.waitNotification((n) => (n.params as { uuid: string }).uuid === other.uuid)).params).toMatchObject({ name: 'vm-two', event: 'defined', state: 'shutoff' });
      expect(await c.call('domains.undefine', { uuid: other.uuid })).toEqual({ ok: true });
      expect((await watcher.waitNotification((n) => n.method === 'domain.removed')).params).toEqual({ uuid: other.uuid, name: 'vm-two' });
    } finally {
      watcher.close();
    }
  });

  it('undefines with its storage', async () => {
    writeFileSync(DISK, Buffer.alloc(512 * 1024));
    expect((await rpcError(c.call('domains.undefine', { name: 'nope', removeStorage: true }))).code).toBe(RPC_NOT_FOUND);
    await c.call('snapshots.delete', { uuid: vm.uuid, name: 'before upgrade' });
    expect(await c.call('domains.undefine', { uuid: vm.uuid, removeStorage: true })).toEqual({ ok: true });
    expect(existsSync(DISK)).toBe(false);
    expect((await rpcError(c.call('domains.get', { uuid: vm.uuid }))).code).toBe(RPC_NOT_FOUND);
  });

  it('answers errors with the protocol codes', async () => {
    const nf = await rpcError(c.call('domains.get', { name: 'no-such-domain' }));
    expect(nf.code).toBe(RPC_NOT_FOUND);
    expect((nf.body.data as { virsh: string }).virsh).toMatch(/failed to get domain/);
    expect((await rpcError(c.call('domains.start', { uuid: '00000000-0000-0000-0000-000000000000' }))).code).toBe(RPC_NOT_FOUND);
    expect((await rpcError(c.raw('domains.get', {}))).body).toEqual({ code: RPC_INVALID_PARAMS, message: 'give the domain as uuid or as name (one of them)' });
    expect((await rpcError(c.raw('domains.get', { uuid: 'not-a-uuid' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.raw('domains.setResources', { name: 'test', vcpu: 'two' }))).body.message).toBe('vcpu must be an integer');
    expect((await rpcError(c.raw('domains.define', { xml: '<network/>' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.raw('domains.get', 'test'))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.raw('domains.get', { name: 'a\nb' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.raw('domains.attachDisk', { name: 'test', source: '/a\tb', target: 'vdb' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.raw('domains.explode', {}))).code).toBe(RPC_METHOD_NOT_FOUND);
    expect(await rpcError(c.sendText('{"jsonrpc":"2.0","id":1,\n', null))).toMatchObject({ code: RPC_PARSE_ERROR });
    expect((await rpcError(c.sendText('{"jsonrpc":"1.0","id":77,"method":"agent.ping"}\n', 77))).code).toBe(RPC_INVALID_REQUEST);
    // The connection survives all of that.
    expect((await c.call('domains.get', { name: 'test' })).name).toBe('test');
  });

  it('cancels a running request and stays in step with virsh', async () => {
    const id = c.nextRequestId();
    const pending = c.sendText(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'domains.list', params: {} })}\n${JSON.stringify({ jsonrpc: '2.0', method: '$/cancel', params: { id } })}\n`, id);
    expect((await rpcError(pending)).code).toBe(RPC_CANCELLED);
    // The cancelled request's virsh output is drained, not handed to the next one.
    const [a, b] = await Promise.all([c.call('domains.get', { name: 'test' }), c.call('host.facts', {})]);
    expect(a.name).toBe('test');
    expect(b.libvirt).toMatchObject({ reachable: true, uri: 'test:///default', version: expect.stringMatching(/^\d+\.\d+/) });
  });

  it('serves many connections and concurrent requests', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => Client.connect(join(tmp.path, 'agent', 'agent.sock'))));
    try {
      const results = await Promise.all(clients.flatMap((x) => [x.call('domains.get', { name: 'test' }), x.call('agent.ping', {}), x.call('pools.list', {})]));
      expect(results).toHaveLength(15);
    } finally {
      for (const x of clients) x.close();
    }
  });

  it('reports host facts that fail soft', async () => {
    const f = await c.call('host.facts', {});
    expect(f.hostname.length).toBeGreaterThan(0);
    expect(f.cpu.sockets * f.cpu.cores * f.cpu.threads).toBeGreaterThanOrEqual(1);
    expect(f.memoryMb).toBeGreaterThan(100);
    expect(f.arch).toMatch(/^(x86_64|aarch64|.+)$/);
    expect(typeof f.kvm).toBe('boolean');
    expect(f.libvirt).toMatchObject({ reachable: true, hypervisorVersion: expect.stringMatching(/^TEST /) });
    expect(f.pools.map((p) => p.name)).toContain('default-pool');
    expect(f.networks).toContainEqual({ name: 'default', bridge: 'virbr0', active: true, forward: 'nat', autostart: false });
    expect(f.loadAvg).toHaveLength(3);
    expect(f.uptimeSeconds).toBeGreaterThan(0);
  });
});
