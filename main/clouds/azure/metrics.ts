import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CloudError, type CloudMetricPoint, type CloudPrice } from '../types';

/**
 * Azure Monitor metrics and Azure Retail Prices for the Azure session (the mappings and the price fetch).
 *
 * Metrics: `metrics:getBatch` on the region's metrics data plane, up to 50 VMs' resource ids a call
 * (@azure/monitor-query-metrics MetricsClient.queryResources, api-version 2024-02-01), interval PT1M, aggregation
 * average,total, namespace Microsoft.Compute/virtualMachines; each VM's part has the shape of its own metrics response.
 * Percentage CPU (average, percent) → cpu.util; Disk Read/Write Bytes and Network In/Out Total (total of the minute,
 * bytes) ÷ 60 → blk.rd_bytes_per_s / blk.wr_bytes_per_s / net.rx_bytes_per_s / net.tx_bytes_per_s; Available Memory
 * Bytes (average) → mem.available_bytes. The platform reports available memory but not the guest's total, so this
 * driver answers no mem.util; the collector (main/clouds/metrics-source.ts) derives one from the VM size's nominal
 * memory, a close approximation (the guest sees slightly less than the size's memory).
 */
export const AZURE_METRIC_INTERVAL = 'PT1M';
export const AZURE_METRIC_PERIOD_S = 60;
export const AZURE_VM_METRICS = [
  { name: 'Percentage CPU', agg: 'average', metric: 'cpu.util', perSecond: false },
  { name: 'Disk Read Bytes', agg: 'total', metric: 'blk.rd_bytes_per_s', perSecond: true },
  { name: 'Disk Write Bytes', agg: 'total', metric: 'blk.wr_bytes_per_s', perSecond: true },
  { name: 'Network In Total', agg: 'total', metric: 'net.rx_bytes_per_s', perSecond: true },
  { name: 'Network Out Total', agg: 'total', metric: 'net.tx_bytes_per_s', perSecond: true },
  { name: 'Available Memory Bytes', agg: 'average', metric: 'mem.available_bytes', perSecond: false },
] as const;
/** VMs per metrics:getBatch call (the API's limit). */
export const METRIC_BATCH = 50;
/** Metric calls in flight at once. */
export const METRIC_CONCURRENCY = 8;

/** The timespan `start/end` of the minute starts ts with since < ts <= until (end exclusive, as Azure Monitor takes it). */
export function metricTimespan(since: number, until: number): string {
  const p = AZURE_METRIC_PERIOD_S * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  return `${iso((Math.floor(since / p) + 1) * p)}/${iso((Math.floor(until / p) + 1) * p)}`;
}

interface MetricResponse {
  /** `name` is { value } on the wire, and the metric's name as a string in @azure/monitor-query-metrics' results. */
  value?: { name?: string | { value?: string }; timeseries?: { data?: { timeStamp?: Date | string; average?: number; total?: number }[] }[] }[];
}

/** One VM's metrics response → Skydeck points (since < ts <= until; minutes without data are skipped). */
export function metricPoints(instanceId: string, r: MetricResponse, since: number, until: number): CloudMetricPoint[] {
  const out: CloudMetricPoint[] = [];
  for (const m of r.value ?? []) {
    const name = typeof m.name === 'string' ? m.name : (m.name?.value ?? '');
    const def = AZURE_VM_METRICS.find((d) => d.name.toLowerCase() === name.toLowerCase());
    if (!def) continue;
    for (const series of m.timeseries ?? []) {
      for (const d of series.data ?? []) {
        const ts = d.timeStamp === undefined ? NaN : new Date(d.timeStamp).getTime();
        const v = d[def.agg];
        if (!Number.isFinite(ts) || typeof v !== 'number' || !Number.isFinite(v) || ts <= since || ts > until) continue;
        out.push({ instanceId, metric: def.metric, ts, value: def.perSecond ? v / AZURE_METRIC_PERIOD_S : v });
      }
    }
  }
  return out;
}

