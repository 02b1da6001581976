// The Alibaba fake's CloudMonitor (CMS 2019-01-01) DescribeMetricList and ECS DescribePrice, mixed into ./fake.mjs's
// router (signature verification, faults and parameter checks stay there). Written from the API references:
//
//  - DescribeMetricList (https://help.aliyun.com/document_detail/51936.html, 2019-01-01, RPC): Namespace and MetricName
//    required; Dimensions a JSON string of key-value maps ([{"instanceId":"i-…"}, …], several instances at once);
//    Period in seconds (60, 300, 900 …); StartTime/EndTime as Unix seconds or milliseconds, "YYYY-MM-DDThh:mm:ssZ" or
//    "YYYY-MM-DD hh:mm:ss" (Beijing time), left-open right-closed (start < timestamp <= end); Length the page size
//    (default 1000, at most 1440); NextToken present while more pages exist. The answer is Code "200", Success true,
//    Period, NextToken and Datapoints — a JSON *string* of [{timestamp (ms), userId, instanceId, Average, Minimum,
//    Maximum}]. acs_ecs_dashboard units: CPUUtilization and memory_usedutilization Percent; DiskReadBPS/DiskWriteBPS
//    Byte/s; IntranetInRate/IntranetOutRate and InternetInRate/InternetOutRate bit/s. memory_usedutilization is
//    reported by the CloudMonitor agent only: instances without the agent have no data points (modelled below for every
//    third instance). A 60 s period is kept 31 days; older or future points do not exist.
//  - DescribePrice (https://help.aliyun.com/document_detail/90042.html, ECS 2014-05-26): RegionId required,
//    ResourceType default "instance" (InstanceType then required), PriceUnit Hour (default, pay-as-you-go) / Week /
//    Month / Year, ImageId optional (a Linux image is priced when absent), SystemDisk.Category default
//    cloud_efficiency, 40 GiB. The answer is PriceInfo.Price {OriginalPrice, DiscountPrice, TradePrice, Currency,
//    DetailInfos.DetailInfo [{Resource: instanceType | systemDisk | …, OriginalPrice, DiscountPrice, TradePrice}]}
//    with PriceInfo.Rules; the currency is the account's site's (CNY on the China site, USD on the international one).
import { createHash } from 'node:crypto';

export const CMS_VERSION = '2019-01-01';
export const ACS_ECS_DASHBOARD = 'acs_ecs_dashboard';
/** The acs_ecs_dashboard metrics the fake serves, with their units (as DescribeMetricMetaList answers them). */
export const ALIYUN_METRIC_UNITS = {
  CPUUtilization: '%', memory_usedutilization: '%', DiskReadBPS: 'Byte/s', DiskWriteBPS: 'Byte/s',
  IntranetInRate: 'bit/s', IntranetOutRate: 'bit/s', InternetInRate: 'bit/s', InternetOutRate: 'bit/s',
};
const AGENT_METRICS = new Set(['memory_usedutilization']);
const RETENTION_60S_MS = 31 * 86_400_000;

const hash32 = (s) => createHash('sha1').update(s).digest().readUInt32BE(0);

/** Whether the fake's CloudMonitor agent reports from the instance (every instance whose id hash is not ≡ 2 mod 3). */
export function aliyunAgentInstalled(instanceId) {
  return hash32(`agent/${instanceId}`) % 3 !== 2;
}

/**
 * The Average the fake answers for (instance, metric, timestamp ms), in the metric's own unit: percents with two
 * decimals in [0, 100), rates as whole numbers (Byte/s or bit/s). Minimum/Maximum are derived from it.
 */
export function aliyunMetricValue(instanceId, metric, ts) {
  const base = hash32(`${instanceId}/${metric}`);
  const minute = Math.floor(ts / 60_000);
  if (ALIYUN_METRIC_UNITS[metric] === '%') return ((base + minute * 37) % 10_000) / 100;
  return (base + minute * 1009) % 50_000_000;
}

/** "1700000000", "1700000000000", "2024-01-01T00:00:00Z" or "2024-01-01 08:00:00" (UTC+8) → ms, or NaN. */
function timeOf(s) {
  const v = String(s).trim();
  if (/^\d{10}$/.test(v)) return Number(v) * 1000;
  if (/^\d{13}$/.test(v)) return Number(v);
  const plain = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$/.exec(v);
  if (plain) return Date.parse(`${plain[1]}T${plain[2]}+08:00`);
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v)) return Date.parse(v);
  return Number.NaN;
}

