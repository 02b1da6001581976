import { access, constants, open, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import type { HostFacts } from '@shared/agent/protocol';
import { tryRun } from './exec';
import type { Libvirt } from './libvirt';
import { Storage } from './storage';

/**
 * What the host is, each probe on its own: a missing file or tool gives null or an empty list, never a failure of the
 * whole answer (hosts range from full distributions to minimal images without lscpu).
 */
async function soft<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch {
    return fallback;
  }
}

const readText = (path: string): Promise<string> => readFile(path, 'utf8');

export function parseOsRelease(text: string): HostFacts['os'] {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1] ?? '', (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2'));
  }
  return { id: kv.get('ID') ?? 'linux', name: kv.get('NAME') ?? 'Linux', version: kv.get('VERSION_ID') ?? '', prettyName: kv.get('PRETTY_NAME') ?? kv.get('NAME') ?? 'Linux' };
}

/** uname -m spelling: Node says x64/arm64 where the kernel says x86_64/aarch64 (os.machine() is Node >= 18.9). */
export function machineArch(): string {
  const m = (os as { machine?: () => string }).machine?.();
  if (m) return m;
  return ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[os.arch()] ?? os.arch();
}

type Cpu = HostFacts['cpu'];

/** lscpu -J (flat in util-linux 2.3x, nested "children" in newer ones) → field → value. */
export function lscpuFields(json: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (items: unknown): void => {
    if (!Array.isArray(items)) return;
    for (const it of items as { field?: string; data?: string; children?: unknown }[]) {
      if (it.field) m.set(it.field.replace(/:$/, '').trim().toLowerCase(), String(it.data ?? '').trim());
      walk(it.children);
    }
  };
  walk((JSON.parse(json) as { lscpu?: unknown }).lscpu);
  return m;
}

export function cpuFromLscpu(f: Map<string, string>): Cpu | null {
  const model = f.get('model name');
  if (!model) return null;
  const num = (k: string): number | null => {
    const n = Number(f.get(k));
    return Number.isFinite(n) && n > 0 ? n : null;
  };
  return {
    model,
    sockets: num('socket(s)') ?? 1,
    cores: num('core(s) per socket') ?? num('core(s) per cluster') ?? 1,
    threads: num('thread(s) per core') ?? 1,
    mhz: num('cpu max mhz') ?? num('cpu mhz'),
    flags: (f.get('flags') ?? '').split(/\s+/).filter(Boolean),
  };
}

export function cpuFromCpuinfo(text: string): Cpu {
  const blocks = text.split(/\n\s*\n/).filter((b) => b.trim());
  const fields = (b: string): Map<string, string> => {
    const m = new Map<string, string>();
    for (const line of b.split('\n')) {
      const at = line.indexOf(':');
      if (at > 0) m.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
    }
    return m;
  };
  const all = blocks.map(fields);
  const first = all[0] ?? new Map<string, string>();
  const sockets = new Set(all.map((b) => b.get('physical id') ?? '0')).size || 1;
  const coresPerSocket = Number(first.get('cpu cores')) || Math.max(1, Math.round(all.length / sockets));
  const siblings = Number(first.get('siblings')) || coresPerSocket;
  const mhz = Number(first.get('cpu mhz'));
  return {
    model: first.get('model name') ?? first.get('cpu model') ?? first.get('processor') ?? 'unknown',
    sockets,
    cores: coresPerSocket,
    threads: Math.max(1, Math.round(siblings / coresPerSocket)),
    mhz: Number.isFinite(mhz) && mhz > 0 ? mhz : null,
    flags: (first.get('flags') ?? first.get('features') ?? '').split(/\s+/).filter(Boolean),
  };
}

async function cpu(): Promise<Cpu> {
  const fromLscpu = await soft(async () => {
    const out = await tryRun('lscpu', ['-J']);
    return out ? cpuFromLscpu(lscpuFields(out)) : null;
  }, null);
  if (fromLscpu) return fromLscpu;
  return soft(async () => cpuFromCpuinfo(await readText('/proc/cpuinfo')), { model: os.cpus()[0]?.model ?? 'unknown', sockets: 1, cores: os.cpus().length || 1, threads: 1, mhz: null, flags: [] });
}

