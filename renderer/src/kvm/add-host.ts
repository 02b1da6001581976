import type { Input, Output } from '@shared/contract';
import type { SshAuthInput } from '@shared/contract/kvm';

/**
 * The add-host dialog as a small state machine, kept free of Vue so it is tested in Node:
 *
 *   address ──probed──▶ hostKey ──trust──▶ credentials ──submitted──▶ progress
 *      ▲                   │  ▲                 │                        │
 *      └──────back─────────┘  └──────back───────┘ ◀────────retry─────────┘
 *
 * The host key is tied to the endpoint it was probed for: editing the address, the port or the jump host afterwards
 * drops it, so what is trusted is always what was shown. A changed key (possible man-in-the-middle) needs an explicit
 * acknowledgement before it can be trusted.
 */

export type HostKey = Output<'hosts.probeKey'>;
export const ADD_HOST_STEPS = ['address', 'hostKey', 'credentials', 'progress'] as const;
export type AddHostStep = (typeof ADD_HOST_STEPS)[number];

export type AuthMethod = SshAuthInput['method'];
export const AUTH_METHODS: readonly AuthMethod[] = ['password', 'key', 'agent'];
export type KeySource = 'paste' | 'path';

export interface AuthForm {
  method: AuthMethod;
  password: string;
  keySource: KeySource;
  privateKey: string;
  privateKeyPath: string;
  passphrase: string;
}

export interface JumpForm {
  enabled: boolean;
  address: string;
  port: number;
  username: string;
  auth: AuthForm;
  /** The jump host's own key, as probed for `keyFor`, and whether the admin confirmed it. */
  key: HostKey | null;
  keyFor: string | null;
  confirmed: boolean;
}

export interface AddHostForm {
  address: string;
  port: number;
  jump: JumpForm;
  username: string;
  auth: AuthForm;
  name: string;
  zoneId: string | null;
  libvirtUri: string;
}

export const DEFAULT_LIBVIRT_URI = 'qemu:///system';

export const blankAuth = (method: AuthMethod = 'password'): AuthForm => ({ method, password: '', keySource: 'paste', privateKey: '', privateKeyPath: '', passphrase: '' });

export function blankAddHostForm(): AddHostForm {
  return {
    address: '',
    port: 22,
    jump: { enabled: false, address: '', port: 22, username: 'root', auth: blankAuth('key'), key: null, keyFor: null, confirmed: false },
    username: 'root',
    auth: blankAuth('password'),
    name: '',
    zoneId: null,
    libvirtUri: DEFAULT_LIBVIRT_URI,
  };
}

/** Forget every secret the form holds (on close, and after a successful add). */
export function clearSecrets(form: AddHostForm): void {
  for (const a of [form.auth, form.jump.auth]) {
    a.password = '';
    a.privateKey = '';
    a.passphrase = '';
  }
}

/** The auth input of the chosen method only: a password typed before switching to a key is never sent. */
export function authInput(a: AuthForm): SshAuthInput {
  switch (a.method) {
    case 'password':
      return { method: 'password', password: a.password };
    case 'key': {
      const passphrase = a.passphrase ? { passphrase: a.passphrase } : {};
      return a.keySource === 'path' ? { method: 'key', privateKeyPath: a.privateKeyPath.trim(), ...passphrase } : { method: 'key', privateKey: a.privateKey, ...passphrase };
    }
    default:
      return { method: 'agent' };
  }
}

export const endpoint = (address: string, port: number): string => `${address.trim().toLowerCase()}:${port}`;

/** What identifies the path to the target: its endpoint, and the jump host's when one is used. */
export function targetEndpoint(form: AddHostForm): string {
  return form.jump.enabled ? `${endpoint(form.address, form.port)} via ${endpoint(form.jump.address, form.jump.port)}` : endpoint(form.address, form.port);
}

/** The jump host is usable once its key was probed for its current address and confirmed. */
export function jumpReady(j: JumpForm): boolean {
  return !j.enabled || (!!j.key && j.keyFor === endpoint(j.address, j.port) && j.confirmed);
}

export type JumpInput = NonNullable<Input<'hosts.add'>['jumpHost']>;

export function jumpInput(form: AddHostForm): JumpInput | undefined {
  const j = form.jump;
  if (!j.enabled || !j.key) return undefined;
  return { address: j.address.trim(), port: j.port, username: j.username.trim(), auth: authInput(j.auth), hostKeyFingerprint: j.key.fingerprint };
}

