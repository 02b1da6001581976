import type * as MonitorModels from 'tencentcloud-sdk-nodejs-monitor/tencentcloud/services/monitor/v20180724/monitor_models';
import type * as CvmModels from 'tencentcloud-sdk-nodejs-cvm/tencentcloud/services/cvm/v20170312/cvm_models';
import { CloudError, type CloudMetricPoint, type CloudPrice, type CloudZone } from '../types';

/**
 * Tencent Cloud metrics and prices for TencentSession (mixed in there):
 *
 *  - metrics: Cloud Monitor `GetMonitorData` (monitor.tencentcloudapi.com, 2018-07-24, the official
 *    tencentcloud-sdk-nodejs-monitor client, imported at the first call), Namespace QCE/CVM, Period 60, one metric per
 *    call, at most 10 instances per call (Instances [{Dimensions: [{Name: "InstanceId", Value}]}]) and at most 1440
 *    data points per call, so the window is cut into slices of ⌊1440 / instances⌋ minutes. Timestamps are Unix seconds.
 *    Metric → Skydeck metric (unit): CpuUsage (%) → cpu.util; MemUsage (%, monitoring agent) → mem.util;
 *    LanIntraffic / LanOuttraffic (Mbps, × 125 000 = 10⁶ / 8) → net.rx_bytes_per_s / net.tx_bytes_per_s — the private
 *    NIC's traffic (WanIntraffic/WanOuttraffic, the public side, are not added). QCE/CVM has no per-instance disk
 *    throughput (CBS's QCE/BLOCK_STORAGE is per disk id), so blk.* are not answered.
 *  - prices: CVM `InquiryPriceRunInstances` (InstanceChargeType POSTPAID_BY_HOUR) in the region's first AVAILABLE zone
 *    that sells the type (sold-out and unknown-type codes move to the next zone; a type no zone prices is left out),
 *    with a public Linux image (ImageId is required; the first PUBLIC_IMAGE of TencentOS/Ubuntu/CentOS that
 *    DescribeImages lists). The hourly price is Price.InstancePrice.UnitPriceDiscount (ChargeUnit HOUR; the
 *    instance with its default system disk). The API answers no currency: it is the account's site's, CNY for a China
 *    site account (the default), USD for an international one (credentials.currency overrides).
 */

/** What TencentSession lends: its retried call, its zones, and where the monitor SDK is kept once loaded. */
export interface TencentMetricsHost {
  call<O>(service: 'cvm' | 'monitor', region: string, action: string, params: object, signal?: AbortSignal): Promise<O>;
  listZones(region: string, signal?: AbortSignal): Promise<CloudZone[]>;
  /** Loads tencentcloud-sdk-nodejs-monitor for the session's monitor client (once). */
  loadMonitor(): Promise<void>;
  currency: string;
  /** Public image per region, found once. */
  images: Map<string, string>;
}

export const TENCENT_NAMESPACE = 'QCE/CVM';
/** QCE/CVM metric → [Skydeck metric, factor to Skydeck's unit]. */
export const TENCENT_METRICS: Record<string, [string, number]> = {
  CpuUsage: ['cpu.util', 1],
  MemUsage: ['mem.util', 1],
  LanIntraffic: ['net.rx_bytes_per_s', 1_000_000 / 8],
  LanOuttraffic: ['net.tx_bytes_per_s', 1_000_000 / 8],
};
export const TENCENT_METRICS_BATCH = 10;
const MAX_POINTS = 1440;
const PERIOD = 60;
/** Codes for a type a zone does not sell or the API does not know: try the next zone, then leave the type out. */
const UNPRICED = /^ResourcesSoldOut|^InvalidInstanceType|^ResourceInsufficient|^InvalidParameterValue\.(InstanceType|InvalidInstanceType|InstanceTypeNotFound|InstanceTypeNotSupport)|^UnsupportedOperation\.(InstanceType|Zone)|^InvalidZone\./;

/** ISO 8601 in Beijing time, as the API's examples write it: 2018-09-22T19:51:23+08:00. */
export const tencentMonitorTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000 + 8 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');