/**
 * @param {{ instances: Map<string, any>, err: (status: number, code: string, message: string) => Error,
 *   missing: (name: string) => Error, now: () => number, userId?: string }} ctx
 */
export function cmsApi(ctx) {
  const bad = (name, why) => ctx.err(400, 'InvalidParameter', `The specified parameter "${name}" ${why}.`);
  return {
    DescribeMetricList: {
      params: ['Namespace', 'MetricName', 'Dimensions', 'Period', 'StartTime', 'EndTime', 'Length', 'NextToken', 'Express'],
      run: (p) => {
        if (!p.Namespace) throw ctx.missing('Namespace');
        if (!p.MetricName) throw ctx.missing('MetricName');
        if (p.Namespace !== ACS_ECS_DASHBOARD) throw ctx.err(400, 'ResourceNotFound', `The namespace "${p.Namespace}" does not exist.`);
        if (!(p.MetricName in ALIYUN_METRIC_UNITS)) throw ctx.err(400, 'ResourceNotFound', `The metric "${p.MetricName}" does not exist in ${p.Namespace}.`);
        const period = p.Period === undefined || p.Period === '' ? 60 : Number(p.Period);
        if (!Number.isInteger(period) || period < 60 || period % 60) throw bad('Period', 'must be a multiple of 60 seconds');
        const end = p.EndTime ? timeOf(p.EndTime) : ctx.now();
        const start = p.StartTime ? timeOf(p.StartTime) : end - 3_600_000;
        if (Number.isNaN(start)) throw bad('StartTime', 'is not a valid time');
        if (Number.isNaN(end)) throw bad('EndTime', 'is not a valid time');
        if (start >= end) throw bad('StartTime', 'must be earlier than EndTime');
        const length = p.Length === undefined || p.Length === '' ? 1000 : Number(p.Length);
        if (!Number.isInteger(length) || length < 1 || length > 1440) throw bad('Length', 'must be an integer from 1 to 1440');
        /** @type {string[] | null} null: every instance of the account */
        let ids = null;
        if (p.Dimensions) {
          let dims;
          try {
            dims = JSON.parse(p.Dimensions);
          } catch {
            throw bad('Dimensions', 'is not a valid JSON string');
          }
          const list = Array.isArray(dims) ? dims : [dims];
          if (!list.every((d) => d && typeof d === 'object' && !Array.isArray(d))) throw bad('Dimensions', 'must be a JSON map or a list of maps');
          ids = list.map((d) => d.instanceId).filter((x) => x !== undefined).map(String);
          if (ids.some((x) => !x.length || x.length > 64)) throw bad('Dimensions', 'has a value that is empty or longer than 64 bytes');
        }
        let offset = 0;
        if (p.NextToken) {
          const m = /^cms:(\d+)$/.exec(Buffer.from(p.NextToken, 'base64url').toString());
          if (!m) throw bad('NextToken', 'is not valid');
          offset = Number(m[1]);
        }
        const t = ctx.now();
        const first = Math.floor(start / (period * 1000)) * period * 1000 + period * 1000; // the first period start > start
        const oldest = t - RETENTION_60S_MS;
        const xs = (ids ?? [...ctx.instances.keys()]).filter((id) => ctx.instances.has(id) && (!AGENT_METRICS.has(p.MetricName) || aliyunAgentInstalled(id)));
        // Ordered by timestamp, then by the instances' order in Dimensions.
        const points = [];
        for (let ts = first; ts <= end && ts <= t; ts += period * 1000) {
          if (ts < oldest) continue;
          for (const id of xs) {
            const avg = aliyunMetricValue(id, p.MetricName, ts);
            points.push({ timestamp: ts, userId: ctx.userId ?? '1208863178610000', instanceId: id, Average: avg, Minimum: avg, Maximum: avg });
          }
        }
        const page = points.slice(offset, offset + length);
        const next = offset + length < points.length ? Buffer.from(`cms:${offset + length}`).toString('base64url') : undefined;
        return { Code: '200', Success: true, Period: String(period), Datapoints: JSON.stringify(page), ...(next ? { NextToken: next } : {}) };
      },
    },
  };
}

/** The fake's pay-as-you-go list price of an instance type per hour, before the system disk (Linux). */
export function aliyunHourlyPrice(region, instanceType, vcpu, memoryMib) {
  const regionFactor = region.startsWith('cn-') ? 1 : 1.25;
  return Math.round((vcpu * 0.12 + (memoryMib / 1024) * 0.03) * regionFactor * 10_000) / 10_000;
}
const SYSTEM_DISK_HOURLY = { cloud_efficiency: 0.0014, cloud_ssd: 0.0028, cloud_essd: 0.004, cloud_auto: 0.004 }; // per GiB·hour
const WINDOWS_HOURLY_PER_VCPU = 0.05;
const round4 = (n) => Math.round(n * 10_000) / 10_000;

