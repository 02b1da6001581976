export const MONITOR_VERSION: '2018-07-24';
export const TENCENT_METRIC_UNITS: Record<string, '%' | 'Mbps'>;
/** Whether the fake's monitoring agent reports from the instance (MemUsage has data). */
export function tencentAgentInstalled(instanceId: string): boolean;
/** The value the fake answers for (instance, canonical metric, timestamp in Unix seconds), in the metric's unit. */
export function tencentMetricValue(instanceId: string, metric: string, ts: number): number;
/** The fake's pay-as-you-go hourly price of a Linux CVM type. */
export function tencentHourlyPrice(region: string, cpu: number, memoryGb: number): number;
type Op = { params: string[]; run: (p: any, ctx: { region: string; requestId: string }) => object };
export function monitorApi(ctx: {
  instances: Map<string, { region: string }>;
  err: (code: string, message: string) => Error;
  missing: (name: string) => Error;
  bad: (name: string, why?: string) => Error;
  badValue: (name: string, why?: string) => Error;
  now: () => number;
}): Record<string, Op>;
export function inquiryPriceApi(ctx: {
  region: (ctx: { region: string }) => { id: string; zones: string[] };
  typeIn: (name: string, zone: string) => [string, string, number, number, boolean];
  images: Array<[string, string, string, string]>;
  err: (code: string, message: string) => Error;
  missing: (name: string) => Error;
  badValue: (name: string, why?: string) => Error;
  discount?: number;
}): Record<string, Op>;
