export const CMS_VERSION: '2019-01-01';
export const ACS_ECS_DASHBOARD: 'acs_ecs_dashboard';
export const ALIYUN_METRIC_UNITS: Record<string, '%' | 'Byte/s' | 'bit/s'>;
/** Whether the fake's CloudMonitor agent reports from the instance (memory_usedutilization has data points). */
export function aliyunAgentInstalled(instanceId: string): boolean;
/** The Average the fake answers for (instance, metric, timestamp ms), in the metric's own unit. */
export function aliyunMetricValue(instanceId: string, metric: string, ts: number): number;
/** The fake's pay-as-you-go hourly list price of an instance type (Linux, before the system disk). */
export function aliyunHourlyPrice(region: string, instanceType: string, vcpu: number, memoryMib: number): number;
type Op = { params: string[]; run: (p: Record<string, string>) => object };
export function cmsApi(ctx: { instances: Map<string, unknown>; err: (status: number, code: string, message: string) => Error; missing: (name: string) => Error; now: () => number; userId?: string }): Record<string, Op>;
export function describePriceApi(ctx: {
  region: (p: Record<string, string>) => { id: string };
  types: Array<[string, string, number, number, boolean]>;
  images: Array<[string, string, string, string]>;
  err: (status: number, code: string, message: string) => Error;
  missing: (name: string) => Error;
  currency?: string;
  discount?: number;
}): Record<string, Op>;
