import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import type * as Common from 'tencentcloud-sdk-nodejs-common';
import type * as Cvm from 'tencentcloud-sdk-nodejs-cvm';
import type * as Monitor from 'tencentcloud-sdk-nodejs-monitor';
import type * as CvmModels from 'tencentcloud-sdk-nodejs-cvm/tencentcloud/services/cvm/v20170312/cvm_models';
import { ApiError } from '@shared/errors';
import {
  BaseCloudSession,
  CloudError,
  type CloudAccountConfig,
  type CloudDisk,
  type CloudEip,
  type CloudImage,
  type CloudInstance,
  type CloudKeypair,
  type CloudRegion,
  type CloudSecurityGroup,
  type CloudSecurityRule,
  type CloudSnapshot,
  type CloudSubnet,
  type CloudVncConsole,
  type CloudVpc,
  type CloudZone,
  type CreateInstanceSpec,
  type IngressRule,
  type ListOptions,
  type Page,
  type Tags,
} from '../types';
import { withRetry } from '../retry';
import { tencentInstanceMetrics, tencentInstancePrices, type TencentMetricsHost } from './metrics';

/** The SDK modules, imported by the driver's connect: the CVM client, and the generic client for VPC and CBS. */
export interface TencentSdk {
  cvm: typeof Cvm.cvm;
  common: Pick<typeof Common, 'CommonClient'>;
  /** The Cloud Monitor client (tencentcloud-sdk-nodejs-monitor), loaded by the first metrics call (./metrics.ts). */
  monitor?: typeof Monitor.monitor;
}
type Client = Common.AbstractClient;

/**
 * tencentcloud-sdk-nodejs-common (its generic CommonClient for VPC and CBS), loaded as the CVM SDK itself resolves it:
 * it is the CVM SDK's dependency, not one of Skydeck's, so the build leaves it in node_modules beside the CVM SDK
 * (externalized with it) instead of bundling a second copy. Called from connect only.
 */
export function loadTencentCommon(): Pick<typeof Common, 'CommonClient'> {
  const fromHere = createRequire(import.meta.url);
  return createRequire(fromHere.resolve('tencentcloud-sdk-nodejs-cvm'))('tencentcloud-sdk-nodejs-common') as typeof Common;
}

/** The Tencent Cloud API products the driver calls, with their API versions. */
export const TENCENT_SERVICES = { cvm: '2017-03-12', vpc: '2017-03-12', cbs: '2017-03-12', monitor: '2018-07-24' } as const;
export type TencentService = keyof typeof TENCENT_SERVICES;

/** CVM InstanceState → Skydeck guest status (terminated instances leave the listing: they are then vanished/gone). */
export const TENCENT_STATUS: Record<string, string> = {
  PENDING: 'starting',
  LAUNCH_FAILED: 'create_failed',
  RUNNING: 'running',
  STOPPED: 'ready',
  STARTING: 'starting',
  STOPPING: 'stopping',
  REBOOTING: 'rebooting',
  // "Stopped, to be destroyed" (isolated, e.g. an expired prepaid instance): on its way out.
  SHUTDOWN: 'deleting',
  TERMINATING: 'deleting',
};

/**
 * Where the SDK sends each product's requests. The SDK takes the signing service from the endpoint's first label
 * (`cvm.tencentcloudapi.com` → `cvm`), so an account's endpoint override is mapped per product:
 *  - none: `https://<svc>.tencentcloudapi.com` (production, unchanged);
 *  - `http(s)://<ip or localhost>[:port]` (a test fake, a TCP proxy): `<svc>.tencentcloudapi.com[:port]` over that
 *    protocol, with an agent whose lookup resolves every name to that address (the signed host stays the real one);
 *  - `http(s)://<svc>.<domain>[:port]` (e.g. a regional endpoint `cvm.ap-guangzhou.tencentcloudapi.com`): the first label
 *    replaced by each product's (`vpc.ap-guangzhou.tencentcloudapi.com` …);
 *  - `http(s)://<domain>[:port]` (a private domain): `<svc>.<domain>[:port]`.
 */
export interface TencentTransport {
  protocol: 'https://' | 'http://';
  endpoint: (service: TencentService) => string;
  agent: HttpAgent | null;
}

