import type { Input } from '@shared/contract';
import { guestNameSchema, macSchema, snapshotNameSchema } from '@shared/contract/kvm';

/** The create-guest form and what it sends (guests.create), pure so it is tested in Node. */

export type MemoryUnit = 'MiB' | 'GiB';
export type SourceKind = 'image' | 'iso' | 'kernel' | 'none';
export type NicMode = 'none' | 'bridge' | 'network';
export type NicModel = 'virtio' | 'e1000' | 'rtl8139';
export type DiskFormat = 'qcow2' | 'raw';

export interface CreateGuestForm {
  name: string;
  /** null: the scheduler picks a KVM host. */
  hostId: string | null;
  projectId: string | null;
  vcpu: number;
  memory: number;
  memoryUnit: MemoryUnit;
  source: SourceKind;
  volumePath: string;
  cow: boolean;
  isoPath: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  diskGb: number;
  diskFormat: DiskFormat;
  storagePool: string;
  nicMode: NicMode;
  bridge: string;
  libvirtNetwork: string;
  networkId: string | null;
  ip: string;
  mac: string;
  nicModel: NicModel;
  cloudInit: boolean;
  userData: string;
  keypairId: string | null;
  password: string;
  hostname: string;
  vnc: boolean;
  vncPassword: string;
  start: boolean;
}

export function blankGuestForm(): CreateGuestForm {
  return {
    name: '',
    hostId: null,
    projectId: null,
    vcpu: 2,
    memory: 2,
    memoryUnit: 'GiB',
    source: 'image',
    volumePath: '',
    cow: true,
    isoPath: '',
    kernel: '',
    initrd: '',
    cmdline: '',
    diskGb: 20,
    diskFormat: 'qcow2',
    storagePool: 'default',
    nicMode: 'bridge',
    bridge: '',
    libvirtNetwork: '',
    networkId: null,
    ip: '',
    mac: '',
    nicModel: 'virtio',
    cloudInit: true,
    userData: '',
    keypairId: null,
    password: '',
    hostname: '',
    vnc: true,
    vncPassword: '',
    start: true,
  };
}

/** Forget the secrets of the form (on close). */
export function clearGuestSecrets(form: CreateGuestForm): void {
  form.password = '';
  form.vncPassword = '';
}

/** A size typed in MiB or GiB, in MiB (whole). */
export function toMiB(value: number, unit: MemoryUnit): number {
  if (!Number.isFinite(value)) return 0;
  return Math.round(unit === 'GiB' ? value * 1024 : value);
}

/** MiB in the friendlier unit: GiB (in quarters) from 1 GiB up, else MiB. */
export function splitMiB(mb: number): { value: number; unit: MemoryUnit } {
  return mb >= 1024 && mb % 256 === 0 ? { value: mb / 1024, unit: 'GiB' } : { value: mb, unit: 'MiB' };
}

/** Client-side checks that give an instant answer; the server checks everything again. Values are message keys. */
export function guestFormIssues(form: CreateGuestForm): Record<string, string> {
  const out: Record<string, string> = {};
  if (!form.name.trim()) out.name = 'kvm.create.nameRequired';
  else if (!guestNameSchema.safeParse(form.name).success) out.name = 'kvm.create.nameRule';
  if (toMiB(form.memory, form.memoryUnit) < 64) out.memoryMb = 'kvm.create.memoryMin';
  if (form.source === 'iso' && !form.isoPath.trim()) out.source = 'kvm.create.isoRequired';
  if (form.source === 'kernel' && !form.kernel.trim()) out.source = 'kvm.create.kernelRequired';
  if (form.source === 'image' && !form.volumePath.trim()) out.source = 'kvm.create.imageRequired';
  if (form.nicMode === 'bridge' && !form.bridge.trim()) out.bridge = 'kvm.create.bridgeRequired';
  if (form.nicMode === 'network' && !form.libvirtNetwork.trim()) out.libvirtNetwork = 'kvm.create.libvirtNetworkRequired';
  if (form.nicMode !== 'none' && form.mac.trim() && !macSchema.safeParse(form.mac.trim().toLowerCase()).success) out.mac = 'kvm.create.macRule';
  if (form.vnc && form.vncPassword.length > 8) out.vncPassword = 'kvm.create.vncPasswordMax';
  if (form.source === 'iso' && form.diskGb <= 0) out.diskGb = 'kvm.create.isoNeedsDisk';
  return out;
}