export async function tencentInstanceMetrics(host: TencentMetricsHost, region: string, instanceIds: string[], since: number, until: number, signal?: AbortSignal): Promise<CloudMetricPoint[]> {
  const ids = [...new Set(instanceIds)];
  if (!ids.length || !(until > since)) return [];
  await host.loadMonitor();
  const step = PERIOD * 1000;
  const out: CloudMetricPoint[] = [];
  for (let i = 0; i < ids.length; i += TENCENT_METRICS_BATCH) {
    const batch = ids.slice(i, i + TENCENT_METRICS_BATCH);
    const wanted = new Set(batch);
    // Each slice asks for at most `span` timestamps per instance: (from, to] with `to` ≤ first + (span - 1) periods.
    const span = Math.floor(MAX_POINTS / batch.length);
    for (let from = since; from < until; ) {
      const first = Math.floor(from / step) * step + step;
      const to = Math.min(until, first + (span - 1) * step);
      if (first > to) break;
      for (const [name, [metric, factor]] of Object.entries(TENCENT_METRICS)) {
        const req: MonitorModels.GetMonitorDataRequest = {
          Namespace: TENCENT_NAMESPACE,
          MetricName: name,
          Instances: batch.map((Value) => ({ Dimensions: [{ Name: 'InstanceId', Value }] })),
          Period: PERIOD,
          StartTime: tencentMonitorTime(first),
          EndTime: tencentMonitorTime(to),
        };
        const r = await host.call<MonitorModels.GetMonitorDataResponse>('monitor', region, 'GetMonitorData', req, signal);
        for (const dp of r.DataPoints ?? []) {
          const id = dp.Dimensions?.find((d) => d.Name === 'InstanceId')?.Value;
          if (!id || !wanted.has(id)) continue;
          const stamps = dp.Timestamps ?? [];
          const values = dp.Values ?? [];
          stamps.forEach((s, k) => {
            const ts = Number(s) * 1000;
            const v = Number(values[k]);
            if (ts > since && ts <= until && Number.isFinite(v)) out.push({ instanceId: id, metric, ts, value: v * factor });
          });
        }
      }
      from = to;
    }
  }
  return out;
}

async function publicImage(host: TencentMetricsHost, region: string, signal?: AbortSignal): Promise<string> {
  let id = host.images.get(region);
  if (!id) {
    const r = await host.call<CvmModels.DescribeImagesResponse>(
      'cvm',
      region,
      'DescribeImages',
      { Filters: [{ Name: 'image-type', Values: ['PUBLIC_IMAGE'] }, { Name: 'platform', Values: ['TencentOS', 'Ubuntu', 'CentOS'] }], Limit: 1 },
      signal,
    );
    id = r.ImageSet?.[0]?.ImageId;
    if (!id) throw new CloudError('tencent', 'InvalidImageId.NotFound', `no public Linux image is listed in ${region} to price instances with`);
    host.images.set(region, id);
  }
  return id;
}

export async function tencentInstancePrices(host: TencentMetricsHost, region: string, instanceTypes: string[], signal?: AbortSignal): Promise<CloudPrice[]> {
  const types = [...new Set(instanceTypes)];
  if (!types.length) return [];
  const zones = (await host.listZones(region, signal)).filter((z) => z.status === 'available').map((z) => z.id);
  const imageId = await publicImage(host, region, signal);
  const out: CloudPrice[] = [];
  for (const InstanceType of types) {
    for (const Zone of zones) {
      let r: CvmModels.InquiryPriceRunInstancesResponse;
      try {
        r = await host.call<CvmModels.InquiryPriceRunInstancesResponse>('cvm', region, 'InquiryPriceRunInstances', { Placement: { Zone }, ImageId: imageId, InstanceChargeType: 'POSTPAID_BY_HOUR', InstanceType }, signal);
      } catch (e) {
        if (e instanceof CloudError && UNPRICED.test(e.cloudCode)) continue;
        throw e;
      }
      const p = r.Price?.InstancePrice;
      const hourly = p?.UnitPriceDiscount ?? p?.UnitPrice;
      if (typeof hourly === 'number' && Number.isFinite(hourly) && (!p?.ChargeUnit || p.ChargeUnit === 'HOUR')) out.push({ instanceType: InstanceType, hourly, currency: host.currency });
      break;
    }
  }
  return out;
}
