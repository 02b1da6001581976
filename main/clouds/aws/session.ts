import type * as Ec2 from '@aws-sdk/client-ec2';
import type * as CloudWatch from '@aws-sdk/client-cloudwatch';
import type * as Pricing from '@aws-sdk/client-pricing';
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
  type CloudMetricPoint,
  type CloudPrice,
  type CloudRegion,
  type CloudSecurityGroup,
  type CloudSecurityRule,
  type CloudSnapshot,
  type CloudSubnet,
  type CloudVpc,
  type CloudZone,
  type CreateInstanceSpec,
  type IngressRule,
  type ListOptions,
  type Page,
  type Tags,
} from '../types';
import { withRetry } from '../retry';
import { INSTANCES_PER_CALL, PRICING_REGION, TYPES_PER_PRICE_CALL, chunk, metricBatch, metricPoints, metricWindow, parsePriceItem, priceFilters } from './metrics';

type Sdk = typeof Ec2;

/** EC2 instance state → Skydeck guest status. */
export const AWS_STATUS: Record<string, string> = { pending: 'starting', running: 'running', stopping: 'stopping', stopped: 'ready', 'shutting-down': 'deleting', terminated: 'deleted' };

/** vCPUs and memory of common instance types (the listing gives CPU options, not memory). */
const TYPE_MEMORY_MB: Record<string, number> = {
  't3.nano': 512, 't3.micro': 1024, 't3.small': 2048, 't3.medium': 4096, 't3.large': 8192, 't3.xlarge': 16384, 't3.2xlarge': 32768,
  'm5.large': 8192, 'm5.xlarge': 16384, 'm5.2xlarge': 32768, 'm5.4xlarge': 65536, 'c5.large': 4096, 'c5.xlarge': 8192, 'c5.2xlarge': 16384, 'c5.4xlarge': 32768,
  'r5.large': 16384, 'r5.xlarge': 32768, 'r5.2xlarge': 65536,
};

const tagsOf = (t: { Key?: string; Value?: string }[] | undefined): Tags => Object.fromEntries((t ?? []).filter((x) => x.Key).map((x) => [x.Key!, x.Value ?? '']));
const iso = (d: Date | undefined | null) => (d ? d.toISOString() : null);
const protoOf = (p: string | undefined): CloudSecurityRule['protocol'] => (p === 'tcp' || p === 'udp' || p === 'icmp' ? p : p === '6' ? 'tcp' : p === '17' ? 'udp' : p === '1' ? 'icmp' : 'any');

/** Turns what the SDK throws into a CloudError with EC2's own code, HTTP status and Retry-After. */
export function awsError(e: unknown): unknown {
  if (e instanceof CloudError || ApiError.is(e)) return e;
  const x = e as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } };
  if (x?.name === 'AbortError') return e;
  const status = x?.$metadata?.httpStatusCode ?? null;
  const ra = x?.$response?.headers?.['retry-after'];
  const retryAfter = ra !== undefined && /^\d+(\.\d+)?$/.test(ra) ? Number(ra) : null;
  const code = x?.Code ?? (status === null ? (x?.code ?? x?.name) : x?.name) ?? 'Unknown';
  return new CloudError('aws', code, x?.message ?? String(e), status, retryAfter);
}

