/**
 * The Alibaba fake's CloudMonitor DescribeMetricList and ECS DescribePrice (./cms.mjs), driven by an independent client
 * signed with ./signature.mjs (ACS3 and V2 RPC): the answer's shape (Datapoints as a JSON string, NextToken), the
 * parameter checks and the signature refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAliyunFake, type AliyunFake } from './fake.mjs';
import { aliyunAgentInstalled, aliyunMetricValue } from './cms.mjs';
import { signAcs3, signRpc } from './signature.mjs';

let fake: AliyunFake;
beforeAll(async () => {
  fake = await startAliyunFake({ instances: 10, regions: 1 });
});
afterAll(async () => fake?.close());

async function call(action: string, version: string, params: Record<string, string>, o: { rpc?: boolean; secret?: string } = {}) {
  const url = new URL(`${fake.url}/`);
  let headers: Record<string, string> = {};
  if (o.rpc) {
    const q = signRpc({ method: 'POST', action, version, accessKeyId: fake.accessKeyId, accessKeySecret: o.secret ?? fake.accessKeySecret, params });
    for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  } else {
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    headers = signAcs3({ host: fake.endpoint, action, version, query: params, accessKeyId: fake.accessKeyId, accessKeySecret: o.secret ?? fake.accessKeySecret }).headers;
  }
  const { host: _h, ...send } = headers;
  const res = await fetch(url, { method: 'POST', headers: send });
  return { status: res.status, body: (await res.json()) as any };
}
const metrics = (params: Record<string, string>, o = {}) => call('DescribeMetricList', '2019-01-01', params, o);
const minute = () => Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

describe('DescribeMetricList', () => {
  it('answers Datapoints as a JSON string, left-open right-closed, paged by NextToken (V2 RPC and ACS3 signatures)', async () => {
    const ids = fake.state.instances().slice(0, 3).map((i) => String(i.InstanceId));
    const end = minute();
    const q = { Namespace: 'acs_ecs_dashboard', MetricName: 'CPUUtilization', Period: '60', Dimensions: JSON.stringify(ids.map((instanceId) => ({ instanceId }))),
      StartTime: String(end - 4 * 60_000), EndTime: String(end), Length: '5' };
    const a = await metrics(q, { rpc: true });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ Code: '200', Success: true, Period: '60' });
    expect(typeof a.body.Datapoints).toBe('string');
    const first = JSON.parse(a.body.Datapoints);
    expect(first).toHaveLength(5);
    expect(first[0]).toEqual({ timestamp: end - 3 * 60_000, userId: expect.any(String), instanceId: ids[0], Average: aliyunMetricValue(ids[0]!, 'CPUUtilization', end - 3 * 60_000), Minimum: expect.any(Number), Maximum: expect.any(Number) });
    expect(a.body.NextToken).toBeTruthy();
    const b = await metrics({ ...q, NextToken: a.body.NextToken });
    const c = await metrics({ ...q, NextToken: b.body.NextToken });
    const all = [...first, ...JSON.parse(b.body.Datapoints), ...JSON.parse(c.body.Datapoints)];
    expect(all).toHaveLength(12); // 4 minutes × 3 instances, 5 a page
    expect(new Set(all.map((p: any) => `${p.instanceId}/${p.timestamp}`)).size).toBe(12);
    expect(Math.min(...all.map((p: any) => p.timestamp))).toBe(end - 3 * 60_000); // StartTime itself excluded
    expect(c.body.NextToken).toBeUndefined();
    expect(fake.requests.slice(-3).map((r) => [r.signature, r.product])).toEqual([['HMAC-SHA1', 'cms'], ['ACS3-HMAC-SHA256', 'cms'], ['ACS3-HMAC-SHA256', 'cms']]);
  });

  it('has memory only where the agent reports', async () => {
    const ids = fake.state.instances().map((i) => String(i.InstanceId));
    const r = await metrics({ Namespace: 'acs_ecs_dashboard', MetricName: 'memory_usedutilization', Period: '60', Dimensions: JSON.stringify(ids.map((instanceId) => ({ instanceId }))), EndTime: String(minute()) });
    const got = new Set(JSON.parse(r.body.Datapoints).map((p: any) => p.instanceId));
    expect([...got].sort()).toEqual(ids.filter(aliyunAgentInstalled).sort());
    expect(got.size).toBeLessThan(ids.length);
  });

  it('checks parameters and the signature with the cloud codes', async () => {
    const base = { Namespace: 'acs_ecs_dashboard', MetricName: 'CPUUtilization' };
    expect((await metrics({ Namespace: 'acs_ecs_dashboard' })).body.Code).toBe('MissingParameter');
    expect((await metrics({ ...base, Length: '1441' })).body.Code).toBe('InvalidParameter');
    expect((await metrics({ ...base, Period: '45' })).body.Code).toBe('InvalidParameter');
    expect((await metrics({ ...base, Dimensions: '{nope' })).body.Code).toBe('InvalidParameter');
    expect((await metrics({ ...base, StartTime: '2024-01-01T00:10:00Z', EndTime: '2024-01-01T00:00:00Z' })).body.Code).toBe('InvalidParameter');
    expect((await metrics({ ...base, MetricName: 'nope' })).body.Code).toBe('ResourceNotFound');
    expect((await metrics({ ...base, RegionId: 'cn-hangzhou', Unknown: '1' })).body.Code).toBe('InvalidParameter');
    const bad = await metrics(base, { secret: 'wrong' });
    expect([bad.status, bad.body.Code]).toEqual([400, 'SignatureDoesNotMatch']);
    const wrongVersion = await call('DescribeMetricList', '2018-03-08', base);
    expect(wrongVersion.body.Code).toBe('InvalidVersion');
  });
});

describe('DescribePrice', () => {
  it('prices per hour with the instance and system disk detailed, and refuses what the API refuses', async () => {
    const region = fake.regions[0]!;
    const r = await call('DescribePrice', '2014-05-26', { RegionId: region, ResourceType: 'instance', InstanceType: 'ecs.g7.large', PriceUnit: 'Hour' });
    expect(r.status).toBe(200);
    const price = r.body.PriceInfo.Price;
    expect(price.Currency).toBe('CNY');
    const [inst, disk] = price.DetailInfos.DetailInfo;
    expect([inst.Resource, disk.Resource]).toEqual(['instanceType', 'systemDisk']);
    expect(price.TradePrice).toBeCloseTo(inst.TradePrice + disk.TradePrice, 4);
    const win = await call('DescribePrice', '2014-05-26', { RegionId: region, InstanceType: 'ecs.g7.large', ImageId: 'win2022_21H2_x64_dtc_zh-cn_40G_alibase_20240516.vhd' });
    expect(win.body.PriceInfo.Price.DetailInfos.DetailInfo[0].TradePrice).toBeGreaterThan(inst.TradePrice);
    const month = await call('DescribePrice', '2014-05-26', { RegionId: region, InstanceType: 'ecs.g7.large', PriceUnit: 'Month' });
    expect(month.body.PriceInfo.Price.DetailInfos.DetailInfo[0].TradePrice).toBeCloseTo(inst.TradePrice * 720, 2);
    expect((await call('DescribePrice', '2014-05-26', { RegionId: region })).body.Code).toBe('MissingParameter');
    expect((await call('DescribePrice', '2014-05-26', { RegionId: region, InstanceType: 'ecs.nope' })).body.Code).toBe('InvalidInstanceType.ValueNotSupported');
    expect((await call('DescribePrice', '2014-05-26', { RegionId: region, InstanceType: 'ecs.g7.large', PriceUnit: 'Day' })).body.Code).toBe('InvalidPriceUnit.ValueNotSupported');
    expect((await call('DescribePrice', '2014-05-26', { RegionId: 'cn-nowhere', InstanceType: 'ecs.g7.large' })).body.Code).toBe('InvalidRegionId.NotFound');
  });
});
