import { afterEach, describe, expect, it } from 'vitest';
import { startTencentFake, type TencentFake } from '../../../scripts/peers/clouds/tencent/fake.mjs';
import { tencentAgentInstalled, tencentHourlyPrice, tencentMetricValue } from '../../../scripts/peers/clouds/tencent/monitor.mjs';
import { toApiError } from '../retry';
import { CloudError, type CloudMetricPoint, type CloudSession } from '../types';
import { TENCENT_METRICS, tencentMonitorTime } from './metrics';
import { tencentDriver } from '.';

/**
 * Tencent Cloud metrics (Cloud Monitor GetMonitorData through tencentcloud-sdk-nodejs-monitor) and prices (CVM
 * InquiryPriceRunInstances) against the loopback fake, which verifies every TC3-HMAC-SHA256 signature (service
 * monitor / cvm, from the Host) with its own implementation and answers values derived from the instance and the
 * timestamp (./monitor.mjs), so the mapped numbers are checked exactly.
 */

const connect = (fake: TencentFake, secretKey = fake.secretKey, extra: Record<string, string> = {}) =>
  tencentDriver.connect({ accountId: 'a', provider: 'tencent', endpoint: fake.url, credentials: { secretId: fake.secretId, secretKey, ...extra } });

function window(minutes: number) {
  const until = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  return { since: until - minutes * 60_000, until };
}
function expected(ids: string[], since: number, until: number): CloudMetricPoint[] {
  const out: CloudMetricPoint[] = [];
  for (const id of ids)
    for (const [name, [metric, factor]] of Object.entries(TENCENT_METRICS))
      for (let ts = since + 60_000; ts <= until; ts += 60_000) {
        if (name === 'MemUsage' && !tencentAgentInstalled(id)) continue;
        out.push({ instanceId: id, metric, ts, value: tencentMetricValue(id, name, ts / 1000) * factor });
      }
  return out;
}
const sorted = (xs: CloudMetricPoint[]) => [...xs].sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.metric.localeCompare(b.metric) || a.ts - b.ts);

