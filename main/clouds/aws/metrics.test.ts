import { afterEach, describe, expect, it } from 'vitest';
import { ec2MetricSample, ec2Price, startAwsFake, type AwsFake } from '../../../scripts/peers/clouds/aws/fake.mjs';
import { toApiError } from '../retry';
import { CloudError, type CloudSession } from '../types';
import { awsDriver } from '.';

/**
 * AWS metrics (CloudWatch GetMetricData) and prices (Price List GetProducts): the real @aws-sdk/client-cloudwatch and
 * @aws-sdk/client-pricing against the loopback fake, which verifies every SigV4 signature (services `monitoring` and
 * `pricing`) with its own implementation and answers in the JSON protocols those SDKs speak.
 */

const MIN = 60_000;
// A fixed hour in the past (5-minute aligned): 12 periods in since < ts <= until.
const SINCE = Date.UTC(2026, 10, 1, 10, 0);
const UNTIL = SINCE + 60 * MIN;

let fake: AwsFake;
let session: CloudSession | null = null;
afterEach(async () => {
  session?.close();
  session = null;
  await fake?.close();
});
const connect = async (secret?: string, key?: string) => {
  session = await awsDriver.connect({ accountId: 'a', provider: 'aws', endpoint: fake.endpoint, credentials: { accessKeyId: key ?? fake.accessKeyId, secretAccessKey: secret ?? fake.secretAccessKey } });
  return session;
};
const start = async (o: Parameters<typeof startAwsFake>[0] = {}) => {
  fake = await startAwsFake(o);
  return connect();
};
const ids = (n: number, region = 'us-east-1') => [...fake.region(region).instances.keys()].slice(0, n);

describe('AWS instanceMetrics (CloudWatch GetMetricData)', () => {
  it('maps AWS/EC2 basic monitoring to Skydeck metrics with exact values (bytes per period → per second)', async () => {
    const s = await start({ defaultInstances: 3 });
    const [a, b] = ids(2);
    expect(a).toBe('i-a8c6d73caed35ffa1');
    const points = await s.instanceMetrics('us-east-1', [a!, b!, 'i-00000000000000000'], SINCE, UNTIL);
    // 2 known instances × 5 metrics × 12 periods; the unknown id has no data; no mem.util without the CloudWatch agent.
    expect(points).toHaveLength(2 * 5 * 12);
    expect(new Set(points.map((p) => p.metric))).toEqual(new Set(['cpu.util', 'blk.rd_bytes_per_s', 'blk.wr_bytes_per_s', 'net.rx_bytes_per_s', 'net.tx_bytes_per_s']));
    expect(points.every((p) => p.ts > SINCE && p.ts <= UNTIL && (p.ts - SINCE) % (5 * MIN) === 0)).toBe(true);
    const name = { 'cpu.util': 'CPUUtilization', 'blk.rd_bytes_per_s': 'DiskReadBytes', 'blk.wr_bytes_per_s': 'DiskWriteBytes', 'net.rx_bytes_per_s': 'NetworkIn', 'net.tx_bytes_per_s': 'NetworkOut' } as const;
    for (const p of points) {
      const raw = ec2MetricSample(p.instanceId, name[p.metric as keyof typeof name], p.ts / 1000)!;
      expect(p.value).toBe(p.metric === 'cpu.util' ? raw : raw / 300);
    }
    // By hand: instance 0 of us-east-1 (i-a8c6d73caed35ffa1, seed 857) at 10:05 UTC (slot 5978425): CPU (857 + 7·5978425)
    // mod 1000 / 10 = 83.2 %; NetworkIn 300·(1000 + (3·857 + 5978425) mod 1000) = 598800 B in 300 s = 1996 B/s.
    const at = (metric: string) => points.find((p) => p.instanceId === 'i-a8c6d73caed35ffa1' && p.ts === SINCE + 5 * MIN && p.metric === metric)?.value;
    expect([at('cpu.util'), at('net.rx_bytes_per_s')]).toEqual([83.2, 1996]);
    expect(fake.stats.byService).toMatchObject({ monitoring: 1 });
    expect(fake.stats.rejectedSignatures).toBe(0);
  });

  it('batches 500 queries (100 instances) per call and follows NextToken pages', async () => {
    const s = await start({ defaultInstances: 250, metricsPageSize: 1000 });
    const all = ids(250);
    const points = await s.instanceMetrics('us-east-1', all, SINCE, UNTIL);
    expect(points).toHaveLength(250 * 5 * 12);
    // 3 batches (500, 500, 250 queries); 6000 datapoints per full batch → 6 pages, 3000 → 3 pages.
    expect(fake.stats.metricQueries).toEqual([500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 250, 250, 250]);
    expect(fake.stats.byAction.GetMetricData).toBe(15);
    const perInstance = new Map<string, number>();
    for (const p of points) perInstance.set(p.instanceId, (perInstance.get(p.instanceId) ?? 0) + 1);
    expect([...perInstance.values()].every((n) => n === 60)).toBe(true);
    const key = (p: { instanceId: string; metric: string; ts: number }) => `${p.instanceId}/${p.metric}/${p.ts}`;
    expect(new Set(points.map(key)).size).toBe(points.length);
  });

  it('retries CloudWatch throttling (Throttling, HTTP 400) and fails with the code after too many', async () => {
    const s = await start({ defaultInstances: 2 });
    fake.inject({ kind: 'throttle', service: 'monitoring', action: 'GetMetricData', count: 2 });
    const points = await s.instanceMetrics('us-east-1', ids(1), SINCE, UNTIL);
    expect(points).toHaveLength(60);
    expect(fake.stats.throttled).toBe(2);
    expect(fake.stats.byAction.GetMetricData).toBe(3);
    fake.inject({ kind: 'throttle', service: 'monitoring', count: 6 });
    const e = await s.instanceMetrics('us-east-1', ids(1), SINCE, UNTIL).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect(e).toMatchObject({ cloudCode: 'Throttling', httpStatus: 400 });
    expect(toApiError(e)).toMatchObject({ code: 'rate_limited' });
  }, 30_000);

  it('a wrong secret is refused by CloudWatch with SignatureDoesNotMatch, an unknown key with InvalidClientTokenId', async () => {
    fake = await startAwsFake({ defaultInstances: 1 });
    const bad = await connect('wrong-secret');
    await expect(bad.instanceMetrics('us-east-1', ids(1), SINCE, UNTIL)).rejects.toMatchObject({ name: 'CloudError', provider: 'aws', cloudCode: 'SignatureDoesNotMatch', httpStatus: 403 });
    bad.close();
    const unknown = await connect('x', 'AKIDUNKNOWN000000000');
    const e = await unknown.instanceMetrics('us-east-1', ids(1), SINCE, UNTIL).catch((x: unknown) => x);
    expect(e).toMatchObject({ cloudCode: 'InvalidClientTokenId', httpStatus: 403 });
    expect(toApiError(e)).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
    expect(fake.stats.rejectedSignatures).toBe(2);
  });

  it('answers nothing for no ids or an empty range, without a call', async () => {
    const s = await start({ defaultInstances: 1 });
    expect(await s.instanceMetrics('us-east-1', [], SINCE, UNTIL)).toEqual([]);
    expect(await s.instanceMetrics('us-east-1', ids(1), UNTIL, UNTIL)).toEqual([]);
    expect(fake.stats.byService.monitoring).toBeUndefined();
  });
});