/** Any AWS SDK v3 client (EC2, CloudWatch, Pricing): what `send` needs. */
interface SdkClient {
  send(cmd: never, o: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

export class AwsSession extends BaseCloudSession {
  private readonly clients = new Map<string, Ec2.EC2Client>();
  /** CloudWatch clients by region and the Pricing client: their SDKs are imported at the first use. */
  private readonly cwClients = new Map<string, CloudWatch.CloudWatchClient>();
  private pricingClient: Pricing.PricingClient | null = null;
  private cwSdk: Promise<typeof CloudWatch> | null = null;
  private pricingSdk: Promise<typeof Pricing> | null = null;

  constructor(
    private readonly sdk: Sdk,
    private readonly config: CloudAccountConfig,
  ) {
    super();
  }

  /**
   * What every SDK client of the account is built with: the region, the endpoint override (one URL for all services: a
   * proxy or fake tells them apart by the SigV4 credential scope's service, ec2 / monitoring / pricing), the keys.
   */
  private clientConfig(region: string) {
    return {
      region,
      ...(this.config.endpoint ? { endpoint: this.config.endpoint } : {}),
      credentials: { accessKeyId: this.config.credentials.accessKeyId ?? '', secretAccessKey: this.config.credentials.secretAccessKey ?? '' },
      // Retries are ours (withRetry): throttling honours Retry-After, and the task shows each wait.
      maxAttempts: 1,
    };
  }

  private client(region: string): Ec2.EC2Client {
    let c = this.clients.get(region);
    if (!c) {
      c = new this.sdk.EC2Client(this.clientConfig(region));
      this.clients.set(region, c);
    }
    return c;
  }

  private async cloudWatch(region: string): Promise<{ sdk: typeof CloudWatch; client: CloudWatch.CloudWatchClient }> {
    this.cwSdk ??= import('@aws-sdk/client-cloudwatch');
    const sdk = await this.cwSdk;
    let client = this.cwClients.get(region);
    if (!client) {
      client = new sdk.CloudWatchClient(this.clientConfig(region));
      this.cwClients.set(region, client);
    }
    return { sdk, client };
  }

  /** The Price List Query API is served from us-east-1 (api.pricing.us-east-1.amazonaws.com) for every region's prices. */
  private async pricing(): Promise<{ sdk: typeof Pricing; client: Pricing.PricingClient }> {
    this.pricingSdk ??= import('@aws-sdk/client-pricing');
    const sdk = await this.pricingSdk;
    this.pricingClient ??= new sdk.PricingClient(this.clientConfig(PRICING_REGION));
    return { sdk, client: this.pricingClient };
  }

  private sendWith<O>(client: SdkClient, cmd: unknown, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<O> {
    return withRetry(
      () =>
        (client.send(cmd as never, { abortSignal: signal }) as Promise<O>).catch((e: unknown) => {
          throw awsError(e);
        }),
      { signal, onRetry },
    );
  }

  /** The region used for account-wide calls (listing regions, validating). */
  private get home(): string {
    return this.config.credentials.homeRegion || 'us-east-1';
  }

  private send<O>(region: string, cmd: unknown, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<O> {
    return this.sendWith<O>(this.client(region) as unknown as SdkClient, cmd, signal, onRetry);
  }

  /**
   * CloudWatch GetMetricData, AWS/EC2 by InstanceId, 300 s periods: up to 100 instances (500 queries) per call, each
   * call paged by NextToken, every page retried on throttling (withRetry). See ./metrics.ts for the mapping.
   */
  override async instanceMetrics(region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal): Promise<CloudMetricPoint[]> {
    const ids = [...new Set(instanceIds)];
    if (!ids.length || until <= since) return [];
    const { sdk, client } = await this.cloudWatch(region);
    const { start, end } = metricWindow(since, until);
    const out: CloudMetricPoint[] = [];
    for (const part of chunk(ids, INSTANCES_PER_CALL)) {
      const batch = metricBatch(part);
      let token: string | undefined;
      do {
        const cmd = new sdk.GetMetricDataCommand({ MetricDataQueries: batch.queries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken: token });
        const r = await this.sendWith<CloudWatch.GetMetricDataCommandOutput>(client as unknown as SdkClient, cmd, signal);
        out.push(...metricPoints(batch, r.MetricDataResults, since, until));
        token = r.NextToken || undefined;
      } while (token);
    }
    return out.sort((a, b) => a.ts - b.ts || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  }

  /** Price List GetProducts (AmazonEC2; on-demand Linux, shared, no software, Used), 20 types per call, paged. */
  override async instancePrices(region: string, instanceTypes: string[], signal?: AbortSignal): Promise<CloudPrice[]> {
    const types = [...new Set(instanceTypes.filter(Boolean))];
    if (!types.length) return [];
    const { sdk, client } = await this.pricing();
    const found = new Map<string, CloudPrice>();
    for (const part of chunk(types, TYPES_PER_PRICE_CALL)) {
      const wanted = new Set(part);
      let token: string | undefined;
      do {
        const cmd = new sdk.GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: priceFilters(region, part), FormatVersion: 'aws_v1', MaxResults: 100, NextToken: token });
        const r = await this.sendWith<Pricing.GetProductsCommandOutput>(client as unknown as SdkClient, cmd, signal);
        for (const item of (r.PriceList ?? []) as unknown[]) {
          const p = parsePriceItem(item, wanted);
          if (p && !found.has(p.instanceType)) found.set(p.instanceType, p);
        }
        token = r.NextToken || undefined;
      } while (token);
    }
    return types.flatMap((t) => (found.has(t) ? [found.get(t)!] : []));
  }

  override async validate(signal?: AbortSignal) {
    await this.send<Ec2.DescribeRegionsCommandOutput>(this.home, new this.sdk.DescribeRegionsCommand({}), signal);
    return { account: this.config.credentials.accessKeyId ?? null };
  }

  override async listRegions(signal?: AbortSignal): Promise<CloudRegion[]> {
    const r = await this.send<Ec2.DescribeRegionsCommandOutput>(this.home, new this.sdk.DescribeRegionsCommand({}), signal);
    return (r.Regions ?? []).map((x) => ({ id: x.RegionName!, name: x.RegionName! }));
  }

  override async listZones(region: string, signal?: AbortSignal): Promise<CloudZone[]> {
    const r = await this.send<Ec2.DescribeAvailabilityZonesCommandOutput>(region, new this.sdk.DescribeAvailabilityZonesCommand({}), signal);
    return (r.AvailabilityZones ?? []).map((z) => ({ id: z.ZoneName!, name: z.ZoneName!, status: z.State === 'available' ? 'available' : (z.State ?? 'unknown') }));
  }

  override async listVpcs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudVpc>> {
    const r = await this.send<Ec2.DescribeVpcsCommandOutput>(region, new this.sdk.DescribeVpcsCommand({ MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    return { items: (r.Vpcs ?? []).map((v) => ({ id: v.VpcId!, name: tagsOf(v.Tags).Name ?? v.VpcId!, cidr: v.CidrBlock ?? '', status: v.State ?? 'available', tags: tagsOf(v.Tags) })), next: r.NextToken ?? null };
  }

  override async listSubnets(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSubnet>> {
    const r = await this.send<Ec2.DescribeSubnetsCommandOutput>(region, new this.sdk.DescribeSubnetsCommand({ MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    return {
      items: (r.Subnets ?? []).map((s) => ({ id: s.SubnetId!, vpcId: s.VpcId!, zone: s.AvailabilityZone ?? null, name: tagsOf(s.Tags).Name ?? s.SubnetId!, cidr: s.CidrBlock ?? '', status: s.State ?? 'available', tags: tagsOf(s.Tags) })),
      next: r.NextToken ?? null,
    };
  }

  override async listSecurityGroups(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSecurityGroup>> {
    const r = await this.send<Ec2.DescribeSecurityGroupsCommandOutput>(region, new this.sdk.DescribeSecurityGroupsCommand({ MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    const rules = (dir: 'in' | 'out', perms: Ec2.IpPermission[] | undefined): CloudSecurityRule[] =>
      (perms ?? []).flatMap((p) =>
        (p.IpRanges?.length ? p.IpRanges : [{ CidrIp: '0.0.0.0/0', Description: '' }]).map((rg) => ({
          direction: dir,
          protocol: protoOf(p.IpProtocol),
          fromPort: p.FromPort ?? null,
          toPort: p.ToPort ?? null,
          cidr: rg.CidrIp ?? '0.0.0.0/0',
          description: rg.Description ?? '',
        })),
      );
    return {
      items: (r.SecurityGroups ?? []).map((g) => ({ id: g.GroupId!, name: g.GroupName ?? g.GroupId!, description: g.Description ?? '', vpcId: g.VpcId ?? null, rules: [...rules('in', g.IpPermissions), ...rules('out', g.IpPermissionsEgress)], tags: tagsOf(g.Tags) })),
      next: r.NextToken ?? null,
    };
  }

  private instance(i: Ec2.Instance): CloudInstance {
    const tags = tagsOf(i.Tags);
    const type = i.InstanceType ?? '';
    return {
      id: i.InstanceId!,
      name: tags.Name || i.InstanceId!,
      status: AWS_STATUS[i.State?.Name ?? ''] ?? 'unknown',
      zone: i.Placement?.AvailabilityZone ?? null,
      instanceType: type,
      vcpu: (i.CpuOptions?.CoreCount ?? 1) * (i.CpuOptions?.ThreadsPerCore ?? 1),
      memoryMb: TYPE_MEMORY_MB[type] ?? 0,
      os: i.PlatformDetails ?? i.Platform ?? '',
      imageId: i.ImageId ?? null,
      nics: (i.NetworkInterfaces ?? []).filter((n) => n.MacAddress).map((n) => ({ mac: n.MacAddress!, ip: n.PrivateIpAddress ?? null, subnetId: n.SubnetId ?? null })),
      publicIp: i.PublicIpAddress ?? null,
      tags,
      createdAt: iso(i.LaunchTime),
    };
  }

  override async listInstances(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudInstance>> {
    const r = await this.send<Ec2.DescribeInstancesCommandOutput>(region, new this.sdk.DescribeInstancesCommand({ MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    const items: CloudInstance[] = [];
    for (const res of r.Reservations ?? []) for (const i of res.Instances ?? []) if (i.State?.Name !== 'terminated') items.push(this.instance(i));
    return { items, next: r.NextToken ?? null };
  }

  override async getInstance(region: string, id: string, signal?: AbortSignal): Promise<CloudInstance | null> {
    try {
      const r = await this.send<Ec2.DescribeInstancesCommandOutput>(region, new this.sdk.DescribeInstancesCommand({ InstanceIds: [id] }), signal);
      const i = r.Reservations?.[0]?.Instances?.[0];
      return i && i.State?.Name !== 'terminated' ? this.instance(i) : null;
    } catch (e) {
      if (e instanceof CloudError && e.cloudCode === 'InvalidInstanceID.NotFound') return null;
      throw e;
    }
  }

  override async startInstance(region: string, id: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.StartInstancesCommand({ InstanceIds: [id] }), signal);
  }
  override async stopInstance(region: string, id: string, force: boolean, signal?: AbortSignal) {
    await this.send(region, new this.sdk.StopInstancesCommand({ InstanceIds: [id], Force: force || undefined }), signal);
  }
  override async rebootInstance(region: string, id: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.RebootInstancesCommand({ InstanceIds: [id] }), signal);
  }
  override async deleteInstance(region: string, id: string, signal?: AbortSignal) {
    const a = await this.send<Ec2.DescribeInstanceAttributeCommandOutput>(region, new this.sdk.DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'disableApiTermination' }), signal);
    if (a.DisableApiTermination?.Value) {
      throw new ApiError('conflict', `instance ${id} has termination protection on (DisableApiTermination): turn it off in AWS first`, { reason: 'termination_protection', cloudCode: 'DisableApiTermination' });
    }
    await this.send(region, new this.sdk.TerminateInstancesCommand({ InstanceIds: [id] }), signal);
  }
  override async resizeInstance(region: string, id: string, instanceType: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: instanceType } }), signal);
  }
  override async createInstance(region: string, s: CreateInstanceSpec, signal?: AbortSignal): Promise<CloudInstance> {
    const r = await this.send<Ec2.RunInstancesCommandOutput>(
      region,
      new this.sdk.RunInstancesCommand({
        ImageId: s.imageId,
        InstanceType: s.instanceType as Ec2._InstanceType,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: s.subnetId,
        SecurityGroupIds: s.securityGroupIds?.length ? s.securityGroupIds : undefined,
        KeyName: s.keyName || undefined,
        BlockDeviceMappings: s.diskGb ? [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: s.diskGb, VolumeType: 'gp3', DeleteOnTermination: true } }] : undefined,
        TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries({ ...s.tags, Name: s.name }).map(([Key, Value]) => ({ Key, Value })) }],
      }),
      signal,
    );
    const i = r.Instances?.[0];
    if (!i) throw new CloudError('aws', 'EmptyResponse', 'RunInstances answered no instance');
    return this.instance(i);
  }

  override async listDisks(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudDisk>> {
    const r = await this.send<Ec2.DescribeVolumesCommandOutput>(region, new this.sdk.DescribeVolumesCommand({ MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    return {
      items: (r.Volumes ?? []).map((v) => {
        const a = v.Attachments?.[0];
        return { id: v.VolumeId!, name: tagsOf(v.Tags).Name ?? v.VolumeId!, sizeGb: v.Size ?? 0, zone: v.AvailabilityZone ?? null, status: v.State ?? 'unknown', instanceId: a?.InstanceId ?? null, device: a?.Device ?? null, bootable: a?.Device === '/dev/xvda' || a?.Device === '/dev/sda1', type: v.VolumeType ?? '', tags: tagsOf(v.Tags), createdAt: iso(v.CreateTime) };
      }),
      next: r.NextToken ?? null,
    };
  }
  override async attachDisk(region: string, diskId: string, instanceId: string, device: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.AttachVolumeCommand({ VolumeId: diskId, InstanceId: instanceId, Device: device }), signal);
  }
  override async detachDisk(region: string, diskId: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.DetachVolumeCommand({ VolumeId: diskId }), signal);
  }

  override async listSnapshots(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSnapshot>> {
    const r = await this.send<Ec2.DescribeSnapshotsCommandOutput>(region, new this.sdk.DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    return { items: (r.Snapshots ?? []).map((s) => this.snapshot(s)), next: r.NextToken ?? null };
  }
  private snapshot(s: Ec2.Snapshot | Ec2.CreateSnapshotCommandOutput): CloudSnapshot {
    return { id: s.SnapshotId!, name: tagsOf(s.Tags).Name ?? (s.Description || s.SnapshotId!), diskId: s.VolumeId ?? null, sizeGb: s.VolumeSize ?? 0, status: s.State ?? 'unknown', tags: tagsOf(s.Tags), createdAt: iso(s.StartTime) };
  }
  override async createSnapshot(region: string, diskId: string, name: string, signal?: AbortSignal): Promise<CloudSnapshot> {
    const r = await this.send<Ec2.CreateSnapshotCommandOutput>(region, new this.sdk.CreateSnapshotCommand({ VolumeId: diskId, Description: name, TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'Name', Value: name }] }] }), signal);
    return this.snapshot(r);
  }
  override async deleteSnapshot(region: string, snapshotId: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.DeleteSnapshotCommand({ SnapshotId: snapshotId }), signal);
  }

  override async listImages(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudImage>> {
    const r = await this.send<Ec2.DescribeImagesCommandOutput>(region, new this.sdk.DescribeImagesCommand({ Owners: ['self'], MaxResults: clamp(o.pageSize), NextToken: token ?? undefined }), o.signal, o.onRetry);
    return {
      items: (r.Images ?? []).map((m) => ({ id: m.ImageId!, name: m.Name ?? m.ImageId!, os: m.PlatformDetails ?? m.Platform ?? '', sizeGb: m.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize ?? 0, status: m.State ?? 'unknown', tags: tagsOf(m.Tags), createdAt: m.CreationDate ?? null })),
      next: r.NextToken ?? null,
    };
  }

  override async listEips(region: string, _token: string | null, o: ListOptions = {}): Promise<Page<CloudEip>> {
    // DescribeAddresses is not paginated.
    const r = await this.send<Ec2.DescribeAddressesCommandOutput>(region, new this.sdk.DescribeAddressesCommand({}), o.signal, o.onRetry);
    return {
      items: (r.Addresses ?? []).map((a) => ({ id: a.AllocationId ?? a.PublicIp!, ip: a.PublicIp ?? '', instanceId: a.InstanceId ?? null, associationId: a.AssociationId ?? null, bandwidthMbps: 0, status: a.AssociationId ? 'associated' : 'available', tags: tagsOf(a.Tags) })),
      next: null,
    };
  }
  override async associateEip(region: string, eipId: string, instanceId: string, signal?: AbortSignal) {
    await this.send(region, new this.sdk.AssociateAddressCommand({ AllocationId: eipId, InstanceId: instanceId }), signal);
  }
  override async dissociateEip(region: string, eipId: string, signal?: AbortSignal) {
    const r = await this.send<Ec2.DescribeAddressesCommandOutput>(region, new this.sdk.DescribeAddressesCommand({ AllocationIds: [eipId] }), signal);
    const assoc = r.Addresses?.[0]?.AssociationId;
    if (!assoc) return; // not associated: nothing to do
    await this.send(region, new this.sdk.DisassociateAddressCommand({ AssociationId: assoc }), signal);
  }

  override async listKeypairs(region: string, _token: string | null, o: ListOptions = {}): Promise<Page<CloudKeypair>> {
    const r = await this.send<Ec2.DescribeKeyPairsCommandOutput>(region, new this.sdk.DescribeKeyPairsCommand({}), o.signal, o.onRetry);
    return { items: (r.KeyPairs ?? []).map((k) => ({ id: k.KeyPairId ?? k.KeyName!, name: k.KeyName!, fingerprint: k.KeyFingerprint ?? '', publicKey: k.PublicKey ?? '', tags: tagsOf(k.Tags) })), next: null };
  }

  private permission(rule: IngressRule): Ec2.IpPermission {
    return { IpProtocol: rule.protocol === 'any' ? '-1' : rule.protocol, FromPort: rule.protocol === 'any' ? undefined : rule.fromPort, ToPort: rule.protocol === 'any' ? undefined : rule.toPort, IpRanges: [{ CidrIp: rule.cidr, ...(rule.description ? { Description: rule.description } : {}) }] };
  }
  override async authorizeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    await this.send(region, new this.sdk.AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [this.permission(rule)] }), signal);
  }
  override async revokeIngress(region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    await this.send(region, new this.sdk.RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [this.permission({ ...rule, description: undefined })] }), signal);
  }

  override close() {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
    for (const c of this.cwClients.values()) c.destroy();
    this.cwClients.clear();
    this.pricingClient?.destroy();
    this.pricingClient = null;
  }
}

/** EC2 takes 5–1000 per page. */
function clamp(n: number | undefined): number {
  return Math.max(5, Math.min(1000, n ?? 1000));
}