async function memoryMb(): Promise<number> {
  return soft(async () => {
    const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(await readText('/proc/meminfo'));
    return m ? Math.round(Number(m[1]) / 1024) : Math.round(os.totalmem() / 1024 ** 2);
  }, Math.round(os.totalmem() / 1024 ** 2));
}

async function kvmUsable(): Promise<boolean> {
  return soft(async () => {
    // Opening it proves more than permissions: a node without the kvm module behind it fails with ENXIO.
    const fh = await open('/dev/kvm', constants.O_RDWR);
    await fh.close();
    return true;
  }, false);
}

async function qemu(arch: string): Promise<HostFacts['qemu']> {
  const candidates = [`qemu-system-${arch}`, '/usr/libexec/qemu-kvm', '/usr/bin/qemu-kvm'];
  for (const bin of candidates) {
    const out = await tryRun(bin, ['--version']);
    if (out === null) continue;
    return { binary: bin.startsWith('/') ? bin : ((await tryRun('sh', ['-c', 'command -v "$1"', 'sh', bin]))?.trim() || bin), version: /version\s+(\S+)/i.exec(out)?.[1] ?? null };
  }
  return { binary: null, version: null };
}

/** Block devices that are disks: not loop, RAM, zram, device-mapper, nbd or optical. */
const VIRTUAL_BLOCK = /^(loop|ram|zram|dm-|nbd|sr|fd)\d*/;

async function disks(): Promise<HostFacts['disks']> {
  return soft(async () => {
    const names = (await readdir('/sys/block')).filter((n) => !VIRTUAL_BLOCK.test(n)).sort();
    const out: HostFacts['disks'] = [];
    for (const name of names) {
      const sectors = Number((await soft(() => readText(`/sys/block/${name}/size`), '0')).trim());
      const rot = (await soft(() => readText(`/sys/block/${name}/queue/rotational`), '')).trim();
      const model = (await soft(() => readText(`/sys/block/${name}/device/model`), '')).trim();
      out.push({ name, sizeBytes: sectors * 512, rotational: rot === '1' ? true : rot === '0' ? false : null, model: model || null });
    }
    return out;
  }, []);
}

async function bridges(): Promise<HostFacts['bridges']> {
  return soft(async () => {
    const ifs = os.networkInterfaces();
    const out: HostFacts['bridges'] = [];
    for (const name of (await readdir('/sys/class/net')).sort()) {
      const isBridge = await soft(async () => (await access(`/sys/class/net/${name}/bridge`), true), false);
      if (!isBridge) continue;
      const flags = Number((await soft(() => readText(`/sys/class/net/${name}/flags`), '0')).trim());
      out.push({ name, addresses: (ifs[name] ?? []).map((a) => a.cidr ?? a.address), up: (flags & 1) === 1 });
    }
    return out;
  }, []);
}

export async function hostFacts(lv: Libvirt, signal?: AbortSignal): Promise<HostFacts> {
  const storage = new Storage(lv);
  const arch = machineArch();
  const [osInfo, cpuInfo, mem, kvm, q, blk, br] = await Promise.all([
    soft(async () => parseOsRelease(await readText('/etc/os-release')), { id: 'linux', name: 'Linux', version: '', prettyName: 'Linux' }),
    cpu(),
    memoryMb(),
    kvmUsable(),
    qemu(arch),
    disks(),
    bridges(),
  ]);
  // libvirt last, through the one session: reachable means `virsh version` answered.
  let libvirt: HostFacts['libvirt'] = { uri: lv.uri, version: null, hypervisorVersion: null, reachable: false, error: null };
  let pools: HostFacts['pools'] = [];
  let networks: HostFacts['networks'] = [];
  try {
    const v = await storage.version(signal);
    libvirt = { uri: lv.uri, version: v.libvirt, hypervisorVersion: v.hypervisor, reachable: true, error: null };
    pools = await soft(() => storage.pools(signal), []);
    networks = await soft(() => storage.networks(signal), []);
  } catch (e) {
    libvirt.error = (e as Error).message;
  }
  const [l1, l5, l15] = os.loadavg();
  return {
    hostname: os.hostname(),
    os: osInfo,
    kernel: os.release(),
    arch,
    cpu: cpuInfo,
    memoryMb: mem,
    kvm,
    libvirt,
    qemu: q,
    disks: blk,
    pools,
    bridges: br,
    networks,
    uptimeSeconds: Math.round(os.uptime()),
    loadAvg: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
  };
}
