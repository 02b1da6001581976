import type { Rejection, TagRule } from '@shared/contract/scheduler';
import type { Filter, Rules, SHost, SNetwork, SStorage, TagMap } from './types';
import { fmtGb, fmtMb, fmtOc, plural, round2 } from './format';

/**
 * The filters, each a small named unit: `(host, ctx) → null | { filter, message, numbers }`. Static filters depend
 * only on the request and the host's facts and run once per request; dynamic ones depend on usage and run again for a
 * host each time the batch changes what they read. Messages say what was needed and what there is, with the numbers.
 */

const reject = (filter: Rejection['filter'], message: string, numbers: Rejection['numbers'] = {}): Rejection => ({ filter, message, numbers });

// ---- tags -----------------------------------------------------------------------------------------------------------

export function tagLabel(r: Pick<TagRule, 'key' | 'value'>): string {
  return r.value === undefined ? r.key : `${r.key}=${r.value}`;
}

export function hasTag(tags: TagMap | null, r: Pick<TagRule, 'key' | 'value'>): boolean {
  const values = tags?.get(r.key);
  if (!values) return false;
  return r.value === undefined || values.includes(r.value);
}

/** Why a resource fails the require/exclude rules, or null. */
export function hardTagProblems(tags: TagMap | null, rules: Rules): string[] | null {
  let out: string[] | null = null;
  for (const r of rules.require) {
    if (hasTag(tags, r)) continue;
    const have = tags?.get(r.key);
    (out ??= []).push(`requires tag ${tagLabel(r)}, ${have ? `has ${r.key}=${have.join(',')}` : `has no tag ${r.key}`}`);
  }
  for (const r of rules.exclude) {
    if (!hasTag(tags, r)) continue;
    (out ??= []).push(`excludes tag ${tagLabel(r)}, has ${r.key}=${tags!.get(r.key)!.join(',')}`);
  }
  return out;
}

/** prefer/avoid rules met, of those that apply: [met, total]. */
export function softTagMatches(tags: TagMap | null, rules: Rules): [number, number] {
  let met = 0;
  for (const r of rules.prefer) if (hasTag(tags, r)) met++;
  for (const r of rules.avoid) if (!hasTag(tags, r)) met++;
  return [met, rules.prefer.length + rules.avoid.length];
}

const softScore = (tags: TagMap | null, rules: Rules) => {
  const [met, n] = softTagMatches(tags, rules);
  return n ? met / n : 1;
};

// ---- static ---------------------------------------------------------------------------------------------------------

export const hostFilter: Filter = {
  name: 'host',
  dynamic: false,
  check: (h, { req }) => (req.hostId && h.id !== req.hostId ? reject('host', `not the requested host`, { requested: req.hostId }) : null),
};

export const zoneFilter: Filter = {
  name: 'zone',
  dynamic: false,
  check: (h, { req, snap }) =>
    req.zoneId && h.zoneId !== req.zoneId
      ? reject('zone', `in zone ${h.zoneId ? (snap.zoneNames.get(h.zoneId) ?? h.zoneId) : '(none)'}, the request asks for zone ${snap.zoneNames.get(req.zoneId) ?? req.zoneId}`, { zone: h.zoneId, requested: req.zoneId })
      : null,
};

export const statusFilter: Filter = {
  name: 'status',
  dynamic: false,
  check: (h, { req }) => {
    const why: string[] = [];
    if (h.status !== 'online') why.push(`host is ${h.status}${h.statusReason ? ` (${h.statusReason})` : ''}`);
    if (!h.enabled) why.push('host is disabled');
    if (h.maintenance) why.push('host is in maintenance');
    if (h.readOnly) why.push('host is read-only (imported inventory)');
    if (req.linkedOnly && !h.linked) why.push('host was not added over SSH (no agent link)');
    return why.length ? reject('status', why.join(', '), { status: h.status, enabled: h.enabled ? 1 : 0, maintenance: h.maintenance ? 1 : 0 }) : null;
  },
};

export const hypervisorFilter: Filter = {
  name: 'hypervisor',
  dynamic: false,
  check: (h, { req }) => {
    const why: string[] = [];
    if (h.hypervisor !== req.hypervisor) why.push(`runs ${h.hypervisor}, the request needs ${req.hypervisor}`);
    if (req.provider && h.provider !== req.provider) why.push(`is a ${h.provider} host, the request needs a ${req.provider} host`);
    return why.length ? reject('hypervisor', why.join(', '), { hypervisor: h.hypervisor, provider: h.provider }) : null;
  },
};

