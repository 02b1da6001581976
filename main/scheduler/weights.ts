import type { SchedStrategy, SchedWeight } from '@shared/contract/scheduler';
import type { Ctx, SHost, Weight } from './types';
import { cpuFree, hostStorageFree, memFree, softTagMatches, storageFree } from './filters';

/**
 * The weights, each a small named unit scoring a host 0 (worst) to 1 (best) for one more guest of the request. A
 * host's score is the weighted mean × 100. Every weight reads the host alone (and the plan its filters chose), never
 * the other hosts, so a score changes only when that host changes: the batch keeps hosts in a heap by score.
 * Capacity weights look at what would be free after the guest: spread prefers the most free, binpack the least.
 */

const clamp = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const fit = (freeRatio: number, ctx: Ctx) => (ctx.strategy === 'spread' ? clamp(freeRatio) : 1 - clamp(freeRatio));

export const cpuWeight: Weight = {
  name: 'cpu',
  score: (h, ctx) => {
    const cap = h.cpuCores * h.cpuOc;
    return cap > 0 ? fit((cpuFree(h) - ctx.req.vcpu) / cap, ctx) : 0;
  },
};

export const memoryWeight: Weight = {
  name: 'memory',
  score: (h, ctx) => {
    const cap = h.memoryMb * h.memOc;
    return cap > 0 ? fit((memFree(h) - ctx.req.memoryMb) / cap, ctx) : 0;
  },
};

export const storageWeight: Weight = {
  name: 'storage',
  score: (h, ctx) => {
    if (ctx.diskTotalGb <= 0) return 1;
    let worst = Infinity;
    const plan = h.planStorages;
    for (let j = 0; j < plan.length; j++) {
      const s = plan[j];
      if (!s) continue;
      const cap = s.capacityGb * s.overcommit;
      const r = cap > 0 ? (storageFree(s) - ctx.req.disks[j]!.sizeGb) / cap : 0;
      if (r < worst) worst = r;
    }
    if (worst !== Infinity) return fit(worst, ctx);
    const cap = h.storageGb * h.storageOc;
    return cap > 0 ? fit((hostStorageFree(h) - ctx.diskTotalGb) / cap, ctx) : 0;
  },
};

/** Fewer guests being created on the host at once. */
export const creatingWeight: Weight = {
  name: 'creating',
  score: (h) => 1 / (1 + h.creating),
};

/** Anti-affinity: fewer members of the group already here; affinity: members here. Also when the group is not forced. */
export const groupWeight: Weight = {
  name: 'group',
  score: (h, ctx) => {
    const g = ctx.snap.group;
    if (!g) return 1;
    if (g.policy === 'anti-affinity') return 1 - clamp(h.groupMembers / (g.perHostLimit + 1));
    return h.groupMembers > 0 ? 1 : ctx.groupHosts === 0 ? 0.5 : 0;
  },
};

/** prefer/avoid tag rules met by the host and the storages and networks chosen on it. */
export const tagsWeight: Weight = {
  name: 'tags',
  score: (h, ctx) => {
    const { host, storage, network } = ctx.rules;
    let met = 0;
    let n = 0;
    if (host.prefer.length + host.avoid.length) {
      const [m, t] = softTagMatches(h.tags, host);
      met += m;
      n += t;
    }
    if (storage.prefer.length + storage.avoid.length) {
      for (const s of h.planStorages) {
        if (!s) continue;
        const [m, t] = softTagMatches(s.tags, storage);
        met += m;
        n += t;
      }
    }
    if (network.prefer.length + network.avoid.length) {
      for (const x of h.planNetworks) {
        if (!x) continue;
        const [m, t] = softTagMatches(x.tags, network);
        met += m;
        n += t;
      }
    }
    return n ? met / n : 1;
  },
};

/** The preferred host and zone of the request. */
export const preferredWeight: Weight = {
  name: 'preferred',
  score: (h, { req }) => {
    if (!req.preferHostId && !req.preferZoneId) return 1;
    let s = 0;
    let n = 0;
    if (req.preferHostId) {
      n++;
      if (h.id === req.preferHostId) s++;
    }
    if (req.preferZoneId) {
      n++;
      if (h.zoneId === req.preferZoneId) s++;
    }
    return s / n;
  },
};

/** Lower for hosts whose wires (for NICs) or storages (for disks) are not recorded: what could not be checked. */
export const knownWeight: Weight = {
  name: 'known',
  score: (h, ctx) => {
    let s = 0;
    let n = 0;
    if (ctx.req.networks.length) {
      n++;
      if (h.wires !== null) s++;
    }
    if (ctx.needsDisks) {
      n++;
      if (h.storages.length) s++;
    }
    return n ? s / n : 1;
  },
};

export const WEIGHTS: readonly Weight[] = [cpuWeight, memoryWeight, storageWeight, creatingWeight, groupWeight, tagsWeight, preferredWeight, knownWeight];

/** Default weights per strategy; a request overrides any of them. Binpack does not spread a batch over idle hosts. */
export const DEFAULT_WEIGHTS: Record<SchedStrategy, Record<SchedWeight, number>> = {
  spread: { cpu: 1, memory: 2, storage: 1, creating: 1, group: 2, tags: 3, preferred: 4, known: 2 },
  binpack: { cpu: 1, memory: 2, storage: 1, creating: 0, group: 2, tags: 3, preferred: 4, known: 2 },
};

/** The weighted mean of the weights, 0–100; `parts` receives each weight's 0–1 score when given. */
export function scoreHost(h: SHost, ctx: Ctx, parts?: Record<string, number>): number {
  if (ctx.weightSum <= 0) {
    if (parts) for (const w of WEIGHTS) parts[w.name] = w.score(h, ctx);
    return 0;
  }
  let sum = 0;
  for (const w of WEIGHTS) {
    const k = ctx.weights[w.name];
    if (k === 0 && !parts) continue;
    const s = w.score(h, ctx);
    if (parts) parts[w.name] = s;
    sum += k * s;
  }
  return (sum / ctx.weightSum) * 100;
}
