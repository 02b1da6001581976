/**
 * The Tencent fake's Cloud Monitor GetMonitorData and CVM InquiryPriceRunInstances (./monitor.mjs), driven by an
 * independent client signed with ./signature.mjs and sent to monitor/cvm.tencentcloudapi.com:PORT through the fake's
 * agent: the answer's shape, the API's limits (10 instances, 1440 points), parameter checks, version and signature.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTencentFake, type TencentFake } from './fake.mjs';
import { tencentAgentInstalled, tencentHourlyPrice, tencentMetricValue } from './monitor.mjs';
import { signTc3 } from './signature.mjs';

let fake: TencentFake;
beforeAll(async () => {
  fake = await startTencentFake({ instances: 20, regions: 1 });
});
afterAll(async () => fake?.close());

function call(service: string, action: string, version: string, params: object, o: { secretKey?: string; scope?: string } = {}): Promise<any> {
  const host = `${service}.tencentcloudapi.com`;
  const s = signTc3({ secretId: fake.secretId, secretKey: o.secretKey ?? fake.secretKey, service: o.scope ?? service, host, action, version, region: 'ap-guangzhou', payload: JSON.stringify(params) });
  const { Host: _h, ...headers } = s.headers;
  return new Promise((resolve, reject) => {
    const req = request({ host, port: fake.port, method: 'POST', path: '/', headers: { ...headers, Host: `${host}:${fake.port}` }, agent: fake.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()).Response));
    });
    req.on('error', reject);
    req.end(s.payload);
  });
}
const monitor = (params: object, o = {}) => call('monitor', 'GetMonitorData', '2018-07-24', params, o);
const inst = (ids: string[]) => ids.map((Value) => ({ Dimensions: [{ Name: 'InstanceId', Value }] }));
const bj = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
const minute = () => Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

describe('GetMonitorData', () => {
  it('answers one DataPoints entry per instance, Unix-second timestamps, empty where there is no data', async () => {
    const ids = fake.state.instances().map((i) => String(i.InstanceId)).slice(0, 9);
    const end = minute();
    const r = await monitor({ Namespace: 'QCE/CVM', MetricName: 'cpuusage', Instances: inst([...ids, 'ins-nothere']), Period: 60, StartTime: bj(end - 2 * 60_000), EndTime: bj(end) });
    expect(r.Error).toBeUndefined();
    expect(r).toMatchObject({ Period: 60, MetricName: 'cpuusage', Msg: '' });
    expect(r.DataPoints).toHaveLength(10);
    expect(r.DataPoints[0]).toEqual({ Dimensions: [{ Name: 'InstanceId', Value: ids[0] }], Timestamps: [0, 1, 2].map((k) => (end - (2 - k) * 60_000) / 1000),
      Values: [0, 1, 2].map((k) => tencentMetricValue(ids[0]!, 'CpuUsage', (end - (2 - k) * 60_000) / 1000)) });
    expect(r.DataPoints[9]).toEqual({ Dimensions: [{ Name: 'InstanceId', Value: 'ins-nothere' }], Timestamps: [], Values: [] });
    const mem = await monitor({ Namespace: 'QCE/CVM', MetricName: 'MemUsage', Instances: inst(ids), Period: 60, StartTime: bj(end - 60_000), EndTime: bj(end) });
    expect(mem.DataPoints.filter((d: any) => d.Values.length).map((d: any) => d.Dimensions[0].Value)).toEqual(ids.filter(tencentAgentInstalled));
    expect(fake.requests.at(-1)).toMatchObject({ service: 'monitor', version: '2018-07-24', status: 200, code: null });
  });

  it('refuses more than 10 instances, more than 1440 points, bad periods and names, another version or a bad signature', async () => {
    const ids = fake.state.instances().map((i) => String(i.InstanceId));
    const end = minute();
    const q = { Namespace: 'QCE/CVM', MetricName: 'CpuUsage', Period: 60, StartTime: bj(end - 60 * 60_000), EndTime: bj(end) };
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 11)) })).Error.Code).toBe('InvalidParameterValue');
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 10)), StartTime: bj(end - 200 * 60_000) })).Error.Code).toBe('InvalidParameterValue');
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 10)), StartTime: bj(end - 143 * 60_000) })).Error).toBeUndefined(); // 144 × 10
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 1)), Period: 45 })).Error.Code).toBe('InvalidParameterValue');
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 1)), MetricName: 'DiskReadTraffic' })).Error.Code).toBe('FailedOperation.DataColumnNotFound');
    expect((await monitor({ ...q, Instances: [{ Dimensions: [{ Name: 'uuid', Value: 'x' }] }] })).Error.Code).toBe('InvalidParameterValue');
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 1)), Bogus: 1 })).Error.Code).toBe('UnknownParameter');
    expect((await call('monitor', 'GetMonitorData', '2017-03-12', { ...q, Instances: inst(ids.slice(0, 1)) })).Error.Code).toBe('NoSuchVersion');
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 1)) }, { secretKey: 'wrong' })).Error.Code).toBe('AuthFailure.SignatureFailure');
    expect((await monitor({ ...q, Instances: inst(ids.slice(0, 1)) }, { scope: 'cvm' })).Error.Code).toBe('AuthFailure.InvalidAuthorization');
  });
});

describe('InquiryPriceRunInstances', () => {
  it('answers the hourly unit price of POSTPAID_BY_HOUR and checks zone, image and type', async () => {
    const price = (p: object) => call('cvm', 'InquiryPriceRunInstances', '2017-03-12', p);
    const base = { Placement: { Zone: 'ap-guangzhou-3' }, ImageId: 'img-487zeit5', InstanceChargeType: 'POSTPAID_BY_HOUR', InstanceType: 'S5.MEDIUM4' };
    const r = await price(base);
    expect(r.Price.InstancePrice).toEqual({ UnitPrice: tencentHourlyPrice('ap-guangzhou', 2, 4), ChargeUnit: 'HOUR', UnitPriceDiscount: tencentHourlyPrice('ap-guangzhou', 2, 4), Discount: 100 });
    expect((await price({ ...base, ImageId: 'img-9id7emv7' })).Price.InstancePrice.UnitPrice).toBeGreaterThan(r.Price.InstancePrice.UnitPrice);
    expect((await price({ ...base, InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 1 } })).Price.InstancePrice.OriginalPrice).toBeGreaterThan(0);
    const { ImageId: _i, ...noImage } = base;
    expect((await price(noImage)).Error.Code).toBe('MissingParameter');
    expect((await price({ ...base, Placement: { Zone: 'ap-shanghai-1' } })).Error.Code).toBe('InvalidZone.MismatchRegion');
    expect((await price({ ...base, InstanceType: 'S6.MEDIUM4', Placement: { Zone: 'ap-guangzhou-4' } })).Error.Code).toBe('ResourcesSoldOut.SpecifiedInstanceType');
    expect((await price({ ...base, InstanceType: 'NOPE' })).Error.Code).toBe('InvalidInstanceType.Malformed');
  });
});
