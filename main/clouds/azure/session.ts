import type * as Identity from '@azure/identity';
import type * as Compute from '@azure/arm-compute';
import type * as ComputeApi from '@azure/arm-compute/api';
import type * as Network from '@azure/arm-network';
import type * as MetricsQuery from '@azure/monitor-query-metrics';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
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
import { AZURE_METRIC_INTERVAL, AZURE_VM_METRICS, METRIC_BATCH, METRIC_CONCURRENCY, PRICE_CONCURRENCY, RETAIL_API_VERSION, RETAIL_PRICES_URL, getJson, linuxPayAsYouGo, mapLimit, metricPoints, metricTimespan, retailFilter, type RetailItem } from './metrics';

export interface AzureSdk {
  identity: typeof Identity;
  compute: typeof Compute;
  computeApi: typeof ComputeApi;
  network: typeof Network;
}

/** Azure VM power state (instance view `PowerState/…`) → Skydeck guest status. */
export const AZURE_STATUS: Record<string, string> = { running: 'running', starting: 'starting', stopping: 'stopping', deallocating: 'stopping', stopped: 'ready', deallocated: 'ready', deleted: 'deleted', unknown: 'unknown' };

const ARM = 'https://management.azure.com';
const SUBSCRIPTIONS_API = '2022-12-01';
/** A shared listing page stays usable by the other regions of a sync for this long (ms). */
const PAGE_TTL_MS = 5 * 60_000;
/** A first page asked for this long after a pass started begins a new pass (ms). */
const PASS_MS = 60_000;

