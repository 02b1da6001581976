import { performance } from 'node:perf_hooks';
import { QUOTA_KEYS, type QuotaKey } from '@shared/contract/inventory/kinds';
import type { Forecast, HostForecast, Placement, Rejection, SchedRequest, SchedStrategy, SchedWeight, TagRule } from '@shared/contract/scheduler';
import type { Ctx, Rules, SHost, Snapshot } from './types';
import { DYNAMIC_FILTERS, FILTERS, tagLabel } from './filters';
import { DEFAULT_WEIGHTS, scoreHost } from './weights';
import { ScoreHeap } from './heap';
import { fmtGb, fmtMb, fmtOc, round2, round3 } from './format';

/**
 * The pure core: a request against a snapshot, no database. Every host goes through every filter once (the forecast
 * explains each); hosts that pass are scored and kept in a max-heap. A batch then takes the best host, places one guest
 * on it (its usage, and any shared storage, network or group count, updated in the snapshot), re-checks and re-scores
 * that host alone and puts it back. A host popped after a shared resource changed (an address or shared storage taken,
 * an affinity group started) is checked again before it is used. O(H·F) once, then O(log H) per guest.
 */

/** A request-level problem: `validation` (the request cannot be met whatever the hosts) or `quota` (a conflict). */
export interface Blocker extends Rejection {
  path: string;
  kind: 'validation' | 'quota';
  code: string;
}

export interface RunResult {
  forecast: Forecast;
  placements: Placement[];
  blockers: Blocker[];
}

function splitRules(rules: TagRule[], on: TagRule['on']): Rules {
  const r: Rules = { require: [], exclude: [], prefer: [], avoid: [] };
  for (const x of rules) if (x.on === on) r[x.strategy].push(x);
  return r;
}

export function resolveWeights(strategy: SchedStrategy, overrides: SchedRequest['weights']): Record<SchedWeight, number> {
  const w = { ...DEFAULT_WEIGHTS[strategy] };
  for (const [k, v] of Object.entries(overrides ?? {})) if (typeof v === 'number') w[k as SchedWeight] = v;
  return w;
}

export function makeCtx(snap: Snapshot, req: SchedRequest, strategy: SchedStrategy): Ctx {
  const weights = resolveWeights(strategy, req.weights);
  let groupHosts = 0;
  for (const h of snap.hosts) if (h.groupMembers > 0) groupHosts++;
  return {
    req,
    snap,
    strategy,
    weights,
    weightSum: Object.values(weights).reduce((a, b) => a + b, 0),
    rules: { host: splitRules(req.tags, 'host'), storage: splitRules(req.tags, 'storage'), network: splitRules(req.tags, 'network') },
    disks: req.disks,
    needsDisks: req.disks.some((d) => d.sizeGb > 0 || !!d.storageType || !!d.storage),
    diskTotalGb: req.disks.reduce((n, d) => n + d.sizeGb, 0),
    groupHosts,
    notes: null,
  };
}

// ---- request-level checks -------------------------------------------------------------------------------------------

/** Rules that cannot both hold: require and exclude of the same tag, two values required for one key, prefer and avoid. */
export function tagConflicts(tags: TagRule[]): Blocker[] {
  const out: Blocker[] = [];
  const conflict = (a: TagRule, b: TagRule): boolean => {
    if (a.on !== b.on || a.key !== b.key) return false;
    const pair = (x: TagRule['strategy'], y: TagRule['strategy']) => (a.strategy === x && b.strategy === y) || (a.strategy === y && b.strategy === x);
    const [pos, neg] = a.strategy === 'require' || a.strategy === 'prefer' ? [a, b] : [b, a];
    if (pair('require', 'exclude') || pair('prefer', 'avoid')) return neg.value === undefined || neg.value === pos.value;
    if (a.strategy === 'require' && b.strategy === 'require') return a.value !== undefined && b.value !== undefined && a.value !== b.value;
    return false;
  };
  for (let j = 0; j < tags.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = tags[i]!;
      const b = tags[j]!;
      if (!conflict(a, b)) continue;
      out.push({
        filter: 'tags',
        kind: 'validation',
        code: 'conflicting_rules',
        path: `tags.${j}`,
        message: `tag rule ${b.strategy} ${b.on} ${tagLabel(b)} conflicts with tags.${i} (${a.strategy} ${a.on} ${tagLabel(a)}): no ${a.on} can meet both`,
        numbers: { rule: j, conflictsWith: i },
      });
      break;
    }
  }
  return out;
}

