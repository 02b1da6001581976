// The Tencent fake's Cloud Monitor (monitor 2018-07-24) GetMonitorData and CVM InquiryPriceRunInstances, mixed into
// ./fake.mjs's router (TC3 verification, faults, parameter names and Region checks stay there). Written from the API
// references:
//
//  - GetMonitorData (https://cloud.tencent.com/document/api/248/31014, host monitor.tencentcloudapi.com): Namespace
//    (QCE/CVM), MetricName (one metric), Instances [{Dimensions: [{Name: "InstanceId", Value}]}] — at most 10 instances
//    a request — Period in seconds (QCE/CVM: 10, 60, 300, 3600, 86400; default 300), StartTime/EndTime ISO 8601 with
//    an offset ("2018-09-22T19:51:23+08:00", EndTime default now), at most 1440 data points a request. The answer is
//    Period, MetricName, StartTime, EndTime, Msg and DataPoints [{Dimensions, Timestamps (Unix seconds), Values}], one
//    per instance, Timestamps/Values empty where there is no data. QCE/CVM units (https://cloud.tencent.com/document/
//    product/248/6843): CpuUsage and MemUsage % (MemUsage needs the monitoring agent: modelled absent on every fourth
//    instance), LanIntraffic/LanOuttraffic/WanIntraffic/WanOuttraffic Mbps. QCE/CVM has no per-instance disk
//    throughput (that is QCE/BLOCK_STORAGE, per disk).
//  - InquiryPriceRunInstances (https://cloud.tencent.com/document/api/213/15726, CVM 2017-03-12): Placement.Zone and
//    ImageId required, InstanceChargeType (POSTPAID_BY_HOUR, PREPAID, SPOTPAID), InstanceType. The answer is
//    Price {InstancePrice, BandwidthPrice}: pay-as-you-go as UnitPrice, UnitPriceDiscount, Discount (%), ChargeUnit
//    HOUR; prepaid as OriginalPrice, DiscountPrice. No currency is answered (the account's site's: CNY on the China
//    site, USD on the international one).
import { createHash } from 'node:crypto';

export const MONITOR_VERSION = '2018-07-24';
/** The QCE/CVM metrics the fake serves (canonical spelling; the API matches names case-insensitively) with units. */
export const TENCENT_METRIC_UNITS = { CpuUsage: '%', MemUsage: '%', LanIntraffic: 'Mbps', LanOuttraffic: 'Mbps', WanIntraffic: 'Mbps', WanOuttraffic: 'Mbps' };
const PERIODS = [10, 60, 300, 3600, 86400];
const MAX_INSTANCES = 10;
const MAX_POINTS = 1440;

const hash32 = (s) => createHash('sha1').update(s).digest().readUInt32BE(0);

/** Whether the fake's monitoring agent reports from the instance (MemUsage has data). */
export function tencentAgentInstalled(instanceId) {
  return hash32(`agent/${instanceId}`) % 4 !== 3;
}

/** The value the fake answers for (instance, canonical metric, timestamp in Unix seconds): % with 2 decimals, Mbps with 3. */
export function tencentMetricValue(instanceId, metric, ts) {
  const base = hash32(`${instanceId}/${metric}`);
  const minute = Math.floor(ts / 60);
  if (TENCENT_METRIC_UNITS[metric] === '%') return ((base + minute * 37) % 10_000) / 100;
  return ((base + minute * 1009) % 1_000_000) / 1000;
}

const beijing = (ms) => new Date(ms + 8 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');

/**
 * @param {{ instances: Map<string, { region: string }>, err: (code: string, message: string) => Error, missing: (name: string) => Error,
 *   bad: (name: string, why?: string) => Error, badValue: (name: string, why?: string) => Error, now: () => number }} ctx
 */
export function monitorApi(ctx) {
  const time = (p, name, def) => {
    const v = p[name];
    if (v === undefined) return def;
    if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.test(v)) throw ctx.bad(name, 'must be an ISO 8601 time such as 2018-09-22T19:51:23+08:00');
    // Without an offset the time is Beijing time.
    const t = Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}+08:00`);
    if (Number.isNaN(t)) throw ctx.bad(name, 'is not a valid time');
    return t;
  };
  return {
    GetMonitorData: {
      params: ['Namespace', 'MetricName', 'Instances', 'Period', 'StartTime', 'EndTime', 'SpecifyStatistics'],
      run: (p, rctx) => {
        if (!p.Namespace) throw ctx.missing('Namespace');
        if (!p.MetricName) throw ctx.missing('MetricName');
        if (String(p.Namespace).toUpperCase() !== 'QCE/CVM') throw ctx.err('ResourceNotFound', `The namespace \`${p.Namespace}\` does not exist.`);
        const metric = Object.keys(TENCENT_METRIC_UNITS).find((m) => m.toLowerCase() === String(p.MetricName).toLowerCase());
        if (!metric) throw ctx.err('FailedOperation.DataColumnNotFound', `The metric \`${p.MetricName}\` does not exist in QCE/CVM.`);
        if (!Array.isArray(p.Instances) || !p.Instances.length) throw ctx.missing('Instances');
        if (p.Instances.length > MAX_INSTANCES) throw ctx.badValue('Instances', `must have at most ${MAX_INSTANCES} instances`);
        const ids = p.Instances.map((x, i) => {
          const dims = x?.Dimensions;
          if (!Array.isArray(dims) || !dims.every((d) => d && typeof d.Name === 'string' && typeof d.Value === 'string')) throw ctx.bad(`Instances.${i}.Dimensions`, 'must be a list of {Name, Value}');
          const d = dims.find((y) => y.Name === 'InstanceId');
          if (!d || dims.length !== 1) throw ctx.badValue(`Instances.${i}.Dimensions`, 'must be [{"Name":"InstanceId","Value":…}] for QCE/CVM');
          return d.Value;
        });
        const period = p.Period ?? 300;
        if (!Number.isInteger(period)) throw ctx.bad('Period', 'must be an integer');
        if (!PERIODS.includes(period)) throw ctx.badValue('Period', `must be one of ${PERIODS.join(', ')}`);
        const t = ctx.now();
        const end = time(p, 'EndTime', t);
        const start = time(p, 'StartTime', end - 3_600_000);
        if (end < start) throw ctx.badValue('EndTime', 'must not be earlier than StartTime');
        const step = period * 1000;
        const stamps = [];
        for (let ts = Math.ceil(start / step) * step; ts <= end && ts <= t; ts += step) stamps.push(ts / 1000);
        if (stamps.length * ids.length > MAX_POINTS) throw ctx.badValue('StartTime', `asks for ${stamps.length * ids.length} data points: at most ${MAX_POINTS} a request`);
        const DataPoints = ids.map((id) => {
          const x = ctx.instances.get(id);
          const has = x && x.region === rctx.region && (metric !== 'MemUsage' || tencentAgentInstalled(id));
          return { Dimensions: [{ Name: 'InstanceId', Value: id }], Timestamps: has ? [...stamps] : [], Values: has ? stamps.map((s) => tencentMetricValue(id, metric, s)) : [] };
        });
        return { Period: period, MetricName: p.MetricName, DataPoints, StartTime: beijing(start), EndTime: beijing(end), Msg: '' };
      },
    },
  };
}