export const imageFilter: Filter = {
  name: 'image',
  dynamic: false,
  check: (h, { snap }) => {
    const img = snap.image;
    if (!img?.hostIds || img.hostIds.has(h.id)) return null;
    return reject('image', `image ${img.name} is not on this host (it is on ${plural(img.hostIds.size, 'host')})`, { hostsWithImage: img.hostIds.size });
  },
};

export const tagsFilter: Filter = {
  name: 'tags',
  dynamic: false,
  check: (h, { rules }) => {
    if (!rules.host.require.length && !rules.host.exclude.length) return null;
    const why = hardTagProblems(h.tags, rules.host);
    return why ? reject('tags', why.join('; '), { failed: why.length }) : null;
  },
};

// ---- dynamic --------------------------------------------------------------------------------------------------------

export function cpuFree(h: SHost): number {
  return h.cpuCores * h.cpuOc - h.cpuAlloc - h.cpuPend;
}

export function memFree(h: SHost): number {
  return h.memoryMb * h.memOc - h.memAlloc - h.memPend;
}

export function hostStorageFree(h: SHost): number {
  return h.storageGb * h.storageOc - h.storageAlloc - h.storagePend;
}

export function storageFree(s: SStorage): number {
  return s.capacityGb * s.overcommit - s.usedGb - s.pendingGb;
}

export const netFree = (n: SNetwork) => n.total - n.used - n.pending;

export const cpuFilter: Filter = {
  name: 'cpu',
  dynamic: true,
  check: (h, { req }) => {
    if (h.cpuCores <= 0) return reject('cpu', 'capacity unknown: the host has not reported its CPUs', { cores: h.cpuCores });
    if (req.vcpu > h.cpuCores) return reject('cpu', `needs ${req.vcpu} vCPUs, the host has ${h.cpuCores} logical CPUs`, { needVcpu: req.vcpu, cores: h.cpuCores });
    const free = cpuFree(h);
    if (req.vcpu <= free) return null;
    const cap = h.cpuCores * h.cpuOc;
    return reject('cpu', `needs ${req.vcpu} vCPUs, ${Math.max(0, Math.floor(free))} free after overcommit ${fmtOc(h.cpuOc)} (${h.cpuCores} cores × ${fmtOc(h.cpuOc)} = ${round2(cap)}; ${h.cpuAlloc} allocated, ${h.cpuPend} pending)`, {
      needVcpu: req.vcpu,
      freeVcpu: Math.max(0, round2(free)),
      cores: h.cpuCores,
      overcommit: h.cpuOc,
      allocated: h.cpuAlloc,
      pending: h.cpuPend,
    });
  },
};

export const memoryFilter: Filter = {
  name: 'memory',
  dynamic: true,
  check: (h, { req }) => {
    if (h.memoryMb <= 0) return reject('memory', 'capacity unknown: the host has not reported its memory', { memoryMb: h.memoryMb });
    const free = memFree(h);
    if (req.memoryMb <= free) return null;
    return reject('memory', `needs ${fmtMb(req.memoryMb)}, ${fmtMb(free)} free after overcommit ${fmtOc(h.memOc)} (${fmtMb(h.memoryMb)}; ${fmtMb(h.memAlloc)} allocated, ${fmtMb(h.memPend)} pending)`, {
      needMb: req.memoryMb,
      freeMb: Math.max(0, round2(free)),
      totalMb: h.memoryMb,
      overcommit: h.memOc,
      allocatedMb: h.memAlloc,
      pendingMb: h.memPend,
    });
  },
};

/**
 * Each disk on a storage of the host (or shared in its zone) of the asked type/name that passes the storage tag rules
 * and has room, preferring storages the prefer/avoid rules like, then the most free (spread) or least free (binpack).
 * A host with no storages recorded is checked against its own storage totals, and noted.
 */
