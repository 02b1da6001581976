import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RPC_CANCELLED, RPC_INVALID_PARAMS, RPC_TIMEOUT } from '@shared/agent/protocol';
import { parseFlags, parseServe, UsageError } from './cli';
import { addDevice, diskElement, interfaceElement, parseDomainXml, removeDisk, removeInterface, setDiskSource } from './domain-xml';
import { Domains } from './domains';
import { cpuFromCpuinfo, cpuFromLscpu, lscpuFields, parseOsRelease } from './facts';
import { isoName, writeIso9660 } from './iso9660';
import type { Libvirt } from './libvirt';
import { silentLogger } from './log';
import { domainValues, parseDiskstats, parseMeminfo, parseNetDev, parseProcStat } from './metrics';
import { MetricsStore } from './metrics-store';
import { Params } from './params';
import { domBlkInfoAll, domIfAddr, domState, domStats, netList, poolList, uuidNames, volList } from './parse';
import { systemdQuote } from './systemd';
import { parseEventLine, transition } from './watch';

const tmp = mkdtempSync(join(tmpdir(), 'skd-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('virsh output parsers', () => {
  it('normalises domain states', () => {
    expect(domState('running (booted)\n')).toEqual({ state: 'running', reason: 'booted' });
    expect(domState('shut off (destroyed)')).toEqual({ state: 'shutoff', reason: 'destroyed' });
    expect(domState('in shutdown (user)')).toEqual({ state: 'shutdown', reason: 'user' });
    expect(domState('paused (unknown)')).toEqual({ state: 'paused', reason: null });
    expect(domState('idle')).toEqual({ state: 'blocked', reason: null });
    expect(domState('pmsuspended (unknown)').state).toBe('pmsuspended');
    expect(domState('crashed (panicked)').state).toBe('crashed');
    expect(domState('no state').state).toBe('unknown');
  });

  it('reads tables and key=value blocks', () => {
    expect(domStats("Domain: 'a b'\n  state.state=1\n  cpu.time=42\n\nDomain: 'c'\n  state.state=5\n")).toEqual(
      new Map([
        ['a b', new Map([['state.state', '1'], ['cpu.time', '42']])],
        ['c', new Map([['state.state', '5']])],
      ]),
    );
    expect(uuidNames('6695eb01-f6a4-8304-79aa-97f2502e193f test\n859DB4DA-954C-442A-81E3-2EF80333141B my vm\n\n')).toEqual([
      { uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', name: 'test' },
      { uuid: '859db4da-954c-442a-81e3-2ef80333141b', name: 'my vm' },
    ]);
    expect(domIfAddr(' vnet0   52:54:00:11:22:33    ipv4   192.168.122.23/24\n -        -                    ipv6   fe80::1/64\n')).toEqual(new Map([['52:54:00:11:22:33', ['192.168.122.23', 'fe80::1']]]));
    expect(domBlkInfoAll(' vda   1099506450432   1099511627776   1099511627776\n sda   -   -   -\n')).toEqual(
      new Map([
        ['vda', 1099506450432],
        ['sda', null],
      ]),
    );
    expect(netList(' default   active   no   yes\n my net    inactive yes  yes\n')).toEqual([
      { name: 'default', active: true, autostart: false },
      { name: 'my net', active: false, autostart: true },
    ]);
    expect(poolList(' default-pool   active   no\n images   inactive   yes\n')).toEqual([
      { name: 'default-pool', active: true, autostart: false },
      { name: 'images', active: false, autostart: true },
    ]);
    expect(volList(' seed.img   /tmp/tpool/seed.img\n my disk.qcow2   /var/lib/my disk.qcow2\n')).toEqual([
      { name: 'seed.img', path: '/tmp/tpool/seed.img' },
      { name: 'my disk.qcow2', path: '/var/lib/my disk.qcow2' },
    ]);
  });
});

const XML = `<domain type='kvm' id='3'>
  <name>web</name>
  <uuid>859db4da-954c-442a-81e3-2ef80333141b</uuid>
  <metadata>
    <sd:guest xmlns:sd="https://skydeck.dev/xmlns/guest/1" id="g-9"/>
    <other:thing xmlns:other="urn:x" id="not-this"/>
  </metadata>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
  </os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='default' volume='web.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <boot order='2'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/iso/a.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <boot order='1'/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:00:00:01'/>
      <source bridge='br0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:00:00:02'/>
      <source dev='eth1' mode='bridge'/>
    </interface>
    <serial type='pty'>
      <source path='/dev/pts/4'/>
      <target port='0'/>
    </serial>
    <graphics type='vnc' port='-1' autoport='yes'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
    <graphics type='spice' port='5930' autoport='no' listen='127.0.0.1'/>
  </devices>
</domain>
`;

describe('domain XML', () => {
  it('parses what DomainInfo needs', () => {
    const d = parseDomainXml(XML);
    expect(d).toMatchObject({ name: 'web', uuid: '859db4da-954c-442a-81e3-2ef80333141b', vcpu: 2, maxVcpu: 2, memoryMb: 1024, maxMemoryMb: 2048, machine: 'pc-q35-7.2', bootOrder: ['cdrom', 'hd'], serialPty: '/dev/pts/4', skydeckGuestId: 'g-9', description: null });
    expect(d.disks.map((k) => [k.target, k.source, k.device, k.readonly])).toEqual([
      ['vda', 'default/web.qcow2', 'disk', false],
      ['sda', '/iso/a.iso', 'cdrom', true],
    ]);
    expect(d.nics.map((n) => [n.type, n.source, n.target])).toEqual([
      ['bridge', 'br0', 'vnet3'],
      ['direct', 'eth1', null],
    ]);
    expect(d.graphics).toEqual([
      { type: 'vnc', port: null, listen: '0.0.0.0', autoport: true, passwordSet: false },
      { type: 'spice', port: 5930, listen: '127.0.0.1', autoport: false, passwordSet: false },
    ]);
  });

  it('edits devices in libvirt-formatted XML', () => {
    const added = addDevice(XML, diskElement({ source: "/v/it's.raw", target: 'vdb', format: 'raw', device: 'disk', bus: 'virtio' }));
    expect(parseDomainXml(added).disks.map((k) => [k.target, k.source])).toContainEqual(['vdb', "/v/it's.raw"]);
    expect(parseDomainXml(removeDisk(added, 'vdb')!).disks.map((k) => k.target)).toEqual(['vda', 'sda']);
    expect(removeDisk(XML, 'vdz')).toBeNull();
    const withNic = addDevice(XML, interfaceElement({ type: 'network', source: 'default', mac: '52:54:00:00:00:03' }));
    expect(parseDomainXml(withNic).nics).toHaveLength(3);
    expect(parseDomainXml(removeInterface(withNic, '52:54:00:00:00:01')!).nics.map((n) => n.mac)).toEqual(['52:54:00:00:00:02', '52:54:00:00:00:03']);
    const ejected = setDiskSource(XML, 'sda', null)!;
    expect(parseDomainXml(ejected).disks[1]!.source).toBeNull();
    expect(parseDomainXml(setDiskSource(ejected, 'sda', '/iso/b & c.iso')!).disks[1]).toMatchObject({ source: '/iso/b & c.iso', readonly: true });
  });
});

describe('metrics', () => {
  it('parses /proc files and domain stats', () => {
    expect(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n')).toEqual({ busy: 150, total: 1000 });
    expect(parseMeminfo('MemTotal:       1000 kB\nMemFree: 100 kB\nMemAvailable:    400 kB\n')).toEqual({ 'mem.total_bytes': 1024000, 'mem.available_bytes': 409600, 'mem.used_bytes': 614400 });
    expect(parseDiskstats('   8       0 sda 10 0 100 0 20 0 200 0 0 0 0\n   8       1 sda1 10 0 100 0 20 0 200 0 0 0 0\n', new Set(['sda']))).toEqual({ 'blk.rd_bytes': 51200, 'blk.wr_bytes': 102400 });
    const netdev = 'Inter-|\n face |\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 2000 1 0 0 0 0 0 0 3000 1 0 0 0 0 0 0\n vnet0: 50 1 0 0 0 0 0 0 60 1 0 0 0 0 0 0\n   br0: 7 1 0 0 0 0 0 0 8 1 0 0 0 0 0 0\n';
    expect(parseNetDev(netdev, (n) => n === 'br0')).toEqual({ 'net.rx_bytes': 2000, 'net.tx_bytes': 3000 });
    const stats = new Map(Object.entries({ 'state.state': '1', 'cpu.time': '3000000000', 'vcpu.current': '2', 'balloon.current': '1024', 'balloon.rss': '512', 'block.count': '2', 'block.0.rd.bytes': '10', 'block.1.rd.bytes': '5', 'block.0.wr.bytes': '1', 'net.count': '1', 'net.0.rx.bytes': '7', 'net.0.tx.bytes': '9' }));
    expect(domainValues(stats, { cpuTimeNs: 1_000_000_000, ts: 0 }, 2000)).toEqual({
      'cpu.time_ns': 3e9,
      'cpu.util': 50,
      'vcpu.current': 2,
      'mem.current_bytes': 1024 * 1024,
      'mem.rss_bytes': 512 * 1024,
      'blk.rd_bytes': 15,
      'blk.wr_bytes': 1,
      'net.rx_bytes': 7,
      'net.tx_bytes': 9,
      state: 1,
    });
  });

  it('keeps a bounded ring that survives a reload, a torn line and compaction', async () => {
    const file = join(tmp, 'm', 'metrics.ndjson');
    const a = new MetricsStore({ file, capacity: 10, log: silentLogger });
    await a.load();
    for (let i = 0; i < 25; i++) a.append([{ ts: i, scope: 'host', values: { i } }]);
    await a.flush();
    expect(a.read(0, 100)).toMatchObject({ lastSeq: 25, dropped: 15 });
    expect(a.read(0, 100).samples.map((s) => s.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(a.read(20, 2).samples.map((s) => s.seq)).toEqual([21, 22]);
    expect(a.read(25, 10)).toMatchObject({ samples: [], dropped: 0 });
    expect(a.read(99, 10)).toMatchObject({ samples: [], lastSeq: 25, dropped: 0 });
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":26,"ts":1,"sco`);
    const b = new MetricsStore({ file, capacity: 10, log: silentLogger });
    await b.load();
    expect(b.seq).toBe(25);
    expect(b.append([{ ts: 1, scope: 'host', values: {} }])[0]!.seq).toBe(26);
    // 25 appended + 1 torn + 1 = the file stays bounded by compaction (capacity * 2 + 100 lines at most).
    for (let i = 0; i < 200; i++) b.append([{ ts: i, scope: 'host', values: {} }]);
    await b.flush();
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThanOrEqual(120);
    const c = new MetricsStore({ file, capacity: 10, log: silentLogger });
    await c.load();
    expect(c.read(0, 100).samples.map((s) => s.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 217 + i));
  });
});

describe('ISO 9660 writer', () => {
  it('names files for the primary descriptor', () => {
    expect(isoName('user-data')).toBe('USER-DATA.;1');
    expect(isoName('network-config')).toBe('NETWORK-CONFIG.;1');
    expect(isoName('a.b.txt')).toBe('A_B.TXT;1');
  });

  it('lays out descriptors, directories and data', () => {
    const iso = writeIso9660({ volumeId: 'cidata', files: [{ name: 'meta-data', data: Buffer.from('x: 1\n') }, { name: 'empty', data: Buffer.alloc(0) }], date: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) });
    expect(iso.length).toBe(26 * 2048);
    expect(iso.subarray(16 * 2048, 16 * 2048 + 6).toString('latin1')).toBe('\x01CD001');
    expect(iso.subarray(16 * 2048 + 40, 16 * 2048 + 46).toString()).toBe('cidata');
    expect(iso.readUInt32LE(16 * 2048 + 80)).toBe(26);
    expect(iso.readUInt32BE(16 * 2048 + 84)).toBe(26);
    expect(iso.subarray(17 * 2048 + 88, 17 * 2048 + 91).toString()).toBe('%/E');
    expect(iso[18 * 2048]).toBe(255);
    expect(iso.subarray(16 * 2048 + 813, 16 * 2048 + 829).toString()).toBe('2024010203040500');
    expect(iso.subarray(25 * 2048, 25 * 2048 + 5).toString()).toBe('x: 1\n');
    expect(() => writeIso9660({ volumeId: 'x', files: [{ name: 'a/b', data: Buffer.alloc(1) }] })).toThrow(/bad ISO file name/);
  });
});

describe('host facts parsers', () => {
  it('reads os-release, lscpu and cpuinfo', () => {
    expect(parseOsRelease('NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n')).toEqual({ id: 'rocky', name: 'Rocky Linux', version: '9.3', prettyName: 'Rocky Linux 9.3 (Blue Onyx)' });
    const nested = JSON.stringify({ lscpu: [{ field: 'Model name:', data: 'Xeon', children: [{ field: 'Thread(s) per core:', data: '2' }, { field: 'Core(s) per socket:', data: '8' }, { field: 'Socket(s):', data: '2' }, { field: 'CPU max MHz:', data: '3500.0000' }, { field: 'Flags:', data: 'vmx sse' }] }] });
    expect(cpuFromLscpu(lscpuFields(nested))).toEqual({ model: 'Xeon', sockets: 2, cores: 8, threads: 2, mhz: 3500, flags: ['vmx', 'sse'] });
    const info = ['0', '1', '2', '3'].map((n) => `processor\t: ${n}\nmodel name\t: EPYC\nphysical id\t: 0\nsiblings\t: 4\ncpu cores\t: 2\ncpu MHz\t\t: 2000.0\nflags\t\t: svm lm\n`).join('\n');
    expect(cpuFromCpuinfo(info)).toEqual({ model: 'EPYC', sockets: 1, cores: 2, threads: 2, mhz: 2000, flags: ['svm', 'lm'] });
  });
});

describe('small pieces', () => {
  it('quotes ExecStart words for systemd', () => {
    expect(systemdQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdQuote('/opt/a b/x')).toBe('"/opt/a b/x"');
    expect(systemdQuote('50%')).toBe('50%%');
    expect(systemdQuote('a"b\\c $x')).toBe('"a\\"b\\\\c $$x"');
  });

  it('names polled transitions and parses event lines', () => {
    expect(transition(undefined, 'shutoff')).toBe('defined');
    expect(transition('shutoff', 'running')).toBe('started');
    expect(transition('paused', 'running')).toBe('resumed');
    expect(transition('running', 'paused')).toBe('suspended');
    expect(transition('running', 'shutoff')).toBe('stopped');
    expect(parseEventLine("event 'lifecycle' for domain 'my vm': Started Booted")).toEqual({ kind: 'lifecycle', domain: 'my vm', detail: 'Started Booted' });
    expect(parseEventLine("event 'reboot' for domain 'web'")).toEqual({ kind: 'reboot', domain: 'web', detail: null });
    expect(parseEventLine('events received: 3')).toBeNull();
  });

  it('checks params by hand', () => {
    expect(new Params({ uuid: '859db4da-954c-442a-81e3-2ef80333141b' }).domain()).toEqual({ uuid: '859db4da-954c-442a-81e3-2ef80333141b' });
    expect(() => new Params({ uuid: 'x', name: 'y' }).domain()).toThrow(/one of them/);
    expect(() => new Params([]).domain()).toThrow(/must be an object/);
    expect(() => new Params({ n: 1.5 }).int('n')).toThrow(/integer/);
    expect(() => new Params({ n: 5 }).int('n', { max: 4 })).toThrow(/at most 4/);
    expect(() => new Params({ f: 'vmdk' }).oneOf('f', ['qcow2', 'raw'])).toThrow(/one of qcow2, raw/);
    try {
      new Params({ s: 1 }).str('s');
    } catch (e) {
      expect((e as { code: number }).code).toBe(RPC_INVALID_PARAMS);
    }
  });

  it('parses the command line', () => {
    expect(parseServe(['--dir', '/d', '--uri=test:///default', '--metrics-interval', '200'])).toMatchObject({ dir: '/d', uri: 'test:///default', metricsIntervalMs: 200, metricsCapacity: 60480, supervisor: 'foreground' });
    expect(() => parseServe(['--dir', '/d', '--metrics-interval', '5'])).toThrow(UsageError);
    expect(() => parseFlags(['--bogus', '1'], ['--dir'])).toThrow(/unknown option/);
  });
});

/** A Libvirt whose domain never shuts off: Domains.shutdown must time out, or stop when cancelled. */
function stubbornLibvirt(): Libvirt {
  return {
    virsh: async (args: string[]) => (args[0] === 'domstate' ? 'running (booted)\n' : ''),
  } as unknown as Libvirt;
}

describe('shutdown waits', () => {
  it('times out with RPC_TIMEOUT', async () => {
    const t0 = Date.now();
    await expect(new Domains(stubbornLibvirt()).shutdown({ name: 'x' }, 300)).rejects.toMatchObject({ code: RPC_TIMEOUT });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('stops waiting when cancelled', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(new Domains(stubbornLibvirt()).shutdown({ name: 'x' }, 60_000, ac.signal)).rejects.toMatchObject({ code: RPC_CANCELLED });
  });
});