const UNIT: Record<QuotaKey, (x: number) => string> = { guests: String, vcpu: String, memoryMb: (x) => `${x} MiB`, storageGb: (x) => `${round2(x)} GiB`, ips: String };

function quotaBlockers(snap: Snapshot, req: SchedRequest, diskTotalGb: number): Blocker[] {
  const p = snap.project;
  if (!p) return [];
  const per: Record<QuotaKey, number> = { guests: 1, vcpu: req.vcpu, memoryMb: req.memoryMb, storageGb: diskTotalGb, ips: req.networks.length };
  const out: Blocker[] = [];
  for (const key of QUOTA_KEYS) {
    const limit = p.quota[key];
    const want = per[key] * req.count;
    if (limit === null || want === 0) continue;
    const used = p.usage[key];
    const pending = p.pending[key];
    if (used + pending + want <= limit) continue;
    const u = UNIT[key];
    out.push({
      filter: 'quota',
      kind: 'quota',
      code: 'quota',
      path: 'projectId',
      message: `Over the ${key} quota of project ${p.name}: limit ${u(limit)}, in use ${u(used)}, reserved by running tasks ${u(pending)}, requested ${u(want)}${req.count > 1 ? ` (${req.count} guests × ${u(per[key])})` : ''}`,
      numbers: { quota: key, limit, used, pending: round2(pending), requested: round2(want), guestsThatFit: Math.max(0, Math.floor((limit - used - pending) / per[key])) },
    });
  }
  return out;
}

