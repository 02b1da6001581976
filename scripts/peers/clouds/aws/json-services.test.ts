import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sign } from './sigv4.mjs';
import { startAwsFake, type AwsFake } from './fake.mjs';

/**
 * The AWS fake's CloudWatch and Price List services on the wire (requests signed here with the independent SigV4
 * implementation, not the SDK): what they refuse, with which code, so the SDK tests' passing means something.
 */

let fake: AwsFake;
beforeEach(async () => {
  fake = await startAwsFake({ defaultInstances: 2 });
});
afterEach(async () => fake.close());

const amzDate = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
async function call(service: 'monitoring' | 'pricing', target: string, body: unknown, o: { region?: string; date?: Date; secret?: string } = {}) {
  const text = JSON.stringify(body);
  const headers = { 'content-type': service === 'monitoring' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1', 'x-amz-target': target };
  const date = amzDate(o.date);
  const s = sign({ method: 'POST', url: `${fake.endpoint}/`, headers, body: text, accessKeyId: fake.accessKeyId, secretAccessKey: o.secret ?? fake.secretAccessKey, region: o.region ?? 'us-east-1', service, amzDate: date });
  const r = await fetch(`${fake.endpoint}/`, { method: 'POST', headers: { ...headers, 'x-amz-date': date, authorization: s.authorization }, body: text });
  return { status: r.status, queryError: r.headers.get('x-amzn-query-error'), body: (await r.json()) as Record<string, any> };
}
const cw = (body: unknown, o?: Parameters<typeof call>[3]) => call('monitoring', 'GraniteServiceVersion20100801.GetMetricData', body, o);
const pl = (body: unknown, o?: Parameters<typeof call>[3]) => call('pricing', 'AWSPriceListService.GetProducts', body, o);
const query = (Id: string, instanceId: string, extra: Record<string, unknown> = {}) => ({ Id, MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: [{ Name: 'InstanceId', Value: instanceId }] }, Period: 300, Stat: 'Average', ...extra }, ReturnData: true });
const T0 = Date.UTC(2026, 10, 1, 10, 0) / 1000;

describe('CloudWatch GetMetricData (awsJson1_0, query-compatible errors)', () => {
  it('answers epoch-second timestamps and values, pages by NextToken, and refuses a token of another request', async () => {
    const id = [...fake.region('us-east-1').instances.keys()][0]!;
    const r = await cw({ MetricDataQueries: [query('a', id)], StartTime: T0, EndTime: T0 + 3600, ScanBy: 'TimestampAscending', MaxDatapoints: 5 });
    expect(r.status).toBe(200);
    expect(r.body.MetricDataResults[0]).toMatchObject({ Id: 'a', Label: 'CPUUtilization', StatusCode: 'PartialData', Timestamps: [T0, T0 + 300, T0 + 600, T0 + 900, T0 + 1200] });
    expect(r.body.NextToken).toEqual(expect.any(String));
    const r2 = await cw({ MetricDataQueries: [query('a', id)], StartTime: T0, EndTime: T0 + 3600, ScanBy: 'TimestampAscending', MaxDatapoints: 5, NextToken: r.body.NextToken });
    expect(r2.body.MetricDataResults[0].Timestamps[0]).toBe(T0 + 1500);
    const other = await cw({ MetricDataQueries: [query('b', id)], StartTime: T0, EndTime: T0 + 3600, NextToken: r.body.NextToken });
    expect([other.status, other.queryError]).toEqual([400, 'InvalidNextToken;Sender']);
  });

  it('refuses more than 500 queries, bad ids, duplicate ids, bad periods and reversed ranges with InvalidParameterValue', async () => {
    const id = 'i-0';
    const many = Array.from({ length: 501 }, (_, i) => query(`q${i}`, id));
    for (const body of [
      { MetricDataQueries: many, StartTime: T0, EndTime: T0 + 600 },
      { MetricDataQueries: [query('Upper', id)], StartTime: T0, EndTime: T0 + 600 },
      { MetricDataQueries: [query('a', id), query('a', id)], StartTime: T0, EndTime: T0 + 600 },
      { MetricDataQueries: [query('a', id, { Period: 90 })], StartTime: T0, EndTime: T0 + 600 },
      { MetricDataQueries: [query('a', id)], StartTime: T0 + 600, EndTime: T0 },
    ]) {
      const r = await cw(body);
      expect([r.status, r.queryError], JSON.stringify(r.body)).toEqual([400, 'InvalidParameterValue;Sender']);
    }
    expect(fake.stats.metricQueries).toEqual([]);
  });

  it('refuses a stale signature (SignatureDoesNotMatch, Signature expired), a wrong secret and an unknown target', async () => {
    const stale = await cw({ MetricDataQueries: [query('a', 'i-0')], StartTime: T0, EndTime: T0 + 600 }, { date: new Date(Date.now() - 3600_000) });
    expect([stale.status, stale.queryError]).toEqual([403, 'SignatureDoesNotMatch;Sender']);
    expect(stale.body.message).toMatch(/^Signature expired/);
    const wrong = await cw({ MetricDataQueries: [query('a', 'i-0')], StartTime: T0, EndTime: T0 + 600 }, { secret: 'nope' });
    expect(wrong.body.__type).toBe('com.amazon.coral.service#InvalidSignatureException');
    const unknown = await call('monitoring', 'GraniteServiceVersion20100801.PutMetricData', {});
    expect([unknown.status, unknown.queryError]).toEqual([400, 'InvalidAction;Sender']);
    expect(fake.stats.rejectedSignatures).toBe(2);
  });
});

describe('Price List GetProducts (awsJson1_1)', () => {
  const base = { ServiceCode: 'AmazonEC2', FormatVersion: 'aws_v1' };
  it('answers PriceList documents as JSON strings; without the filters the look-alike products come too', async () => {
    const r = await pl({ ...base, Filters: [{ Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm5.large' }, { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' }] });
    expect(r.status).toBe(200);
    const docs = (r.body.PriceList as string[]).map((x) => JSON.parse(x));
    expect(docs).toHaveLength(7);
    expect(new Set(docs.map((d) => d.product.attributes.operatingSystem))).toEqual(new Set(['Linux', 'Windows', 'RHEL']));
    const linux = docs.find((d) => d.product.attributes.operatingSystem === 'Linux' && d.product.attributes.tenancy === 'Shared' && d.product.attributes.preInstalledSw === 'NA' && d.product.attributes.capacitystatus === 'Used');
    const od = Object.values(linux.terms.OnDemand)[0] as any;
    expect((Object.values(od.priceDimensions)[0] as any).pricePerUnit).toEqual({ USD: '0.0960000000' });
  });

  it('refuses an unknown filter type, another service code, a bad token and a signature scoped to a region without the API', async () => {
    expect((await pl({ ...base, Filters: [{ Type: 'LIKE', Field: 'instanceType', Value: 'm5.large' }] })).body.__type).toBe('InvalidParameterException');
    expect((await pl({ ...base, ServiceCode: 'AmazonS3' })).body.__type).toBe('NotFoundException');
    expect((await pl({ ...base, NextToken: 'bogus' })).body.__type).toBe('InvalidNextTokenException');
    const scoped = await pl(base, { region: 'eu-west-1' });
    expect([scoped.status, scoped.body.__type]).toEqual([403, 'InvalidSignatureException']);
    expect(scoped.body.message).toMatch(/Credential should be scoped to a valid region/);
  });
});