const lower = (s: string | undefined | null) => (s ?? '').toLowerCase();
const tagsOf = (t: Record<string, string> | undefined): Tags => ({ ...(t ?? {}) });
const iso = (d: Date | string | undefined | null) => (d ? new Date(d).toISOString() : null);
const sameLocation = (l: string | undefined, region: string) => lower(l).replace(/\s+/g, '') === region.toLowerCase();

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/…]` → resource group and name. */
export function parseArmId(id: string): { resourceGroup: string; name: string } {
  const m = /\/resourcegroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)/i.exec(id);
  if (!m) throw new ApiError('validation', `not an Azure resource id: ${id}`, { reason: 'bad_id' });
  return { resourceGroup: m[1]!, name: m[2]! };
}

/** Turns what the SDKs throw into a CloudError with ARM's (or Entra's AADSTS…) code, HTTP status and Retry-After. */
export function azureError(e: unknown): unknown {
  if (e instanceof CloudError || ApiError.is(e)) return e;
  const x = e as {
    name?: string;
    code?: string;
    message?: string;
    statusCode?: number;
    errorResponse?: { error?: string; errorDescription?: string; errorCodes?: number[] };
    response?: { status?: number; headers?: { get?(n: string): string | undefined } };
    details?: { error?: { code?: string; message?: string } };
    cause?: { status?: number; statusCode?: number; message?: string; errorMessage?: string };
  };
  if (x?.name === 'AbortError') return e;
  // MSAL's ServerError arrives as the cause of identity's AuthenticationRequiredError.
  const text = [x?.errorResponse?.errorDescription, x?.message, x?.cause?.errorMessage, x?.cause?.message].filter(Boolean).join('\n') || String(e);
  const aadsts = x?.errorResponse?.errorCodes?.[0] ?? (/AADSTS(\d+)/.exec(text)?.[1] as string | undefined);
  if (aadsts !== undefined) {
    // Entra's description: "AADSTSnnn: what.\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …": the first line only.
    const first = (/AADSTS\d+:[^\r\n]*/.exec(text)?.[0] ?? text.split(/\r?\n/)[0] ?? text).replace(/^AADSTS\d+:\s*/, '');
    const status = [x?.statusCode, x?.cause?.status, x?.cause?.statusCode].find((v): v is number => typeof v === 'number') ?? null;
    return new CloudError('azure', `AADSTS${aadsts}`, first.trim(), status);
  }
  const status = x?.statusCode ?? x?.response?.status ?? null;
  const ra = x?.response?.headers?.get?.('retry-after');
  const retryAfter = ra !== undefined && /^\d+(\.\d+)?$/.test(ra) ? Number(ra) : null;
  const code = x?.details?.error?.code ?? x?.code ?? (status === null ? x?.name : undefined) ?? (status ? `Http${status}` : 'Unknown');
  const message = x?.details?.error?.message ?? x?.message ?? String(e);
  return new CloudError('azure', code, message, status ?? null, retryAfter);
}

type Paged<T> = { byPage(s?: { continuationToken?: string }): AsyncIterableIterator<T[] & { continuationToken?: string }> };
interface SubPage<T> {
  value: T[];
  next: string | null;
}
/** Subscription-wide listings shared by the regions of one sync (ARM lists per subscription, Skydeck syncs per region). */
interface Generation {
  started: number;
  served: Set<string>;
  pages: Map<string, { at: number; p: Promise<SubPage<unknown>> }>;
  extras: Map<string, Promise<unknown>>;
}

interface NicInfo {
  mac: string;
  ip: string | null;
  subnetId: string | null;
  publicIpId: string | null;
  vmId: string | null;
}

export class AzureSession extends BaseCloudSession {
  private readonly credential: Identity.ClientSecretCredential;
  private readonly compute: Compute.ComputeManagementClient;
  private readonly network: Network.NetworkManagementClient;
  private readonly arm: ComputeApi.ComputeManagementContext;
  private readonly subscriptionId: string;
  private readonly generations = new Map<string, Generation>();
  private readonly sizes = new Map<string, Promise<Map<string, { cores: number; memoryMb: number }>>>();
  /** What the ARM clients are built with (the monitor client, made at the first metrics call, too). */
  private readonly clientOptions: { endpoint: string; retryOptions: { maxRetries: number }; tlsOptions?: { ca: string[] } };
  /** Azure Monitor's metrics data-plane clients, by endpoint (one per region). */
  private readonly metricsClients = new Map<string, Promise<MetricsQuery.MetricsClient>>();

  constructor(
    sdk: AzureSdk,
    private readonly config: CloudAccountConfig,
    private readonly tuning: { pollIntervalMs: number },
  ) {
    super();
    const c = config.credentials;
    this.subscriptionId = c.subscriptionId ?? '';
    const endpoint = config.endpoint ? config.endpoint.replace(/\/+$/, '') : ARM;
    const tlsOptions = config.endpoint ? extraCa() : undefined;
    // Retries are ours (withRetry): throttling honours Retry-After, and the task shows each wait.
    const retryOptions = { maxRetries: 0 };
    this.credential = new sdk.identity.ClientSecretCredential(c.tenantId ?? '', c.clientId ?? '', c.clientSecret ?? '', {
      ...(config.endpoint ? { authorityHost: new URL(endpoint).origin, disableInstanceDiscovery: true } : {}),
      ...(tlsOptions ? { tlsOptions } : {}),
      retryOptions,
    });
    const opts = { endpoint, retryOptions, ...(tlsOptions ? { tlsOptions } : {}) };
    this.clientOptions = opts;
    this.compute = new sdk.compute.ComputeManagementClient(this.credential, this.subscriptionId, opts);
    this.network = new sdk.network.NetworkManagementClient(this.credential, this.subscriptionId, opts);
    this.arm = sdk.computeApi.createComputeManagement(this.credential, this.subscriptionId, opts);
  }

  private call<T>(fn: () => PromiseLike<T>, signal?: AbortSignal, onRetry?: ListOptions['onRetry']): Promise<T> {
    return withRetry(
      async () => {
        try {
          return await fn();
        } catch (e) {
          throw azureError(e);
        }
      },
      { signal, onRetry },
    );
  }

  /** Options of a long-running operation: the poll interval and the abort signal. */
  private lro(signal?: AbortSignal) {
    return { updateIntervalInMs: this.tuning.pollIntervalMs, abortSignal: signal };
  }

  /** A write changed the cloud: the next listing of every kind is fetched afresh. */
  private invalidate() {
    this.generations.clear();
  }

  private generation(kind: string, region: string, token: string | null): Generation {
    let g = this.generations.get(kind);
    // A region asking again for the first page starts a new pass (the next sync), as does a first page after a minute:
    // list afresh.
    if (!g || (token === null && (g.served.has(region) || Date.now() - g.started > PASS_MS))) {
      g = { started: Date.now(), served: new Set(), pages: new Map(), extras: new Map() };
      this.generations.set(kind, g);
    }
    if (token === null) g.served.add(region);
    return g;
  }

  /** One page of a subscription-wide listing, shared by the regions of the current pass. */
  private async subPage<T>(kind: string, region: string, token: string | null, list: () => Paged<T>, o: ListOptions = {}): Promise<SubPage<T>> {
    const g = this.generation(kind, region, token);
    const key = token ?? '';
    const have = g.pages.get(key);
    if (have && Date.now() - have.at < PAGE_TTL_MS) return have.p as Promise<SubPage<T>>;
    const p = this.call(
      async () => {
        const it = list().byPage(token ? { continuationToken: token } : undefined);
        const r = await it.next();
        const page = (r.done ? [] : r.value) as T[] & { continuationToken?: string };
        return { value: [...page], next: page.continuationToken ?? null };
      },
      o.signal,
      o.onRetry,
    );
    g.pages.set(key, { at: Date.now(), p });
    p.catch(() => g.pages.delete(key));
    return p;
  }

  private async regionPage<T extends { location?: string }, R>(kind: string, region: string, token: string | null, list: () => Paged<T>, map: (x: T) => R, o: ListOptions = {}): Promise<Page<R>> {
    const p = await this.subPage(kind, region, token, list, o);
    return { items: p.value.filter((x) => sameLocation(x.location, region)).map(map), next: p.next };
  }

  /** Every item of a listing (for indexes: NICs, public IPs). */
  private async all<T>(list: () => Paged<T>, o: ListOptions = {}): Promise<T[]> {
    const out: T[] = [];
    let token: string | null = null;
    do {
      const t: string | null = token;
      const page = await this.call(
        async () => {
          const r = await list().byPage(t ? { continuationToken: t } : undefined).next();
          const v = (r.done ? [] : r.value) as T[] & { continuationToken?: string };
          return { value: [...v], next: v.continuationToken ?? null };
        },
        o.signal,
        o.onRetry,
      );
      out.push(...page.value);
      token = page.next;
    } while (token);
    return out;
  }

  /** A value derived for the current pass of a listing (subPage of that kind is called first). */
  private extra<T>(kind: string, region: string, token: string | null, name: string, make: () => Promise<T>): Promise<T> {
    const g = this.generations.get(kind) ?? this.generation(kind, region, token);
    let p = g.extras.get(name) as Promise<T> | undefined;
    if (!p) {
      p = make();
      g.extras.set(name, p);
      p.catch(() => g.extras.delete(name));
    }
    return p;
  }

  /** NICs by id (lower case), for the MACs and IPs of VMs and the VM of a public IP. */
  private nicIndex(kind: string, region: string, token: string | null, o: ListOptions): Promise<Map<string, NicInfo>> {
    return this.extra(kind, region, token, 'nics', async () => {
      const nics = await this.all(() => this.network.networkInterfaces.listAll() as unknown as Paged<Network.NetworkInterface>, o);
      const m = new Map<string, NicInfo>();
      for (const n of nics) {
        const ipc = n.ipConfigurations?.find((c) => c.primary) ?? n.ipConfigurations?.[0];
        m.set(lower(n.id), { mac: (n.macAddress ?? '').replace(/-/g, ':').toLowerCase(), ip: ipc?.privateIPAddress ?? null, subnetId: ipc?.subnet?.id ? lower(ipc.subnet.id) : null, publicIpId: ipc?.publicIPAddress?.id ? lower(ipc.publicIPAddress.id) : null, vmId: n.virtualMachine?.id ? lower(n.virtualMachine.id) : null });
      }
      return m;
    });
  }

  private publicIpIndex(region: string, token: string | null, o: ListOptions): Promise<Map<string, string>> {
    return this.extra('instances', region, token, 'publicIps', async () => {
      const ips = await this.all(() => this.network.publicIPAddresses.listAll() as unknown as Paged<Network.PublicIPAddress>, o);
      return new Map(ips.filter((p) => p.ipAddress).map((p) => [lower(p.id), p.ipAddress!]));
    });
  }

  private vmSizes(region: string, signal?: AbortSignal): Promise<Map<string, { cores: number; memoryMb: number }>> {
    let p = this.sizes.get(region);
    if (!p) {
      p = (async () => {
        const m = new Map<string, { cores: number; memoryMb: number }>();
        const list = await this.all(() => this.compute.virtualMachineSizes.list(region) as unknown as Paged<Compute.VirtualMachineSize>, { signal });
        for (const s of list) if (s.name) m.set(s.name.toLowerCase(), { cores: s.numberOfCores ?? 0, memoryMb: s.memoryInMB ?? 0 });
        return m;
      })();
      this.sizes.set(region, p);
      p.catch(() => this.sizes.delete(region));
    }
    return p;
  }

  /** A plain ARM GET (subscriptions API, not in the compute/network SDKs) through the same pipeline and credential. */
  private async armGet<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.call(async () => {
      const r = await this.arm.path(path as never, this.subscriptionId).get({ queryParameters: { 'api-version': SUBSCRIPTIONS_API }, abortSignal: signal });
      const status = Number(r.status);
      if (status >= 200 && status < 300) return r.body as T;
      const err = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      const ra = (r.headers as Record<string, string | undefined>)['retry-after'];
      throw new CloudError('azure', err?.code ?? `Http${status}`, err?.message ?? `ARM answered ${status}`, status, ra && /^\d+$/.test(ra) ? Number(ra) : null);
    }, signal);
  }

  override async validate(signal?: AbortSignal) {
    // The token (Entra: AADSTS… errors) and then the subscription (ARM: SubscriptionNotFound, InvalidAuthenticationToken…).
    await this.call(() => this.credential.getToken(`${ARM}/.default`, { abortSignal: signal, enableCae: true }), signal);
    const s = await this.armGet<{ subscriptionId?: string; displayName?: string; state?: string }>('/subscriptions/{subscriptionId}', signal);
    if (s.state && s.state !== 'Enabled') throw new CloudError('azure', 'SubscriptionNotEnabled', `subscription ${s.subscriptionId ?? this.subscriptionId} is ${s.state}`, 409);
    return { account: `${s.displayName ?? 'subscription'} (${s.subscriptionId ?? this.subscriptionId})` };
  }

  override async listRegions(signal?: AbortSignal): Promise<CloudRegion[]> {
    const r = await this.armGet<{ value?: { name: string; displayName?: string; metadata?: { regionType?: string } }[] }>('/subscriptions/{subscriptionId}/locations', signal);
    return (r.value ?? []).filter((l) => l.metadata?.regionType !== 'Logical').map((l) => ({ id: l.name, name: l.name }));
  }

  override async listZones(region: string, signal?: AbortSignal): Promise<CloudZone[]> {
    const skus = await this.all(() => this.compute.resourceSkus.list({ filter: `location eq '${region}'` }) as unknown as Paged<Compute.ResourceSku>, { signal });
    const zones = new Set<string>();
    for (const s of skus) if (s.resourceType === 'virtualMachines') for (const li of s.locationInfo ?? []) if (sameLocation(li.location, region)) for (const z of li.zones ?? []) zones.add(z);
    return [...zones].sort().map((z) => ({ id: `${region}-${z}`, name: `${region}-${z}`, status: 'available' }));
  }

  override async listVpcs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudVpc>> {
    return this.regionPage('vnets', region, token, () => this.network.virtualNetworks.listAll() as unknown as Paged<Network.VirtualNetwork>, (v) => ({ id: lower(v.id), name: v.name ?? '', cidr: (v.addressSpace?.addressPrefixes ?? []).join(','), status: v.provisioningState === 'Succeeded' ? 'available' : lower(v.provisioningState) || 'available', tags: tagsOf(v.tags) }), o);
  }

  override async listSubnets(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSubnet>> {
    // Subnets come inline with their VNets (listed once more per pass: the sync lists VPCs, then subnets, per region).
    const p = await this.subPage('subnets', region, token, () => this.network.virtualNetworks.listAll() as unknown as Paged<Network.VirtualNetwork>, o);
    const items: CloudSubnet[] = [];
    for (const v of p.value as Network.VirtualNetwork[]) {
      if (!sameLocation(v.location, region)) continue;
      for (const s of v.subnets ?? []) items.push({ id: lower(s.id), vpcId: lower(v.id), zone: null, name: s.name ?? '', cidr: s.addressPrefix ?? s.addressPrefixes?.[0] ?? '', status: s.provisioningState === 'Succeeded' || !s.provisioningState ? 'available' : lower(s.provisioningState), tags: {} });
    }
    return { items, next: p.next };
  }

  override async listSecurityGroups(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSecurityGroup>> {
    return this.regionPage('nsgs', region, token, () => this.network.networkSecurityGroups.listAll() as unknown as Paged<Network.NetworkSecurityGroup>, (g) => ({ id: lower(g.id), name: g.name ?? '', description: '', vpcId: null, rules: (g.securityRules ?? []).flatMap(ruleOf), tags: tagsOf(g.tags) }), o);
  }

  private instance(vm: Compute.VirtualMachine, region: string, sizes: Map<string, { cores: number; memoryMb: number }>, nics: Map<string, NicInfo>, publicIps: Map<string, string>): CloudInstance {
    const size = vm.hardwareProfile?.vmSize ?? '';
    const sz = sizes.get(size.toLowerCase());
    const vmNics = (vm.networkProfile?.networkInterfaces ?? []).map((r) => nics.get(lower(r.id))).filter((n): n is NicInfo => !!n);
    const iv = vm.instanceView;
    const img = vm.storageProfile?.imageReference;
    const publicIp = vmNics.map((n) => (n.publicIpId ? publicIps.get(n.publicIpId) : undefined)).find(Boolean) ?? null;
    return {
      id: lower(vm.id),
      name: vm.name ?? '',
      status: statusOf(vm),
      zone: vm.zones?.[0] ? `${region}-${vm.zones[0]}` : null,
      instanceType: size,
      vcpu: sz?.cores ?? vm.hardwareProfile?.vmSizeProperties?.vCPUsAvailable ?? 0,
      memoryMb: sz?.memoryMb ?? 0,
      os: iv?.osName ? `${iv.osName}${iv.osVersion && !iv.osName.includes(iv.osVersion) ? ` ${iv.osVersion}` : ''}` : (vm.storageProfile?.osDisk?.osType ?? ''),
      imageId: img?.id ? lower(img.id) : img?.publisher ? `${img.publisher}:${img.offer}:${img.sku}:${img.version ?? 'latest'}` : null,
      nics: vmNics.filter((n) => n.mac).map((n) => ({ mac: n.mac, ip: n.ip, subnetId: n.subnetId })),
      publicIp,
      tags: tagsOf(vm.tags),
      createdAt: iso(vm.timeCreated),
    };
  }

  override async listInstances(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudInstance>> {
    // listAll with statusOnly=true answers each VM with its instance view (the power state), nextLink-paged.
    const p = await this.subPage('instances', region, token, () => this.compute.virtualMachines.listAll({ statusOnly: 'true' }) as unknown as Paged<Compute.VirtualMachine>, o);
    const vms = (p.value as Compute.VirtualMachine[]).filter((v) => sameLocation(v.location, region));
    if (!vms.length) return { items: [], next: p.next };
    const [sizes, nics, ips] = await Promise.all([this.vmSizes(region, o.signal), this.nicIndex('instances', region, token, o), this.publicIpIndex(region, token, o)]);
    return { items: vms.map((v) => this.instance(v, region, sizes, nics, ips)), next: p.next };
  }

  override async getInstance(region: string, id: string, signal?: AbortSignal): Promise<CloudInstance | null> {
    const { resourceGroup, name } = parseArmId(id);
    let vm: Compute.VirtualMachine;
    try {
      vm = await this.call(() => this.compute.virtualMachines.get(resourceGroup, name, { expand: 'instanceView', abortSignal: signal }), signal);
    } catch (e) {
      if (e instanceof CloudError && (e.httpStatus === 404 || /NotFound$/.test(e.cloudCode))) return null;
      throw e;
    }
    const nics = new Map<string, NicInfo>();
    const ips = new Map<string, string>();
    for (const ref of vm.networkProfile?.networkInterfaces ?? []) {
      if (!ref.id) continue;
      const n = parseArmId(ref.id);
      const nic = await this.call(() => this.network.networkInterfaces.get(n.resourceGroup, n.name, { abortSignal: signal }), signal).catch(() => null);
      if (!nic) continue;
      const ipc = nic.ipConfigurations?.find((c) => c.primary) ?? nic.ipConfigurations?.[0];
      const pip = ipc?.publicIPAddress?.id ? lower(ipc.publicIPAddress.id) : null;
      nics.set(lower(ref.id), { mac: (nic.macAddress ?? '').replace(/-/g, ':').toLowerCase(), ip: ipc?.privateIPAddress ?? null, subnetId: ipc?.subnet?.id ? lower(ipc.subnet.id) : null, publicIpId: pip, vmId: lower(vm.id) });
      if (pip) {
        const pp = parseArmId(pip);
        const ip = await this.call(() => this.network.publicIPAddresses.get(pp.resourceGroup, pp.name, { abortSignal: signal }), signal).catch(() => null);
        if (ip?.ipAddress) ips.set(pip, ip.ipAddress);
      }
    }
    return this.instance(vm, region, await this.vmSizes(region, signal), nics, ips);
  }

  private async vmOp(id: string, op: (rg: string, name: string) => PromiseLike<unknown>, signal?: AbortSignal): Promise<void> {
    const { resourceGroup, name } = parseArmId(id);
    this.invalidate();
    await this.call(() => op(resourceGroup, name), signal);
    this.invalidate();
  }

  override async startInstance(_region: string, id: string, signal?: AbortSignal) {
    await this.vmOp(id, (rg, n) => this.compute.virtualMachines.start(rg, n, this.lro(signal)), signal);
  }
  /** Stop deallocates (the compute is released, as a stopped VM elsewhere); force powers off without a shutdown. */
  override async stopInstance(_region: string, id: string, force: boolean, signal?: AbortSignal) {
    await this.vmOp(id, (rg, n) => (force ? this.compute.virtualMachines.powerOff(rg, n, { ...this.lro(signal), skipShutdown: true }) : this.compute.virtualMachines.deallocate(rg, n, this.lro(signal))), signal);
  }
  override async rebootInstance(_region: string, id: string, signal?: AbortSignal) {
    await this.vmOp(id, (rg, n) => this.compute.virtualMachines.restart(rg, n, this.lro(signal)), signal);
  }
  /** A resource lock on the VM or its group answers 409 ScopeLocked (kept as the reason). */
  override async deleteInstance(_region: string, id: string, signal?: AbortSignal) {
    await this.vmOp(id, (rg, n) => this.compute.virtualMachines.delete(rg, n, this.lro(signal)), signal);
  }
  override async resizeInstance(_region: string, id: string, instanceType: string, signal?: AbortSignal) {
    await this.vmOp(id, (rg, n) => this.compute.virtualMachines.update(rg, n, { hardwareProfile: { vmSize: instanceType } }, this.lro(signal)), signal);
  }

  private async sshKey(keyName: string, signal?: AbortSignal): Promise<string> {
    if (keyName.startsWith('/')) {
      const k = parseArmId(keyName);
      const r = await this.call(() => this.compute.sshPublicKeys.get(k.resourceGroup, k.name, { abortSignal: signal }), signal);
      return r.publicKey ?? '';
    }
    const all = await this.all(() => this.compute.sshPublicKeys.listBySubscription() as unknown as Paged<Compute.SshPublicKeyResource>, { signal });
    const k = all.find((x) => lower(x.name) === lower(keyName));
    if (!k?.publicKey) throw new CloudError('azure', 'ResourceNotFound', `SSH public key '${keyName}' was not found in the subscription`, 404);
    return k.publicKey;
  }

  /**
   * Creates a NIC in the subnet's resource group (with the first security group), then the VM on it (image: an ARM image
   * id or a `publisher:offer:sku:version` URN; SSH key: a key pair's id or name, else a random password never kept). The NIC
   * is removed again if the VM cannot be created.
   */
  override async createInstance(region: string, s: CreateInstanceSpec, signal?: AbortSignal): Promise<CloudInstance> {
    if (!s.subnetId) throw new ApiError('validation', 'an Azure VM needs a subnet (its NIC is created there)', { reason: 'subnet_required' });
    const { resourceGroup } = parseArmId(s.subnetId);
    const imageReference = s.imageId.startsWith('/')
      ? { id: s.imageId }
      : (() => {
          const [publisher, offer, sku, version] = s.imageId.split(':');
          if (!publisher || !offer || !sku) throw new ApiError('validation', `image ${s.imageId} is neither an image id nor publisher:offer:sku[:version]`, { reason: 'bad_image' });
          return { publisher, offer, sku, version: version || 'latest' };
        })();
    const publicKey = s.keyName ? await this.sshKey(s.keyName, signal) : null;
    const computerName = s.name.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63);
    const nicName = `${s.name}-nic`;
    this.invalidate();
    const nic = await this.call(
      () =>
        this.network.networkInterfaces.createOrUpdate(
          resourceGroup,
          nicName,
          {
            location: region,
            ipConfigurations: [{ name: 'ipconfig1', subnet: { id: s.subnetId }, privateIPAllocationMethod: 'Dynamic', primary: true }],
            ...(s.securityGroupIds?.[0] ? { networkSecurityGroup: { id: s.securityGroupIds[0] } } : {}),
            tags: { ...s.tags },
          },
          this.lro(signal),
        ),
      signal,
    );
    try {
      const vm = await this.call(
        () =>
          this.compute.virtualMachines.createOrUpdate(
            resourceGroup,
            s.name,
            {
              location: region,
              tags: { ...s.tags },
              hardwareProfile: { vmSize: s.instanceType },
              storageProfile: { imageReference, osDisk: { createOption: 'FromImage', deleteOption: 'Delete', ...(s.diskGb ? { diskSizeGB: s.diskGb } : {}), managedDisk: { storageAccountType: 'Premium_LRS' } } },
              osProfile: {
                computerName,
                adminUsername: 'azureuser',
                ...(publicKey
                  ? { linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: publicKey }] } } }
                  : { adminPassword: `Sd!${randomBytes(18).toString('base64url')}9a` }),
              },
              networkProfile: { networkInterfaces: [{ id: nic.id, primary: true, deleteOption: 'Delete' }] },
            },
            this.lro(signal),
          ),
        signal,
      );
      this.invalidate();
      return (await this.getInstance(region, lower(vm.id), signal)) ?? this.instance(vm, region, await this.vmSizes(region, signal), new Map(), new Map());
    } catch (e) {
      await this.call(() => this.network.networkInterfaces.delete(resourceGroup, nicName, this.lro()), undefined).catch(() => {});
      this.invalidate();
      throw e;
    }
  }

  override async listDisks(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudDisk>> {
    return this.regionPage('disks', region, token, () => this.compute.disks.list() as unknown as Paged<Compute.Disk>, (d) => {
      const vm = d.managedBy ? lower(d.managedBy) : null;
      return {
        id: lower(d.id),
        name: d.name ?? '',
        sizeGb: d.diskSizeGB ?? 0,
        zone: d.zones?.[0] ? `${region}-${d.zones[0]}` : null,
        status: d.diskState === 'Attached' ? 'in-use' : d.diskState === 'Unattached' ? 'available' : lower(d.diskState) || lower(d.provisioningState) || 'unknown',
        instanceId: vm,
        device: vm && d.osType ? 'os' : null,
        bootable: !!d.osType,
        type: d.sku?.name ?? '',
        tags: tagsOf(d.tags),
        createdAt: iso(d.timeCreated),
      };
    }, o);
  }

  private async updateDataDisks(vmId: string, change: (disks: Compute.DataDisk[]) => Compute.DataDisk[], signal?: AbortSignal) {
    const { resourceGroup, name } = parseArmId(vmId);
    const vm = await this.call(() => this.compute.virtualMachines.get(resourceGroup, name, { abortSignal: signal }), signal);
    const dataDisks = change(vm.storageProfile?.dataDisks ?? []);
    this.invalidate();
    await this.call(() => this.compute.virtualMachines.update(resourceGroup, name, { storageProfile: { dataDisks } }, this.lro(signal)), signal);
    this.invalidate();
  }

  /** Attaches a managed disk at a LUN (`device`: a number, or anything else for the first free LUN). */
  override async attachDisk(_region: string, diskId: string, instanceId: string, device: string, signal?: AbortSignal) {
    await this.updateDataDisks(
      instanceId,
      (disks) => {
        const used = new Set(disks.map((d) => d.lun));
        let lun = /^\d+$/.test(device) ? Number(device) : /(\d+)$/.test(device) && /lun/i.test(device) ? Number(/(\d+)$/.exec(device)![1]) : -1;
        if (lun < 0 || used.has(lun)) for (lun = 0; used.has(lun); lun++);
        return [...disks, { lun, createOption: 'Attach', managedDisk: { id: diskId } }];
      },
      signal,
    );
  }
  override async detachDisk(_region: string, diskId: string, signal?: AbortSignal) {
    const d = parseArmId(diskId);
    const disk = await this.call(() => this.compute.disks.get(d.resourceGroup, d.name, { abortSignal: signal }), signal);
    if (!disk.managedBy) return; // not attached: nothing to do
    if (disk.osType) throw new CloudError('azure', 'OperationNotAllowed', `disk ${disk.name} is the OS disk of its VM and cannot be detached`, 409);
    await this.updateDataDisks(disk.managedBy, (disks) => disks.filter((x) => lower(x.managedDisk?.id) !== lower(diskId) && lower(x.name) !== lower(disk.name)), signal);
  }

  private snapshot(s: Compute.Snapshot): CloudSnapshot {
    return { id: lower(s.id), name: s.name ?? '', diskId: s.creationData?.sourceResourceId ? lower(s.creationData.sourceResourceId) : null, sizeGb: s.diskSizeGB ?? 0, status: s.provisioningState === 'Succeeded' ? 'available' : lower(s.provisioningState) || 'available', tags: tagsOf(s.tags), createdAt: iso(s.timeCreated) };
  }
  override async listSnapshots(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudSnapshot>> {
    return this.regionPage('snapshots', region, token, () => this.compute.snapshots.list() as unknown as Paged<Compute.Snapshot>, (s) => this.snapshot(s), o);
  }
  /** A full snapshot of the disk, in the disk's resource group. */
  override async createSnapshot(region: string, diskId: string, name: string, signal?: AbortSignal): Promise<CloudSnapshot> {
    const { resourceGroup } = parseArmId(diskId);
    const armName = name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 80);
    this.invalidate();
    const s = await this.call(() => this.compute.snapshots.createOrUpdate(resourceGroup, armName, { location: region, creationData: { createOption: 'Copy', sourceResourceId: diskId }, incremental: false, tags: { Name: name } }, this.lro(signal)), signal);
    this.invalidate();
    return this.snapshot(s);
  }
  override async deleteSnapshot(_region: string, snapshotId: string, signal?: AbortSignal) {
    const { resourceGroup, name } = parseArmId(snapshotId);
    this.invalidate();
    await this.call(() => this.compute.snapshots.delete(resourceGroup, name, this.lro(signal)), signal);
    this.invalidate();
  }

  override async listImages(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudImage>> {
    return this.regionPage('images', region, token, () => this.compute.images.list() as unknown as Paged<Compute.Image>, (m) => ({ id: lower(m.id), name: m.name ?? '', os: m.storageProfile?.osDisk?.osType ?? '', sizeGb: m.storageProfile?.osDisk?.diskSizeGB ?? 0, status: m.provisioningState === 'Succeeded' ? 'available' : lower(m.provisioningState) || 'available', tags: tagsOf(m.tags), createdAt: null }), o);
  }

  override async listEips(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudEip>> {
    const p = await this.subPage('eips', region, token, () => this.network.publicIPAddresses.listAll() as unknown as Paged<Network.PublicIPAddress>, o);
    const ips = (p.value as Network.PublicIPAddress[]).filter((x) => sameLocation(x.location, region));
    const nics = ips.some((x) => x.ipConfiguration?.id) ? await this.nicIndex('eips', region, token, o) : new Map<string, NicInfo>();
    return {
      items: ips.map((x) => {
        const cfg = x.ipConfiguration?.id ? lower(x.ipConfiguration.id) : null;
        const nicId = cfg ? cfg.split('/ipconfigurations/')[0]! : null;
        return { id: lower(x.id), ip: x.ipAddress ?? '', instanceId: nicId ? (nics.get(nicId)?.vmId ?? null) : null, associationId: cfg, bandwidthMbps: 0, status: cfg ? 'associated' : 'available', tags: tagsOf(x.tags) };
      }),
      next: p.next,
    };
  }

  private async putNic(nicId: string, change: (ipc: Network.NetworkInterfaceIPConfiguration) => void, signal?: AbortSignal) {
    const { resourceGroup, name } = parseArmId(nicId);
    const nic = await this.call(() => this.network.networkInterfaces.get(resourceGroup, name, { abortSignal: signal }), signal);
    const ipc = nic.ipConfigurations?.find((c) => c.primary) ?? nic.ipConfigurations?.[0];
    if (!ipc) throw new CloudError('azure', 'InvalidResourceReference', `network interface ${name} has no IP configuration`, 400);
    change(ipc);
    this.invalidate();
    await this.call(() => this.network.networkInterfaces.createOrUpdate(resourceGroup, name, nic, this.lro(signal)), signal);
    this.invalidate();
  }

  /** Sets the public IP on the primary IP configuration of the VM's primary NIC. */
  override async associateEip(_region: string, eipId: string, instanceId: string, signal?: AbortSignal) {
    const v = parseArmId(instanceId);
    const vm = await this.call(() => this.compute.virtualMachines.get(v.resourceGroup, v.name, { abortSignal: signal }), signal);
    const refs = vm.networkProfile?.networkInterfaces ?? [];
    const nicId = (refs.find((r) => r.primary) ?? refs[0])?.id;
    if (!nicId) throw new CloudError('azure', 'InvalidResourceReference', `VM ${vm.name} has no network interface`, 400);
    await this.putNic(nicId, (ipc) => void (ipc.publicIPAddress = { id: eipId }), signal);
  }
  override async dissociateEip(_region: string, eipId: string, signal?: AbortSignal) {
    const p = parseArmId(eipId);
    const ip = await this.call(() => this.network.publicIPAddresses.get(p.resourceGroup, p.name, { abortSignal: signal }), signal);
    const cfg = ip.ipConfiguration?.id;
    if (!cfg) return; // not associated: nothing to do
    const nicId = cfg.split(/\/ipConfigurations\//i)[0]!;
    await this.putNic(nicId, (ipc) => void delete ipc.publicIPAddress, signal);
  }

  override async listKeypairs(region: string, token: string | null, o: ListOptions = {}): Promise<Page<CloudKeypair>> {
    return this.regionPage('keypairs', region, token, () => this.compute.sshPublicKeys.listBySubscription() as unknown as Paged<Compute.SshPublicKeyResource>, (k) => ({ id: lower(k.id), name: k.name ?? '', fingerprint: fingerprint(k.publicKey), publicKey: k.publicKey ?? '', tags: tagsOf(k.tags) }), o);
  }

  /** Inbound Allow rules Skydeck adds (priority: the first free one from 1000 up, by 10). */
  override async authorizeIngress(_region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    const { resourceGroup, name } = parseArmId(groupId);
    const nsg = await this.call(() => this.network.networkSecurityGroups.get(resourceGroup, name, { abortSignal: signal }), signal);
    const rules = nsg.securityRules ?? [];
    if (rules.some((r) => matches(r, rule))) throw new CloudError('azure', 'SecurityRuleDuplicate', `network security group ${name} already allows ${describe(rule)}`, 409);
    const used = new Set(rules.filter((r) => r.direction === 'Inbound').map((r) => r.priority));
    let priority = 1000;
    while (used.has(priority)) priority += 10;
    if (priority > 4096) throw new CloudError('azure', 'SecurityRuleInvalidPriority', `network security group ${name} has no free inbound priority left`, 400);
    const ruleName = `skydeck-${rule.protocol}-${rule.protocol === 'any' ? 'all' : `${rule.fromPort}-${rule.toPort}`}-${createHash('sha256').update(rule.cidr).digest('hex').slice(0, 8)}`;
    this.invalidate();
    await this.call(
      () =>
        this.network.securityRules.createOrUpdate(
          resourceGroup,
          name,
          ruleName,
          { protocol: PROTOCOLS[rule.protocol], sourceAddressPrefix: rule.cidr, sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: portRange(rule), access: 'Allow', direction: 'Inbound', priority, ...(rule.description ? { description: rule.description } : {}) },
          this.lro(signal),
        ),
      signal,
    );
    this.invalidate();
  }
  override async revokeIngress(_region: string, groupId: string, rule: IngressRule, signal?: AbortSignal) {
    const { resourceGroup, name } = parseArmId(groupId);
    const nsg = await this.call(() => this.network.networkSecurityGroups.get(resourceGroup, name, { abortSignal: signal }), signal);
    const r = (nsg.securityRules ?? []).find((x) => matches(x, rule));
    if (!r?.name) throw new CloudError('azure', 'SecurityRuleNotFound', `network security group ${name} has no rule allowing ${describe(rule)}`, 404);
    this.invalidate();
    await this.call(() => this.network.securityRules.delete(resourceGroup, name, r.name!, this.lro(signal)), signal);
    this.invalidate();
  }

  /** The metrics data plane of a region (https://{region}.metrics.monitor.azure.com), or the endpoint override. */
  private metricsClient(region: string): Promise<MetricsQuery.MetricsClient> {
    const endpoint = this.config.endpoint ? this.config.endpoint.replace(/\/+$/, '') : `https://${region.toLowerCase()}.metrics.monitor.azure.com`;
    let c = this.metricsClients.get(endpoint);
    if (!c) {
      const { retryOptions, tlsOptions } = this.clientOptions;
      c = import('@azure/monitor-query-metrics').then((m) => new m.MetricsClient(endpoint, this.credential, { retryOptions, ...(tlsOptions ? { tlsOptions } : {}) }));
      this.metricsClients.set(endpoint, c);
    }
    return c;
  }

  /**
   * Azure Monitor's `metrics:getBatch` (@azure/monitor-query-metrics, the regional metrics data plane): up to 50 VMs of
   * the region a call (ids are ARM resource ids), PT1M, average and total, 8 calls at once; throttling (429) retried by
   * withRetry. One call per VM (`Microsoft.Insights/metrics` through ARM) was 10k calls a minute for 10k VMs, against
   * ARM's read budget of 25 a second per subscription; Microsoft's throttling guidance names that API and this one as
   * its replacement. A batch that fails because one of its VMs no longer exists is asked again VM by VM, and the VMs
   * that are gone have no points. See ./metrics.ts.
   */
  override async instanceMetrics(region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal): Promise<CloudMetricPoint[]> {
    const ids = [...new Set(instanceIds)];
    if (!ids.length || until <= since) return [];
    const client = await this.metricsClient(region);
    const [from, to] = metricTimespan(since, until).split('/');
    const names = AZURE_VM_METRICS.map((m) => m.name);
    // The client passes its options on to the request (abortSignal included), which its type does not say.
    const options: MetricsQuery.MetricsQueryResourcesOptions & { abortSignal?: AbortSignal } = { startTime: new Date(from!), endTime: new Date(to!), interval: AZURE_METRIC_INTERVAL, aggregation: 'average,total', abortSignal: signal };
    const query = (batch: string[]) => this.call(() => client.queryResources(batch, names, 'Microsoft.Compute/virtualMachines', options), signal);
    const points = (batch: string[], r: MetricsQuery.MetricsQueryResult[]) => {
      const byId = new Map(r.map((x) => [String(x.resourceId ?? '').toLowerCase(), x]));
      return batch.flatMap((id) => {
        const x = byId.get(id.toLowerCase());
        return x ? metricPoints(id, { value: x.metrics }, since, until) : [];
      });
    };
    const gone = (e: unknown) => e instanceof CloudError && (e.cloudCode === 'ResourceNotFound' || e.cloudCode === 'ResourceGroupNotFound');
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += METRIC_BATCH) batches.push(ids.slice(i, i + METRIC_BATCH));
    const per = await mapLimit(batches, METRIC_CONCURRENCY, async (batch) => {
      try {
        return points(batch, await query(batch));
      } catch (e) {
        if (!gone(e)) throw e;
        const one = await mapLimit(batch, METRIC_CONCURRENCY, async (id) => {
          try {
            return points([id], await query([id]));
          } catch (x) {
            if (gone(x)) return [];
            throw x;
          }
        });
        return one.flat();
      }
    });
    return per.flat().sort((a, b) => a.ts - b.ts || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  }

  /** The Retail Prices API's base URL: prices.azure.com, or the endpoint override's origin (a proxy or the fake). */
  private get retailUrl(): string {
    return this.config.endpoint ? `${this.config.endpoint.replace(/\/+$/, '')}/api/retail/prices` : RETAIL_PRICES_URL;
  }

  /** Azure Retail Prices (unauthenticated), one $filter per size, NextPageLink followed; see ./metrics.ts. */
  override async instancePrices(region: string, instanceTypes: string[], signal?: AbortSignal): Promise<CloudPrice[]> {
    const sizes = [...new Set(instanceTypes.filter(Boolean))];
    const base = this.retailUrl;
    const ca = this.clientOptions.tlsOptions?.ca;
    const found = await mapLimit(sizes, PRICE_CONCURRENCY, async (size) => {
      const items: RetailItem[] = [];
      let url: string | null = `${base}?api-version=${RETAIL_API_VERSION}&$filter=${encodeURIComponent(retailFilter(region.toLowerCase(), size))}`;
      for (let pages = 0; url && pages < 100; pages++) {
        const u: string = url;
        const r = (await this.call(() => getJson(u, { ca, signal }), signal)) as { Items?: RetailItem[]; NextPageLink?: string | null };
        items.push(...(r.Items ?? []));
        // The link names prices.azure.com: its query is followed on our base (the override, if any).
        url = r.NextPageLink ? rebase(r.NextPageLink, base) : null;
      }
      return linuxPayAsYouGo(items, size);
    });
    return found.filter((p): p is CloudPrice => p !== null);
  }

  override close() {
    this.generations.clear();
    this.sizes.clear();
    this.metricsClients.clear();
  }
}