/** What stops the request whatever the hosts: unknown references, conflicting rules, more than any host has, quota. */
export function requestBlockers(snap: Snapshot, req: SchedRequest, ctx: Ctx): Blocker[] {
  const out: Blocker[] = [];
  const v = (filter: Rejection['filter'], path: string, code: string, message: string, numbers: Rejection['numbers'] = {}) => out.push({ filter, kind: 'validation', code, path, message, numbers });
  const m = snap.missing;
  if (m.project) v('quota', 'projectId', 'not_found', `project ${req.projectId} does not exist`);
  if (m.zone) v('zone', 'zoneId', 'not_found', `zone ${req.zoneId} does not exist`);
  if (m.host) v('host', 'hostId', 'not_found', `host ${req.hostId} does not exist`);
  if (m.image) v('image', 'imageId', 'not_found', `image ${req.imageId} does not exist`);
  if (m.group) v('group', 'instanceGroupId', 'not_found', `instance group ${req.instanceGroupId} does not exist`);
  for (const j of m.networks) v('network', `networks.${j}.networkId`, 'not_found', `network ${req.networks[j]!.networkId} does not exist`);
  for (const j of m.storages) v('storage', `disks.${j}.storage`, 'not_found', `no storage is named or has the id ${req.disks[j]!.storage}`);
  req.networks.forEach((nic, j) => {
    const n = nic.networkId ? snap.networks.get(nic.networkId) : undefined;
    if (n?.projectId && n.projectId !== req.projectId) v('network', `networks.${j}.networkId`, 'forbidden', `network ${n.name} belongs to project ${n.projectId}, the request is for ${req.projectId ?? 'no project'}`);
  });
  const g = snap.group;
  if (g?.projectId && g.projectId !== req.projectId) v('group', 'instanceGroupId', 'forbidden', `instance group ${g.name} belongs to project ${g.projectId}, the request is for ${req.projectId ?? 'no project'}`);
  const img = snap.image;
  if (img) {
    if (['deleted', 'deleting', 'error', 'killed', 'pending_delete'].includes(img.status)) v('image', 'imageId', 'unusable', `image ${img.name} is ${img.status}`);
    const boot = req.disks[0];
    if (boot && boot.sizeGb > 0 && boot.sizeGb < img.minDiskGb) v('image', 'disks.0.sizeGb', 'too_small', `image ${img.name} needs a system disk of at least ${fmtGb(img.minDiskGb)}, the request gives ${fmtGb(boot.sizeGb)}`, { minDiskGb: img.minDiskGb, sizeGb: boot.sizeGb });
  }
  out.push(...tagConflicts(req.tags));

  // More than any host of the hypervisor (that could ever take it) has, even empty.
  let kinds = 0;
  let maxMem: SHost | null = null;
  let maxCpu: SHost | null = null;
  const maxDisk = new Array<number>(req.disks.length).fill(0);
  for (const h of snap.hosts) {
    if (h.hypervisor !== req.hypervisor || (req.provider && h.provider !== req.provider) || h.readOnly || (req.linkedOnly && !h.linked)) continue;
    kinds++;
    if (!maxMem || h.memoryMb * h.memOc > maxMem.memoryMb * maxMem.memOc) maxMem = h;
    if (!maxCpu || h.cpuCores > maxCpu.cpuCores) maxCpu = h;
    req.disks.forEach((d, j) => {
      let cap = h.storages.length ? 0 : h.storageGb > 0 ? h.storageGb * h.storageOc : Infinity;
      for (const s of h.storages) if ((!d.storage || s.id === d.storage || s.name === d.storage) && (!d.storageType || s.type === d.storageType)) cap = Math.max(cap, s.capacityGb * s.overcommit);
      if (cap > maxDisk[j]!) maxDisk[j] = cap;
    });
  }
  const what = `${req.hypervisor}${req.provider ? ` (${req.provider})` : ''}`;
  if (!kinds) v('hypervisor', 'hypervisor', 'impossible', `no ${what} host is known`, { hosts: 0 });
  else {
    if (maxMem && req.memoryMb > maxMem.memoryMb * maxMem.memOc) v('memory', 'memoryMb', 'impossible', `needs ${fmtMb(req.memoryMb)}, the largest ${what} host (${maxMem.name}) has ${fmtMb(maxMem.memoryMb * maxMem.memOc)} after overcommit ${fmtOc(maxMem.memOc)}`, { needMb: req.memoryMb, largestMb: maxMem.memoryMb * maxMem.memOc });
    if (maxCpu && maxCpu.cpuCores > 0 && req.vcpu > maxCpu.cpuCores) v('cpu', 'vcpu', 'impossible', `needs ${req.vcpu} vCPUs, the largest ${what} host (${maxCpu.name}) has ${maxCpu.cpuCores} logical CPUs`, { needVcpu: req.vcpu, largestCores: maxCpu.cpuCores });
    req.disks.forEach((d, j) => {
      if (d.sizeGb > maxDisk[j]! && !m.storages.includes(j)) v('storage', `disks.${j}.sizeGb`, 'impossible', `needs ${fmtGb(d.sizeGb)}, the largest ${d.storageType ?? ''}${d.storageType ? ' ' : ''}storage${d.storage ? ` named ${d.storage}` : ''} of a ${what} host holds ${fmtGb(maxDisk[j]!)}`, { needGb: d.sizeGb, largestGb: round2(maxDisk[j]!) });
    });
  }
  out.push(...quotaBlockers(snap, req, ctx.diskTotalGb));
  return out;
}

// ---- the run --------------------------------------------------------------------------------------------------------

function passesDynamic(h: SHost, ctx: Ctx): boolean {
  for (const f of DYNAMIC_FILTERS) if (f.check(h, ctx)) return false;
  return true;
}

/** Takes one guest's usage on the host (and its storages, networks, group); answers whether a shared resource changed. */
function take(h: SHost, ctx: Ctx): boolean {
  const { req } = ctx;
  h.cpuPend += req.vcpu;
  h.memPend += req.memoryMb;
  h.storagePend += ctx.diskTotalGb;
  h.creating++;
  h.placed++;
  let shared = false;
  const ps = h.planStorages;
  for (let j = 0; j < ps.length; j++) {
    const s = ps[j];
    if (!s) continue;
    s.pendingGb += req.disks[j]!.sizeGb;
    if (s.hostId === null) shared = true;
  }
  for (const n of h.planNetworks) {
    if (!n) continue;
    n.pending++;
    shared = true;
  }
  const g = ctx.snap.group;
  if (g) {
    h.groupMembers++;
    if (h.groupMembers === 1) {
      ctx.groupHosts++;
      if (g.policy === 'affinity') shared = true;
    }
  }
  return shared;
}

