import type { HostFacts, StoragePoolInfo } from '@shared/agent/protocol';
import type { Output } from '@shared/contract';
import { formatCapacity } from '../inventory/format';

/**
 * What the UI reads of a host's facts (hosts.facts answers them as a loose record: an older agent may lack fields) and
 * of its connection, as plain functions tested in Node.
 */

export type Connection = Output<'hosts.connection'>;
export type ConnectionState = Connection['state'];

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean => v === true;
const boolOrNull = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The facts record as HostFacts, every field present (empty where the agent did not say); null when there are none. */
export function readFacts(raw: unknown): HostFacts | null {
  const f = obj(raw);
  if (Object.keys(f).length === 0) return null;
  const os = obj(f.os);
  const cpu = obj(f.cpu);
  const lv = obj(f.libvirt);
  const qemu = obj(f.qemu);
  const load = arr(f.loadAvg);
  return {
    hostname: str(f.hostname),
    os: { id: str(os.id), name: str(os.name), version: str(os.version), prettyName: str(os.prettyName) || [str(os.name), str(os.version)].filter(Boolean).join(' ') },
    kernel: str(f.kernel),
    arch: str(f.arch),
    cpu: { model: str(cpu.model), sockets: num(cpu.sockets), cores: num(cpu.cores), threads: num(cpu.threads), mhz: numOrNull(cpu.mhz), flags: arr(cpu.flags).filter((x): x is string => typeof x === 'string') },
    memoryMb: num(f.memoryMb),
    kvm: bool(f.kvm),
    libvirt: { uri: str(lv.uri), version: strOrNull(lv.version), hypervisorVersion: strOrNull(lv.hypervisorVersion), reachable: bool(lv.reachable), error: strOrNull(lv.error) },
    qemu: { binary: strOrNull(qemu.binary), version: strOrNull(qemu.version) },
    disks: arr(f.disks).map((d) => {
      const x = obj(d);
      return { name: str(x.name), sizeBytes: num(x.sizeBytes), rotational: boolOrNull(x.rotational), model: strOrNull(x.model) };
    }),
    pools: arr(f.pools).map((p) => readPool(p)),
    bridges: arr(f.bridges).map((b) => {
      const x = obj(b);
      return { name: str(x.name), addresses: arr(x.addresses).filter((a): a is string => typeof a === 'string'), up: bool(x.up) };
    }),
    networks: arr(f.networks).map((n) => {
      const x = obj(n);
      return { name: str(x.name), bridge: strOrNull(x.bridge), active: bool(x.active), forward: strOrNull(x.forward), autostart: bool(x.autostart) };
    }),
    uptimeSeconds: num(f.uptimeSeconds),
    loadAvg: [num(load[0]), num(load[1]), num(load[2])],
  };
}

function readPool(p: unknown): StoragePoolInfo {
  const x = obj(p);
  const capacityBytes = num(x.capacityBytes);
  const allocationBytes = num(x.allocationBytes);
  return { name: str(x.name), type: str(x.type), path: strOrNull(x.path), active: bool(x.active), capacityBytes, allocationBytes, availableBytes: num(x.availableBytes, Math.max(0, capacityBytes - allocationBytes)) };
}

const MiB = 1024 * 1024;

/** 42949672960 → "40 GiB" (binary units, as the hypervisor counts). */
export function bytesText(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 MiB';
  return formatCapacity(bytes / MiB, 'MB');
}

/** Sockets × cores × threads: the logical CPUs the host offers (at least 1 once known). */
export function logicalCpus(cpu: HostFacts['cpu']): number {
  return Math.max(0, cpu.sockets) * Math.max(0, cpu.cores) * Math.max(1, cpu.threads);
}

/** 93784 s → { d: 1, h: 2, m: 3 }. */
export function uptimeParts(seconds: number): { d: number; h: number; m: number } {
  const s = Math.max(0, Math.floor(seconds));
  return { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600), m: Math.floor((s % 3600) / 60) };
}

/** "kvm": hardware virtualisation; "tcg": QEMU emulation only (slow; /dev/kvm missing or not usable). */
export const virtMode = (f: Pick<HostFacts, 'kvm'>): 'kvm' | 'tcg' => (f.kvm ? 'kvm' : 'tcg');

/** The colour of a connection state tag. */
export function connectionTagType(state: ConnectionState | string): 'success' | 'danger' | 'warning' | 'info' | 'primary' {
  switch (state) {
    case 'online':
      return 'success';
    case 'unreachable':
      return 'danger';
    case 'connecting':
      return 'primary';
    case 'offline':
      return 'info';
    default:
      return 'info';
  }
}

/**
 * Whether the connection is refused because the host shows another key than the one on record: the one reason an admin
 * is offered "Accept new host key". The core words it in `reason`; this accepts its code (`host_key_changed`) and
 * plain phrasings ("host key changed", "host key mismatch", "host key … differs").
 */
export function isHostKeyChanged(reason: string | null | undefined): boolean {
  if (!reason) return false;
  const r = reason.toLowerCase();
  return /host[\s_-]?key/.test(r) && /(chang|mismatch|differ|not match|does not match)/.test(r);
}

/** Pool names of the facts, active ones first (the pickers' options). */
export function poolNames(f: HostFacts | null): string[] {
  if (!f) return [];
  return [...f.pools].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name)).map((p) => p.name);
}

/** Allocation against capacity as a percentage, for a bar. */
export function poolPercent(p: Pick<StoragePoolInfo, 'allocationBytes' | 'capacityBytes'>): number {
  if (!p.capacityBytes) return 0;
  return Math.max(0, Math.min(100, Math.round((p.allocationBytes / p.capacityBytes) * 100)));
}
