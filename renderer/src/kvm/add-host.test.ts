import { describe, expect, it } from 'vitest';
import { hostAddInput, kvm } from '@shared/contract/kvm';
import { addInput, advance, hostKeyFile, authInput, blankAddHostForm, blankAuth, canTrust, clearSecrets, endpoint, initialMachine, probeBlocker, probeInput, stepOfField, targetEndpoint, type HostKey } from './add-host';

const FP = `SHA256:${'A'.repeat(43)}`;
const FP2 = `SHA256:${'B'.repeat(43)}`;
const key = (trust: HostKey['trust'], fingerprint = FP): HostKey => ({ algorithm: 'ssh-ed25519', fingerprint, trust, expected: trust === 'changed' ? FP2 : null });

describe('add-host step machine', () => {
  it('goes address → host key → credentials → progress, and back', () => {
    let m = initialMachine();
    m = advance(m, { type: 'trust' });
    expect(m.step, 'nothing to trust before a probe').toBe('address');
    m = advance(m, { type: 'probed', key: key('new'), endpoint: 'kvm1:22' });
    expect(m).toMatchObject({ step: 'hostKey', keyFor: 'kvm1:22', trusted: null });
    m = advance(m, { type: 'trust' });
    expect(m).toMatchObject({ step: 'credentials', trusted: FP });
    m = advance(m, { type: 'back' });
    expect(m.step).toBe('hostKey');
    m = advance(advance(m, { type: 'trust' }), { type: 'submitted', taskId: 't-1', hostId: 'h-1' });
    expect(m).toMatchObject({ step: 'progress', taskId: 't-1', hostId: 'h-1' });
    expect(advance(m, { type: 'back' }).step, 'no way back while the task runs').toBe('progress');
    m = advance(m, { type: 'retry' });
    expect(m, 'the host stays: a retry fixes its credentials and runs the bootstrap again').toMatchObject({ step: 'credentials', taskId: null, trusted: FP, hostId: 'h-1' });
    m = advance(m, { type: 'submitted', taskId: 't-2', hostId: 'h-1' });
    expect(m).toMatchObject({ step: 'progress', taskId: 't-2' });
  });

  it('requires an explicit acknowledgement to trust a changed key', () => {
    let m = advance(initialMachine(), { type: 'probed', key: key('changed'), endpoint: 'kvm1:22' });
    expect(advance(m, { type: 'trust' }).step).toBe('hostKey');
    m = advance(m, { type: 'acknowledge', value: true });
    expect(advance(m, { type: 'trust' })).toMatchObject({ step: 'credentials', trusted: FP });
    // A new probe forgets an earlier acknowledgement.
    m = advance(advance(m, { type: 'back' }), { type: 'probed', key: key('changed'), endpoint: 'kvm1:22' });
    expect(m.acknowledged).toBe(false);
    expect(canTrust(key('match'), false)).toBe(true);
    expect(canTrust(key('new'), false)).toBe(true);
    expect(canTrust(key('changed'), false)).toBe(false);
    expect(canTrust(null, true)).toBe(false);
  });

  it('drops the key when the endpoint it was probed for is edited', () => {
    let m = advance(initialMachine(), { type: 'probed', key: key('new'), endpoint: 'kvm1:22' });
    m = advance(m, { type: 'trust' });
    expect(advance(m, { type: 'edited', endpoint: 'kvm1:22' })).toEqual(m);
    expect(advance(m, { type: 'edited', endpoint: 'kvm1:2222' })).toMatchObject({ step: 'address', key: null, trusted: null });
  });

  it('submits only from credentials with a trusted key', () => {
    expect(advance(initialMachine(), { type: 'submitted', taskId: 't', hostId: 'h' }).step).toBe('address');
  });
});

