import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { Filter } from '@aws-sdk/client-pricing';
import type { CloudMetricPoint, CloudPrice } from '../types';

/**
 * CloudWatch and Price List mappings for the AWS session (pure: the session sends, these build and read).
 *
 * Metrics: CloudWatch GetMetricData on namespace AWS/EC2 with dimension InstanceId, period 300 s (basic monitoring, free).
 * CPUUtilization (Average, percent) → cpu.util; DiskReadBytes / DiskWriteBytes / NetworkIn / NetworkOut (Sum of the
 * period, bytes) divided by the period → blk.rd_bytes_per_s / blk.wr_bytes_per_s / net.rx_bytes_per_s /
 * net.tx_bytes_per_s. AWS/EC2 has no memory metric (mem.util needs the CloudWatch agent's CWAgent namespace), so none
 * is answered; DiskRead/WriteBytes count instance-store volumes only (EBS traffic is in AWS/EBS per volume).
 */
export const AWS_METRIC_PERIOD_S = 300;
export const AWS_EC2_METRICS = [
  { name: 'CPUUtilization', stat: 'Average', metric: 'cpu.util', perSecond: false },
  { name: 'DiskReadBytes', stat: 'Sum', metric: 'blk.rd_bytes_per_s', perSecond: true },
  { name: 'DiskWriteBytes', stat: 'Sum', metric: 'blk.wr_bytes_per_s', perSecond: true },
  { name: 'NetworkIn', stat: 'Sum', metric: 'net.rx_bytes_per_s', perSecond: true },
  { name: 'NetworkOut', stat: 'Sum', metric: 'net.tx_bytes_per_s', perSecond: true },
] as const;
/** GetMetricData takes at most 500 queries per call. */
export const MAX_METRIC_QUERIES = 500;
/** Instances per GetMetricData call (one query per metric each). */
export const INSTANCES_PER_CALL = Math.floor(MAX_METRIC_QUERIES / AWS_EC2_METRICS.length);

export function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * StartTime/EndTime (EndTime exclusive) of the period starts ts with since < ts <= until, aligned to the period as
 * CloudWatch answers period starts: the first period start after `since` to the one at or before `until`.
 */
export function metricWindow(since: number, until: number): { start: Date; end: Date } {
  const p = AWS_METRIC_PERIOD_S * 1000;
  return { start: new Date((Math.floor(since / p) + 1) * p), end: new Date((Math.floor(until / p) + 1) * p) };
}

export interface MetricBatch {
  queries: MetricDataQuery[];
  /** Query id → the instance and metric it asks. */
  index: Map<string, { instanceId: string; def: (typeof AWS_EC2_METRICS)[number] }>;
}

/** The queries of one call: ids `q<instance>_<metric>` (CloudWatch: a lower-case letter, then letters, digits, _). */
export function metricBatch(instanceIds: string[]): MetricBatch {
  const queries: MetricDataQuery[] = [];
  const index: MetricBatch['index'] = new Map();
  instanceIds.forEach((instanceId, i) =>
    AWS_EC2_METRICS.forEach((def, j) => {
      const Id = `q${i}_${j}`;
      index.set(Id, { instanceId, def });
      queries.push({ Id, MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: def.name, Dimensions: [{ Name: 'InstanceId', Value: instanceId }] }, Period: AWS_METRIC_PERIOD_S, Stat: def.stat }, ReturnData: true });
    }),
  );
  return { queries, index };
}

/** One page's results → Skydeck points (since < ts <= until). */
export function metricPoints(batch: MetricBatch, results: MetricDataResult[] | undefined, since: number, until: number): CloudMetricPoint[] {
  const out: CloudMetricPoint[] = [];
  for (const r of results ?? []) {
    const q = r.Id ? batch.index.get(r.Id) : undefined;
    if (!q) continue;
    const ts = r.Timestamps ?? [];
    const vs = r.Values ?? [];
    for (let i = 0; i < ts.length && i < vs.length; i++) {
      const t = ts[i]!.getTime();
      const v = vs[i]!;
      if (t <= since || t > until || !Number.isFinite(v)) continue;
      out.push({ instanceId: q.instanceId, metric: q.def.metric, ts: t, value: q.def.perSecond ? v / AWS_METRIC_PERIOD_S : v });
    }
  }
  return out;
}

/**
 * Prices: the Price List Query API GetProducts (service code AmazonEC2, endpoint api.pricing.us-east-1.amazonaws.com)
 * for on-demand Linux, shared tenancy, no pre-installed software, capacity status Used (the look-alike products —
 * Windows, RHEL, SQL, dedicated, capacity reservations — are filtered out by the API).
 */
export const PRICING_REGION = 'us-east-1';
/** Instance types per GetProducts call (an ANY_OF filter of comma-separated values). */
export const TYPES_PER_PRICE_CALL = 20;

export function priceFilters(region: string, types: string[]): Filter[] {
  return [
    { Type: 'TERM_MATCH', Field: 'regionCode', Value: region },
    { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
    { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
    { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
    { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
    types.length === 1 ? { Type: 'TERM_MATCH', Field: 'instanceType', Value: types[0]! } : { Type: 'ANY_OF', Field: 'instanceType', Value: types.join(',') },
  ];
}

interface PriceListItem {
  product?: { attributes?: Record<string, string> };
  terms?: { OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: Record<string, string> }> }> };
}

/** One PriceList entry (a JSON document in a string) → the type's hourly on-demand USD price, or null. */
export function parsePriceItem(raw: unknown, wanted: Set<string>): CloudPrice | null {
  let doc: PriceListItem;
  try {
    doc = JSON.parse(String(raw)) as PriceListItem;
  } catch {
    return null;
  }
  const type = doc.product?.attributes?.instanceType;
  if (!type || !wanted.has(type)) return null;
  for (const term of Object.values(doc.terms?.OnDemand ?? {})) {
    for (const d of Object.values(term.priceDimensions ?? {})) {
      const usd = d.pricePerUnit?.USD;
      if (d.unit === 'Hrs' && usd !== undefined && /^\d+(\.\d+)?$/.test(usd)) return { instanceType: type, hourly: Number(usd), currency: 'USD' };
    }
  }
  return null;
}