export function tencentTransport(endpoint: string | null): TencentTransport {
  if (!endpoint) return { protocol: 'https://', endpoint: (s) => `${s}.tencentcloudapi.com`, agent: null };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ApiError('validation', `not an endpoint URL: ${endpoint}`, { field: 'endpoint' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError('validation', `the endpoint must be http(s): ${endpoint}`, { field: 'endpoint' });
  const protocol = url.protocol === 'http:' ? 'http://' : 'https://';
  const port = url.port ? `:${url.port}` : '';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const family = isIP(host);
  if (family || host === 'localhost') {
    const address = family ? host : '127.0.0.1';
    const lookup = (_name: string, options: unknown, cb?: unknown) => {
      const [o, done] = (typeof options === 'function' ? [{}, options] : [options ?? {}, cb]) as [{ all?: boolean }, (...a: unknown[]) => void];
      if (o.all) done(null, [{ address, family: family || 4 }]);
      else done(null, address, family || 4);
    };
    const Agent = protocol === 'http://' ? HttpAgent : HttpsAgent;
    return { protocol, endpoint: (s) => `${s}.tencentcloudapi.com${port}`, agent: new Agent({ keepAlive: true, lookup: lookup as never }) };
  }
  const labels = host.split('.');
  const rest = labels[0] && labels[0] in TENCENT_SERVICES ? labels.slice(1).join('.') : host;
  return { protocol, endpoint: (s) => `${s}.${rest}${port}`, agent: null };
}

/** The SDK's exception (TencentCloudSDKHttpException): API errors carry `code`, HTTP failures `httpCode`. */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  httpCode?: number;
  requestId?: string;
}

const NETWORK = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)\b/;

/** Turns what the SDK throws into a CloudError with Tencent Cloud's own code (HTTP failures and network errors too). */
export function tencentError(e: unknown): unknown {
  if (e instanceof CloudError || ApiError.is(e)) return e;
  const x = (e ?? {}) as SdkError;
  const message = x.message ?? String(e);
  if (x.name === 'AbortError' || /user aborted|operation was aborted/i.test(message)) return e;
  if (x.code) return new CloudError('tencent', x.code, x.requestId ? `${message} (RequestId ${x.requestId})` : message, null);
  if (x.httpCode) return new CloudError('tencent', `HTTP${x.httpCode}`, `HTTP ${x.httpCode} ${message}`.trim(), x.httpCode);
  // node-fetch's FetchError, wrapped by the SDK into its exception with the message only.
  const net = NETWORK.exec(message)?.[1] ?? (/socket hang up/i.test(message) ? 'socket hang up' : /network timeout|timed? ?out/i.test(message) ? 'TimeoutError' : null);
  return new CloudError('tencent', net ?? 'NetworkError', message, null);
}