const EPS = 1e-9;

export interface RunOptions {
  strategy: SchedStrategy;
  /** Hosts listed in the forecast (default: all). */
  limit?: number;
}

/** Explains every host and places the batch (unless a blocker stops it). Mutates the snapshot's usage. */
export function run(snap: Snapshot, req: SchedRequest, o: RunOptions): RunResult {
  const t0 = performance.now();
  const ctx = makeCtx(snap, req, o.strategy);
  const blockers = requestBlockers(snap, req, ctx);
  const hosts = snap.hosts;
  const n = hosts.length;
  const entries: HostForecast[] = new Array(n);
  const heap = new ScoreHeap();
  const byFilter: Record<string, number> = {};
  let candidates = 0;
  for (let i = 0; i < n; i++) {
    const h = hosts[i]!;
    const notes: string[] = [];
    ctx.notes = notes;
    let rej: Rejection[] | null = null;
    for (const f of FILTERS) {
      const r = f.check(h, ctx);
      if (r) {
        (rej ??= []).push(r);
        byFilter[f.name] = (byFilter[f.name] ?? 0) + 1;
      }
    }
    ctx.notes = null;
    let score: number | null = null;
    let scores: Record<string, number> | null = null;
    if (!rej) {
      scores = {};
      score = scoreHost(h, ctx, scores);
      for (const k in scores) scores[k] = round3(scores[k]!);
      heap.push(score, i, 0);
      candidates++;
    }
    entries[i] = { hostId: h.id, name: h.name, zoneId: h.zoneId, score: score === null ? null : round2(score), scores, rejections: rej ?? [], notes, placed: 0 };
  }

  const placements: Placement[] = [];
  if (!blockers.length) {
    let epoch = 0;
    for (let k = 0; k < req.count; k++) {
      let chosen = -1;
      let chosenScore = 0;
      while (heap.size) {
        const [s, i, e] = heap.pop()!;
        const h = hosts[i]!;
        if (e !== epoch) {
          if (!passesDynamic(h, ctx)) continue;
          const s2 = scoreHost(h, ctx);
          if (s2 < s - EPS && s2 < heap.peekScore()) {
            heap.push(s2, i, epoch);
            continue;
          }
          chosenScore = s2;
        } else chosenScore = s;
        chosen = i;
        break;
      }
      if (chosen < 0) break;
      const h = hosts[chosen]!;
      placements.push({
        index: k,
        hostId: h.id,
        hostName: h.name,
        storages: h.planStorages.map((s) => s?.id ?? null),
        networks: h.planNetworks.map((x) => x?.id ?? null),
        score: round2(chosenScore),
      });
      if (take(h, ctx)) epoch++;
      if (passesDynamic(h, ctx)) heap.push(scoreHost(h, ctx), chosen, epoch);
    }
  }

  for (let i = 0; i < n; i++) entries[i]!.placed = hosts[i]!.placed;
  const order = entries.map((_, i) => i);
  order.sort((a, b) => {
    const sa = entries[a]!.score;
    const sb = entries[b]!.score;
    if (sa !== null && sb !== null) return sb - sa || a - b;
    if (sa !== null) return -1;
    if (sb !== null) return 1;
    return a - b;
  });
  const limit = Math.min(o.limit ?? n, n);
  return {
    blockers,
    placements,
    forecast: {
      count: req.count,
      fits: placements.length,
      strategy: o.strategy,
      weights: ctx.weights,
      totalHosts: n,
      candidates,
      byFilter,
      blockers: blockers.map(({ filter, message, numbers, path }) => ({ filter, message, numbers, path })),
      hosts: order.slice(0, limit).map((i) => entries[i]!),
      truncated: limit < n,
      placements,
      elapsedMs: round2(performance.now() - t0),
    },
  };
}