/** Runs `fn` over `xs` with at most `n` at once, in order of the answers' positions. */
export async function mapLimit<T, R>(xs: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await fn(xs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, worker));
  return out;
}

/**
 * Retail prices: https://prices.azure.com/api/retail/prices (unauthenticated), one $filter per size:
 * serviceName 'Virtual Machines', the region's armRegionName, the armSkuName, priceType 'Consumption'; paged by
 * NextPageLink. Spot and Low Priority meters and Windows products are skipped: what remains is the Linux pay-as-you-go
 * hourly price. With an endpoint override the same origin serves the API (a proxy or the fake), as it does ARM.
 */
export const RETAIL_PRICES_URL = 'https://prices.azure.com/api/retail/prices';
export const RETAIL_API_VERSION = '2023-01-01-preview';
export const PRICE_CONCURRENCY = 4;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
export function retailFilter(region: string, size: string): string {
  return `serviceName eq 'Virtual Machines' and armRegionName eq ${quote(region)} and armSkuName eq ${quote(size)} and priceType eq 'Consumption'`;
}

export interface RetailItem {
  currencyCode?: string;
  retailPrice?: number;
  unitPrice?: number;
  armSkuName?: string;
  armRegionName?: string;
  meterName?: string;
  skuName?: string;
  productName?: string;
  type?: string;
  unitOfMeasure?: string;
  isPrimaryMeterRegion?: boolean;
}

/** The Linux pay-as-you-go item among a size's Consumption items (no Spot / Low Priority meter, no Windows product). */
export function linuxPayAsYouGo(items: RetailItem[], size: string): CloudPrice | null {
  const ok = items.filter(
    (i) =>
      i.armSkuName === size &&
      (i.type ?? 'Consumption') === 'Consumption' &&
      !/\b(Spot|Low Priority)\b/i.test(`${i.meterName ?? ''} ${i.skuName ?? ''}`) &&
      !/\bWindows\b/i.test(i.productName ?? '') &&
      /^1 Hours?$/i.test(i.unitOfMeasure ?? '1 Hour') &&
      typeof (i.retailPrice ?? i.unitPrice) === 'number',
  );
  const pick = ok.find((i) => i.isPrimaryMeterRegion !== false) ?? ok[0];
  if (!pick) return null;
  return { instanceType: size, hourly: (pick.retailPrice ?? pick.unitPrice)!, currency: pick.currencyCode ?? 'USD' };
}

/**
 * A GET answering JSON, over node:http(s) so the endpoint override's CA (the TLS options the ARM clients get) applies;
 * Node's global fetch cannot be handed a CA. Non-2xx → CloudError with the API's code ({ Error: { Code, Message } }).
 */
export function getJson(url: string, o: { ca?: string[]; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'http:' ? httpRequest : httpsRequest)(u, { method: 'GET', headers: { accept: 'application/json' }, ...(o.ca && u.protocol === 'https:' ? { ca: o.ca } : {}), signal: o.signal, timeout: o.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(netError(e)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null;
        }
        if (status >= 200 && status < 300 && body !== null) return resolve(body);
        const err = (body as { Error?: { Code?: string; Message?: string }; error?: { code?: string; message?: string } } | null) ?? {};
        const code = err.Error?.Code ?? err.error?.code ?? (status === 429 ? 'TooManyRequests' : `Http${status}`);
        const ra = res.headers['retry-after'];
        const retryAfter = typeof ra === 'string' && /^\d+(\.\d+)?$/.test(ra) ? Number(ra) : null;
        reject(new CloudError('azure', code, err.Error?.Message ?? err.error?.message ?? (text.slice(0, 200) || `HTTP ${status}`), status, retryAfter));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(netError(e)));
    req.end();
  });
}

function netError(e: unknown): unknown {
  const x = e as { name?: string; code?: string; message?: string };
  if (x?.name === 'AbortError') return e;
  return new CloudError('azure', x?.code ?? 'NetworkError', x?.message ?? String(e));
}