describe('add-host inputs', () => {
  it('sends only the chosen auth method', () => {
    const a = { ...blankAuth('password'), password: 'pw', privateKey: 'KEY', passphrase: 'pp' };
    expect(authInput(a)).toEqual({ method: 'password', password: 'pw' });
    expect(authInput({ ...a, method: 'key' })).toEqual({ method: 'key', privateKey: 'KEY', passphrase: 'pp' });
    expect(authInput({ ...a, method: 'key', keySource: 'path', privateKeyPath: ' ~/.ssh/id_ed25519 ', passphrase: '' })).toEqual({ method: 'key', privateKeyPath: '~/.ssh/id_ed25519' });
    expect(authInput({ ...a, method: 'agent' })).toEqual({ method: 'agent' });
  });

  it('builds inputs the contract accepts, with the confirmed fingerprint and the jump host', () => {
    const f = blankAddHostForm();
    expect(probeBlocker(f)).toBe('kvm.add.needAddress');
    f.address = ' kvm-01.lab ';
    f.auth.password = 'secret';
    expect(probeBlocker(f)).toBeNull();
    expect(probeInput(f)).toEqual({ address: 'kvm-01.lab', port: 22 });
    const input = addInput(f, FP);
    expect(hostAddInput.parse(input)).toMatchObject({ address: 'kvm-01.lab', username: 'root', hostKeyFingerprint: FP, libvirtUri: 'qemu:///system', zoneId: null });
    expect(input).not.toHaveProperty('name');

    f.jump.enabled = true;
    expect(probeBlocker(f)).toBe('kvm.add.needJumpAddress');
    f.jump.address = 'bastion.lab';
    expect(probeBlocker(f)).toBe('kvm.add.needJumpKey');
    f.jump.key = key('new', FP2);
    f.jump.keyFor = endpoint('bastion.lab', 22);
    expect(probeBlocker(f), 'probed but not confirmed').toBe('kvm.add.needJumpKey');
    f.jump.confirmed = true;
    expect(probeBlocker(f)).toBeNull();
    f.jump.port = 2222;
    expect(probeBlocker(f), 'the jump key was for another port').toBe('kvm.add.needJumpKey');
    f.jump.port = 22;
    f.jump.auth.privateKeyPath = '/home/me/.ssh/id_ed25519';
    f.jump.auth.keySource = 'path';
    const p = kvm['hosts.probeKey'].input.parse(probeInput(f));
    expect(p.jumpHost).toMatchObject({ address: 'bastion.lab', hostKeyFingerprint: FP2, auth: { method: 'key', privateKeyPath: '/home/me/.ssh/id_ed25519' } });
    expect(hostAddInput.parse(addInput(f, FP)).jumpHost?.hostKeyFingerprint).toBe(FP2);
    expect(targetEndpoint(f)).toBe('kvm-01.lab:22 via bastion.lab:22');
  });

  it('forgets every secret', () => {
    const f = blankAddHostForm();
    Object.assign(f.auth, { password: 'a', privateKey: 'b', passphrase: 'c', privateKeyPath: '/k' });
    Object.assign(f.jump.auth, { password: 'd', privateKey: 'e', passphrase: 'f' });
    clearSecrets(f);
    expect([f.auth.password, f.auth.privateKey, f.auth.passphrase, f.jump.auth.password, f.jump.auth.privateKey, f.jump.auth.passphrase].join('')).toBe('');
    expect(f.auth.privateKeyPath, 'a path is no secret').toBe('/k');
  });

  it('sends a server error to the step that shows its field', () => {
    expect(stepOfField('address')).toBe('address');
    expect(stepOfField('jumpHost.auth.password')).toBe('address');
    expect(stepOfField('hostKeyFingerprint')).toBe('hostKey');
    expect(stepOfField('auth.privateKey')).toBe('credentials');
    expect(stepOfField('libvirtUri')).toBe('credentials');
  });
});

describe('host key file', () => {
  it('names the key file to check by algorithm', () => {
    expect(hostKeyFile('ssh-ed25519')).toBe('/etc/ssh/ssh_host_ed25519_key.pub');
    expect(hostKeyFile('ecdsa-sha2-nistp256')).toBe('/etc/ssh/ssh_host_ecdsa_key.pub');
    expect(hostKeyFile('rsa-sha2-512')).toBe('/etc/ssh/ssh_host_rsa_key.pub');
    expect(hostKeyFile('ssh-rsa')).toBe('/etc/ssh/ssh_host_rsa_key.pub');
    expect(hostKeyFile('')).toBe('/etc/ssh/ssh_host_ed25519_key.pub');
  });
});