describe('AWS instancePrices (Price List GetProducts)', () => {
  it('answers the on-demand Linux hourly USD price of each type, leaving out types without a price', async () => {
    const s = await start({ defaultInstances: 1 });
    const prices = await s.instancePrices('eu-west-1', ['m5.large', 't3.micro', 'x9.huge', 'm5.large']);
    expect(prices).toEqual([
      { instanceType: 'm5.large', hourly: ec2Price('m5.large', 'eu-west-1'), currency: 'USD' },
      { instanceType: 't3.micro', hourly: ec2Price('t3.micro', 'eu-west-1'), currency: 'USD' },
    ]);
    expect(prices[0]!.hourly).toBe(0.1068);
    expect(await s.instancePrices('us-east-1', ['m5.large'])).toEqual([{ instanceType: 'm5.large', hourly: 0.096, currency: 'USD' }]);
    // The filters that keep out Windows, RHEL, SQL, dedicated and capacity-reservation look-alikes.
    expect(fake.stats.pricingFilters[0]).toEqual([
      { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'eu-west-1' },
      { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
      { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
      { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
      { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
      { Type: 'ANY_OF', Field: 'instanceType', Value: 'm5.large,t3.micro,x9.huge' },
    ]);
    expect(fake.stats.pricingFilters[1]!.at(-1)).toEqual({ Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm5.large' });
    expect(fake.stats.byService).toMatchObject({ pricing: 2 });
  });

  it('follows NextToken and retries ThrottlingException', async () => {
    const s = await start({ defaultInstances: 1, pricingPageSize: 2 });
    fake.inject({ kind: 'throttle', service: 'pricing', count: 1 });
    const types = ['t3.micro', 't3.small', 't3.medium', 'm5.large', 'm5.xlarge', 'c5.2xlarge'];
    const prices = await s.instancePrices('ap-southeast-1', types);
    expect(prices.map((p) => p.instanceType)).toEqual(types);
    for (const p of prices) expect(p.hourly).toBe(ec2Price(p.instanceType, 'ap-southeast-1'));
    // 6 products, 2 a page: 3 pages, plus the throttled attempt.
    expect(fake.stats.byAction.GetProducts).toBe(4);
    expect(fake.stats.throttled).toBe(1);
  });

  it('a wrong secret is refused by the Price List API with InvalidSignatureException', async () => {
    fake = await startAwsFake({ defaultInstances: 1 });
    const bad = await connect('wrong-secret');
    const e = await bad.instancePrices('us-east-1', ['m5.large']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect(e).toMatchObject({ cloudCode: 'InvalidSignatureException', httpStatus: 403 });
  });

  it('declares metrics and prices', () => {
    expect(awsDriver.capabilities.operations).toEqual(expect.arrayContaining(['metrics', 'prices']));
  });
});
