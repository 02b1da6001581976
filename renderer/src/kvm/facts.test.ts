import { describe, expect, it } from 'vitest';
import { bytesText, connectionTagType, isHostKeyChanged, logicalCpus, poolNames, poolPercent, readFacts, uptimeParts, virtMode } from './facts';

const GiB = 1024 ** 3;

describe('host facts', () => {
  it('reads a full facts record', () => {
    const f = readFacts({
      hostname: 'kvm-01',
      os: { id: 'debian', name: 'Debian GNU/Linux', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
      kernel: '6.1.0-18-amd64',
      arch: 'x86_64',
      cpu: { model: 'AMD EPYC 7313', sockets: 1, cores: 16, threads: 2, mhz: 3000, flags: ['svm'] },
      memoryMb: 131072,
      kvm: true,
      libvirt: { uri: 'qemu:///system', version: '9.0.0', hypervisorVersion: '7.2.0', reachable: true, error: null },
      qemu: { binary: '/usr/bin/qemu-system-x86_64', version: '7.2.0' },
      disks: [{ name: 'nvme0n1', sizeBytes: 960 * GiB, rotational: false, model: 'Samsung PM983' }],
      pools: [{ name: 'default', type: 'dir', path: '/var/lib/libvirt/images', active: true, capacityBytes: 800 * GiB, allocationBytes: 200 * GiB, availableBytes: 600 * GiB }],
      bridges: [{ name: 'br0', addresses: ['10.0.0.11/24'], up: true }],
      networks: [{ name: 'default', bridge: 'virbr0', active: true, forward: 'nat', autostart: true }],
      uptimeSeconds: 93784,
      loadAvg: [0.5, 0.4, 0.3],
    })!;
    expect(f.os.prettyName).toContain('bookworm');
    expect(logicalCpus(f.cpu)).toBe(32);
    expect(virtMode(f)).toBe('kvm');
    expect(f.pools[0]!.path).toBe('/var/lib/libvirt/images');
    expect(poolPercent(f.pools[0]!)).toBe(25);
    expect(bytesText(f.disks[0]!.sizeBytes)).toBe('960 GiB');
  });

  it('fills what an older agent left out, and answers null for no facts', () => {
    expect(readFacts({})).toBeNull();
    expect(readFacts(null)).toBeNull();
    const f = readFacts({ hostname: 'h', os: { name: 'Alpine', version: '3.19' }, pools: [{ name: 'p', capacityBytes: 10, allocationBytes: 4 }], loadAvg: 'x' })!;
    expect(f.os.prettyName).toBe('Alpine 3.19');
    expect(f.kvm).toBe(false);
    expect(virtMode(f)).toBe('tcg');
    expect(f.pools[0]).toMatchObject({ availableBytes: 6, active: false, path: null });
    expect(f.loadAvg).toEqual([0, 0, 0]);
    expect(f.bridges).toEqual([]);
    expect(f.libvirt.version).toBeNull();
  });

  it('formats uptime, sizes and pool order', () => {
    expect(uptimeParts(93784)).toEqual({ d: 1, h: 2, m: 3 });
    expect(bytesText(0)).toBe('0 MiB');
    expect(bytesText(1.5 * 1024 * GiB)).toBe('1.5 TiB');
    expect(poolPercent({ allocationBytes: 1, capacityBytes: 0 })).toBe(0);
    const f = readFacts({ hostname: 'h', pools: [{ name: 'zeta', active: true }, { name: 'alpha', active: false }, { name: 'beta', active: true }] });
    expect(poolNames(f)).toEqual(['beta', 'zeta', 'alpha']);
    expect(poolNames(null)).toEqual([]);
  });
});

describe('host connection', () => {
  it('colours states', () => {
    expect(connectionTagType('online')).toBe('success');
    expect(connectionTagType('unreachable')).toBe('danger');
    expect(connectionTagType('connecting')).toBe('primary');
    expect(connectionTagType('offline')).toBe('info');
  });
  it('recognises a changed host key among the reasons', () => {
    expect(isHostKeyChanged('host_key_changed')).toBe(true);
    expect(isHostKeyChanged('Host key changed: expected SHA256:abc, got SHA256:def')).toBe(true);
    expect(isHostKeyChanged('host key mismatch')).toBe(true);
    expect(isHostKeyChanged('The host key differs from the one on record')).toBe(true);
    expect(isHostKeyChanged('connect ECONNREFUSED 10.0.0.1:22')).toBe(false);
    expect(isHostKeyChanged('All configured authentication methods failed')).toBe(false);
    expect(isHostKeyChanged(null)).toBe(false);
  });
});