const tagsOf = (t: { Key?: string; Value?: string }[] | null | undefined): Tags => Object.fromEntries((t ?? []).filter((x) => x.Key).map((x) => [x.Key!, x.Value ?? '']));
/** CVM answers ISO 8601; VPC and CBS answer `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8). */
export function tencentTime(s: string | null | undefined): string | null {
  if (!s) return null;
  const plain = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(s);
  const t = Date.parse(plain ? `${plain[1]}T${plain[2]}+08:00` : s);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
/**
 * DescribeInstances does not list MAC addresses (the ENI API does): a stable, locally administered MAC derived from
 * the instance id and NIC index stands in for it, so that NICs keep their identity across syncs.
 */
export function tencentNicMac(instanceId: string, idx: number): string {
  const h = createHash('sha256').update(`tencent/${instanceId}/${idx}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
/** The OpenSSH SHA256 fingerprint of a public key line (the API lists no fingerprint). */
function fingerprint(publicKey: string | undefined): string {
  const blob = publicKey?.trim().split(/\s+/)[1];
  if (!blob) return '';
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** Offset/Limit paging: the token is the next offset. */
const PAGE_MAX = 100;
const offsetOf = (token: string | null) => (token && /^\d+$/.test(token) ? Number(token) : 0);
const limitOf = (o: ListOptions) => Math.max(1, Math.min(PAGE_MAX, o.pageSize ?? PAGE_MAX));
const nextOf = (offset: number, got: number, limit: number, total: number | undefined) => (got > 0 && offset + got < (total ?? (got < limit ? 0 : Infinity)) ? String(offset + got) : null);

// VPC and CBS answers (2017-03-12), the fields the driver reads.
interface TagItem { Key?: string; Value?: string }
interface Vpc { VpcId: string; VpcName?: string; CidrBlock?: string; TagSet?: TagItem[] }
interface Subnet { SubnetId: string; VpcId: string; SubnetName?: string; CidrBlock?: string; Zone?: string; TagSet?: TagItem[] }
interface SecurityGroup { SecurityGroupId: string; SecurityGroupName?: string; SecurityGroupDesc?: string; TagSet?: TagItem[] }
interface Policy { Protocol?: string; Port?: string; CidrBlock?: string; Action?: string; PolicyDescription?: string }
interface Address { AddressId: string; AddressIp?: string; AddressStatus?: string; InstanceId?: string | null; Bandwidth?: number | null; TagSet?: TagItem[] }
interface Disk { DiskId: string; DiskName?: string; DiskSize?: number; Placement?: { Zone?: string }; DiskState?: string; InstanceId?: string; DiskUsage?: string; DiskType?: string; Tags?: TagItem[]; CreateTime?: string }
interface Snapshot { SnapshotId: string; SnapshotName?: string; DiskId?: string; DiskSize?: number; SnapshotState?: string; Tags?: TagItem[]; CreateTime?: string }
type Listed = Record<string, unknown> & { TotalCount?: number }

const DISK_STATUS: Record<string, string> = { ATTACHED: 'in-use', UNATTACHED: 'available', ATTACHING: 'attaching', DETACHING: 'detaching', EXPANDING: 'resizing', ROLLBACKING: 'restoring' };
const SNAPSHOT_STATUS: Record<string, string> = { NORMAL: 'ready', CREATING: 'creating', ROLLBACKING: 'restoring', COPYING_FROM_REMOTE: 'creating', CHECKING_COPIED: 'creating', TORECYCLE: 'deleting' };
const EIP_STATUS: Record<string, string> = { BIND: 'associated', UNBIND: 'available', CREATING: 'creating', BINDING: 'associating', UNBINDING: 'dissociating', OFFLINING: 'deleting', BIND_ENI: 'associated' };

export class TencentSession extends BaseCloudSession {
  private readonly clients = new Map<string, Client>();
  private readonly transport: TencentTransport;

  constructor(
    private readonly sdk: TencentSdk,
    private readonly config: CloudAccountConfig,
  ) {
    super();
    this.transport = tencentTransport(config.endpoint);
  }

  private client(service: TencentService, region: string | null): Client {
    const key = `${service}|${region ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      const endpoint = this.transport.endpoint(service);
      const config: Common.ClientConfig = {
        credential: { secretId: this.config.credentials.secretId ?? '', secretKey: this.config.credentials.secretKey ?? '' },
        ...(region ? { region } : {}),
        profile: { httpProfile: { endpoint, protocol: this.transport.protocol, reqTimeout: 60, ...(this.transport.agent ? { agent: this.transport.agent } : {}) } },
      };
      c =
        service === 'cvm'
          ? new this.sdk.cvm.v20170312.Client(config)
          : service === 'monitor' && this.sdk.monitor
            ? (new this.sdk.monitor.v20180724.Client(config) as unknown as Client)
            : new this.sdk.common.CommonClient(endpoint, TENCENT_SERVICES[service], config);
      this.clients.set(key, c);
    }
    return c;
  }

  /** One API call, retried (throttling, 5xx, dropped connections) by withRetry; the SDK itself does not retry. */
  private call<O>(service: TencentService, region: string | null, action: string, params: object, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<O> {
    return withRetry(
      () =>
        (this.client(service, region).request(action, params, signal ? { signal } : {}) as Promise<O>).catch((e: unknown) => {
          throw tencentError(e);
        }),
      { signal, onRetry },
    );
  }

  /** One Offset/Limit page of a Describe* call (VPC's list calls take Offset and Limit as strings). */
  private async page<T>(service: TencentService, region: string, action: string, set: string, token: string | null, o: ListOptions, extra: object = {}, strings = false): Promise<{ items: T[]; next: string | null }> {
    const offset = offsetOf(token);
    const limit = limitOf(o);
    const r = await this.call<Listed>(service, region, action, { ...extra, Offset: strings ? String(offset) : offset, Limit: strings ? String(limit) : limit }, o.signal, o.onRetry);
    const items = ((r[set] as T[] | null | undefined) ?? []) as T[];
    return { items, next: nextOf(offset, items.length, limit, r.TotalCount) };
  }

  override async validate(signal?: AbortSignal) {
    await this.call<CvmModels.DescribeRegionsResponse>('cvm', null, 'DescribeRegions', {}, signal);
    return { account: this.config.credentials.secretId ?? null };
  }

  override async listRegions(signal?: AbortSignal): Promise<CloudRegion[]> {
    const r = await this.call<CvmModels.DescribeRegionsResponse>('cvm', null, 'DescribeRegions', {}, signal);
    return (r.RegionSet ?? []).filter((x) => x.Region && (!x.RegionState || x.RegionState === 'AVAILABLE')).map((x) => ({ id: x.Region!, name: x.Region! }));
  }

  override async listZones(region: string, signal?: AbortSignal): Promise<CloudZone[]> {
    const r = await this.call<CvmModels.DescribeZonesResponse>('cvm', region, 'DescribeZones', {}, signal);
    return (r.ZoneSet ?? []).map((z) => ({ id: z.Zone!, name: z.Zone!, status: z.ZoneState === 'AVAILABLE' ? 'available' : (z.ZoneState ?? 'unknown').toLowerCase() }));
  }

  override async listVpcs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudVpc>> {
    const p = await this.page<Vpc>('vpc', region, 'DescribeVpcs', 'VpcSet', token, o, {}, true);
    return { items: p.items.map((v) => ({ id: v.VpcId, name: v.VpcName || v.VpcId, cidr: v.CidrBlock ?? '', status: 'available', tags: tagsOf(v.TagSet) })), next: p.next };
  }

  override async listSubnets(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSubnet>> {
    const p = await this.page<Subnet>('vpc', region, 'DescribeSubnets', 'SubnetSet', token, o, {}, true);
    return { items: p.items.map((s) => ({ id: s.SubnetId, vpcId: s.VpcId, zone: s.Zone ?? null, name: s.SubnetName || s.SubnetId, cidr: s.CidrBlock ?? '', status: 'available', tags: tagsOf(s.TagSet) })), next: p.next };
  }

  override async listSecurityGroups(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSecurityGroup>> {
    const p = await this.page<SecurityGroup>('vpc', region, 'DescribeSecurityGroups', 'SecurityGroupSet', token, o, {}, true);
    const items: CloudSecurityGroup[] = [];
    for (const g of p.items) {
      const r = await this.call<{ SecurityGroupPolicySet?: { Ingress?: Policy[]; Egress?: Policy[] } }>('vpc', region, 'DescribeSecurityGroupPolicies', { SecurityGroupId: g.SecurityGroupId }, o.signal, o.onRetry);
      const set = r.SecurityGroupPolicySet ?? {};
      items.push({
        id: g.SecurityGroupId,
        name: g.SecurityGroupName || g.SecurityGroupId,
        description: g.SecurityGroupDesc ?? '',
        vpcId: null, // Tencent security groups belong to the region, not to a VPC
        rules: [...rulesOf('in', set.Ingress), ...rulesOf('out', set.Egress)],
        tags: tagsOf(g.TagSet),
      });
    }
    return { items, next: p.next };
  }

  private instance(i: CvmModels.Instance): CloudInstance {
    const id = i.InstanceId!;
    const subnetId = i.VirtualPrivateCloud?.SubnetId ?? null;
    return {
      id,
      name: i.InstanceName || id,
      status: TENCENT_STATUS[i.InstanceState ?? ''] ?? 'unknown',
      zone: i.Placement?.Zone ?? null,
      instanceType: i.InstanceType ?? '',
      vcpu: i.CPU ?? 0,
      memoryMb: Math.round((i.Memory ?? 0) * 1024),
      os: i.OsName ?? '',
      imageId: i.ImageId ?? null,
      nics: (i.PrivateIpAddresses ?? []).slice(0, 1).map((ip) => ({ mac: tencentNicMac(id, 0), ip, subnetId })),
      publicIp: i.PublicIpAddresses?.[0] ?? null,
      tags: tagsOf(i.Tags),
      createdAt: tencentTime(i.CreatedTime),
    };
  }

  override async listInstances(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudInstance>> {
    const p = await this.page<CvmModels.Instance>('cvm', region, 'DescribeInstances', 'InstanceSet', token, o);
    return { items: p.items.map((i) => this.instance(i)), next: p.next };
  }

  private async describeInstance(region: string, id: string, signal?: AbortSignal): Promise<CvmModels.Instance | null> {
    try {
      const r = await this.call<CvmModels.DescribeInstancesResponse>('cvm', region, 'DescribeInstances', { InstanceIds: [id] }, signal);
      return r.InstanceSet?.find((x) => x.InstanceId === id) ?? null;
    } catch (e) {
      if (e instanceof CloudError && /^InvalidInstanceId\.(NotFound|Malformed)$/.test(e.cloudCode)) return null;
      throw e;
    }
  }

  override async getInstance(region: string, id: string, signal?: AbortSignal): Promise<CloudInstance | null> {
    const i = await this.describeInstance(region, id, signal);
    return i ? this.instance(i) : null;
  }

  override async startInstance(region: string, id: string, signal?: AbortSignal) {
    await this.call('cvm', region, 'StartInstances', { InstanceIds: [id] }, signal);
  }
  override async stopInstance(region: string, id: string, force: boolean, signal?: AbortSignal) {
    // SOFT_FIRST: shut down, forced if the guest does not stop in time; HARD: power off at once.
    await this.call('cvm', region, 'StopInstances', { InstanceIds: [id], StopType: force ? 'HARD' : 'SOFT_FIRST' }, signal);
  }
  override async rebootInstance(region: string, id: string, signal?: AbortSignal) {
    await this.call('cvm', region, 'RebootInstances', { InstanceIds: [id], StopType: 'SOFT_FIRST' }, signal);
  }
  override async deleteInstance(region: string, id: string, signal?: AbortSignal) {
    const protectedError = () =>
      new ApiError('conflict', `instance ${id} has termination protection on (DisableApiTermination): turn it off in Tencent Cloud first`, { reason: 'termination_protection', cloudCode: 'DisableApiTermination' });
    const i = await this.describeInstance(region, id, signal);
    if (!i) throw new CloudError('tencent', 'InvalidInstanceId.NotFound', `The instance \`${id}\` does not exist.`);
    if (i.DisableApiTermination) throw protectedError();
    try {
      await this.call('cvm', region, 'TerminateInstances', { InstanceIds: [id] }, signal);
    } catch (e) {
      // Protection turned on between the read and the call.
      if (e instanceof CloudError && e.cloudCode.startsWith('UnsupportedOperation') && /DisableApiTermination|termination protection/i.test(e.message)) throw protectedError();
      throw e;
    }
  }
  override async resizeInstance(region: string, id: string, instanceType: string, signal?: AbortSignal) {
    await this.call('cvm', region, 'ResetInstancesType', { InstanceIds: [id], InstanceType: instanceType }, signal);
  }

  override async createInstance(region: string, s: CreateInstanceSpec, signal?: AbortSignal): Promise<CloudInstance> {
    // RunInstances needs the zone: the subnet's, else the region's first available zone.
    let zone: string | null = null;
    let vpc: { VpcId: string; SubnetId: string } | null = null;
    if (s.subnetId) {
      const r = await this.call<{ SubnetSet?: Subnet[] }>('vpc', region, 'DescribeSubnets', { SubnetIds: [s.subnetId] }, signal);
      const sn = r.SubnetSet?.[0];
      if (!sn) throw new CloudError('tencent', 'InvalidParameterValue.SubnetNotExist', `The subnet \`${s.subnetId}\` does not exist.`);
      zone = sn.Zone ?? null;
      vpc = { VpcId: sn.VpcId, SubnetId: sn.SubnetId };
    }
    zone ??= (await this.listZones(region, signal)).find((z) => z.status === 'available')?.id ?? null;
    if (!zone) throw new CloudError('tencent', 'InvalidZone.MismatchRegion', `no available zone in ${region}`);
    let keyIds: string[] = [];
    if (s.keyName) {
      if (/^skey-[a-z0-9]+$/.test(s.keyName)) keyIds = [s.keyName];
      else {
        const r = await this.call<CvmModels.DescribeKeyPairsResponse>('cvm', region, 'DescribeKeyPairs', { Filters: [{ Name: 'key-name', Values: [s.keyName] }] }, signal);
        const k = r.KeyPairSet?.find((x) => x.KeyName === s.keyName);
        if (!k) throw new CloudError('tencent', 'InvalidKeyPair.NotFound', `The key pair \`${s.keyName}\` does not exist in ${region}.`);
        keyIds = [k.KeyId!];
      }
    }
    const tags = Object.entries(s.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const r = await this.call<CvmModels.RunInstancesResponse>(
      'cvm',
      region,
      'RunInstances',
      {
        InstanceChargeType: 'POSTPAID_BY_HOUR',
        Placement: { Zone: zone },
        InstanceType: s.instanceType,
        ImageId: s.imageId,
        ...(s.diskGb ? { SystemDisk: { DiskType: 'CLOUD_PREMIUM', DiskSize: s.diskGb } } : {}),
        ...(vpc ? { VirtualPrivateCloud: vpc } : {}),
        InstanceCount: 1,
        InstanceName: s.name,
        ...(keyIds.length ? { LoginSettings: { KeyIds: keyIds } } : {}),
        ...(s.securityGroupIds?.length ? { SecurityGroupIds: s.securityGroupIds } : {}),
        ...(tags.length ? { TagSpecification: [{ ResourceType: 'instance', Tags: tags }] } : {}),
      },
      signal,
    );
    const id = r.InstanceIdSet?.[0];
    if (!id) throw new CloudError('tencent', 'EmptyResponse', 'RunInstances answered no instance id');
    const made = await this.getInstance(region, id, signal);
    return made ?? { id, name: s.name, status: 'starting', zone, instanceType: s.instanceType, vcpu: 0, memoryMb: 0, os: '', imageId: s.imageId, nics: [], publicIp: null, tags: s.tags ?? {}, createdAt: null };
  }

  /** The VNC console: DescribeInstanceVncUrl's one-time wss URL (valid 15 s) opened in Tencent's noVNC page. */
  override async consoleUrl(region: string, id: string, signal?: AbortSignal): Promise<string> {
    const r = await this.call<CvmModels.DescribeInstanceVncUrlResponse>('cvm', region, 'DescribeInstanceVncUrl', { InstanceId: id }, signal);
    if (!r.InstanceVncUrl) throw new CloudError('tencent', 'EmptyResponse', 'DescribeInstanceVncUrl answered no URL');
    return `https://img.qcloud.com/qcloud/app/active_vnc/index.html?InstanceVncUrl=${encodeURIComponent(r.InstanceVncUrl)}`;
  }
  /** The console's WebSocket itself (what Tencent's noVNC page opens): valid 15 s and once, no VNC password. */
  override async vncConsole(region: string, id: string, signal?: AbortSignal): Promise<CloudVncConsole> {
    const r = await this.call<CvmModels.DescribeInstanceVncUrlResponse>('cvm', region, 'DescribeInstanceVncUrl', { InstanceId: id }, signal);
    if (!r.InstanceVncUrl) throw new CloudError('tencent', 'EmptyResponse', 'DescribeInstanceVncUrl answered no URL');
    return { url: r.InstanceVncUrl, validMs: 15_000, passwordRequired: false };
  }

  override async listDisks(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudDisk>> {
    const p = await this.page<Disk>('cbs', region, 'DescribeDisks', 'DiskSet', token, o);
    return {
      items: p.items.map((d) => ({
        id: d.DiskId,
        name: d.DiskName || d.DiskId,
        sizeGb: d.DiskSize ?? 0,
        zone: d.Placement?.Zone ?? null,
        status: DISK_STATUS[d.DiskState ?? ''] ?? (d.DiskState ?? 'unknown').toLowerCase(),
        instanceId: d.InstanceId || null,
        device: null, // CBS does not expose the guest device name
        bootable: d.DiskUsage === 'SYSTEM_DISK',
        type: d.DiskType ?? '',
        tags: tagsOf(d.Tags),
        createdAt: tencentTime(d.CreateTime),
      })),
      next: p.next,
    };
  }
  /** CBS picks the device itself: `device` is not sent. */
  override async attachDisk(region: string, diskId: string, instanceId: string, _device: string, signal?: AbortSignal) {
    await this.call('cbs', region, 'AttachDisks', { DiskIds: [diskId], InstanceId: instanceId }, signal);
  }
  override async detachDisk(region: string, diskId: string, signal?: AbortSignal) {
    await this.call('cbs', region, 'DetachDisks', { DiskIds: [diskId] }, signal);
  }

  private snapshot(s: Snapshot): CloudSnapshot {
    return { id: s.SnapshotId, name: s.SnapshotName || s.SnapshotId, diskId: s.DiskId || null, sizeGb: s.DiskSize ?? 0, status: SNAPSHOT_STATUS[s.SnapshotState ?? ''] ?? (s.SnapshotState ?? 'unknown').toLowerCase(), tags: tagsOf(s.Tags), createdAt: tencentTime(s.CreateTime) };
  }
  override async listSnapshots(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSnapshot>> {
    const p = await this.page<Snapshot>('cbs', region, 'DescribeSnapshots', 'SnapshotSet', token, o);
    return { items: p.items.map((s) => this.snapshot(s)), next: p.next };
  }
  override async createSnapshot(region: string, diskId: string, name: string, signal?: AbortSignal): Promise<CloudSnapshot> {
    const r = await this.call<{ SnapshotId?: string }>('cbs', region, 'CreateSnapshot', { DiskId: diskId, SnapshotName: name }, signal);
    if (!r.SnapshotId) throw new CloudError('tencent', 'EmptyResponse', 'CreateSnapshot answered no snapshot id');
    const d = await this.call<{ SnapshotSet?: Snapshot[] }>('cbs', region, 'DescribeSnapshots', { SnapshotIds: [r.SnapshotId] }, signal);
    return this.snapshot(d.SnapshotSet?.[0] ?? { SnapshotId: r.SnapshotId, SnapshotName: name, DiskId: diskId, SnapshotState: 'CREATING' });
  }
  override async deleteSnapshot(region: string, snapshotId: string, signal?: AbortSignal) {
    await this.call('cbs', region, 'DeleteSnapshots', { SnapshotIds: [snapshotId] }, signal);
  }

  /** The account's own and shared images, and the public (official) ones; marketplace images are left out. */
  override async listImages(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudImage>> {
    const p = await this.page<CvmModels.Image>('cvm', region, 'DescribeImages', 'ImageSet', token, o, { Filters: [{ Name: 'image-type', Values: ['PRIVATE_IMAGE', 'SHARED_IMAGE', 'PUBLIC_IMAGE'] }] });
    return {
      items: p.items.map((m) => ({ id: m.ImageId!, name: m.ImageName || m.ImageId!, os: m.OsName ?? m.Platform ?? '', sizeGb: m.ImageSize ?? 0, status: m.ImageState === 'NORMAL' ? 'available' : (m.ImageState ?? 'unknown').toLowerCase(), tags: tagsOf(m.Tags), createdAt: tencentTime(m.CreatedTime) })),
      next: p.next,
    };
  }

  override async listEips(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudEip>> {
    const p = await this.page<Address>('vpc', region, 'DescribeAddresses', 'AddressSet', token, o);
    return {
      items: p.items.map((a) => ({ id: a.AddressId, ip: a.AddressIp ?? '', instanceId: a.InstanceId || null, associationId: null, bandwidthMbps: a.Bandwidth ?? 0, status: EIP_STATUS[a.AddressStatus ?? ''] ?? (a.AddressStatus ?? 'unknown').toLowerCase(), tags: tagsOf(a.TagSet) })),
      next: p.next,
    };
  }
  override async associateEip(region: string, eipId: string, instanceId: string, signal?: AbortSignal) {
    await this.call('vpc', region, 'AssociateAddress', { AddressId: eipId, InstanceId: instanceId }, signal);
  }
  override async dissociateEip(region: string, eipId: string, signal?: AbortSignal) {
    const r = await this.call<{ AddressSet?: Address[] }>('vpc', region, 'DescribeAddresses', { AddressIds: [eipId] }, signal);
    const a = r.AddressSet?.[0];
    if (!a) throw new CloudError('tencent', 'InvalidAddressId.NotFound', `The address \`${eipId}\` does not exist.`);
    if (a.AddressStatus === 'UNBIND') return; // not associated: nothing to do
    await this.call('vpc', region, 'DisassociateAddress', { AddressId: eipId }, signal);
  }

  override async listKeypairs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudKeypair>> {
    const p = await this.page<CvmModels.KeyPair>('cvm', region, 'DescribeKeyPairs', 'KeyPairSet', token, o);
    return { items: p.items.map((k) => ({ id: k.KeyId!, name: k.KeyName || k.KeyId!, fingerprint: fingerprint(k.PublicKey), publicKey: k.PublicKey ?? '', tags: tagsOf(k.Tags) })), next: p.next };
  }

  override async authorizeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    await this.call('vpc', region, 'CreateSecurityGroupPolicies', { SecurityGroupId: groupId, SecurityGroupPolicySet: { Ingress: [policyOf(rule, true)] } }, signal);
  }
  override async revokeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    await this.call('vpc', region, 'DeleteSecurityGroupPolicies', { SecurityGroupId: groupId, SecurityGroupPolicySet: { Ingress: [policyOf(rule, false)] } }, signal);
  }

  // Cloud Monitor metrics and CVM prices (./metrics.ts).
  private readonly priceImages = new Map<string, string>();
  private get metricsHost(): TencentMetricsHost {
    return {
      call: (service, region, action, params, signal) => this.call(service, region, action, params, signal),
      listZones: (region, signal) => this.listZones(region, signal),
      loadMonitor: async () => {
        this.sdk.monitor ??= (await import('tencentcloud-sdk-nodejs-monitor')).monitor;
      },
      currency: this.config.credentials.currency || 'CNY',
      images: this.priceImages,
    };
  }
  override instanceMetrics(region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal) {
    return tencentInstanceMetrics(this.metricsHost, region, instanceIds, since, until, signal);
  }
  override instancePrices(region: string, instanceTypes: string[], signal?: AbortSignal) {
    return tencentInstancePrices(this.metricsHost, region, instanceTypes, signal);
  }

  override close() {
    this.clients.clear();
    this.transport.agent?.destroy();
  }
}

/** A Skydeck ingress rule as a Tencent security group policy (ACCEPT). */
function policyOf(rule: IngressRule, withDescription: boolean): Policy {
  const Protocol = rule.protocol === 'any' ? 'ALL' : rule.protocol.toUpperCase();
  const Port = rule.protocol === 'any' || rule.protocol === 'icmp' || rule.fromPort < 0 ? 'ALL' : rule.fromPort === rule.toPort ? String(rule.fromPort) : `${rule.fromPort}-${rule.toPort}`;
  return { Protocol, Port, CidrBlock: rule.cidr, Action: 'ACCEPT', ...(withDescription && rule.description ? { PolicyDescription: rule.description } : {}) };
}

/**
 * Tencent policies as Skydeck rules: ACCEPT only (Skydeck's rules are allow rules; DROP policies are not listed),
 * a port list `22,80` one rule per entry, `ALL` as any port.
 */
function rulesOf(direction: 'in' | 'out', list: Policy[] | undefined): CloudSecurityRule[] {
  const out: CloudSecurityRule[] = [];
  for (const p of list ?? []) {
    if ((p.Action ?? 'ACCEPT').toUpperCase() !== 'ACCEPT') continue;
    const proto = (p.Protocol ?? 'ALL').toUpperCase();
    const protocol: CloudSecurityRule['protocol'] = proto === 'TCP' ? 'tcp' : proto === 'UDP' ? 'udp' : proto === 'ICMP' ? 'icmp' : 'any';
    const ports = (p.Port ?? 'ALL').toUpperCase();
    const ranges = ports === 'ALL' || ports === '' || protocol === 'any' || protocol === 'icmp' ? [null] : ports.split(',');
    for (const range of ranges) {
      const m = range ? /^(\d+)(?:-(\d+))?$/.exec(range.trim()) : null;
      out.push({ direction, protocol, fromPort: m ? Number(m[1]) : null, toPort: m ? Number(m[2] ?? m[1]) : null, cidr: p.CidrBlock || '0.0.0.0/0', description: p.PolicyDescription ?? '' });
    }
  }
  return out;
}