const PROTOCOLS: Record<IngressRule['protocol'], string> = { tcp: 'Tcp', udp: 'Udp', icmp: 'Icmp', any: '*' };
const portRange = (r: IngressRule) => (r.protocol === 'any' || r.protocol === 'icmp' ? '*' : r.fromPort === r.toPort ? String(r.fromPort) : `${r.fromPort}-${r.toPort}`);
const describe = (r: IngressRule) => `${r.protocol} ${portRange(r)} from ${r.cidr}`;
function matches(x: Network.SecurityRule, r: IngressRule): boolean {
  return x.direction === 'Inbound' && x.access === 'Allow' && lower(x.protocol) === lower(PROTOCOLS[r.protocol]) && (x.destinationPortRange ?? '*') === portRange(r) && (x.sourceAddressPrefix ?? '') === r.cidr;
}

/** An NSG's Allow rules as Skydeck's (Deny rules have no place in CloudSecurityRule and are left out). */
function ruleOf(r: Network.SecurityRule): CloudSecurityRule[] {
  if (r.access !== 'Allow') return [];
  const dir = r.direction === 'Outbound' ? 'out' : 'in';
  const p = lower(r.protocol);
  const protocol: CloudSecurityRule['protocol'] = p === 'tcp' || p === 'udp' || p === 'icmp' ? p : 'any';
  const ranges = r.destinationPortRange ? [r.destinationPortRange] : r.destinationPortRanges?.length ? r.destinationPortRanges : ['*'];
  const cidrs = (dir === 'in' ? (r.sourceAddressPrefix ? [r.sourceAddressPrefix] : r.sourceAddressPrefixes) : r.destinationAddressPrefix ? [r.destinationAddressPrefix] : r.destinationAddressPrefixes) ?? ['*'];
  const out: CloudSecurityRule[] = [];
  for (const range of ranges) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    const from = m ? Number(m[1]) : null;
    const to = m ? Number(m[2] ?? m[1]) : null;
    for (const c of cidrs.length ? cidrs : ['*']) out.push({ direction: dir, protocol, fromPort: from, toPort: to, cidr: c === '*' || c === 'Internet' ? '0.0.0.0/0' : c, description: r.description ?? r.name ?? '' });
  }
  return out;
}