export const storageFilter: Filter = {
  name: 'storage',
  dynamic: true,
  check: (h, ctx) => {
    const plan = h.planStorages;
    plan.length = 0;
    const { disks } = ctx;
    if (!ctx.needsDisks) {
      for (let j = 0; j < disks.length; j++) plan.push(null);
      return null;
    }
    if (!h.storages.length) {
      for (let j = 0; j < disks.length; j++) plan.push(null);
      const typed = disks.filter((d) => d.storageType || d.storage);
      if (ctx.notes && typed.length) ctx.notes.push(`storage: no storages recorded for this host: ${typed.map((d) => d.storage ?? d.storageType).join(', ')} not checked`);
      if (h.storageGb <= 0) {
        ctx.notes?.push('storage: capacity unknown (no storages recorded, host storage 0)');
        return null;
      }
      const free = hostStorageFree(h);
      if (ctx.diskTotalGb <= free) {
        ctx.notes?.push('storage: no storages recorded for this host: checked against its storage total');
        return null;
      }
      return reject('storage', `needs ${fmtGb(ctx.diskTotalGb)}, ${fmtGb(free)} free after overcommit ${fmtOc(h.storageOc)} (host total ${fmtGb(h.storageGb)}; ${fmtGb(h.storageAlloc)} allocated, ${fmtGb(h.storagePend)} pending; no storages recorded)`, {
        needGb: ctx.diskTotalGb,
        freeGb: Math.max(0, round2(free)),
        totalGb: h.storageGb,
        overcommit: h.storageOc,
      });
    }
    const rules = ctx.rules.storage;
    const hardRules = rules.require.length + rules.exclude.length > 0;
    const softRules = rules.prefer.length + rules.avoid.length > 0;
    let taken: Map<SStorage, number> | null = null;
    let problems: string[] | null = null;
    let worstNeed = 0;
    let bestFreeOfFailed = 0;
    for (let j = 0; j < disks.length; j++) {
      const d = disks[j]!;
      if (d.sizeGb <= 0 && !d.storageType && !d.storage) {
        plan.push(null);
        continue;
      }
      let best: SStorage | null = null;
      let bestPref = -1;
      let bestFree = 0;
      let maxFree = -Infinity;
      let why: string[] | null = null;
      for (const s of h.storages) {
        if (d.storage && s.id !== d.storage && s.name !== d.storage) continue;
        if (d.storageType && s.type !== d.storageType) continue;
        if (!s.online) {
          (why ??= []).push(`${s.name} is ${s.status}`);
          continue;
        }
        if (hardRules) {
          const t = hardTagProblems(s.tags, rules);
          if (t) {
            (why ??= []).push(`${s.name} ${t.join(', ')}`);
            continue;
          }
        }
        const free = storageFree(s) - (taken?.get(s) ?? 0);
        if (free > maxFree) maxFree = free;
        if (free < d.sizeGb) {
          (why ??= []).push(`${s.name} has ${fmtGb(free)} free`);
          continue;
        }
        const pref = softRules ? softScore(s.tags, rules) : 0;
        const better = best === null || pref > bestPref || (pref === bestPref && (ctx.strategy === 'binpack' ? free < bestFree : free > bestFree));
        if (better) {
          best = s;
          bestPref = pref;
          bestFree = free;
        }
      }
      if (!best) {
        const what = [fmtGb(d.sizeGb), d.storageType, d.storage ? `on ${d.storage}` : undefined].filter(Boolean).join(', ');
        (problems ??= []).push(`disk ${j} (${what}): ${why ? why.join('; ') : `no ${d.storage ? `storage ${d.storage}` : d.storageType ? `${d.storageType} storage` : 'storage'} on this host or shared in its zone`}`);
        worstNeed = Math.max(worstNeed, d.sizeGb);
        bestFreeOfFailed = maxFree === -Infinity ? 0 : Math.max(0, round2(maxFree));
        plan.push(null);
        continue;
      }
      plan.push(best);
      if (d.sizeGb > 0) (taken ??= new Map()).set(best, (taken.get(best) ?? 0) + d.sizeGb);
    }
    return problems ? reject('storage', problems.join('; '), { disksFailed: problems.length, needGb: worstNeed, bestFreeGb: bestFreeOfFailed }) : null;
  },
};

/**
 * Each NIC on a network the host's wires carry, with a free address, passing the network tag rules; a NIC without a
 * network takes the one the prefer/avoid rules like best, then the one with the most free addresses. A host with no
 * wires recorded is not rejected for reachability (noted, and the `known` weight scores it lower).
 */