export type CreateGuestInput = Input<'guests.create'>;

/** The guests.create input; `sshKey` is the chosen key pair's public key (looked up by the dialog). */
export function createGuestInput(form: CreateGuestForm, sshKey: string | null = null): CreateGuestInput {
  const source: CreateGuestInput['source'] =
    form.source === 'image'
      ? { kind: 'image', volumePath: form.volumePath.trim(), cow: form.cow }
      : form.source === 'iso'
        ? { kind: 'iso', isoPath: form.isoPath.trim() }
        : form.source === 'kernel'
          ? { kind: 'kernel', kernel: form.kernel.trim(), ...(form.initrd.trim() ? { initrd: form.initrd.trim() } : {}), cmdline: form.cmdline.trim() }
          : { kind: 'none' };

  let nic: CreateGuestInput['nic'];
  if (form.nicMode !== 'none') {
    nic = {
      ...(form.nicMode === 'bridge' ? { bridge: form.bridge.trim() } : { libvirtNetwork: form.libvirtNetwork.trim() }),
      ...(form.networkId ? { networkId: form.networkId } : {}),
      ...(form.networkId && form.ip.trim() ? { ip: form.ip.trim() } : {}),
      ...(form.mac.trim() ? { mac: form.mac.trim().toLowerCase() } : {}),
      model: form.nicModel,
    };
  }

  let cloudInit: CreateGuestInput['cloudInit'];
  if (form.cloudInit) {
    const ci = {
      ...(form.userData.trim() ? { userData: form.userData } : {}),
      ...(sshKey ? { sshAuthorizedKey: sshKey } : {}),
      ...(form.password ? { password: form.password } : {}),
      ...(form.hostname.trim() ? { hostname: form.hostname.trim() } : {}),
    };
    if (Object.keys(ci).length) cloudInit = ci;
  }

  return {
    name: form.name.trim(),
    ...(form.hostId ? { hostId: form.hostId } : {}),
    projectId: form.projectId,
    vcpu: form.vcpu,
    memoryMb: toMiB(form.memory, form.memoryUnit),
    source,
    diskGb: form.diskGb,
    storagePool: form.storagePool.trim() || 'default',
    diskFormat: form.diskFormat,
    ...(nic ? { nic } : {}),
    ...(cloudInit ? { cloudInit } : {}),
    vnc: form.vnc,
    ...(form.vnc && form.vncPassword ? { vncPassword: form.vncPassword } : {}),
    start: form.start,
  };
}

const NIC_FIELDS: Record<string, string> = { mac: 'mac', ip: 'ip', bridge: 'bridge', libvirtNetwork: 'libvirtNetwork', networkId: 'networkId' };
const CLOUD_INIT_FIELDS: Record<string, string> = { password: 'password', userData: 'userData', hostname: 'hostname', sshAuthorizedKey: 'keypairId' };

/** Which form field shows a server error (`source.isoPath` → source, `nic.mac` → mac, `cloudInit.password` → password). */
export function guestFieldOf(path: string): string {
  const [top = '', sub = ''] = path.split('.');
  if (top === 'nic') return NIC_FIELDS[sub] ?? 'nic';
  if (top === 'cloudInit') return CLOUD_INIT_FIELDS[sub] ?? 'cloudInit';
  return top;
}

/** A snapshot name the way guests.snapshotCreate takes it; null when it fits, else a message key. */
export function snapshotNameIssue(name: string): string | null {
  if (!name.trim()) return 'kvm.snap.nameRequired';
  return snapshotNameSchema.safeParse(name).success ? null : 'kvm.snap.nameRule';
}

/** A default snapshot name: the guest's name and the local time, e.g. web-1-20250105-1403. */
export function defaultSnapshotName(guest: string, now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const base = guest.replace(/[^A-Za-z0-9._-]/g, '').replace(/^[^A-Za-z0-9]+/, '') || 'snap';
  return `${base.slice(0, 40)}-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}`;
}
