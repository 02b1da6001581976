// The JSON-protocol services of the AWS fake: CloudWatch (GetMetricData, awsJson1_0 with awsQueryCompatible errors, as
// @aws-sdk/client-cloudwatch ≥ 3.7xx sends it: X-Amz-Target GraniteServiceVersion20100801.GetMetricData, epoch-second
// timestamps, `x-amzn-query-error: Code;Sender` on errors) and the Price List Query API (GetProducts, awsJson1_1:
// X-Amz-Target AWSPriceListService.GetProducts; PriceList entries are JSON documents in strings). The caller (fake.mjs)
// verified the SigV4 signature and routes here by the credential scope's service (`monitoring`, `pricing`).
import { createHash } from 'node:crypto';

const sha = (s) => createHash('sha256').update(s).digest('hex');
/** A stable number 0–999 from an instance id. */
const seedOf = (id) => parseInt(sha(id).slice(0, 8), 16) % 1000;

/** Basic monitoring: AWS/EC2 keeps one sample per instance and metric every 5 minutes. */
export const EC2_SAMPLE_SECONDS = 300;
export const EC2_METRICS = ['CPUUtilization', 'DiskReadBytes', 'DiskWriteBytes', 'NetworkIn', 'NetworkOut'];

/**
 * The fake's raw AWS/EC2 sample of `metric` for `instanceId` in the 5-minute slot starting at `tSec` (epoch seconds, a
 * multiple of 300): CPUUtilization in percent (the slot's average), the byte counters as the bytes of the slot.
 */
export function ec2MetricSample(instanceId, metric, tSec) {
  const h = seedOf(instanceId);
  const k = Math.floor(tSec / EC2_SAMPLE_SECONDS);
  switch (metric) {
    case 'CPUUtilization':
      return ((h + 7 * k) % 1000) / 10;
    case 'NetworkIn':
      return 300 * (1000 + ((3 * h + k) % 1000));
    case 'NetworkOut':
      return 300 * (2000 + ((5 * h + k) % 1000));
    case 'DiskReadBytes':
      return 300 * 4096 * ((h + k) % 16);
    case 'DiskWriteBytes':
      return 300 * 4096 * ((7 * h + k) % 32);
    default:
      return null;
  }
}

/** On-demand Linux prices (USD per hour) in us-east-1; other regions scale them (ec2Price). */
const BASE_PRICES = { 't3.micro': 0.0104, 't3.small': 0.0208, 't3.medium': 0.0416, 'm5.large': 0.096, 'm5.xlarge': 0.192, 'c5.2xlarge': 0.34 };
const REGION_FACTOR = { 'us-east-1': 1, 'eu-west-1': 1.1125, 'ap-southeast-1': 1.25 };
const LOCATION = { 'us-east-1': 'US East (N. Virginia)', 'eu-west-1': 'EU (Ireland)', 'ap-southeast-1': 'Asia Pacific (Singapore)' };
const PRICING_REGIONS = ['us-east-1', 'eu-central-1', 'ap-south-1'];

/** The fake's on-demand Linux/Shared price of `type` in `region` (USD/h), or null if the fake does not price it. */
export function ec2Price(type, region) {
  const base = BASE_PRICES[type];
  const f = REGION_FACTOR[region];
  if (base === undefined || f === undefined) return null;
  return Math.round(base * f * 1e6) / 1e6;
}

class JsonError extends Error {
  constructor(status, code, message, type) {
    super(message);
    this.status = status;
    this.code = code;
    this.type = type;
  }
}

/** CloudWatch's wire error: awsQueryCompatible, so the Query API code travels in x-amzn-query-error. */
export function cloudWatchError(status, code, message, type = `com.amazonaws.cloudwatch#${code}`) {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${code};${status >= 500 ? 'Receiver' : 'Sender'}` }, body: JSON.stringify({ __type: type, message }) };
}
/** The Price List API's wire error (awsJson1_1: the code is `__type`). */
export function pricingError(status, code, message) {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: code, message }) };
}

/**
 * What a refused signature looks like from a JSON service: the front end's coral exceptions (for CloudWatch also the
 * Query code in x-amzn-query-error, which is what the SDK reports).
 */
export function jsonAuthError(service, code, message) {
  const map = {
    AuthFailure: [403, 'InvalidClientTokenId', 'UnrecognizedClientException', 'The security token included in the request is invalid.'],
    SignatureDoesNotMatch: [403, 'SignatureDoesNotMatch', 'InvalidSignatureException', message],
    RequestExpired: [403, 'SignatureDoesNotMatch', 'InvalidSignatureException', `Signature expired: ${message}`],
    IncompleteSignature: [400, 'IncompleteSignature', 'IncompleteSignatureException', message],
    MissingAuthenticationToken: [403, 'MissingAuthenticationToken', 'MissingAuthenticationTokenException', 'Missing Authentication Token'],
    ExpiredToken: [403, 'ExpiredToken', 'ExpiredTokenException', 'The security token included in the request is expired'],
  };
  const [status, queryCode, coral, msg] = map[code] ?? [403, code, code, message];
  return service === 'monitoring' ? cloudWatchError(status, queryCode, msg, `com.amazon.coral.service#${coral}`) : pricingError(status, coral, msg);
}