/** Why the "Check host key" button cannot be used yet, as a message key; null when it can. */
export function probeBlocker(form: AddHostForm): string | null {
  if (!form.address.trim()) return 'kvm.add.needAddress';
  if (form.jump.enabled) {
    if (!form.jump.address.trim()) return 'kvm.add.needJumpAddress';
    if (!jumpReady(form.jump)) return 'kvm.add.needJumpKey';
  }
  return null;
}

export function probeInput(form: AddHostForm): Input<'hosts.probeKey'> {
  const jumpHost = jumpInput(form);
  return { address: form.address.trim(), port: form.port, ...(jumpHost ? { jumpHost } : {}) };
}

export function addInput(form: AddHostForm, fingerprint: string): Input<'hosts.add'> {
  const jumpHost = jumpInput(form);
  const name = form.name.trim();
  return {
    ...(name ? { name } : {}),
    address: form.address.trim(),
    port: form.port,
    username: form.username.trim(),
    auth: authInput(form.auth),
    ...(jumpHost ? { jumpHost } : {}),
    hostKeyFingerprint: fingerprint,
    zoneId: form.zoneId,
    libvirtUri: form.libvirtUri.trim() || DEFAULT_LIBVIRT_URI,
  };
}

/** A key can be trusted when it is new or on record; a changed one only with the admin's explicit acknowledgement. */
export function canTrust(key: HostKey | null, acknowledged: boolean): boolean {
  if (!key) return false;
  return key.trust !== 'changed' || acknowledged;
}

/** Which step shows the field a server error names (`auth.password` → credentials). */
export function stepOfField(path: string): AddHostStep {
  const top = path.split('.')[0] ?? '';
  if (top === 'address' || top === 'port' || top === 'jumpHost') return 'address';
  if (top === 'hostKeyFingerprint') return 'hostKey';
  return 'credentials';
}

export interface AddHostMachine {
  step: AddHostStep;
  key: HostKey | null;
  /** The endpoint `key` was probed for. */
  keyFor: string | null;
  /** The admin ticked "I understand the key changed". */
  acknowledged: boolean;
  /** The fingerprint the admin trusted, sent as hostKeyFingerprint. */
  trusted: string | null;
  taskId: string | null;
  hostId: string | null;
}

export type AddHostEvent =
  | { type: 'probed'; key: HostKey; endpoint: string }
  | { type: 'acknowledge'; value: boolean }
  | { type: 'trust' }
  | { type: 'back' }
  | { type: 'edited'; endpoint: string }
  | { type: 'submitted'; taskId: string; hostId: string }
  | { type: 'retry' }
  | { type: 'reset' };

export const initialMachine = (): AddHostMachine => ({ step: 'address', key: null, keyFor: null, acknowledged: false, trusted: null, taskId: null, hostId: null });

/** One transition; events that do not fit the current step leave the machine as it is. */
export function advance(m: AddHostMachine, ev: AddHostEvent): AddHostMachine {
  switch (ev.type) {
    case 'reset':
      return initialMachine();
    case 'probed':
      return m.step === 'address' ? { ...m, step: 'hostKey', key: ev.key, keyFor: ev.endpoint, acknowledged: false, trusted: null } : m;
    case 'acknowledge':
      return m.step === 'hostKey' ? { ...m, acknowledged: ev.value } : m;
    case 'trust':
      return m.step === 'hostKey' && canTrust(m.key, m.acknowledged) ? { ...m, step: 'credentials', trusted: m.key!.fingerprint } : m;
    case 'back':
      if (m.step === 'hostKey') return { ...m, step: 'address' };
      if (m.step === 'credentials') return { ...m, step: 'hostKey' };
      return m;
    case 'edited':
      // A key shown for another endpoint is no longer the one to trust.
      return m.keyFor !== null && m.keyFor !== ev.endpoint && m.step !== 'progress' ? { ...m, step: 'address', key: null, keyFor: null, acknowledged: false, trusted: null } : m;
    case 'submitted':
      return m.step === 'credentials' && m.trusted ? { ...m, step: 'progress', taskId: ev.taskId, hostId: ev.hostId } : m;
    case 'retry':
      return m.step === 'progress' ? { ...m, step: 'credentials', taskId: null } : m;
    default:
      return m;
  }
}

/** The host key file whose fingerprint the admin compares (`ssh-keygen -lf <file>` on the host), by key algorithm. */
export function hostKeyFile(algorithm: string): string {
  const a = algorithm.toLowerCase();
  const kind = a.includes('ed25519') ? 'ed25519' : a.startsWith('ecdsa') ? 'ecdsa' : a.includes('rsa') ? 'rsa' : a.includes('dss') ? 'dsa' : 'ed25519';
  return `/etc/ssh/ssh_host_${kind}_key.pub`;
}
