import type * as EcsSdk from '@alicloud/ecs20140526';
import type * as OpenApiSdk from '@alicloud/openapi-client';
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
import { aliyunInstanceMetrics, aliyunInstancePrices, type AliyunMetricsHost } from './metrics';

export interface AliyunSdk {
  ecs: typeof EcsSdk;
  openapi: typeof OpenApiSdk;
}
type EcsClient = EcsSdk.default;
type EcsCtor = new (config: OpenApiSdk.Config) => EcsClient;
type Instance = EcsSdk.DescribeInstancesResponseBodyInstancesInstance;
type AnyRecord = Record<string, unknown>;

/** The VPC API's version (VPCs, vSwitches and EIPs are VPC's, not ECS's). */
const VPC_VERSION = '2016-04-28';

/** ECS instance status → Skydeck guest status. */
export const ALIYUN_STATUS: Record<string, string> = { Pending: 'starting', Starting: 'starting', Running: 'running', Stopping: 'stopping', Stopped: 'ready', Deleting: 'deleting', Deleted: 'deleted' };

const tagsOf = (t: { tagKey?: string; tagValue?: string }[] | undefined): Tags => Object.fromEntries((t ?? []).filter((x) => x.tagKey).map((x) => [x.tagKey!, x.tagValue ?? '']));
/** Alibaba's raw (VPC callApi) tags: {Tag:[{Key,Value}]} or {Tag:[{TagKey,TagValue}]}. */
const rawTags = (t: unknown): Tags => {
  const list = ((t as { Tag?: AnyRecord[] } | undefined)?.Tag ?? []) as AnyRecord[];
  return Object.fromEntries(list.map((x) => [String(x.Key ?? x.TagKey ?? ''), String(x.Value ?? x.TagValue ?? '')]).filter(([k]) => k));
};
/** Alibaba's times are ISO 8601 with minutes or seconds ("2024-01-01T00:00Z"): normalised, or null. */
const iso = (s: string | undefined | null): string | null => {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
};
const lower = (s: string | undefined | null, def = 'unknown') => (s ? s.toLowerCase().replace(/_/g, '-') : def);
const protoOf = (p: string | undefined): CloudSecurityRule['protocol'] => {
  const x = (p ?? '').toLowerCase();
  return x === 'tcp' || x === 'udp' || x === 'icmp' ? x : 'any';
};
const portsOf = (r: string | undefined): [number | null, number | null] => {
  const m = /^(-?\d+)\/(-?\d+)$/.exec(r ?? '');
  if (!m || Number(m[1]) < 0) return [null, null];
  return [Number(m[1]), Number(m[2])];
};
/** The next page number while a PageNumber/PageSize listing has more. */
const nextPage = (page: number, size: number, total: number | undefined, got: number): string | null => (got > 0 && (total === undefined ? got >= size : page * size < total) ? String(page + 1) : null);
const pageOf = (token: string | null) => {
  const n = token ? Number(token) : 1;
  return Number.isInteger(n) && n >= 1 ? n : 1;
};
const clamp = (n: number | undefined, max: number) => Math.max(1, Math.min(max, n ?? max));

/** Turns what the SDK throws into a CloudError with Alibaba Cloud's own code, HTTP status and x-acs-retry-after. */
export function aliyunError(e: unknown): unknown {
  if (e instanceof CloudError || ApiError.is(e)) return e;
  const x = e as { name?: string; code?: string; message?: string; statusCode?: number; retryAfter?: number; data?: { statusCode?: number; Code?: string; Message?: string } };
  if (x?.name === 'AbortError') return e;
  const status = x?.statusCode ?? x?.data?.statusCode ?? null;
  // The cloud's Code; a connection failure's errno code (ECONNRESET …); else the error's name.
  const code = x?.code && x.code !== 'undefined' ? String(x.code) : (x?.data?.Code ?? x?.name ?? 'Unknown');
  // "code: 400, Request was denied … request id: 6F…": the cloud's message with its request id, without the status prefix.
  const message = String(x?.data?.Message ?? x?.message ?? e).replace(/^code: \d+, /, '');
  const retryAfter = typeof x?.retryAfter === 'number' && x.retryAfter >= 0 ? x.retryAfter / 1000 : null;
  return new CloudError('aliyun', code, message, status, retryAfter);
}