/** Skydeck's status of a VM: provisioning (creating/deleting) first, then the instance view's power state. */
export function statusOf(vm: Compute.VirtualMachine): string {
  const prov = lower(vm.provisioningState);
  if (prov === 'deleting') return 'deleting';
  if (prov === 'creating') return 'creating';
  const code = vm.instanceView?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code;
  if (code) return AZURE_STATUS[code.slice('PowerState/'.length).toLowerCase()] ?? 'unknown';
  return prov === 'failed' ? 'unknown' : 'unknown';
}

/** MD5 fingerprint of an OpenSSH public key line (as ssh-keygen -l -E md5). */
function fingerprint(line: string | undefined): string {
  const blob = line?.trim().split(/\s+/)[1];
  if (!blob) return '';
  return createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

/** A NextPageLink (it names prices.azure.com) with its query kept on `base` (the Retail Prices URL in use). */
function rebase(link: string, base: string): string {
  return `${base}${new URL(link).search}`;
}

/**
 * The trust for an endpoint override: Node's roots plus the CA file NODE_EXTRA_CA_CERTS names (read at connect, so a
 * CA set after the process started counts too). undefined: the defaults.
 */
function extraCa(): { ca: string[] } | undefined {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return { ca: [...rootCertificates, readFileSync(file, 'utf8')] };
  } catch {
    return undefined;
  }
}
