import type * as CmsSdk from '@alicloud/cms20190101';
import type * as EcsSdk from '@alicloud/ecs20140526';
import type * as OpenApiSdk from '@alicloud/openapi-client';
import { CloudError, type CloudMetricPoint, type CloudPrice } from '../types';

/**
 * Alibaba Cloud metrics and prices for AliyunSession (mixed in there):
 *
 *  - metrics: CloudMonitor (CMS 2019-01-01) `DescribeMetricList` through `@alicloud/cms20190101` (imported at the
 *    first call), namespace acs_ecs_dashboard, Period 60 (kept 31 days), several instances per call in Dimensions
 *    (`[{"instanceId":"i-…"},…]`), pages of Length 1440 followed by NextToken; Datapoints is a JSON string whose
 *    `Average` is read. StartTime/EndTime are left-open right-closed, as the interface's since < ts <= until.
 *    Metric → Skydeck metric (unit):
 *      CPUUtilization (%) → cpu.util; memory_usedutilization (%, CloudMonitor agent: none without the agent) → mem.util;
 *      DiskReadBPS / DiskWriteBPS (Byte/s) → blk.rd_bytes_per_s / blk.wr_bytes_per_s;
 *      IntranetInRate / IntranetOutRate (bit/s, ÷ 8) → net.rx_bytes_per_s / net.tx_bytes_per_s — the instance's
 *      private-network (vNIC) traffic, the same for classic and VPC instances. Internet traffic (InternetInRate is
 *      classic-network only; a VPC instance's public traffic is VPC_PublicIP_InternetInRate, per public IP) is not added.
 *  - prices: ECS `DescribePrice` (ResourceType instance, PriceUnit Hour = pay-as-you-go per hour, no ImageId: the API
 *    then prices a Linux image), one call per type; the hourly price is the `instanceType` DetailInfo's TradePrice (the
 *    instance without its system disk), else Price.TradePrice; the currency is Price.Currency (the account's site's).
 */

type CmsClient = CmsSdk.default;
type CmsCtor = new (config: OpenApiSdk.Config) => CmsClient;
type CmsModule = typeof CmsSdk;

/** What AliyunSession lends: client config, its retried call, and an ECS call. */
export interface AliyunMetricsHost {
  config(region: string): OpenApiSdk.Config;
  call<O>(fn: () => Promise<O>, signal?: AbortSignal): Promise<O>;
  ecsCall<B>(region: string, fn: (c: EcsSdk.default) => Promise<{ body?: B }>, signal?: AbortSignal): Promise<B>;
  ecs: typeof EcsSdk;
  /** The session's CMS clients by region (cleared by close). */
  cmsClients: Map<string, unknown>;
}

export const ALIYUN_NAMESPACE = 'acs_ecs_dashboard';
/** CloudMonitor metric → [Skydeck metric, factor to Skydeck's unit]. */
export const ALIYUN_METRICS: Record<string, [string, number]> = {
  CPUUtilization: ['cpu.util', 1],
  memory_usedutilization: ['mem.util', 1],
  DiskReadBPS: ['blk.rd_bytes_per_s', 1],
  DiskWriteBPS: ['blk.wr_bytes_per_s', 1],
  IntranetInRate: ['net.rx_bytes_per_s', 1 / 8],
  IntranetOutRate: ['net.tx_bytes_per_s', 1 / 8],
};
/** Instances per DescribeMetricList call (Dimensions takes a list; kept small enough for a few pages per call). */
export const ALIYUN_METRICS_BATCH = 50;
const PERIOD = 60;
const PAGE = 1440;
/** DescribePrice's codes for a type the region does not sell or price: left out of the answer. */
const UNPRICED = /^InvalidInstanceType\.|^InvalidResourceType\.NotSupported$|^PriceNotFound$|^InvalidParam(eter)?\.InstanceType$/;

let cmsModule: Promise<CmsModule> | null = null;
const loadCms = () => (cmsModule ??= import('@alicloud/cms20190101'));

const isoSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function cmsClient(host: AliyunMetricsHost, region: string): Promise<CmsClient> {
  let c = host.cmsClients.get(region) as CmsClient | undefined;
  if (!c) {
    const m = await loadCms();
    // The module's default export is the client class (CommonJS interop may wrap it once more).
    const d = m.default as unknown as CmsCtor | { default: CmsCtor };
    const Cms = typeof d === 'function' ? d : d.default;
    c = new Cms(host.config(region));
    host.cmsClients.set(region, c);
  }
  return c;
}

interface Datapoint { timestamp?: number; instanceId?: string; Average?: number; Value?: number }

/** Datapoints is a JSON string (an array); anything else is the cloud's fault, not a missing sample. */
function parseDatapoints(text: string | undefined): Datapoint[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v)) return v as Datapoint[];
  } catch {
    /* answered below */
  }
  throw new CloudError('aliyun', 'InvalidResponse', 'DescribeMetricList answered Datapoints that are not a JSON array');
}

export async function aliyunInstanceMetrics(host: AliyunMetricsHost, region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal): Promise<CloudMetricPoint[]> {
  const ids = [...new Set(instanceIds)];
  if (!ids.length || !(until > since)) return [];
  const m = await loadCms();
  const client = await cmsClient(host, region);
  const out: CloudMetricPoint[] = [];
  for (let i = 0; i < ids.length; i += ALIYUN_METRICS_BATCH) {
    const batch = ids.slice(i, i + ALIYUN_METRICS_BATCH);
    const wanted = new Set(batch);
    for (const [name, [metric, factor]] of Object.entries(ALIYUN_METRICS)) {
      let token: string | undefined;
      do {
        const req = new m.DescribeMetricListRequest({
          namespace: ALIYUN_NAMESPACE,
          metricName: name,
          dimensions: JSON.stringify(batch.map((instanceId) => ({ instanceId }))),
          period: String(PERIOD),
          startTime: isoSecond(since),
          endTime: isoSecond(until),
          length: String(PAGE),
          nextToken: token,
        });
        const r = await host.call(() => client.describeMetricList(req), signal);
        const b: CmsSdk.DescribeMetricListResponseBody = r.body ?? new m.DescribeMetricListResponseBody({});
        // CloudMonitor may answer a failure in the body (Success false, Code) with HTTP 200.
        if (b.success === false || (b.code && b.code !== '200')) throw new CloudError('aliyun', b.code || 'Unknown', b.message || 'DescribeMetricList failed', r.statusCode ?? null);
        const points = parseDatapoints(b.datapoints);
        for (const p of points) {
          const ts = Number(p.timestamp);
          const v = Number(p.Average ?? p.Value);
          if (!p.instanceId || !wanted.has(p.instanceId) || !Number.isFinite(ts) || !Number.isFinite(v) || ts <= since || ts > until) continue;
          out.push({ instanceId: p.instanceId, metric, ts, value: v * factor });
        }
        token = b.nextToken || undefined;
      } while (token);
    }
  }
  return out;
}

export async function aliyunInstancePrices(host: AliyunMetricsHost, region: string, instanceTypes: string[], signal?: AbortSignal): Promise<CloudPrice[]> {
  const out: CloudPrice[] = [];
  for (const instanceType of [...new Set(instanceTypes)]) {
    let b: EcsSdk.DescribePriceResponseBody;
    try {
      b = await host.ecsCall<EcsSdk.DescribePriceResponseBody>(region, (c) => c.describePrice(new host.ecs.DescribePriceRequest({ regionId: region, resourceType: 'instance', instanceType, priceUnit: 'Hour' })), signal);
    } catch (e) {
      if (e instanceof CloudError && UNPRICED.test(e.cloudCode)) continue;
      throw e;
    }
    const price = b.priceInfo?.price;
    const detail = price?.detailInfos?.detailInfo?.find((d) => d.resource === 'instanceType');
    const hourly = detail?.tradePrice ?? price?.tradePrice;
    if (typeof hourly !== 'number' || !Number.isFinite(hourly) || !price?.currency) continue;
    out.push({ instanceType, hourly, currency: price.currency });
  }
  return out;
}