export class AliyunSession extends BaseCloudSession {
  private readonly ecsClients = new Map<string, EcsClient>();
  private readonly vpcClients = new Map<string, EcsClient>();
  private readonly Ecs: EcsCtor;

  constructor(
    private readonly sdk: AliyunSdk,
    private readonly config: CloudAccountConfig,
  ) {
    super();
    // The module's default export is the client class (CommonJS interop may wrap it once more).
    const d = sdk.ecs.default as unknown as EcsCtor | { default: EcsCtor };
    this.Ecs = typeof d === 'function' ? d : d.default;
  }

  /** Config for a region: the account's endpoint override (a URL: host and protocol) or the SDK's own endpoint. */
  private clientConfig(region: string, product: 'ecs' | 'vpc'): OpenApiSdk.Config {
    const Config = this.sdk.openapi.Config ?? (this.sdk.openapi as unknown as { default: typeof OpenApiSdk }).default.Config;
    let endpoint: string | undefined;
    let protocol: string | undefined;
    if (this.config.endpoint) {
      const u = new URL(this.config.endpoint);
      endpoint = u.host;
      protocol = u.protocol === 'http:' ? 'HTTP' : 'HTTPS';
    } else if (product === 'vpc') {
      endpoint = `vpc.${region}.aliyuncs.com`;
    }
    return new Config({
      accessKeyId: this.config.credentials.accessKeyId ?? '',
      accessKeySecret: this.config.credentials.accessKeySecret ?? '',
      regionId: region,
      ...(endpoint ? { endpoint } : {}),
      ...(protocol ? { protocol } : {}),
      // Timeouts in ms; retries are ours (withRetry honours x-acs-retry-after and the task shows each wait).
      connectTimeout: 10_000,
      readTimeout: 60_000,
    });
  }

  private ecs(region: string): EcsClient {
    let c = this.ecsClients.get(region);
    if (!c) {
      c = new this.Ecs(this.clientConfig(region, 'ecs'));
      this.ecsClients.set(region, c);
    }
    return c;
  }

  private vpcClient(region: string): EcsClient {
    let c = this.vpcClients.get(region);
    if (!c) {
      c = new this.Ecs(this.clientConfig(region, 'vpc'));
      this.vpcClients.set(region, c);
    }
    return c;
  }

  /** The region used for account-wide calls (listing regions, validating). */
  private get home(): string {
    return this.config.credentials.homeRegion || 'cn-hangzhou';
  }