export const networkFilter: Filter = {
  name: 'network',
  dynamic: true,
  check: (h, ctx) => {
    const plan = h.planNetworks;
    plan.length = 0;
    const nics = ctx.req.networks;
    if (!nics.length) return null;
    const { snap } = ctx;
    const rules = ctx.rules.network;
    const hardRules = rules.require.length + rules.exclude.length > 0;
    const softRules = rules.prefer.length + rules.avoid.length > 0;
    let taken: Map<SNetwork, number> | null = null;
    let problems: string[] | null = null;
    const freeOf = (n: SNetwork) => netFree(n) - (taken?.get(n) ?? 0);
    for (let j = 0; j < nics.length; j++) {
      const nic = nics[j]!;
      if (nic.networkId) {
        const n = snap.networks.get(nic.networkId);
        if (!n) {
          (problems ??= []).push(`nic ${j}: network ${nic.networkId} does not exist`);
          plan.push(null);
          continue;
        }
        const why: string[] = [];
        if (h.wires === null) ctx.notes?.push(`network: no wires recorded for this host: whether it reaches ${n.name} is unknown`);
        else if (!n.wireId || !h.wires.includes(n.wireId)) why.push(`network ${n.name} is on wire ${n.wireId ? (snap.wireNames.get(n.wireId) ?? n.wireId) : '(none)'}, not on this host's wires (${h.wires.map((w) => snap.wireNames.get(w) ?? w).join(', ') || 'none'})`);
        if (n.projectId && n.projectId !== ctx.req.projectId) why.push(`network ${n.name} belongs to another project`);
        if (hardRules) {
          const t = hardTagProblems(n.tags, rules);
          if (t) why.push(`network ${n.name} ${t.join(', ')}`);
        }
        const free = freeOf(n);
        if (free < 1) why.push(`network ${n.name} has no free address (${n.total} in range, ${n.used} allocated, ${n.pending} pending)`);
        if (why.length) {
          (problems ??= []).push(`nic ${j}: ${why.join('; ')}`);
          plan.push(null);
          continue;
        }
        plan.push(n);
        (taken ??= new Map()).set(n, (taken.get(n) ?? 0) + 1);
        continue;
      }
      if (h.wires === null) {
        ctx.notes?.push(`network: no wires recorded for this host: no network chosen for nic ${j}`);
        plan.push(null);
        continue;
      }
      let best: SNetwork | null = null;
      let bestPref = -1;
      let bestFree = 0;
      let seen = 0;
      let full = 0;
      let tagged = 0;
      for (const w of h.wires) {
        for (const n of snap.networksByWire.get(w) ?? []) {
          if (n.projectId && n.projectId !== ctx.req.projectId) continue;
          seen++;
          if (hardRules && hardTagProblems(n.tags, rules)) {
            tagged++;
            continue;
          }
          const free = freeOf(n);
          if (free < 1) {
            full++;
            continue;
          }
          const pref = softRules ? softScore(n.tags, rules) : 0;
          if (best === null || pref > bestPref || (pref === bestPref && free > bestFree)) {
            best = n;
            bestPref = pref;
            bestFree = free;
          }
        }
      }
      if (!best) {
        (problems ??= []).push(`nic ${j}: ${seen === 0 ? 'no network on this host\'s wires' : `none of the ${plural(seen, 'network')} on this host's wires fits (${[tagged ? `${tagged} fail the network tag rules` : '', full ? `${full} have no free address` : ''].filter(Boolean).join(', ')})`}`);
        plan.push(null);
        continue;
      }
      plan.push(best);
      (taken ??= new Map()).set(best, (taken.get(best) ?? 0) + 1);
    }
    return problems ? reject('network', problems.join('; '), { nicsFailed: problems.length }) : null;
  },
};

export const groupFilter: Filter = {
  name: 'group',
  dynamic: true,
  check: (h, ctx) => {
    const g = ctx.snap.group;
    if (!g || !g.force) return null;
    if (g.policy === 'anti-affinity') {
      if (h.groupMembers < g.perHostLimit) return null;
      return reject('group', `instance group ${g.name} allows ${plural(g.perHostLimit, 'member')} per host, ${h.groupMembers} already here${h.placed ? ` (${h.placed} from this batch)` : ''}`, { limit: g.perHostLimit, members: h.groupMembers });
    }
    if (ctx.groupHosts === 0 || h.groupMembers > 0) return null;
    return reject('group', `instance group ${g.name} keeps its members together, on ${plural(ctx.groupHosts, 'other host')}`, { hostsWithMembers: ctx.groupHosts });
  },
};

/** In the order the forecast lists them. Static filters first: a host they reject is never looked at again. */
export const FILTERS: readonly Filter[] = [hostFilter, zoneFilter, statusFilter, hypervisorFilter, imageFilter, tagsFilter, cpuFilter, memoryFilter, storageFilter, networkFilter, groupFilter];
export const STATIC_FILTERS = FILTERS.filter((f) => !f.dynamic);
export const DYNAMIC_FILTERS = FILTERS.filter((f) => f.dynamic);