/**
 * @param {{ instanceIds: (region: string) => { has(id: string): boolean } | null, stats: any, metricsPageSize: number, pricingPageSize: number, now: () => number }} ctx
 */
export function createJsonServices(ctx) {
  // ---- CloudWatch GetMetricData -----------------------------------------------------------------------------------
  const ID = /^[a-z][a-zA-Z0-9_]{0,254}$/;
  const STATS = /^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?)$/;
  const invalid = (m) => new JsonError(400, 'InvalidParameterValue', m);
  const missing = (m) => new JsonError(400, 'MissingParameter', m);

  /** One query's datapoints: [tSec, value][] ascending. */
  function series(region, q, startSec, endSec) {
    const m = q.MetricStat.Metric;
    const dims = m.Dimensions ?? [];
    const inst = dims.length === 1 && dims[0].Name === 'InstanceId' ? dims[0].Value : null;
    if (m.Namespace !== 'AWS/EC2' || !inst || !EC2_METRICS.includes(m.MetricName) || !ctx.instanceIds(region)?.has(inst)) return [];
    const period = q.MetricStat.Period;
    // Periods of a minute or more start at StartTime rounded down to the minute.
    const first = period >= 60 ? Math.floor(startSec / 60) * 60 : startSec;
    const nowSec = ctx.now() / 1000;
    const out = [];
    for (let b = first; b < endSec; b += period) {
      const samples = [];
      for (let t = Math.ceil(b / EC2_SAMPLE_SECONDS) * EC2_SAMPLE_SECONDS; t < b + period && t < endSec; t += EC2_SAMPLE_SECONDS) {
        if (t + EC2_SAMPLE_SECONDS > nowSec) break;
        samples.push(ec2MetricSample(inst, m.MetricName, t));
      }
      if (!samples.length) continue;
      const st = q.MetricStat.Stat;
      const sum = samples.reduce((a, x) => a + x, 0);
      const v = st === 'Sum' ? sum : st === 'Average' ? sum / samples.length : st === 'Minimum' ? Math.min(...samples) : st === 'Maximum' ? Math.max(...samples) : st === 'SampleCount' ? samples.length : samples[0];
      out.push([b, v]);
    }
    return out;
  }

  function getMetricData(region, body) {
    const queries = body.MetricDataQueries;
    if (!Array.isArray(queries) || !queries.length) throw missing('The parameter MetricDataQueries is required.');
    if (queries.length > 500) throw new JsonError(400, 'InvalidParameterValue', `The collection MetricDataQueries must not have a size greater than 500.`);
    if (typeof body.StartTime !== 'number') throw missing('The parameter StartTime is required.');
    if (typeof body.EndTime !== 'number') throw missing('The parameter EndTime is required.');
    if (!(body.StartTime < body.EndTime)) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const seen = new Set();
    queries.forEach((q, i) => {
      const at = `MetricDataQueries.member.${i + 1}`;
      if (typeof q.Id !== 'string' || !ID.test(q.Id)) throw invalid(`The value ${q.Id} for parameter ${at}.Id is invalid.`);
      if (seen.has(q.Id)) throw invalid(`The value ${q.Id} for parameter ${at}.Id is not unique.`);
      seen.add(q.Id);
      if (!q.MetricStat === !q.Expression) throw invalid(`Exactly one element of the MetricStat or the Expression in ${at} must be specified.`);
      if (q.Expression) throw invalid(`${at}.Expression: the fake does not evaluate metric math.`);
      const s = q.MetricStat;
      if (!s.Metric?.Namespace || !s.Metric?.MetricName) throw missing(`The parameter ${at}.MetricStat.Metric.Namespace and MetricName are required.`);
      if ((s.Metric.Dimensions ?? []).length > 30) throw invalid(`The collection ${at}.MetricStat.Metric.Dimensions must not have a size greater than 30.`);
      if (!Number.isInteger(s.Period) || s.Period < 1 || (s.Period >= 60 ? s.Period % 60 !== 0 : ![1, 5, 10, 20, 30].includes(s.Period))) throw invalid(`The parameter ${at}.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60.`);
      if (typeof s.Stat !== 'string' || !STATS.test(s.Stat)) throw invalid(`The value ${s.Stat} for parameter ${at}.MetricStat.Stat is invalid.`);
    });
    ctx.stats.metricQueries.push(queries.length);
    const startSec = body.StartTime;
    const endSec = body.EndTime;
    const desc = (body.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
    const all = queries.map((q) => {
      const s = series(region, q, startSec, endSec);
      return desc ? s.reverse() : s;
    });
    // The token ties a page to the request it continues (CloudWatch refuses a token with other parameters).
    const { NextToken, ...rest } = body;
    const fingerprint = sha(region + JSON.stringify(rest)).slice(0, 16);
    let offset = 0;
    if (NextToken !== undefined) {
      const m = /^cw1:(\d+):([0-9a-f]{16})$/.exec(Buffer.from(String(NextToken), 'base64').toString());
      if (!m || m[2] !== fingerprint) throw new JsonError(400, 'InvalidNextToken', 'The service returned an invalid next token.');
      offset = Number(m[1]);
    }
    const limit = Math.min(ctx.metricsPageSize, body.MaxDatapoints ?? 100_800);
    const total = all.reduce((a, s) => a + s.length, 0);
    let skip = offset;
    let room = limit;
    const results = queries.map((q, i) => {
      const s = all[i];
      const from = Math.min(skip, s.length);
      skip -= from;
      const take = Math.min(room, s.length - from);
      room -= take;
      const slice = s.slice(from, from + take);
      return { Id: q.Id, Label: q.Label ?? q.MetricStat.Metric.MetricName, Timestamps: slice.map(([t]) => t), Values: slice.map(([, v]) => v), StatusCode: from + take < s.length ? 'PartialData' : 'Complete', Messages: [] };
    });
    const next = offset + limit < total ? Buffer.from(`cw1:${offset + limit}:${fingerprint}`).toString('base64') : undefined;
    // Every query appears on the first page; later pages carry the queries that have datapoints on them.
    return { MetricDataResults: results.filter((x) => offset === 0 || x.Timestamps.length > 0), ...(next ? { NextToken: next } : {}), Messages: [] };
  }

  // ---- Price List Query API GetProducts ---------------------------------------------------------------------------
  /** Every EC2 product the fake knows: for each type and region the Linux/Shared/NA/Used one and its look-alikes. */
  const products = [];
  for (const region of Object.keys(REGION_FACTOR)) {
    for (const type of Object.keys(BASE_PRICES)) {
      const price = ec2Price(type, region);
      const variants = [
        { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used', factor: 1 },
        { operatingSystem: 'Windows', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used', factor: 1.9 },
        { operatingSystem: 'RHEL', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used', factor: 1.6 },
        { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'SQL Web', capacitystatus: 'Used', factor: 1.4 },
        { operatingSystem: 'Linux', tenancy: 'Dedicated', preInstalledSw: 'NA', capacitystatus: 'Used', factor: 1.1 },
        { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'UnusedCapacityReservation', factor: 1 },
        { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'AllocatedCapacityReservation', factor: 0 },
      ];
      for (const v of variants) products.push(productDoc(type, region, v, Math.round(price * v.factor * 1e6) / 1e6));
    }
  }
  function productDoc(type, region, v, usd) {
    const sku = sha(`${type}/${region}/${JSON.stringify(v)}`).slice(0, 16).toUpperCase().replace(/[^A-Z0-9]/g, 'X');
    const od = 'JRTCKXETXF';
    const rate = `${sku}.${od}.6YS6EN2CT7`;
    const osLabel = v.operatingSystem === 'RHEL' ? 'RHEL' : v.operatingSystem;
    const prefix = region === 'us-east-1' ? '' : `${region.split('-').map((x) => x[0]?.toUpperCase()).join('').slice(0, 3)}${region.slice(-1)}-`;
    const usage = `${prefix}${v.tenancy === 'Dedicated' ? 'DedicatedUsage' : 'BoxUsage'}:${type}`;
    const doc = {
      product: {
        productFamily: 'Compute Instance',
        attributes: {
          enhancedNetworkingSupported: 'Yes', intelTurboAvailable: 'Yes', memory: '8 GiB', dedicatedEbsThroughput: 'Up to 4750 Megabps', vcpu: '2', classicnetworkingsupport: 'false',
          capacitystatus: v.capacitystatus, locationType: 'AWS Region', storage: 'EBS only', instanceFamily: 'General purpose', operatingSystem: v.operatingSystem,
          intelAvx2Available: 'Yes', regionCode: region, physicalProcessor: 'Intel Xeon Platinum 8175', clockSpeed: '3.1 GHz', ecu: '10', networkPerformance: 'Up to 10 Gigabit',
          servicename: 'Amazon Elastic Compute Cloud', gpuMemory: 'NA', vpcnetworkingsupport: 'true', instanceType: type, tenancy: v.tenancy, usagetype: usage,
          normalizationSizeFactor: '4', intelAvxAvailable: 'Yes', processorFeatures: 'Intel AVX; Intel AVX2; Intel AVX512; Intel Turbo', servicecode: 'AmazonEC2',
          licenseModel: 'No License required', currentGeneration: 'Yes', preInstalledSw: v.preInstalledSw, location: LOCATION[region], processorArchitecture: '64-bit',
          marketoption: 'OnDemand', operation: v.operatingSystem === 'Windows' ? 'RunInstances:0002' : v.operatingSystem === 'RHEL' ? 'RunInstances:0010' : v.preInstalledSw === 'SQL Web' ? 'RunInstances:0200' : 'RunInstances', availabilityzone: 'NA',
        },
        sku,
      },
      serviceCode: 'AmazonEC2',
      terms: {
        OnDemand: {
          [`${sku}.${od}`]: {
            priceDimensions: {
              [rate]: {
                unit: 'Hrs', endRange: 'Inf',
                description: `$${usd.toFixed(4)} per On Demand ${osLabel} ${type} Instance Hour`,
                appliesTo: [], rateCode: rate, beginRange: '0', pricePerUnit: { USD: usd.toFixed(10) },
              },
            },
            sku, effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: od, termAttributes: {},
          },
        },
        Reserved: {
          [`${sku}.4NA7Y494T4`]: {
            priceDimensions: {
              [`${sku}.4NA7Y494T4.6YS6EN2CT7`]: { unit: 'Hrs', endRange: 'Inf', description: `${osLabel} (Amazon VPC), ${type} reserved instance applied`, appliesTo: [], rateCode: `${sku}.4NA7Y494T4.6YS6EN2CT7`, beginRange: '0', pricePerUnit: { USD: (usd * 0.62).toFixed(10) } },
            },
            sku, effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: '4NA7Y494T4', termAttributes: { LeaseContractLength: '1yr', OfferingClass: 'standard', PurchaseOption: 'No Upfront' },
          },
        },
      },
      version: '20261120193517',
      publicationDate: '2026-11-20T19:35:17Z',
    };
    return doc;
  }
  const TYPES = ['TERM_MATCH', 'EQUALS', 'CONTAINS', 'ANY_OF', 'NONE_OF'];
  const attr = (p, field) => (field === 'ServiceCode' ? p.serviceCode : p.product.attributes[field] ?? p.product.attributes[Object.keys(p.product.attributes).find((k) => k.toLowerCase() === String(field).toLowerCase()) ?? '']);
  function getProducts(body) {
    if (!body.ServiceCode) throw new JsonError(400, 'InvalidParameterException', 'Input validation failed: ServiceCode is required.');
    if (body.ServiceCode !== 'AmazonEC2') throw new JsonError(400, 'NotFoundException', `Service code ${body.ServiceCode} not found`);
    if (body.FormatVersion !== undefined && body.FormatVersion !== 'aws_v1') throw new JsonError(400, 'InvalidParameterException', `Input validation failed: FormatVersion ${body.FormatVersion} is not valid.`);
    const filters = body.Filters ?? [];
    if (!Array.isArray(filters) || filters.length > 50) throw new JsonError(400, 'InvalidParameterException', 'Input validation failed: Filters.');
    for (const f of filters) {
      if (!TYPES.includes(f.Type)) throw new JsonError(400, 'InvalidParameterException', `Input validation failed: Filter Type ${f.Type} is not valid.`);
      if (!f.Field || typeof f.Value !== 'string' || !f.Value.length) throw new JsonError(400, 'InvalidParameterException', 'Input validation failed: Filter Field and Value are required.');
    }
    const max = body.MaxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 100) throw new JsonError(400, 'InvalidParameterException', 'Input validation failed: MaxResults must be between 1 and 100.');
    ctx.stats.pricingFilters.push(filters.map((f) => ({ ...f })));
    const match = (p) =>
      filters.every((f) => {
        const v = attr(p, f.Field);
        if (v === undefined) return f.Type === 'NONE_OF';
        const list = String(f.Value).split(',').map((x) => x.trim());
        switch (f.Type) {
          case 'TERM_MATCH':
            return v.toLowerCase() === f.Value.toLowerCase();
          case 'EQUALS':
            return v === f.Value;
          case 'CONTAINS':
            return v.includes(f.Value);
          case 'ANY_OF':
            return list.includes(v);
          default:
            return !list.includes(v);
        }
      });
    const hits = products.filter(match);
    const fingerprint = sha(JSON.stringify(filters)).slice(0, 12);
    let offset = 0;
    if (body.NextToken !== undefined) {
      const m = /^pl1:(\d+):([0-9a-f]{12})$/.exec(Buffer.from(String(body.NextToken), 'base64').toString());
      if (!m || m[2] !== fingerprint) throw new JsonError(400, 'InvalidNextTokenException', 'The pagination token is invalid. Try again without a pagination token.');
      offset = Number(m[1]);
    }
    const n = Math.min(max, ctx.pricingPageSize);
    const page = hits.slice(offset, offset + n);
    const next = offset + n < hits.length ? Buffer.from(`pl1:${offset + n}:${fingerprint}`).toString('base64') : undefined;
    return { FormatVersion: 'aws_v1', PriceList: page.map((p) => JSON.stringify(p)), ...(next ? { NextToken: next } : {}) };
  }

  /**
   * Answers one JSON-protocol request: `{ status, headers, body }`, or null if `service` is not one of these.
   * @param {{ service: string, region: string, headers: Record<string, any>, body: Buffer, inject: (action: string) => { kind: string, retryAfterSeconds?: number, status?: number } | null }} r
   */
  function handle(r) {
    const json = r.service === 'monitoring' ? { ver: '1.0', prefix: 'GraniteServiceVersion20100801.', err: cloudWatchError, ops: { GetMetricData: (b) => getMetricData(r.region, b) } } : r.service === 'pricing' ? { ver: '1.1', prefix: 'AWSPriceListService.', err: (s, c, m) => pricingError(s, c, m), ops: { GetProducts: getProducts } } : null;
    if (!json) return null;
    if (r.service === 'pricing' && !PRICING_REGIONS.includes(r.region)) return jsonAuthError('pricing', 'SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${r.region}'. `);
    const ct = String(r.headers['content-type'] ?? '');
    if (!ct.startsWith(`application/x-amz-json-${json.ver}`)) return json.err(400, 'InvalidAction', `Content-Type ${ct} is not application/x-amz-json-${json.ver}`);
    const target = String(r.headers['x-amz-target'] ?? '');
    const op = target.startsWith(json.prefix) ? target.slice(json.prefix.length) : '';
    if (!json.ops[op]) return r.service === 'monitoring' ? cloudWatchError(400, 'InvalidAction', `Unknown operation ${target}`, 'com.amazon.coral.service#UnknownOperationException') : pricingError(400, 'UnknownOperationException', `Unknown operation ${target}`);
    ctx.stats.byAction[op] = (ctx.stats.byAction[op] ?? 0) + 1;
    const inj = r.inject(op);
    if (inj) {
      if (inj.kind === 'throttle') {
        ctx.stats.throttled++;
        const h = inj.retryAfterSeconds !== undefined ? { 'retry-after': String(inj.retryAfterSeconds) } : {};
        const e = r.service === 'monitoring' ? cloudWatchError(400, 'Throttling', 'Rate exceeded', 'com.amazon.coral.availability#ThrottlingException') : pricingError(400, 'ThrottlingException', 'Rate exceeded');
        return { ...e, headers: { ...e.headers, ...h } };
      }
      ctx.stats.failed5xx++;
      return r.service === 'monitoring' ? cloudWatchError(inj.status ?? 500, 'InternalServiceError', 'Internal service error', 'com.amazonaws.cloudwatch#InternalServiceFault') : pricingError(inj.status ?? 500, 'InternalErrorException', 'An error on the server occurred during the processing of your request. Try again later.');
    }
    let body;
    try {
      body = JSON.parse(r.body.toString('utf8') || '{}');
    } catch {
      return json.err(400, r.service === 'monitoring' ? 'InvalidParameterValue' : 'SerializationException', 'The request body is not JSON');
    }
    try {
      return { status: 200, headers: { 'content-type': `application/x-amz-json-${json.ver}` }, body: JSON.stringify(json.ops[op](body)) };
    } catch (e) {
      if (e instanceof JsonError) return json.err(e.status, e.code, e.message);
      throw e;
    }
  }
  return { handle };
}