describe('Tencent Cloud metrics and prices against the fake', () => {
  let fake: TencentFake;
  let s: CloudSession | undefined;
  afterEach(async () => {
    s?.close();
    s = undefined;
    await fake?.close();
  });

  it('declares metrics and prices; writes times as the API does', () => {
    expect(tencentDriver.capabilities.operations).toEqual(expect.arrayContaining(['metrics', 'prices']));
    expect(tencentMonitorTime(Date.UTC(2018, 8, 22, 11, 51, 23, 500))).toBe('2018-09-22T19:51:23+08:00');
  });

  it('reads CPU, memory (agent only) and LAN traffic per minute, exactly mapped (Mbps → bytes/s), signed for monitor and verified', async () => {
    fake = await startTencentFake({ instances: 8, regions: 1 });
    s = await connect(fake);
    const region = fake.regions[0]!;
    const ids = fake.state.instances().slice(0, 8).map((i) => String(i.InstanceId));
    expect(ids.some((id) => !tencentAgentInstalled(id))).toBe(true);
    const { since, until } = window(5);
    const got = await s.instanceMetrics(region, [...ids, 'ins-unknown0'], since, until);
    expect(sorted(got)).toEqual(sorted(expected(ids, since, until)));
    const rx = got.find((p) => p.metric === 'net.rx_bytes_per_s')!;
    expect(rx.value).toBe((tencentMetricValue(rx.instanceId, 'LanIntraffic', rx.ts / 1000) * 1_000_000) / 8);
    expect(got.some((p) => p.metric.startsWith('blk.'))).toBe(false); // QCE/CVM has no per-instance disk throughput
    const calls = fake.requests.filter((q) => q.action === 'GetMonitorData');
    expect(calls).toHaveLength(4); // one per metric: 9 ids ≤ 10 a call, 5 minutes
    expect(calls.every((q) => q.service === 'monitor' && q.version === '2018-07-24' && q.region === region && q.status === 200 && q.code === null && q.host.startsWith('monitor.tencentcloudapi.com'))).toBe(true);
    expect(calls[0]!.params).toMatchObject({ Namespace: 'QCE/CVM', MetricName: 'CpuUsage', Period: 60, Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: ids[0] }] }, ...ids.slice(1).map(() => expect.anything()), expect.anything()] });
  });

  it('batches 10 instances a call and slices the window to 1440 data points a call', async () => {
    fake = await startTencentFake({ instances: 25, regions: 1 });
    s = await connect(fake);
    const ids = fake.state.instances().map((i) => String(i.InstanceId));
    const { since, until } = window(200); // 10 instances × 200 minutes > 1440: two slices for the 10-instance batches
    const got = await s.instanceMetrics(fake.regions[0]!, ids, since, until);
    expect(sorted(got)).toEqual(sorted(expected(ids, since, until)));
    const calls = fake.requests.filter((q) => q.action === 'GetMonitorData');
    const sizes = calls.map((q) => (q.params as { Instances: unknown[] }).Instances.length);
    expect(Math.max(...sizes)).toBe(10);
    expect(calls).toHaveLength(4 * (2 + 2 + 1));
    expect(calls.every((q) => q.code === null)).toBe(true);
  });

  it('retries RequestLimitExceeded and refuses a bad signature with AuthFailure.SignatureFailure', async () => {
    fake = await startTencentFake({ instances: 3, regions: 1 });
    s = await connect(fake);
    const region = fake.regions[0]!;
    const ids = fake.state.instances().map((i) => String(i.InstanceId));
    const { since, until } = window(3);
    fake.inject({ kind: 'throttle', service: 'monitor', action: 'GetMonitorData', times: 2 });
    expect(sorted(await s.instanceMetrics(region, ids, since, until))).toEqual(sorted(expected(ids, since, until)));
    expect(fake.requests.filter((q) => q.code === 'RequestLimitExceeded')).toHaveLength(2);
    fake.inject({ kind: 'throttle', action: 'InquiryPriceRunInstances' });
    expect(await s.instancePrices(region, ['S5.MEDIUM4'])).toHaveLength(1);
    const bad = await connect(fake, 'not-the-key');
    const e = await bad.instanceMetrics(region, ids, since, until).catch((x: unknown) => x);
    bad.close();
    expect(e).toBeInstanceOf(CloudError);
    expect(e).toMatchObject({ provider: 'tencent', cloudCode: 'AuthFailure.SignatureFailure' });
    expect(toApiError(e)).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
  });

  it('prices POSTPAID_BY_HOUR in a zone of the region with a public Linux image (UnitPriceDiscount, CNY); unknown types left out', async () => {
    fake = await startTencentFake({ instances: 1, regions: 2 });
    s = await connect(fake);
    const region = fake.regions[1]!;
    const got = await s.instancePrices(region, ['S5.MEDIUM4', 'S5.LARGE8', 'NOPE.X']);
    expect(got).toEqual([
      { instanceType: 'S5.MEDIUM4', hourly: tencentHourlyPrice(region, 2, 4), currency: 'CNY' },
      { instanceType: 'S5.LARGE8', hourly: tencentHourlyPrice(region, 4, 8), currency: 'CNY' },
    ]);
    const calls = fake.requests.filter((q) => q.action === 'InquiryPriceRunInstances');
    expect(calls[0]!.params).toEqual({ Placement: { Zone: `${region}-1` }, ImageId: 'img-487zeit5', InstanceChargeType: 'POSTPAID_BY_HOUR', InstanceType: 'S5.MEDIUM4' });
    expect(calls.filter((q) => (q.params as { InstanceType: string }).InstanceType === 'NOPE.X').map((q) => q.code)).toEqual(['InvalidInstanceType.Malformed', 'InvalidInstanceType.Malformed']);
    expect(calls.every((q) => q.service === 'cvm')).toBe(true);
    const usd = await connect(fake, fake.secretKey, { currency: 'USD' });
    expect(await usd.instancePrices(region, ['S5.MEDIUM4'])).toEqual([{ instanceType: 'S5.MEDIUM4', hourly: tencentHourlyPrice(region, 2, 4), currency: 'USD' }]);
    usd.close();
  });
});
