import { describe, expect, it } from 'vitest';
import { guestCreateInput } from '@shared/contract/kvm';
import { blankGuestForm, clearGuestSecrets, createGuestInput, defaultSnapshotName, guestFieldOf, guestFormIssues, snapshotNameIssue, splitMiB, toMiB } from './guest-create';

describe('create guest form', () => {
  it('converts memory between MiB and GiB', () => {
    expect(toMiB(2, 'GiB')).toBe(2048);
    expect(toMiB(1.5, 'GiB')).toBe(1536);
    expect(toMiB(512, 'MiB')).toBe(512);
    expect(toMiB(Number.NaN, 'MiB')).toBe(0);
    expect(splitMiB(4096)).toEqual({ value: 4, unit: 'GiB' });
    expect(splitMiB(1536)).toEqual({ value: 1.5, unit: 'GiB' });
    expect(splitMiB(1000)).toEqual({ value: 1000, unit: 'MiB' });
    expect(splitMiB(512)).toEqual({ value: 512, unit: 'MiB' });
  });

  it('checks the name like guestNameSchema, memory, boot source, NIC and the VNC password', () => {
    const f = blankGuestForm();
    expect(guestFormIssues(f)).toMatchObject({ name: 'kvm.create.nameRequired', source: 'kvm.create.imageRequired', bridge: 'kvm.create.bridgeRequired' });
    Object.assign(f, { name: '-web', volumePath: '/var/lib/libvirt/images/debian-12.qcow2', bridge: 'br0' });
    expect(guestFormIssues(f)).toEqual({ name: 'kvm.create.nameRule' });
    Object.assign(f, { name: 'web 1' });
    expect(guestFormIssues(f).name).toBe('kvm.create.nameRule');
    Object.assign(f, { name: 'web-1.prod_a', memory: 32, memoryUnit: 'MiB', vncPassword: '123456789', mac: 'zz' });
    expect(guestFormIssues(f)).toEqual({ memoryMb: 'kvm.create.memoryMin', vncPassword: 'kvm.create.vncPasswordMax', mac: 'kvm.create.macRule' });
    expect(guestFormIssues({ ...f, mac: '52:54:00:AB:cd:01', memory: 1, memoryUnit: 'GiB', vncPassword: '' })).toEqual({});
    expect(guestFormIssues({ ...f, nicMode: 'network', libvirtNetwork: '', memory: 1, memoryUnit: 'GiB', vncPassword: '', mac: '' })).toEqual({ libvirtNetwork: 'kvm.create.libvirtNetworkRequired' });
    Object.assign(f, { source: 'iso', isoPath: '', diskGb: 0, memory: 1, memoryUnit: 'GiB', vncPassword: '', mac: '' });
    expect(guestFormIssues(f)).toEqual({ source: 'kvm.create.isoRequired', diskGb: 'kvm.create.isoNeedsDisk' });
  });

  it('builds an input the contract accepts, leaving out what was not chosen', () => {
    const f = Object.assign(blankGuestForm(), { name: 'web-1', volumePath: ' /var/lib/libvirt/images/debian-12.qcow2 ', bridge: 'br0', password: 'pw', vncPassword: 'vncpw' });
    const input = createGuestInput(f, 'ssh-ed25519 AAAA me');
    const parsed = guestCreateInput.parse(input);
    expect(parsed).toMatchObject({ name: 'web-1', vcpu: 2, memoryMb: 2048, source: { kind: 'image', volumePath: '/var/lib/libvirt/images/debian-12.qcow2', cow: true }, diskGb: 20, nic: { bridge: 'br0', model: 'virtio' }, cloudInit: { sshAuthorizedKey: 'ssh-ed25519 AAAA me', password: 'pw' }, vnc: true, vncPassword: 'vncpw', start: true });
    expect(input, 'the scheduler chooses').not.toHaveProperty('hostId');

    Object.assign(f, { hostId: 'h-1', source: 'kernel', kernel: '/boot/vmlinuz', cmdline: 'console=ttyS0', nicMode: 'network', libvirtNetwork: 'default', networkId: 'n-1', ip: '10.0.0.5', cloudInit: false, vnc: false });
    const k = guestCreateInput.parse(createGuestInput(f));
    expect(k).toMatchObject({ hostId: 'h-1', source: { kind: 'kernel', kernel: '/boot/vmlinuz', cmdline: 'console=ttyS0' }, nic: { libvirtNetwork: 'default', networkId: 'n-1', ip: '10.0.0.5' }, vnc: false });
    expect(k.source).not.toHaveProperty('initrd');
    expect(k).not.toHaveProperty('cloudInit');
    expect(k).not.toHaveProperty('vncPassword');

    Object.assign(f, { source: 'none', nicMode: 'none', cloudInit: true, password: '', userData: '' });
    const n = createGuestInput(f);
    expect(n.source).toEqual({ kind: 'none' });
    expect(n).not.toHaveProperty('nic');
    expect(n, 'an empty cloud-init is not sent').not.toHaveProperty('cloudInit');
  });

  it('maps server fields to form fields and forgets secrets', () => {
    expect(guestFieldOf('source.isoPath')).toBe('source');
    expect(guestFieldOf('nic.mac')).toBe('mac');
    expect(guestFieldOf('nic.model')).toBe('nic');
    expect(guestFieldOf('cloudInit.sshAuthorizedKey')).toBe('keypairId');
    expect(guestFieldOf('cloudInit.password')).toBe('password');
    expect(guestFieldOf('vncPassword')).toBe('vncPassword');
    const f = Object.assign(blankGuestForm(), { password: 'a', vncPassword: 'b' });
    clearGuestSecrets(f);
    expect(f.password + f.vncPassword).toBe('');
  });
});

describe('snapshot names', () => {
  it('validates and proposes one', () => {
    expect(snapshotNameIssue('')).toBe('kvm.snap.nameRequired');
    expect(snapshotNameIssue('before upgrade')).toBe('kvm.snap.nameRule');
    expect(snapshotNameIssue('before-upgrade_1.2')).toBeNull();
    const name = defaultSnapshotName('web 1', new Date(2025, 0, 5, 14, 3));
    expect(name).toBe('web1-20250105-1403');
    expect(snapshotNameIssue(name)).toBeNull();
    expect(snapshotNameIssue(defaultSnapshotName('中文', new Date(2025, 0, 5, 14, 3)))).toBeNull();
  });
});
