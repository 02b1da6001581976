import type { Rejection, SchedFilter, SchedRequest, SchedStrategy, SchedWeight, TagRule } from '@shared/contract/scheduler';
import type { QuotaKey, Usage } from '@shared/contract/inventory/kinds';

/**
 * The scheduler's in-memory snapshot: every host with its capacity, allocation and pending usage already summed, and
 * only the tags, storages, networks, wires, image and group facts the request can use, loaded in bulk. The pure core
 * (core.ts) works on it alone; placing a guest updates it in place (no re-query).
 */

/** Tag key → values (user and provider tags both count). Only keys some rule of the request names are loaded. */
export type TagMap = Map<string, string[]>;

export interface SStorage {
  id: string;
  name: string;
  type: string;
  /** null: shared by the hosts of its zone. */
  hostId: string | null;
  zoneId: string | null;
  status: string;
  online: boolean;
  capacityGb: number;
  usedGb: number;
  /** Reserved by pending placements (including this batch). */
  pendingGb: number;
  overcommit: number;
  tags: TagMap | null;
}

export interface SNetwork {
  id: string;
  name: string;
  wireId: string | null;
  projectId: string | null;
  total: number;
  used: number;
  /** Addresses reserved by pending placements (including this batch). */
  pending: number;
  tags: TagMap | null;
}

export interface SHost {
  i: number;
  id: string;
  name: string;
  zoneId: string | null;
  status: string;
  statusReason: string | null;
  enabled: boolean;
  maintenance: boolean;
  /** Seeded or imported inventory: never a target. */
  readOnly: boolean;
  /** Added over SSH, with an agent link (host_links). */
  linked: boolean;
  hypervisor: string;
  provider: string;
  cpuCores: number;
  memoryMb: number;
  storageGb: number;
  cpuOc: number;
  memOc: number;
  storageOc: number;
  cpuAlloc: number;
  memAlloc: number;
  storageAlloc: number;
  /** Pending usage: reservations of running tasks not yet counted in *_alloc, plus this batch. */
  cpuPend: number;
  memPend: number;
  storagePend: number;
  /** Guests being created on the host (status creating, or reserved and not yet created), this batch included. */
  creating: number;
  tags: TagMap | null;
  /** Wire ids that reach the host; null when none are recorded (reachability unknown). */
  wires: string[] | null;
  /** The host's own storages and those shared in its zone; empty when none are recorded (host totals are used). */
  storages: SStorage[];
  /** Members of the request's instance group on this host (created, pending, and this batch). */
  groupMembers: number;
  /** Guests of this batch placed here. */
  placed: number;
  /** The storages and networks chosen for the guest by the last evaluation (read right after it by place()). */
  planStorages: (SStorage | null)[];
  planNetworks: (SNetwork | null)[];
}

export interface SImage {
  id: string;
  name: string;
  status: string;
  minDiskGb: number;
  /** Hosts that hold the image; null when none are recorded (obtainable anywhere). */
  hostIds: Set<string> | null;
}

export interface SGroup {
  id: string;
  name: string;
  projectId: string | null;
  policy: 'anti-affinity' | 'affinity';
  perHostLimit: number;
  force: boolean;
}

export interface SProject {
  id: string;
  name: string;
  quota: Record<QuotaKey, number | null>;
  usage: Usage;
  /** Quota reservations of running tasks plus the scheduler's pending placements for the project. */
  pending: Usage;
}

export interface Snapshot {
  hosts: SHost[];
  networks: Map<string, SNetwork>;
  networksByWire: Map<string, SNetwork[]>;
  storages: Map<string, SStorage>;
  image: SImage | null;
  group: SGroup | null;
  project: SProject | null;
  /** References of the request that do not exist. */
  missing: { project: boolean; image: boolean; group: boolean; zone: boolean; host: boolean; networks: number[]; storages: number[] };
  /** Names of zones and wires, for messages. */
  zoneNames: Map<string, string>;
  wireNames: Map<string, string>;
}

export interface Rules {
  require: TagRule[];
  exclude: TagRule[];
  prefer: TagRule[];
  avoid: TagRule[];
}

/** What filters and weights see besides the host. */
export interface Ctx {
  req: SchedRequest;
  snap: Snapshot;
  strategy: SchedStrategy;
  weights: Record<SchedWeight, number>;
  weightSum: number;
  rules: { host: Rules; storage: Rules; network: Rules };
  disks: SchedRequest['disks'];
  /** Some disk needs space or names a storage type or storage. */
  needsDisks: boolean;
  diskTotalGb: number;
  /** Hosts holding members of the request's instance group. */
  groupHosts: number;
  /** Notes of the host being evaluated (collected only for the forecast). */
  notes: string[] | null;
}

/** A filter: null when the host passes. `dynamic` filters depend on usage and are checked again as the batch fills. */
export interface Filter {
  name: SchedFilter;
  dynamic: boolean;
  check(h: SHost, ctx: Ctx): Rejection | null;
}

/** A weight: 0 (worst) to 1 (best) for placing one more guest of the request on the host. */
export interface Weight {
  name: SchedWeight;
  score(h: SHost, ctx: Ctx): number;
}
