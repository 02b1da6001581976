import { readdir, readFile } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import type { MetricSample } from '@shared/agent/protocol';
import type { Logger } from './log';
import type { MetricsStore } from './metrics-store';
import { domStats } from './parse';

/**
 * Samples the host (from /proc) and every running domain (one `domstats` call) every interval into the MetricsStore.
 * Counters (bytes read, sent…) are stored raw; rates are the reader's business. cpu.util is a percentage computed here
 * from the previous sample, because a counter for it would need the number of CPUs to mean anything.
 */
type Values = Record<string, number>;

interface CpuTimes {
  busy: number;
  total: number;
}

export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function parseMeminfo(text: string): Values {
  const kb = (k: string): number | null => {
    const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb('MemTotal') ?? 0;
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Cached') ?? 0);
  return { 'mem.total_bytes': total, 'mem.available_bytes': available, 'mem.used_bytes': Math.max(0, total - available) };
}

/** Whole disks only (partitions would count twice): names that have /sys/block/<name>. */
export function parseDiskstats(text: string, disks: Set<string>): Values {
  let rd = 0;
  let wr = 0;
  for (const line of text.split('\n')) {
    const c = line.trim().split(/\s+/);
    if (c.length < 10 || !disks.has(c[2] ?? '')) continue;
    rd += Number(c[5]) * 512;
    wr += Number(c[9]) * 512;
  }
  return { 'blk.rd_bytes': rd, 'blk.wr_bytes': wr };
}

/** Host traffic: every interface but loopback, bridges and the guests' own taps (their traffic crosses a NIC too). */
const NOT_HOST_NIC = /^(lo|vnet\d|tap|macvtap|veth|virbr|docker|br-|ifb)/;

export function parseNetDev(text: string, isBridge: (name: string) => boolean): Values {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = (m[1] ?? '').trim();
    if (NOT_HOST_NIC.test(name) || isBridge(name)) continue;
    const c = (m[2] ?? '').trim().split(/\s+/).map(Number);
    rx += c[0] ?? 0;
    tx += c[8] ?? 0;
  }
  return { 'net.rx_bytes': rx, 'net.tx_bytes': tx };
}

