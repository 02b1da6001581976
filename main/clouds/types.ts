import { ApiError } from '@shared/errors';
import type { GuestAction } from '@shared/contract/inventory/commands';
import type { CloudCapabilities, CloudOperation, CloudProvider } from '@shared/contract/clouds';

/**
 * One driver interface per resource kind, as Cloudpods keeps ICloudRegion, ICloudVpc, ICloudVM, ICloudDisk … : a cloud
 * driver is a factory (`CloudDriver`) that opens a `CloudSession` for one account; the session implements the per-kind
 * interfaces below. `BaseCloudSession` answers `not_supported` for everything, so a new cloud overrides what its API
 * offers and declares it in `capabilities` (the UI asks for those instead of branching on the provider).
 *
 * Ids: every `id` here is the cloud's own id (i-0abc…, vpc-…); the sync stores them as `<accountId>/<region>/<id>` in
 * `external_id`, and operations receive the cloud's own id and its region again.
 *
 * Errors: a session throws `CloudError` (or ApiError) with the cloud's own error code; `withRetry` retries throttling
 * and 5xx; `toApiError` maps the rest for the API and the task.
 */

export type { CloudCapabilities, CloudOperation, CloudProvider };

/** What the account's credentials are, by provider (only ever held in memory and in the vault). */
export type CloudCredentials = Record<string, string>;

export interface CloudAccountConfig {
  accountId: string;
  provider: CloudProvider;
  credentials: CloudCredentials;
  /** Where the SDK sends requests instead of the cloud's own endpoint (a proxy, private endpoint, or a test fake). */
  endpoint: string | null;
}

export type Tags = Record<string, string>;
export interface Page<T> {
  items: T[];
  /** The token of the next page, or null after the last. */
  next: string | null;
}

export interface CloudRegion { id: string; name: string }
export interface CloudZone { id: string; name: string; status: string }
export interface CloudVpc { id: string; name: string; cidr: string; status: string; tags: Tags }
export interface CloudSubnet { id: string; vpcId: string; zone: string | null; name: string; cidr: string; status: string; tags: Tags }
export interface CloudSecurityRule { direction: 'in' | 'out'; protocol: 'any' | 'tcp' | 'udp' | 'icmp'; fromPort: number | null; toPort: number | null; cidr: string; description: string }
export interface CloudSecurityGroup { id: string; name: string; description: string; vpcId: string | null; rules: CloudSecurityRule[]; tags: Tags }
/** Skydeck's guest statuses (shared/contract/inventory/status.ts): running, ready (stopped), starting, stopping, deleting, … */
export interface CloudInstance {
  id: string;
  name: string;
  status: string;
  zone: string | null;
  instanceType: string;
  vcpu: number;
  memoryMb: number;
  os: string;
  imageId: string | null;
  nics: { mac: string; ip: string | null; subnetId: string | null }[];
  publicIp: string | null;
  tags: Tags;
  createdAt: string | null;
}
export interface CloudDisk { id: string; name: string; sizeGb: number; zone: string | null; status: string; instanceId: string | null; device: string | null; bootable: boolean; type: string; tags: Tags; createdAt: string | null }
export interface CloudSnapshot { id: string; name: string; diskId: string | null; sizeGb: number; status: string; tags: Tags; createdAt: string | null }
export interface CloudImage { id: string; name: string; os: string; sizeGb: number; status: string; tags: Tags; createdAt: string | null }
export interface CloudEip { id: string; ip: string; instanceId: string | null; associationId: string | null; bandwidthMbps: number; status: string; tags: Tags }
/** A provider's VNC console endpoint (Alibaba Cloud and Tencent Cloud DescribeInstanceVncUrl). */
export interface CloudVncConsole {
  /** ws:// or wss:// URL with a one-time token. */
  url: string;
  /** How long the URL may wait before it is opened (ms). */
  validMs: number;
  /** The instance's VNC server asks for a password (Alibaba Cloud's 6-character instance VNC password). */
  passwordRequired: boolean;
}
export interface CloudKeypair { id: string; name: string; fingerprint: string; publicKey: string; tags: Tags }

export interface ListOptions {
  /** Page size asked of the cloud (the cloud may cap it). */
  pageSize?: number;
  signal?: AbortSignal;
  /** Called before each retry of a throttled or failed call (pass it to withRetry's onRetry), for the task's progress. */
  onRetry?: (e: CloudError, attempt: number, delayMs: number) => void;
}

export interface CreateInstanceSpec {
  name: string;
  imageId: string;
  instanceType: string;
  subnetId?: string;
  securityGroupIds?: string[];
  keyName?: string;
  diskGb?: number;
  tags?: Tags;
}
export interface IngressRule { protocol: 'tcp' | 'udp' | 'icmp' | 'any'; fromPort: number; toPort: number; cidr: string; description?: string }

