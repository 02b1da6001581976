import { afterEach, describe, expect, it } from 'vitest';
import { startAliyunFake, type AliyunFake } from '../../../scripts/peers/clouds/aliyun/fake.mjs';
import { aliyunAgentInstalled, aliyunHourlyPrice, aliyunMetricValue } from '../../../scripts/peers/clouds/aliyun/cms.mjs';
import { toApiError } from '../retry';
import { CloudError, type CloudMetricPoint } from '../types';
import { ALIYUN_METRICS } from './metrics';
import { aliyunDriver } from '.';

/**
 * Alibaba Cloud metrics (CloudMonitor DescribeMetricList through @alicloud/cms20190101) and prices (ECS DescribePrice)
 * against the loopback fake, which verifies every ACS3-HMAC-SHA256 signature with its own implementation and answers
 * values derived from the instance and the timestamp (./cms.mjs), so the mapped numbers are checked exactly.
 */

const connect = (fake: AliyunFake, secret = fake.accessKeySecret) =>
  aliyunDriver.connect({ accountId: 'a', provider: 'aliyun', endpoint: fake.url, credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: secret } });

/** A window of whole minutes that ended a minute ago. */
function window(minutes: number) {
  const until = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  return { since: until - minutes * 60_000, until };
}

/** What Skydeck should read: every metric of every instance, per minute in (since, until], in Skydeck's units. */
function expected(ids: string[], since: number, until: number): CloudMetricPoint[] {
  const out: CloudMetricPoint[] = [];
  for (const id of ids)
    for (const [name, [metric, factor]] of Object.entries(ALIYUN_METRICS))
      for (let ts = since + 60_000; ts <= until; ts += 60_000) {
        if (name === 'memory_usedutilization' && !aliyunAgentInstalled(id)) continue;
        out.push({ instanceId: id, metric, ts, value: aliyunMetricValue(id, name, ts) * factor });
      }
  return out;
}
const sorted = (xs: CloudMetricPoint[]) => [...xs].sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.metric.localeCompare(b.metric) || a.ts - b.ts);

describe('Alibaba Cloud metrics and prices against the fake', () => {
  let fake: AliyunFake;
  afterEach(async () => fake?.close());

  it('declares metrics and prices', () => {
    expect(aliyunDriver.capabilities.operations).toEqual(expect.arrayContaining(['metrics', 'prices']));
  });

  it('reads CPU, memory (agent only), disk and network per minute, exactly mapped (bit/s → bytes/s), every request signed and verified', async () => {
    fake = await startAliyunFake({ instances: 12, regions: 1 });
    const s = await connect(fake);
    const region = fake.regions[0]!;
    const ids = fake.state.instances().slice(0, 6).map((i) => String(i.InstanceId));
    expect(ids.some((id) => !aliyunAgentInstalled(id))).toBe(true); // some instance has no memory data
    const { since, until } = window(5);
    const got = await s.instanceMetrics(region, ids, since, until);
    expect(sorted(got)).toEqual(sorted(expected(ids, since, until)));
    const net = got.find((p) => p.metric === 'net.rx_bytes_per_s')!;
    expect(net.value).toBe(aliyunMetricValue(net.instanceId, 'IntranetInRate', net.ts) / 8);
    const cms = fake.requests.filter((q) => q.action === 'DescribeMetricList');
    expect(cms).toHaveLength(6); // one call per metric for the 6 instances
    expect(cms.every((q) => q.signature === 'ACS3-HMAC-SHA256' && q.status === 200 && q.product === 'cms' && q.version === '2019-01-01')).toBe(true);
    expect(cms[0]!.params).toMatchObject({ Namespace: 'acs_ecs_dashboard', Period: '60', Dimensions: JSON.stringify(ids.map((instanceId) => ({ instanceId }))) });
    expect(await s.instanceMetrics(region, [], since, until)).toEqual([]);
    s.close();
  });

  it('batches 50 instances per call and follows NextToken pages', async () => {
    fake = await startAliyunFake({ instances: 60, regions: 1 });
    const s = await connect(fake);
    const ids = fake.state.instances().map((i) => String(i.InstanceId));
    const { since, until } = window(30); // 50 instances × 30 minutes = 1500 points > 1440 a page
    const got = await s.instanceMetrics(fake.regions[0]!, ids, since, until);
    expect(sorted(got)).toEqual(sorted(expected(ids, since, until)));
    const calls = fake.requests.filter((q) => q.action === 'DescribeMetricList');
    const sizes = calls.map((q) => (JSON.parse(q.params.Dimensions!) as unknown[]).length);
    expect(Math.max(...sizes)).toBe(50);
    expect(new Set(calls.flatMap((q) => (JSON.parse(q.params.Dimensions!) as { instanceId: string }[]).map((d) => d.instanceId))).size).toBe(60);
    expect(calls.filter((q) => q.params.NextToken).length).toBeGreaterThanOrEqual(5); // the 50-instance batches' second pages
    s.close();
  });

  it('retries Throttling.User and refuses a bad signature with SignatureDoesNotMatch', async () => {
    fake = await startAliyunFake({ instances: 4, regions: 1 });
    const s = await connect(fake);
    const region = fake.regions[0]!;
    const ids = fake.state.instances().map((i) => String(i.InstanceId));
    const { since, until } = window(3);
    fake.inject({ kind: 'throttle', action: 'DescribeMetricList', times: 2 });
    expect(sorted(await s.instanceMetrics(region, ids, since, until))).toEqual(sorted(expected(ids, since, until)));
    expect(fake.requests.filter((q) => q.code === 'Throttling.User')).toHaveLength(2);
    fake.inject({ kind: 'throttle', action: 'DescribePrice' });
    expect(await s.instancePrices(region, ['ecs.c7.large'])).toHaveLength(1);
    const bad = await connect(fake, 'not-the-secret');
    const e = await bad.instanceMetrics(region, ids, since, until).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect(e).toMatchObject({ provider: 'aliyun', cloudCode: 'SignatureDoesNotMatch', httpStatus: 400 });
    expect(toApiError(e)).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
    await expect(bad.instancePrices(region, ['ecs.c7.large'])).rejects.toMatchObject({ cloudCode: 'SignatureDoesNotMatch' });
    s.close();
  });

  it('prices pay-as-you-go Linux types per hour (the instance part of TradePrice) in the currency DescribePrice answers; unknown types left out', async () => {
    fake = await startAliyunFake({ instances: 1, regions: 2, currency: 'USD' });
    const s = await connect(fake);
    const region = fake.regions[1]!;
    const got = await s.instancePrices(region, ['ecs.g7.large', 'ecs.c7.large', 'ecs.nope.large', 'ecs.g7.large']);
    expect(got).toEqual([
      { instanceType: 'ecs.g7.large', hourly: aliyunHourlyPrice(region, 'ecs.g7.large', 2, 8192), currency: 'USD' },
      { instanceType: 'ecs.c7.large', hourly: aliyunHourlyPrice(region, 'ecs.c7.large', 2, 4096), currency: 'USD' },
    ]);
    const calls = fake.requests.filter((q) => q.action === 'DescribePrice');
    expect(calls.map((q) => q.code)).toEqual([null, null, 'InvalidInstanceType.ValueNotSupported']);
    expect(calls[0]!.params).toMatchObject({ RegionId: region, ResourceType: 'instance', InstanceType: 'ecs.g7.large', PriceUnit: 'Hour' });
    expect(calls[0]!.params.ImageId).toBeUndefined();
    expect(calls.every((q) => q.signature === 'ACS3-HMAC-SHA256' && q.product === 'ecs')).toBe(true);
    s.close();
  });
});