  private call<O>(fn: () => Promise<O>, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<O> {
    return withRetry(
      async () => {
        if (signal?.aborted) throw signal.reason;
        try {
          return await fn();
        } catch (e) {
          throw aliyunError(e);
        }
      },
      { signal, onRetry },
    );
  }

  /** An ECS call: the SDK method's body. */
  private async ecsCall<B>(region: string, fn: (c: EcsClient) => Promise<{ body?: B }>, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<B> {
    const r = await this.call(() => fn(this.ecs(region)), signal, onRetry);
    return (r.body ?? {}) as B;
  }

  /** A VPC (2016-04-28) RPC call through the client's generic callApi; answers the raw JSON body. */
  private async vpc(region: string, action: string, query: Record<string, string | number | undefined>, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<AnyRecord> {
    const q: Record<string, string> = { RegionId: region };
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q[k] = String(v);
    const params = { action, version: VPC_VERSION, protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' };
    type CallApi = (p: unknown, r: unknown, rt: unknown) => Promise<{ body?: AnyRecord }>;
    const r = await this.call(() => (this.vpcClient(region).callApi as unknown as CallApi).call(this.vpcClient(region), params, { query: q }, {}), signal, onRetry);
    return r.body ?? {};
  }

  override async validate(signal?: AbortSignal) {
    await this.ecsCall(this.home, (c) => c.describeRegions(new this.sdk.ecs.DescribeRegionsRequest({})), signal);
    return { account: this.config.credentials.accessKeyId ?? null };
  }

  override async listRegions(signal?: AbortSignal): Promise<CloudRegion[]> {
    const b = await this.ecsCall<EcsSdk.DescribeRegionsResponseBody>(this.home, (c) => c.describeRegions(new this.sdk.ecs.DescribeRegionsRequest({})), signal);
    return (b.regions?.region ?? []).filter((r) => r.regionId).map((r) => ({ id: r.regionId!, name: r.regionId! }));
  }

  override async listZones(region: string, signal?: AbortSignal): Promise<CloudZone[]> {
    const b = await this.ecsCall<EcsSdk.DescribeZonesResponseBody>(region, (c) => c.describeZones(new this.sdk.ecs.DescribeZonesRequest({ regionId: region })), signal);
    return (b.zones?.zone ?? []).filter((z) => z.zoneId).map((z) => ({ id: z.zoneId!, name: z.zoneId!, status: 'available' }));
  }

  override async listVpcs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudVpc>> {
    const page = pageOf(token);
    const size = clamp(o.pageSize, 50);
    const b = await this.vpc(region, 'DescribeVpcs', { PageNumber: page, PageSize: size }, o.signal, o.onRetry);
    const items = (((b.Vpcs as AnyRecord | undefined)?.Vpc ?? []) as AnyRecord[]).map((v) => ({
      id: String(v.VpcId),
      name: String(v.VpcName || v.VpcId),
      cidr: String(v.CidrBlock ?? ''),
      status: lower(v.Status as string, 'available'),
      tags: rawTags(v.Tags),
    }));
    return { items, next: nextPage(page, size, b.TotalCount as number | undefined, items.length) };
  }

  override async listSubnets(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSubnet>> {
    const page = pageOf(token);
    const size = clamp(o.pageSize, 50);
    const b = await this.vpc(region, 'DescribeVSwitches', { PageNumber: page, PageSize: size }, o.signal, o.onRetry);
    const items = (((b.VSwitches as AnyRecord | undefined)?.VSwitch ?? []) as AnyRecord[]).map((s) => ({
      id: String(s.VSwitchId),
      vpcId: String(s.VpcId),
      zone: (s.ZoneId as string | undefined) ?? null,
      name: String(s.VSwitchName || s.VSwitchId),
      cidr: String(s.CidrBlock ?? ''),
      status: lower(s.Status as string, 'available'),
      tags: rawTags(s.Tags),
    }));
    return { items, next: nextPage(page, size, b.TotalCount as number | undefined, items.length) };
  }

  override async listSecurityGroups(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSecurityGroup>> {
    const b = await this.ecsCall<EcsSdk.DescribeSecurityGroupsResponseBody>(
      region,
      (c) => c.describeSecurityGroups(new this.sdk.ecs.DescribeSecurityGroupsRequest({ regionId: region, maxResults: clamp(o.pageSize, 100), nextToken: token ?? undefined })),
      o.signal,
      o.onRetry,
    );
    const items: CloudSecurityGroup[] = [];
    // The rules are the group's attribute: one call per group.
    for (const g of b.securityGroups?.securityGroup ?? []) {
      const a = await this.ecsCall<EcsSdk.DescribeSecurityGroupAttributeResponseBody>(
        region,
        (c) => c.describeSecurityGroupAttribute(new this.sdk.ecs.DescribeSecurityGroupAttributeRequest({ regionId: region, securityGroupId: g.securityGroupId })),
        o.signal,
        o.onRetry,
      );
      const rules = (a.permissions?.permission ?? []).map((p): CloudSecurityRule => {
        const [fromPort, toPort] = portsOf(p.portRange);
        const out = p.direction === 'egress';
        return { direction: out ? 'out' : 'in', protocol: protoOf(p.ipProtocol), fromPort, toPort, cidr: (out ? p.destCidrIp : p.sourceCidrIp) || '0.0.0.0/0', description: p.description ?? '' };
      });
      items.push({ id: g.securityGroupId!, name: g.securityGroupName || g.securityGroupId!, description: g.description ?? '', vpcId: g.vpcId || null, rules, tags: tagsOf(g.tags?.tag?.map((t) => ({ tagKey: t.tagKey, tagValue: t.tagValue }))) });
    }
    return { items, next: b.nextToken || null };
  }

  private instance(i: Instance): CloudInstance {
    const tags = tagsOf(i.tags?.tag);
    const privateIp = i.vpcAttributes?.privateIpAddress?.ipAddress?.[0] ?? i.innerIpAddress?.ipAddress?.[0] ?? null;
    const nics = (i.networkInterfaces?.networkInterface ?? [])
      .filter((n) => n.macAddress)
      .map((n, k) => ({ mac: n.macAddress!, ip: n.primaryIpAddress ?? (k === 0 ? privateIp : null), subnetId: k === 0 ? (i.vpcAttributes?.VSwitchId ?? null) : null }));
    return {
      id: i.instanceId!,
      name: i.instanceName || i.instanceId!,
      status: ALIYUN_STATUS[i.status ?? ''] ?? 'unknown',
      zone: i.zoneId ?? null,
      instanceType: i.instanceType ?? '',
      vcpu: i.cpu ?? 0,
      memoryMb: i.memory ?? 0,
      os: i.OSName ?? i.OSType ?? '',
      imageId: i.imageId ?? null,
      nics,
      publicIp: i.eipAddress?.ipAddress || i.publicIpAddress?.ipAddress?.[0] || null,
      tags,
      createdAt: iso(i.creationTime),
    };
  }

  override async listInstances(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudInstance>> {
    const b = await this.ecsCall<EcsSdk.DescribeInstancesResponseBody>(
      region,
      (c) => c.describeInstances(new this.sdk.ecs.DescribeInstancesRequest({ regionId: region, maxResults: clamp(o.pageSize, 100), nextToken: token ?? undefined })),
      o.signal,
      o.onRetry,
    );
    return { items: (b.instances?.instance ?? []).map((i) => this.instance(i)), next: b.nextToken || null };
  }

  private async describeOne(region: string, id: string, signal?: AbortSignal): Promise<Instance | null> {
    const b = await this.ecsCall<EcsSdk.DescribeInstancesResponseBody>(region, (c) => c.describeInstances(new this.sdk.ecs.DescribeInstancesRequest({ regionId: region, instanceIds: JSON.stringify([id]) })), signal);
    return b.instances?.instance?.[0] ?? null;
  }

  override async getInstance(region: string, id: string, signal?: AbortSignal): Promise<CloudInstance | null> {
    try {
      const i = await this.describeOne(region, id, signal);
      return i ? this.instance(i) : null;
    } catch (e) {
      if (e instanceof CloudError && e.cloudCode === 'InvalidInstanceId.NotFound') return null;
      throw e;
    }
  }

  override async startInstance(region: string, id: string, signal?: AbortSignal) {
    await this.ecsCall(region, (c) => c.startInstance(new this.sdk.ecs.StartInstanceRequest({ instanceId: id })), signal);
  }
  override async stopInstance(region: string, id: string, force: boolean, signal?: AbortSignal) {
    await this.ecsCall(region, (c) => c.stopInstance(new this.sdk.ecs.StopInstanceRequest({ instanceId: id, forceStop: force || undefined })), signal);
  }
  override async rebootInstance(region: string, id: string, signal?: AbortSignal) {
    await this.ecsCall(region, (c) => c.rebootInstance(new this.sdk.ecs.RebootInstanceRequest({ instanceId: id })), signal);
  }
  override async deleteInstance(region: string, id: string, signal?: AbortSignal) {
    const protectedErr = () =>
      new ApiError('conflict', `instance ${id} has deletion protection on (DeletionProtection): turn it off in Alibaba Cloud first`, { reason: 'termination_protection', cloudCode: 'InvalidOperation.DeletionProtection' });
    const i = await this.describeOne(region, id, signal);
    if (!i) return; // already gone
    if (i.deletionProtection) throw protectedErr();
    try {
      // Force: a running instance is released as EC2's terminate does (ECS otherwise wants it stopped first).
      await this.ecsCall(region, (c) => c.deleteInstance(new this.sdk.ecs.DeleteInstanceRequest({ instanceId: id, force: true })), signal);
    } catch (e) {
      if (e instanceof CloudError && e.cloudCode === 'InvalidOperation.DeletionProtection') throw protectedErr();
      throw e;
    }
  }
  override async resizeInstance(region: string, id: string, instanceType: string, signal?: AbortSignal) {
    await this.ecsCall(region, (c) => c.modifyInstanceSpec(new this.sdk.ecs.ModifyInstanceSpecRequest({ instanceId: id, instanceType })), signal);
  }
  override async createInstance(region: string, s: CreateInstanceSpec, signal?: AbortSignal): Promise<CloudInstance> {
    const E = this.sdk.ecs;
    const tags = Object.entries(s.tags ?? {}).map(([key, value]) => new E.RunInstancesRequestTag({ key, value }));
    const b = await this.ecsCall<EcsSdk.RunInstancesResponseBody>(
      region,
      (c) =>
        c.runInstances(
          new E.RunInstancesRequest({
            regionId: region,
            imageId: s.imageId,
            instanceType: s.instanceType,
            vSwitchId: s.subnetId,
            securityGroupIds: s.securityGroupIds?.length ? s.securityGroupIds : undefined,
            instanceName: s.name,
            keyPairName: s.keyName || undefined,
            systemDisk: s.diskGb ? new E.RunInstancesRequestSystemDisk({ size: String(s.diskGb) }) : undefined,
            tag: tags.length ? tags : undefined,
            amount: 1,
          }),
        ),
      signal,
    );
    const id = b.instanceIdSets?.instanceIdSet?.[0];
    if (!id) throw new CloudError('aliyun', 'EmptyResponse', 'RunInstances answered no instance');
    const i = await this.getInstance(region, id, signal);
    if (!i) throw new CloudError('aliyun', 'InvalidInstanceId.NotFound', `the new instance ${id} is not listed`);
    return i;
  }
  override async consoleUrl(region: string, id: string, signal?: AbortSignal): Promise<string> {
    const b = await this.ecsCall<EcsSdk.DescribeInstanceVncUrlResponseBody>(region, (c) => c.describeInstanceVncUrl(new this.sdk.ecs.DescribeInstanceVncUrlRequest({ regionId: region, instanceId: id })), signal);
    if (!b.vncUrl) throw new CloudError('aliyun', 'EmptyResponse', 'DescribeInstanceVncUrl answered no URL');
    return b.vncUrl;
  }
  /** The console's WebSocket: valid 15 s and once; the instance's VNC server asks for its VNC password (ModifyInstanceVncPasswd). */
  override async vncConsole(region: string, id: string, signal?: AbortSignal): Promise<CloudVncConsole> {
    return { url: await this.consoleUrl(region, id, signal), validMs: 15_000, passwordRequired: true };
  }

  override async listDisks(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudDisk>> {
    const b = await this.ecsCall<EcsSdk.DescribeDisksResponseBody>(
      region,
      (c) => c.describeDisks(new this.sdk.ecs.DescribeDisksRequest({ regionId: region, maxResults: clamp(o.pageSize, 500), nextToken: token ?? undefined })),
      o.signal,
      o.onRetry,
    );
    return {
      items: (b.disks?.disk ?? []).map((d) => ({
        id: d.diskId!,
        name: d.diskName || d.diskId!,
        sizeGb: d.size ?? 0,
        zone: d.zoneId ?? null,
        status: lower(d.status),
        instanceId: d.instanceId || null,
        device: d.device || null,
        bootable: d.type === 'system',
        type: d.category ?? '',
        tags: tagsOf(d.tags?.tag),
        createdAt: iso(d.creationTime),
      })),
      next: b.nextToken || null,
    };
  }
  override async attachDisk(region: string, diskId: string, instanceId: string, _device: string, signal?: AbortSignal) {
    // ECS picks the device name itself.
    await this.ecsCall(region, (c) => c.attachDisk(new this.sdk.ecs.AttachDiskRequest({ diskId, instanceId })), signal);
  }
  override async detachDisk(region: string, diskId: string, signal?: AbortSignal) {
    const b = await this.ecsCall<EcsSdk.DescribeDisksResponseBody>(region, (c) => c.describeDisks(new this.sdk.ecs.DescribeDisksRequest({ regionId: region, diskIds: JSON.stringify([diskId]) })), signal);
    const d = b.disks?.disk?.[0];
    if (!d) throw new CloudError('aliyun', 'InvalidDiskId.NotFound', `disk ${diskId} does not exist`, 404);
    if (!d.instanceId) return; // not attached: nothing to do
    await this.ecsCall(region, (c) => c.detachDisk(new this.sdk.ecs.DetachDiskRequest({ diskId, instanceId: d.instanceId })), signal);
  }

  private snapshot(s: EcsSdk.DescribeSnapshotsResponseBodySnapshotsSnapshot): CloudSnapshot {
    return { id: s.snapshotId!, name: s.snapshotName || s.snapshotId!, diskId: s.sourceDiskId || null, sizeGb: Number(s.sourceDiskSize ?? 0) || 0, status: lower(s.status), tags: tagsOf(s.tags?.tag), createdAt: iso(s.creationTime) };
  }
  override async listSnapshots(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSnapshot>> {
    const b = await this.ecsCall<EcsSdk.DescribeSnapshotsResponseBody>(
      region,
      (c) => c.describeSnapshots(new this.sdk.ecs.DescribeSnapshotsRequest({ regionId: region, maxResults: clamp(o.pageSize, 100), nextToken: token ?? undefined })),
      o.signal,
      o.onRetry,
    );
    return { items: (b.snapshots?.snapshot ?? []).map((s) => this.snapshot(s)), next: b.nextToken || null };
  }
  override async createSnapshot(region: string, diskId: string, name: string, signal?: AbortSignal): Promise<CloudSnapshot> {
    const r = await this.ecsCall<EcsSdk.CreateSnapshotResponseBody>(region, (c) => c.createSnapshot(new this.sdk.ecs.CreateSnapshotRequest({ diskId, snapshotName: name })), signal);
    if (!r.snapshotId) throw new CloudError('aliyun', 'EmptyResponse', 'CreateSnapshot answered no snapshot');
    const b = await this.ecsCall<EcsSdk.DescribeSnapshotsResponseBody>(region, (c) => c.describeSnapshots(new this.sdk.ecs.DescribeSnapshotsRequest({ regionId: region, snapshotIds: JSON.stringify([r.snapshotId]) })), signal);
    const s = b.snapshots?.snapshot?.[0];
    return s ? this.snapshot(s) : { id: r.snapshotId, name, diskId, sizeGb: 0, status: 'progressing', tags: {}, createdAt: null };
  }
  override async deleteSnapshot(region: string, snapshotId: string, signal?: AbortSignal) {
    await this.ecsCall(region, (c) => c.deleteSnapshot(new this.sdk.ecs.DeleteSnapshotRequest({ snapshotId })), signal);
  }

  override async listImages(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudImage>> {
    const page = pageOf(token);
    const size = clamp(o.pageSize, 100);
    const b = await this.ecsCall<EcsSdk.DescribeImagesResponseBody>(region, (c) => c.describeImages(new this.sdk.ecs.DescribeImagesRequest({ regionId: region, pageNumber: page, pageSize: size })), o.signal, o.onRetry);
    const items = (b.images?.image ?? []).map((m) => ({ id: m.imageId!, name: m.imageName || m.imageId!, os: m.OSName || m.platform || m.OSType || '', sizeGb: m.size ?? 0, status: lower(m.status), tags: tagsOf(m.tags?.tag), createdAt: iso(m.creationTime) }));
    return { items, next: nextPage(page, size, b.totalCount, items.length) };
  }

  override async listEips(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudEip>> {
    const page = pageOf(token);
    const size = clamp(o.pageSize, 100);
    const b = await this.vpc(region, 'DescribeEipAddresses', { PageNumber: page, PageSize: size }, o.signal, o.onRetry);
    const items = (((b.EipAddresses as AnyRecord | undefined)?.EipAddress ?? []) as AnyRecord[]).map((a) => {
      const instanceId = (a.InstanceId as string | undefined) || null;
      return {
        id: String(a.AllocationId),
        ip: String(a.IpAddress ?? ''),
        instanceId,
        associationId: instanceId,
        bandwidthMbps: Number(a.Bandwidth ?? 0) || 0,
        status: a.Status === 'InUse' || instanceId ? 'associated' : lower(a.Status as string, 'available'),
        tags: rawTags(a.Tags),
      };
    });
    return { items, next: nextPage(page, size, b.TotalCount as number | undefined, items.length) };
  }
  override async associateEip(region: string, eipId: string, instanceId: string, signal?: AbortSignal) {
    await this.vpc(region, 'AssociateEipAddress', { AllocationId: eipId, InstanceId: instanceId, InstanceType: 'EcsInstance' }, signal);
  }
  override async dissociateEip(region: string, eipId: string, signal?: AbortSignal) {
    const b = await this.vpc(region, 'DescribeEipAddresses', { AllocationId: eipId }, signal);
    const a = (((b.EipAddresses as AnyRecord | undefined)?.EipAddress ?? []) as AnyRecord[])[0];
    if (!a) throw new CloudError('aliyun', 'InvalidAllocationId.NotFound', `EIP ${eipId} does not exist`, 404);
    if (!a.InstanceId) return; // not associated: nothing to do
    await this.vpc(region, 'UnassociateEipAddress', { AllocationId: eipId, InstanceId: String(a.InstanceId), InstanceType: (a.InstanceType as string) || 'EcsInstance' }, signal);
  }

  override async listKeypairs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudKeypair>> {
    const page = pageOf(token);
    const size = clamp(o.pageSize, 50);
    const b = await this.ecsCall<EcsSdk.DescribeKeyPairsResponseBody>(region, (c) => c.describeKeyPairs(new this.sdk.ecs.DescribeKeyPairsRequest({ regionId: region, pageNumber: page, pageSize: size })), o.signal, o.onRetry);
    const items = (b.keyPairs?.keyPair ?? []).map((k) => ({ id: k.keyPairName!, name: k.keyPairName!, fingerprint: k.keyPairFingerPrint ?? '', publicKey: k.publicKey ?? '', tags: tagsOf(k.tags?.tag) }));
    return { items, next: nextPage(page, size, b.totalCount, items.length) };
  }

  /** A rule as ECS takes it: protocol in capitals, "from/to" ports (-1/-1 for any and ICMP). */
  private permission(rule: IngressRule) {
    const anyPort = rule.protocol === 'any' || rule.protocol === 'icmp';
    return { ipProtocol: rule.protocol === 'any' ? 'ALL' : rule.protocol.toUpperCase(), portRange: anyPort ? '-1/-1' : `${rule.fromPort}/${rule.toPort}`, sourceCidrIp: rule.cidr };
  }
  override async authorizeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    const E = this.sdk.ecs;
    const p = new E.AuthorizeSecurityGroupRequestPermissions({ ...this.permission(rule), ...(rule.description ? { description: rule.description } : {}) });
    await this.ecsCall(region, (c) => c.authorizeSecurityGroup(new E.AuthorizeSecurityGroupRequest({ regionId: region, securityGroupId: groupId, permissions: [p] })), signal);
  }
  override async revokeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    const E = this.sdk.ecs;
    const p = new E.RevokeSecurityGroupRequestPermissions(this.permission(rule));
    await this.ecsCall(region, (c) => c.revokeSecurityGroup(new E.RevokeSecurityGroupRequest({ regionId: region, securityGroupId: groupId, permissions: [p] })), signal);
  }

  // CloudMonitor metrics and ECS prices (./metrics.ts).
  private readonly cmsClients = new Map<string, unknown>();
  private get metricsHost(): AliyunMetricsHost {
    return { config: (r) => this.clientConfig(r, 'ecs'), call: (fn, s) => this.call(fn, s), ecsCall: (r, fn, s) => this.ecsCall(r, fn, s), ecs: this.sdk.ecs, cmsClients: this.cmsClients };
  }
  override instanceMetrics(region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal) {
    return aliyunInstanceMetrics(this.metricsHost, region, instanceIds, since, until, signal);
  }
  override instancePrices(region: string, instanceTypes: string[], signal?: AbortSignal) {
    return aliyunInstancePrices(this.metricsHost, region, instanceTypes, signal);
  }

  override close() {
    this.cmsClients.clear();
    this.ecsClients.clear();
    this.vpcClients.clear();
  }
}