/**
 * @param {{ region: (p: Record<string,string>) => { id: string }, types: Array<[string, string, number, number, boolean]>,
 *   images: Array<[string, string, string, string]>, err: (status: number, code: string, message: string) => Error,
 *   missing: (name: string) => Error, currency?: string, discount?: number }} ctx
 */
export function describePriceApi(ctx) {
  return {
    DescribePrice: {
      params: ['ResourceType', 'InstanceType', 'InstanceTypeList', 'PriceUnit', 'Period', 'Amount', 'ImageId', 'Platform', 'SystemDisk', 'DataDisk', 'ZoneId',
        'InstanceNetworkType', 'InternetChargeType', 'InternetMaxBandwidthOut', 'IoOptimized', 'SpotStrategy', 'SpotDuration', 'OfferingType', 'Scope',
        'DedicatedHostType', 'AssuranceTimes', 'InstanceAmount', 'InstanceCpuCoreCount', 'StartTime', 'Capacity', 'Isp', 'RecurrenceRules', 'SchedulerOptions'],
      run: (p) => {
        const r = ctx.region(p);
        const resourceType = p.ResourceType || 'instance';
        if (resourceType !== 'instance') throw ctx.err(400, 'InvalidResourceType.NotSupported', `The fake prices ResourceType instance only, not ${resourceType}.`);
        if (!p.InstanceType) throw ctx.missing('InstanceType');
        const t = ctx.types.find((x) => x[0] === p.InstanceType);
        if (!t) throw ctx.err(400, 'InvalidInstanceType.ValueNotSupported', 'The specified InstanceType does not exist or beyond the permitted range.');
        if (p.ZoneId && !p.ZoneId.startsWith(r.id)) throw ctx.err(400, 'InvalidZoneId.NotFound', 'The specified ZoneId does not exist.');
        if (p.ZoneId && !t[4] && p.ZoneId.endsWith('-b')) throw ctx.err(403, 'InvalidResourceType.NotSupported', 'This resource type is not supported; please try other resource types.');
        const unit = p.PriceUnit || 'Hour';
        const hours = { Hour: 1, Week: 168, Month: 720, Year: 8760 }[unit];
        if (!hours) throw ctx.err(400, 'InvalidPriceUnit.ValueNotSupported', 'The specified parameter PriceUnit is not valid.');
        const period = p.Period ? Number(p.Period) : 1;
        if (!Number.isInteger(period) || period < 1) throw ctx.err(400, 'InvalidPeriod.ValueNotSupported', 'The specified parameter Period is not valid.');
        let windows = p.Platform === 'Windows';
        if (p.ImageId) {
          const img = ctx.images.find((i) => i[0] === p.ImageId);
          if (!img) throw ctx.err(404, 'InvalidImageId.NotFound', 'The specified ImageId does not exist.');
          windows = img[2] === 'windows';
        }
        const category = p['SystemDisk.Category'] || 'cloud_efficiency';
        const perGib = SYSTEM_DISK_HOURLY[category];
        if (perGib === undefined) throw ctx.err(400, 'InvalidSystemDiskCategory.ValueNotSupported', 'The specified parameter SystemDisk.Category is not valid.');
        const size = p['SystemDisk.Size'] ? Number(p['SystemDisk.Size']) : 40;
        const discount = ctx.discount ?? 1;
        const item = (resource, hourly) => {
          const original = round4(hourly * hours * period);
          const trade = round4(original * discount);
          return { Resource: resource, OriginalPrice: original, DiscountPrice: round4(original - trade), TradePrice: trade };
        };
        const details = [item('instanceType', aliyunHourlyPrice(r.id, t[0], t[2], t[3]) + (windows ? t[2] * WINDOWS_HOURLY_PER_VCPU : 0)), item('systemDisk', perGib * size)];
        const sum = (k) => round4(details.reduce((a, d) => a + d[k], 0));
        return {
          PriceInfo: {
            Price: { Currency: ctx.currency ?? 'CNY', OriginalPrice: sum('OriginalPrice'), DiscountPrice: sum('DiscountPrice'), TradePrice: sum('TradePrice'),
              DetailInfos: { DetailInfo: details } },
            Rules: { Rule: [] },
          },
        };
      },
    },
  };
}