/** One domain's `domstats --raw` values as metric names; cpu.util needs its previous cpu.time. */
export function domainValues(stats: Map<string, string>, prev: { cpuTimeNs: number; ts: number } | undefined, ts: number): Values {
  const num = (k: string): number | undefined => {
    const v = stats.get(k);
    return v === undefined || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  const v: Values = {};
  const cpuTime = num('cpu.time');
  if (cpuTime !== undefined) {
    v['cpu.time_ns'] = cpuTime;
    const vcpus = num('vcpu.current') ?? 1;
    if (prev && ts > prev.ts && cpuTime >= prev.cpuTimeNs) v['cpu.util'] = round2(Math.min(100, ((cpuTime - prev.cpuTimeNs) / ((ts - prev.ts) * 1e6 * Math.max(1, vcpus))) * 100));
  }
  const vc = num('vcpu.current');
  if (vc !== undefined) v['vcpu.current'] = vc;
  for (const [from, to] of [
    ['balloon.current', 'mem.current_bytes'],
    ['balloon.maximum', 'mem.max_bytes'],
    ['balloon.rss', 'mem.rss_bytes'],
    ['balloon.available', 'mem.available_bytes'],
    ['balloon.unused', 'mem.unused_bytes'],
  ] as const) {
    const kib = num(from);
    if (kib !== undefined) v[to] = kib * 1024;
  }
  const sum = (prefix: string, countKey: string, suffix: string): number | undefined => {
    const n = num(countKey);
    if (n === undefined) return undefined;
    let total = 0;
    for (let i = 0; i < n; i++) total += num(`${prefix}.${i}.${suffix}`) ?? 0;
    return total;
  };
  const rd = sum('block', 'block.count', 'rd.bytes');
  if (rd !== undefined) v['blk.rd_bytes'] = rd;
  const wr = sum('block', 'block.count', 'wr.bytes');
  if (wr !== undefined) v['blk.wr_bytes'] = wr;
  const rx = sum('net', 'net.count', 'rx.bytes');
  if (rx !== undefined) v['net.rx_bytes'] = rx;
  const tx = sum('net', 'net.count', 'tx.bytes');
  if (tx !== undefined) v['net.tx_bytes'] = tx;
  const state = num('state.state');
  if (state !== undefined) v['state'] = state;
  return v;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

export interface SamplerDeps {
  store: MetricsStore;
  log: Logger;
  intervalMs: number;
  /** `domstats --raw …` output for all domains, or null when libvirt is not reachable. */
  domstats: () => Promise<string | null>;
  uuidOf: (name: string) => Promise<string | null>;
  /** Storage pool directories, for free-space values (refreshed about once a minute). */
  poolPaths: () => Promise<{ name: string; path: string }[]>;
}

export class MetricsSampler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private prevCpu: CpuTimes | null = null;
  private readonly prevDomainCpu = new Map<string, { cpuTimeNs: number; ts: number }>();
  private pools: { name: string; path: string }[] = [];
  private poolsAt = 0;

  constructor(private readonly d: SamplerDeps) {}

  get intervalMs(): number {
    return this.d.intervalMs;
  }

  start(): void {
    this.running = true;
    // The first CPU reading is only a baseline: take it now so the first sample (one interval on) has a util.
    void readFile('/proc/stat', 'utf8').then((t) => (this.prevCpu = parseProcStat(t)), () => undefined);
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  setInterval(ms: number): void {
    this.d.intervalMs = ms;
    if (this.running) {
      this.stop();
      this.start();
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.d.intervalMs);
  }

  /** Takes one round of samples (exposed for tests). */
  async tick(): Promise<MetricSample[]> {
    const ts = Date.now();
    const batch: Omit<MetricSample, 'seq'>[] = [];
    try {
      batch.push({ ts, scope: 'host', values: await this.hostValues() });
    } catch (e) {
      this.d.log.warn('host metrics failed', { error: (e as Error).message });
    }
    try {
      batch.push(...(await this.domainSamples(ts)));
    } catch (e) {
      this.d.log.debug('domain metrics failed', { error: (e as Error).message });
    }
    return this.d.store.append(batch);
  }

  private async hostValues(): Promise<Values> {
    const v: Values = {};
    const read = (p: string): Promise<string | null> => readFile(p, 'utf8').catch(() => null);
    const [stat, meminfo, diskstats, netdev] = await Promise.all([read('/proc/stat'), read('/proc/meminfo'), read('/proc/diskstats'), read('/proc/net/dev')]);
    const cpu = stat ? parseProcStat(stat) : null;
    if (cpu && this.prevCpu && cpu.total > this.prevCpu.total) v['cpu.util'] = round2(((cpu.busy - this.prevCpu.busy) / (cpu.total - this.prevCpu.total)) * 100);
    if (cpu) this.prevCpu = cpu;
    if (meminfo) Object.assign(v, parseMeminfo(meminfo));
    const [l1, l5, l15] = os.loadavg();
    Object.assign(v, { 'load.1': l1 ?? 0, 'load.5': l5 ?? 0, 'load.15': l15 ?? 0 });
    if (diskstats) {
      const disks = new Set(await readdir('/sys/block').catch(() => [] as string[]));
      Object.assign(v, parseDiskstats(diskstats, disks));
    }
    if (netdev) {
      const bridges = new Set<string>();
      for (const n of await readdir('/sys/class/net').catch(() => [] as string[])) {
        if (await fs.access(`/sys/class/net/${n}/bridge`).then(() => true, () => false)) bridges.add(n);
      }
      Object.assign(v, parseNetDev(netdev, (n) => bridges.has(n)));
    }
    Object.assign(v, await this.poolValues());
    return v;
  }

  private async poolValues(): Promise<Values> {
    const statfs = (fs as { statfs?: (p: string) => Promise<{ bsize: number; blocks: number; bavail: number }> }).statfs; // Node >= 18.15
    if (!statfs) return {};
    if (Date.now() - this.poolsAt > 60_000) {
      this.pools = await this.d.poolPaths().catch(() => this.pools);
      this.poolsAt = Date.now();
    }
    const v: Values = {};
    for (const p of this.pools) {
      const s = await statfs(p.path).catch(() => null);
      if (!s) continue;
      v[`pool.${p.name}.size_bytes`] = s.blocks * s.bsize;
      v[`pool.${p.name}.free_bytes`] = s.bavail * s.bsize;
    }
    return v;
  }

  private async domainSamples(ts: number): Promise<Omit<MetricSample, 'seq'>[]> {
    const out = await this.d.domstats();
    if (out === null) return [];
    const samples: Omit<MetricSample, 'seq'>[] = [];
    const seen = new Set<string>();
    for (const [name, stats] of domStats(out)) {
      const state = Number(stats.get('state.state'));
      if (state < 1 || state > 3) continue; // running, blocked or paused: the others have no live numbers
      const uuid = await this.d.uuidOf(name);
      if (!uuid) continue;
      seen.add(uuid);
      const values = domainValues(stats, this.prevDomainCpu.get(uuid), ts);
      if (values['cpu.time_ns'] !== undefined) this.prevDomainCpu.set(uuid, { cpuTimeNs: values['cpu.time_ns'], ts });
      samples.push({ ts, scope: uuid, values });
    }
    for (const k of this.prevDomainCpu.keys()) if (!seen.has(k)) this.prevDomainCpu.delete(k);
    return samples;
  }
}
