import type { Input } from '@shared/contract';
import type { Forecast, HostForecast, Placement, Rejection, SchedStrategy } from '@shared/contract/scheduler';
import { toMiB, type CreateGuestForm } from './guest-create';

/** Scheduler forecasts in the renderer: the requests sent and how the answer is shown, pure so it is tested in Node. */

export type ForecastInput = Input<'scheduler.forecast'>;

/**
 * The forecast request guests.create gives the scheduler for this form (the server builds the same one): a KVM host
 * linked over SSH, the form's shape, its disk in its pool (when it has one) and its Skydeck network (when one is chosen).
 * The chosen host is left out: the forecast shows every host, with the scheduler's own pick.
 */
export function guestForecastRequest(form: CreateGuestForm): ForecastInput {
  const memoryMb = toMiB(form.memory, form.memoryUnit);
  return {
    vcpu: Math.max(1, Math.round(form.vcpu || 1)),
    memoryMb,
    hypervisor: 'kvm',
    provider: 'kvm',
    linkedOnly: true,
    projectId: form.projectId,
    disks: form.diskGb > 0 ? [{ sizeGb: form.diskGb, storage: form.storagePool.trim() || 'default' }] : [],
    networks: form.nicMode !== 'none' && form.networkId ? [{ networkId: form.networkId }] : [],
  };
}

/** What the Hosts view's forecast form holds. */
export interface HostsForecastForm {
  vcpu: number;
  memoryMb: number;
  diskGb: number;
  count: number;
  strategy: SchedStrategy;
  projectId: string | null;
}

export function blankHostsForecastForm(): HostsForecastForm {
  return { vcpu: 2, memoryMb: 2048, diskGb: 20, count: 1, strategy: 'spread', projectId: null };
}

export function hostsForecastRequest(form: HostsForecastForm): ForecastInput {
  return {
    vcpu: Math.max(1, Math.round(form.vcpu || 1)),
    memoryMb: Math.round(form.memoryMb),
    hypervisor: 'kvm',
    projectId: form.projectId,
    disks: form.diskGb > 0 ? [{ sizeGb: form.diskGb }] : [],
    count: Math.max(1, Math.round(form.count || 1)),
    strategy: form.strategy,
  };
}

/** A stable key of a request, to skip refreshing when nothing it depends on changed. */
export function requestKey(req: ForecastInput): string {
  return JSON.stringify(req);
}

export type ScoreSort = 'desc' | 'asc';

/** Candidates by score (best first, or worst first), then rejected hosts: the nearest misses (fewest filters) first, by name. */
export function sortForecastHosts(hosts: readonly HostForecast[], sort: ScoreSort = 'desc'): HostForecast[] {
  const candidates = hosts.filter((h) => h.score !== null);
  const rejected = hosts.filter((h) => h.score === null);
  const dir = sort === 'desc' ? -1 : 1;
  candidates.sort((a, b) => (a.score! === b.score! ? a.name.localeCompare(b.name) : (a.score! - b.score!) * dir));
  rejected.sort((a, b) => a.rejections.length - b.rejections.length || a.name.localeCompare(b.name));
  return [...candidates, ...rejected];
}

/** A rejection as one line: `memory: needs 8 GiB, 3.2 GiB free after overcommit 1.0`. */
export function rejectionText(r: Rejection): string {
  return `${r.filter}: ${r.message}`;
}

/** A score (the weighted mean × 100) as shown: one decimal. */
export function scoreText(score: number): string {
  return (Math.round(score * 10) / 10).toFixed(1);
}

/** The scheduler's first pick: the first placement (a batch's first guest). */
export function schedulerChoice(f: Forecast): Placement | null {
  return f.placements[0] ?? null;
}

/** Placements of a batch by host, most first: `3 × kvm-01, 2 × kvm-02`. */
export function placementSummary(placements: readonly Placement[]): string {
  const byHost = new Map<string, number>();
  for (const p of placements) byHost.set(p.hostName, (byHost.get(p.hostName) ?? 0) + 1);
  return [...byHost.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => `${n} × ${name}`)
    .join(', ');
}