/** The fake's pay-as-you-go hourly price of a Linux CVM type (UnitPrice; UnitPriceDiscount = UnitPrice × discount). */
export function tencentHourlyPrice(region, cpu, memoryGb) {
  const regionFactor = region.startsWith('ap-') && !region.startsWith('ap-singapore') ? 1 : 1.2;
  return Math.round((cpu * 0.11 + memoryGb * 0.025) * regionFactor * 100) / 100;
}
const WINDOWS_HOURLY_PER_CPU = 0.04;
const round2 = (n) => Math.round(n * 100) / 100;

/**
 * @param {{ region: (ctx: { region: string }) => { id: string, zones: string[] }, typeIn: (name: string, zone: string) => [string, string, number, number, boolean],
 *   images: Array<[string, string, string, string]>, err: (code: string, message: string) => Error, missing: (name: string) => Error,
 *   badValue: (name: string, why?: string) => Error, discount?: number }} ctx
 */
export function inquiryPriceApi(ctx) {
  return {
    InquiryPriceRunInstances: {
      params: ['Placement', 'ImageId', 'InstanceChargeType', 'InstanceChargePrepaid', 'InstanceType', 'SystemDisk', 'DataDisks', 'VirtualPrivateCloud', 'InternetAccessible',
        'InstanceCount', 'InstanceName', 'LoginSettings', 'SecurityGroupIds', 'EnhancedService', 'ClientToken', 'HostName', 'TagSpecification', 'InstanceMarketOptions',
        'Metadata', 'HpcClusterId', 'CpuTopology', 'LaunchTemplate', 'NetworkInterfaces'],
      run: (p, rctx) => {
        const r = ctx.region(rctx);
        const zone = p.Placement?.Zone;
        if (!zone) throw ctx.missing('Placement.Zone');
        if (!r.zones.includes(zone)) throw ctx.err('InvalidZone.MismatchRegion', `The zone \`${zone}\` does not belong to the region \`${r.id}\`.`);
        if (!p.ImageId) throw ctx.missing('ImageId');
        const image = ctx.images.find((i) => i[0] === p.ImageId);
        if (!image) throw ctx.err('InvalidImageId.NotFound', `The image \`${p.ImageId}\` does not exist.`);
        const t = ctx.typeIn(p.InstanceType ?? 'S5.MEDIUM4', zone);
        const charge = p.InstanceChargeType ?? 'POSTPAID_BY_HOUR';
        if (!['POSTPAID_BY_HOUR', 'PREPAID', 'SPOTPAID'].includes(charge)) throw ctx.badValue('InstanceChargeType', 'is not supported');
        const count = p.InstanceCount ?? 1;
        if (!Number.isInteger(count) || count < 1 || count > 100) throw ctx.badValue('InstanceCount', 'must be from 1 to 100');
        const discount = ctx.discount ?? 1;
        const hourly = round2(tencentHourlyPrice(r.id, t[2], t[3]) + (image[3] === 'WINDOWS' ? t[2] * WINDOWS_HOURLY_PER_CPU : 0)) * count;
        if (charge === 'PREPAID') {
          const months = p.InstanceChargePrepaid?.Period ?? 1;
          const original = round2(hourly * 720 * months);
          return { Price: { InstancePrice: { OriginalPrice: original, DiscountPrice: round2(original * discount), Discount: Math.round(discount * 100) } } };
        }
        return { Price: { InstancePrice: { UnitPrice: round2(hourly), ChargeUnit: 'HOUR', UnitPriceDiscount: round2(hourly * discount), Discount: Math.round(discount * 100) } } };
      },
    },
  };
}
