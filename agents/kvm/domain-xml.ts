import type { DomainDisk, DomainGraphics, DomainInfo, DomainNic } from '@shared/agent/protocol';
import { attr, child, has, list, parseXml, text, xmlEscape, type XmlNode } from './xml';

/** The namespace of the metadata element Skydeck writes into domains it creates. */
export const SKYDECK_GUEST_NS = 'https://skydeck.dev/xmlns/guest/1';

/** What a domain's XML tells (the rest of DomainInfo comes from domstate, dominfo and friends). */
export type DomainXmlInfo = Pick<
  DomainInfo,
  'uuid' | 'name' | 'vcpu' | 'maxVcpu' | 'memoryMb' | 'maxMemoryMb' | 'virtType' | 'arch' | 'machine' | 'osType' | 'bootOrder' | 'disks' | 'nics' | 'graphics' | 'serialPty' | 'description' | 'skydeckGuestId'
>;

const UNIT_BYTES: Record<string, number> = {
  b: 1, bytes: 1,
  kb: 1e3, k: 1024, kib: 1024,
  mb: 1e6, m: 1024 ** 2, mib: 1024 ** 2,
  gb: 1e9, g: 1024 ** 3, gib: 1024 ** 3,
  tb: 1e12, t: 1024 ** 4, tib: 1024 ** 4,
};

/** A libvirt scaled integer (<memory unit='KiB'>…) in MiB. */
function mib(node: XmlNode | undefined): number {
  const n = Number(text(node) ?? 0);
  const unit = (attr(node, 'unit') ?? 'KiB').toLowerCase();
  return Math.round((n * (UNIT_BYTES[unit] ?? 1024)) / 1024 ** 2);
}

function diskSource(disk: XmlNode): string | null {
  const s = child(disk, 'source');
  if (!s) return null;
  const pool = attr(s, 'pool');
  const volume = attr(s, 'volume');
  if (pool && volume) return `${pool}/${volume}`;
  return attr(s, 'file') ?? attr(s, 'dev') ?? attr(s, 'dir') ?? attr(s, 'name');
}

const DISK_DEVICES = ['disk', 'cdrom', 'floppy', 'lun'] as const;
const NIC_TYPES = ['bridge', 'network', 'user', 'direct'] as const;

export function parseDomainXml(xml: string): DomainXmlInfo {
  const doc = parseXml(xml);
  const d = child(doc, 'domain');
  if (!d) throw new Error('not a domain XML document');
  const os = child(d, 'os');
  const type = child(os, 'type');
  const devices = child(d, 'devices');
  const vcpuNode = child(d, 'vcpu');
  const maxVcpu = Number(text(vcpuNode) ?? 1);
  const current = attr(vcpuNode, 'current');

  const disks: DomainDisk[] = list(devices, 'disk').map((k) => {
    const device = attr(k, 'device') ?? 'disk';
    return {
      target: attr(child(k, 'target'), 'dev') ?? '',
      device: (DISK_DEVICES as readonly string[]).includes(device) ? (device as DomainDisk['device']) : 'disk',
      bus: attr(child(k, 'target'), 'bus') ?? '',
      source: diskSource(k),
      format: attr(child(k, 'driver'), 'type'),
      capacityBytes: null,
      readonly: has(k, 'readonly'),
    };
  });

  const nics: DomainNic[] = list(devices, 'interface').map((n) => {
    const t = attr(n, 'type') ?? 'other';
    const src = child(n, 'source');
    return {
      mac: attr(child(n, 'mac'), 'address') ?? '',
      type: (NIC_TYPES as readonly string[]).includes(t) ? (t as DomainNic['type']) : 'other',
      source: t === 'network' ? attr(src, 'network') : t === 'bridge' ? attr(src, 'bridge') : t === 'direct' ? attr(src, 'dev') : null,
      model: attr(child(n, 'model'), 'type'),
      target: attr(child(n, 'target'), 'dev'),
      addresses: [],
    };
  });

  const graphics: DomainGraphics[] = list(devices, 'graphics')
    .filter((g) => attr(g, 'type') === 'vnc' || attr(g, 'type') === 'spice')
    .map((g) => {
      const port = Number(attr(g, 'port') ?? -1);
      return {
        type: attr(g, 'type') as DomainGraphics['type'],
        port: Number.isInteger(port) && port > 0 ? port : null,
        listen: attr(g, 'listen') ?? attr(child(g, 'listen'), 'address'),
        autoport: attr(g, 'autoport') === 'yes',
        // Only in XML dumped with --security-info; the password itself never leaves this function.
        passwordSet: attr(g, 'passwd') !== null,
      };
    });

  const ptyOf = (nodes: XmlNode[]): string | null => nodes.map((s) => (attr(s, 'type') === 'pty' ? attr(child(s, 'source'), 'path') : null)).find((p) => !!p) ?? null;

  let bootOrder = list(os, 'boot').map((b) => attr(b, 'dev') ?? '').filter(Boolean);
  if (!bootOrder.length) {
    // Per-device <boot order='n'/> instead of <os><boot dev=…/>.
    const ordered: { order: number; dev: string }[] = [];
    for (const k of list(devices, 'disk')) {
      const o = Number(attr(child(k, 'boot'), 'order'));
      if (o > 0) ordered.push({ order: o, dev: attr(k, 'device') === 'cdrom' ? 'cdrom' : 'hd' });
    }
    for (const n of list(devices, 'interface')) {
      const o = Number(attr(child(n, 'boot'), 'order'));
      if (o > 0) ordered.push({ order: o, dev: 'network' });
    }
    bootOrder = ordered.sort((a, b) => a.order - b.order).map((x) => x.dev);
  }

  return {
    uuid: text(d, 'uuid') ?? '',
    name: text(d, 'name') ?? '',
    vcpu: current ? Number(current) : maxVcpu,
    maxVcpu,
    memoryMb: mib(child(d, 'currentMemory') ?? child(d, 'memory')),
    maxMemoryMb: mib(child(d, 'memory')),
    virtType: attr(d, 'type') ?? 'unknown',
    arch: attr(type, 'arch'),
    machine: attr(type, 'machine'),
    osType: text(type),
    bootOrder,
    disks,
    nics,
    graphics,
    serialPty: ptyOf(list(devices, 'serial')) ?? ptyOf(list(devices, 'console')),
    description: text(d, 'description'),
    skydeckGuestId: skydeckGuestId(child(d, 'metadata')),
  };
}

