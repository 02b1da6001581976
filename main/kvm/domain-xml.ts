/**
 * libvirt domain XML from Skydeck's guest spec. One function, no I/O: what Skydeck asks libvirt to define is visible in
 * one place and unit-tested. The XML marks the domain as Skydeck's with a metadata element carrying the guest id, so a
 * later sync links the domain back to its inventory row even after a rename on the host.
 */

export const SKYDECK_XMLNS = 'https://skydeck.dev/xmlns/guest/1';

export interface DomainDiskSpec {
  /** Path on the host (a volume or an ISO); null for an empty CD-ROM drive. */
  source: string | null;
  target: string;
  format: 'qcow2' | 'raw';
  device: 'disk' | 'cdrom';
  bus: 'virtio' | 'sata' | 'ide' | 'scsi';
  readonly?: boolean;
}

export interface DomainNicSpec {
  type: 'bridge' | 'network';
  source: string;
  mac: string;
  model: 'virtio' | 'e1000' | 'rtl8139';
}

export interface DomainSpec {
  name: string;
  uuid?: string;
  skydeckGuestId: string;
  description?: string;
  vcpu: number;
  memoryMb: number;
  /** kvm where /dev/kvm is usable, qemu (TCG) otherwise. */
  virtType: 'kvm' | 'qemu';
  arch: 'x86_64' | 'aarch64';
  boot: ('hd' | 'cdrom' | 'network')[];
  kernel?: { kernel: string; initrd?: string; cmdline?: string };
  disks: DomainDiskSpec[];
  nics: DomainNicSpec[];
  vnc?: { listen: string; password?: string };
  serial: boolean;
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const attr = (v: string) => `'${xmlEscape(v)}'`;

/** Guest device names in attach order per bus: vda, vdb… (virtio), sda… (sata/scsi), hda… (ide). */
export function nextTarget(bus: DomainDiskSpec['bus'], used: readonly string[]): string {
  const prefix = bus === 'virtio' ? 'vd' : bus === 'ide' ? 'hd' : 'sd';
  for (let i = 0; i < 26; i++) {
    const t = prefix + String.fromCharCode(97 + i);
    if (!used.includes(t)) return t;
  }
  throw new Error(`no free ${prefix}* device name`);
}

/** A locally administered MAC in QEMU's 52:54:00 range. */
export function randomMac(random: () => number = Math.random): string {
  const b = [0x52, 0x54, 0x00, ...Array.from({ length: 3 }, () => Math.floor(random() * 256))];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function domainXml(s: DomainSpec): string {
  const machine = s.arch === 'x86_64' ? 'pc' : 'virt';
  const lines: string[] = [];
  lines.push(`<domain type=${attr(s.virtType)}>`);
  lines.push(`  <name>${xmlEscape(s.name)}</name>`);
  if (s.uuid) lines.push(`  <uuid>${xmlEscape(s.uuid)}</uuid>`);
  if (s.description) lines.push(`  <description>${xmlEscape(s.description)}</description>`);
  lines.push(`  <metadata>`, `    <skydeck:guest xmlns:skydeck=${attr(SKYDECK_XMLNS)} id=${attr(s.skydeckGuestId)}/>`, `  </metadata>`);
  lines.push(`  <memory unit='MiB'>${s.memoryMb}</memory>`, `  <currentMemory unit='MiB'>${s.memoryMb}</currentMemory>`);
  lines.push(`  <vcpu placement='static'>${s.vcpu}</vcpu>`);
  lines.push(`  <os>`, `    <type arch=${attr(s.arch)} machine=${attr(machine)}>hvm</type>`);
  if (s.kernel) {
    lines.push(`    <kernel>${xmlEscape(s.kernel.kernel)}</kernel>`);
    if (s.kernel.initrd) lines.push(`    <initrd>${xmlEscape(s.kernel.initrd)}</initrd>`);
    if (s.kernel.cmdline) lines.push(`    <cmdline>${xmlEscape(s.kernel.cmdline)}</cmdline>`);
  } else {
    for (const b of s.boot) lines.push(`    <boot dev=${attr(b)}/>`);
  }
  lines.push(`  </os>`);
  lines.push(`  <features>`, `    <acpi/>`, `    <apic/>`, `  </features>`);
  if (s.virtType === 'kvm') lines.push(`  <cpu mode='host-passthrough' check='none'/>`);
  lines.push(`  <clock offset='utc'/>`, `  <on_poweroff>destroy</on_poweroff>`, `  <on_reboot>restart</on_reboot>`, `  <on_crash>destroy</on_crash>`);
  lines.push(`  <devices>`);
  for (const d of s.disks) {
    lines.push(`    <disk type='file' device=${attr(d.device)}>`);
    lines.push(`      <driver name='qemu' type=${attr(d.format)}${d.device === 'disk' ? " cache='none' io='native' discard='unmap'" : ''}/>`);
    if (d.source) lines.push(`      <source file=${attr(d.source)}/>`);
    lines.push(`      <target dev=${attr(d.target)} bus=${attr(d.bus)}/>`);
    if (d.readonly || d.device === 'cdrom') lines.push(`      <readonly/>`);
    lines.push(`    </disk>`);
  }
  for (const n of s.nics) {
    lines.push(`    <interface type=${attr(n.type)}>`);
    lines.push(`      <mac address=${attr(n.mac)}/>`);
    lines.push(n.type === 'bridge' ? `      <source bridge=${attr(n.source)}/>` : `      <source network=${attr(n.source)}/>`);
    lines.push(`      <model type=${attr(n.model)}/>`);
    lines.push(`    </interface>`);
  }
  if (s.serial) {
    lines.push(`    <serial type='pty'>`, `      <target port='0'/>`, `    </serial>`, `    <console type='pty'>`, `      <target type='serial' port='0'/>`, `    </console>`);
  }
  lines.push(`    <channel type='unix'>`, `      <target type='virtio' name='org.qemu.guest_agent.0'/>`, `    </channel>`);
  if (s.vnc) {
    lines.push(`    <input type='tablet' bus='usb'/>`);
    lines.push(`    <graphics type='vnc' port='-1' autoport='yes' listen=${attr(s.vnc.listen)}${s.vnc.password ? ` passwd=${attr(s.vnc.password)}` : ''}>`);
    lines.push(`      <listen type='address' address=${attr(s.vnc.listen)}/>`);
    lines.push(`    </graphics>`);
    lines.push(`    <video>`, `      <model type='vga' vram='16384' heads='1' primary='yes'/>`, `    </video>`);
  }
  lines.push(`    <memballoon model='virtio'/>`);
  lines.push(`  </devices>`);
  lines.push(`</domain>`);
  return lines.join('\n') + '\n';
}