export interface ICloudRegions {
  /** Validates the credentials (a cheap signed call); resolves with what the cloud says the account is. */
  validate(signal?: AbortSignal): Promise<{ account: string | null }>;
  listRegions(signal?: AbortSignal): Promise<CloudRegion[]>;
  listZones(region: string, signal?: AbortSignal): Promise<CloudZone[]>;
}
export interface ICloudNetworks {
  listVpcs(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudVpc>>;
  listSubnets(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudSubnet>>;
}
export interface ICloudSecurityGroups {
  listSecurityGroups(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudSecurityGroup>>;
  authorizeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal): Promise<void>;
  revokeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal): Promise<void>;
}
export interface ICloudInstances {
  listInstances(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudInstance>>;
  /** One instance now (null: it does not exist any more). */
  getInstance(region: string, id: string, signal?: AbortSignal): Promise<CloudInstance | null>;
  startInstance(region: string, id: string, signal?: AbortSignal): Promise<void>;
  stopInstance(region: string, id: string, force: boolean, signal?: AbortSignal): Promise<void>;
  rebootInstance(region: string, id: string, signal?: AbortSignal): Promise<void>;
  /** Refuses (ApiError conflict, reason termination_protection) when the cloud's delete protection is on. */
  deleteInstance(region: string, id: string, signal?: AbortSignal): Promise<void>;
  resizeInstance(region: string, id: string, instanceType: string, signal?: AbortSignal): Promise<void>;
  createInstance(region: string, spec: CreateInstanceSpec, signal?: AbortSignal): Promise<CloudInstance>;
  /** The provider's web console URL for the instance, where the API offers one. */
  consoleUrl(region: string, id: string, signal?: AbortSignal): Promise<string>;
  /**
   * The provider's VNC console as its own web console's noVNC opens it: a one-time WebSocket URL carrying RFB. Only the
   * main process connects to it (main/consoles/cloud-vnc.ts): the URL is a credential and never reaches the renderer.
   */
  vncConsole(region: string, id: string, signal?: AbortSignal): Promise<CloudVncConsole>;
}
export interface ICloudDisks {
  listDisks(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudDisk>>;
  attachDisk(region: string, diskId: string, instanceId: string, device: string, signal?: AbortSignal): Promise<void>;
  detachDisk(region: string, diskId: string, signal?: AbortSignal): Promise<void>;
}
export interface ICloudSnapshots {
  listSnapshots(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudSnapshot>>;
  createSnapshot(region: string, diskId: string, name: string, signal?: AbortSignal): Promise<CloudSnapshot>;
  deleteSnapshot(region: string, snapshotId: string, signal?: AbortSignal): Promise<void>;
}
export interface ICloudImages {
  listImages(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudImage>>;
}
export interface ICloudEips {
  listEips(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudEip>>;
  associateEip(region: string, eipId: string, instanceId: string, signal?: AbortSignal): Promise<void>;
  dissociateEip(region: string, eipId: string, signal?: AbortSignal): Promise<void>;
}
export interface ICloudKeypairs {
  listKeypairs(region: string, token: string | null, o?: ListOptions): Promise<Page<CloudKeypair>>;
}

/**
 * One instance metric sample from the provider's monitoring API (CloudWatch, CloudMonitor, Cloud Monitor, Azure
 * Monitor), in Skydeck's metric names and units (shared/contract/monitoring.ts METRICS, kind 'guest'): `cpu.util` and
 * `mem.util` in percent, `blk.rd_bytes_per_s`/`blk.wr_bytes_per_s` and `net.rx_bytes_per_s`/`net.tx_bytes_per_s` in
 * bytes per second. `ts` is Unix ms (the start of the provider's period).
 */
export interface CloudMetricPoint { instanceId: string; metric: string; ts: number; value: number }
export interface ICloudMetrics {
  /**
   * The samples of `instanceIds` (the cloud's own ids, all in `region`) with since < ts <= until, at the provider's
   * finest period it keeps for free (AWS basic monitoring 5 min, Alibaba/Tencent 60 s, Azure PT1M). Batches ids as the
   * API allows; throttling is retried with withRetry.
   */
  instanceMetrics(region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal): Promise<CloudMetricPoint[]>;
}
/** An on-demand (pay-as-you-go) Linux price for an instance type in a region, as the provider's price API answers it. */
export interface CloudPrice { instanceType: string; hourly: number; currency: string }
export interface ICloudPrices {
  /** Prices of `instanceTypes` in `region` (types the API does not price are left out of the answer). */
  instancePrices(region: string, instanceTypes: string[], signal?: AbortSignal): Promise<CloudPrice[]>;
}

/** One account's connection to its cloud: every per-kind interface. */
export interface CloudSession extends ICloudRegions, ICloudNetworks, ICloudSecurityGroups, ICloudInstances, ICloudDisks, ICloudSnapshots, ICloudImages, ICloudEips, ICloudKeypairs, ICloudMetrics, ICloudPrices {
  close(): void;
}

/** A credential field of the add-account dialog. */
export interface CredentialField {
  key: string;
  secret: boolean;
}

/** One cloud: what it can do, what credentials it takes, and how to open a session (the SDK is imported lazily there). */
export interface CloudDriver {
  readonly provider: CloudProvider;
  readonly capabilities: CloudCapabilities;
  readonly credentialFields: readonly CredentialField[];
  connect(config: CloudAccountConfig): Promise<CloudSession>;
}

export class CloudError extends Error {
  constructor(
    readonly provider: CloudProvider,
    /** The cloud's own error code (AuthFailure, UnauthorizedOperation, RequestLimitExceeded, …). */
    readonly cloudCode: string,
    message: string,
    readonly httpStatus: number | null = null,
    /** Seconds the cloud asked to wait (Retry-After). */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'CloudError';
  }
}

const notSupported = (what: string): never => {
  throw new ApiError('not_supported', `this cloud driver cannot ${what}`, { operation: what });
};

/** Every operation answers `not_supported`; a cloud's session overrides what its API offers. */
export class BaseCloudSession implements CloudSession {
  validate(_signal?: AbortSignal): Promise<{ account: string | null }> { return notSupported('validate credentials'); }
  listRegions(_signal?: AbortSignal): Promise<CloudRegion[]> { return notSupported('list regions'); }
  async listZones(_region: string, _signal?: AbortSignal): Promise<CloudZone[]> { return []; }
  async listVpcs(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudVpc>> { return { items: [], next: null }; }
  async listSubnets(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudSubnet>> { return { items: [], next: null }; }
  async listSecurityGroups(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudSecurityGroup>> { return { items: [], next: null }; }
  authorizeIngress(_region: string, _groupId: string, _rule: IngressRule, _signal?: AbortSignal): Promise<void> { return notSupported('add security group rules'); }
  revokeIngress(_region: string, _groupId: string, _rule: IngressRule, _signal?: AbortSignal): Promise<void> { return notSupported('remove security group rules'); }
  async listInstances(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudInstance>> { return { items: [], next: null }; }
  getInstance(_region: string, _id: string, _signal?: AbortSignal): Promise<CloudInstance | null> { return notSupported('read an instance'); }
  startInstance(_region: string, _id: string, _signal?: AbortSignal): Promise<void> { return notSupported('start instances'); }
  stopInstance(_region: string, _id: string, _force: boolean, _signal?: AbortSignal): Promise<void> { return notSupported('stop instances'); }
  rebootInstance(_region: string, _id: string, _signal?: AbortSignal): Promise<void> { return notSupported('reboot instances'); }
  deleteInstance(_region: string, _id: string, _signal?: AbortSignal): Promise<void> { return notSupported('delete instances'); }
  resizeInstance(_region: string, _id: string, _instanceType: string, _signal?: AbortSignal): Promise<void> { return notSupported('change instance types'); }
  createInstance(_region: string, _spec: CreateInstanceSpec, _signal?: AbortSignal): Promise<CloudInstance> { return notSupported('create instances'); }
  consoleUrl(_region: string, _id: string, _signal?: AbortSignal): Promise<string> { return notSupported('open a console'); }
  vncConsole(_region: string, _id: string, _signal?: AbortSignal): Promise<CloudVncConsole> { return notSupported('open a VNC console'); }
  async listDisks(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudDisk>> { return { items: [], next: null }; }
  attachDisk(_region: string, _diskId: string, _instanceId: string, _device: string, _signal?: AbortSignal): Promise<void> { return notSupported('attach disks'); }
  detachDisk(_region: string, _diskId: string, _signal?: AbortSignal): Promise<void> { return notSupported('detach disks'); }
  async listSnapshots(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudSnapshot>> { return { items: [], next: null }; }
  createSnapshot(_region: string, _diskId: string, _name: string, _signal?: AbortSignal): Promise<CloudSnapshot> { return notSupported('create snapshots'); }
  deleteSnapshot(_region: string, _snapshotId: string, _signal?: AbortSignal): Promise<void> { return notSupported('delete snapshots'); }
  async listImages(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudImage>> { return { items: [], next: null }; }
  async listEips(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudEip>> { return { items: [], next: null }; }
  associateEip(_region: string, _eipId: string, _instanceId: string, _signal?: AbortSignal): Promise<void> { return notSupported('associate EIPs'); }
  dissociateEip(_region: string, _eipId: string, _signal?: AbortSignal): Promise<void> { return notSupported('dissociate EIPs'); }
  async listKeypairs(_region: string, _token: string | null, _o?: ListOptions): Promise<Page<CloudKeypair>> { return { items: [], next: null }; }
  instanceMetrics(_region: string, _ids: string[], _since: number, _until: number, _signal?: AbortSignal): Promise<CloudMetricPoint[]> { return notSupported('read instance metrics'); }
  instancePrices(_region: string, _types: string[], _signal?: AbortSignal): Promise<CloudPrice[]> { return notSupported('read instance prices'); }
  close(): void {}
}

/** Which guest actions the common Guests list offers for a cloud, from its capabilities. */
export function guestActionsOf(c: CloudCapabilities): GuestAction[] {
  const map: [CloudOperation, GuestAction][] = [['start', 'start'], ['stop', 'stop'], ['stop', 'forceStop'], ['reboot', 'reboot'], ['delete', 'delete']];
  return map.filter(([op]) => c.operations.includes(op)).map(([, a]) => a);
}