/** <metadata><x:guest xmlns:x="https://skydeck.dev/xmlns/guest/1" id="…"/>, whatever prefix the writer chose. */
function skydeckGuestId(metadata: XmlNode | undefined): string | null {
  if (!metadata) return null;
  for (const [key, value] of Object.entries(metadata)) {
    if (key !== 'guest' && !key.endsWith(':guest')) continue;
    for (const el of Array.isArray(value) ? value : [value]) {
      if (!el || typeof el !== 'object' || Array.isArray(el)) continue;
      const declared = Object.entries(el).some(([k, v]) => (k === '@_xmlns' || k.startsWith('@_xmlns:')) && v === SKYDECK_GUEST_NS);
      const id = attr(el, 'id');
      if (declared && id) return id;
    }
  }
  return null;
}

/** Name and uuid (if any) of a domain XML document, to find it again after `define`. */
export function domainIdentity(xml: string): { name: string; uuid: string | null } {
  const d = child(parseXml(xml), 'domain');
  const name = text(d, 'name');
  if (!d || !name) throw new Error('the XML is not a libvirt <domain> with a <name>');
  return { name, uuid: text(d, 'uuid') };
}

/*
 * Edits of a persistent definition, for drivers that cannot hot-plug (libvirt's test driver lacks
 * virDomainAttachDeviceFlags): the inactive XML is changed as text and defined again. libvirt formats its XML
 * canonically (one element per line, single-quoted attributes), which keeps these edits simple and exact.
 */
function blocks(xml: string, tag: string): { start: number; end: number; text: string }[] {
  const re = new RegExp(`[ \\t]*<${tag}\\b[^>]*?(?:/>|>[\\s\\S]*?</${tag}>)[ \\t]*\\n?`, 'g');
  return [...xml.matchAll(re)].map((m) => ({ start: m.index ?? 0, end: (m.index ?? 0) + m[0].length, text: m[0] }));
}

const attrRe = (name: string, value: string): RegExp => new RegExp(`\\b${name}=(['"])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1`, 'i');

export function addDevice(xml: string, element: string): string {
  const at = xml.lastIndexOf('</devices>');
  if (at < 0) throw new Error('the domain XML has no <devices>');
  return `${xml.slice(0, at)}  ${element}\n  ${xml.slice(at)}`;
}

const diskWithTarget = (xml: string, target: string): ReturnType<typeof blocks>[number] | undefined =>
  blocks(xml, 'disk').find((x) => attrRe('dev', target).test(x.text.match(/<target\b[^>]*>/)?.[0] ?? ''));

export function removeDisk(xml: string, target: string): string | null {
  const b = diskWithTarget(xml, target);
  return b ? xml.slice(0, b.start) + xml.slice(b.end) : null;
}

export function removeInterface(xml: string, mac: string): string | null {
  const b = blocks(xml, 'interface').find((x) => attrRe('address', mac).test(x.text.match(/<mac\b[^>]*>/)?.[0] ?? ''));
  return b ? xml.slice(0, b.start) + xml.slice(b.end) : null;
}

/** Sets (or with null removes) the <source> of the disk with this target. */
export function setDiskSource(xml: string, target: string, source: string | null): string | null {
  const b = diskWithTarget(xml, target);
  if (!b) return null;
  let disk = b.text.replace(/[ \t]*<source\b[^>]*?(?:\/>|>[\s\S]*?<\/source>)[ \t]*\n?/, '');
  if (source !== null) {
    const indent = disk.match(/\n([ \t]*)<target\b/)?.[1] ?? '      ';
    disk = disk.replace(/([ \t]*)<target\b/, `<source file='${xmlEscape(source)}'/>\n${indent}<target`);
    disk = disk.replace(/^([ \t]*<disk\b[^>]*?)\btype=(['"])[^'"]*\2/, `$1type='file'`);
  }
  return xml.slice(0, b.start) + disk + xml.slice(b.end);
}

export function diskElement(o: { source: string; target: string; format: string; device: 'disk' | 'cdrom'; bus: string }): string {
  return [
    `<disk type='file' device='${o.device}'>`,
    `      <driver name='qemu' type='${xmlEscape(o.format)}'/>`,
    `      <source file='${xmlEscape(o.source)}'/>`,
    `      <target dev='${xmlEscape(o.target)}' bus='${xmlEscape(o.bus)}'/>`,
    ...(o.device === 'cdrom' ? ['      <readonly/>'] : []),
    `    </disk>`,
  ].join('\n');
}

export function interfaceElement(o: { type: 'bridge' | 'network'; source: string; mac?: string; model?: string }): string {
  return [
    `<interface type='${o.type}'>`,
    ...(o.mac ? [`      <mac address='${xmlEscape(o.mac)}'/>`] : []),
    `      <source ${o.type}='${xmlEscape(o.source)}'/>`,
    ...(o.model ? [`      <model type='${xmlEscape(o.model)}'/>`] : []),
    `    </interface>`,
  ].join('\n');
}
