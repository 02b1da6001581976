// Azure Monitor metrics and the Azure Retail Prices API for the Azure fake.
//
// Metrics: GET {vmId}/providers/Microsoft.Insights/metrics?api-version=…&timespan=start/end&interval=PT1M&metricnames=…
// &aggregation=average,total[&metricnamespace=Microsoft.Compute/virtualMachines] behind ARM's bearer-token check (arm.mjs
// routes here after authenticating); answers the Response shape of api-version 2024-02-01 ({ cost, timespan, interval,
// value: [{ id, type, name, unit, timeseries: [{ metadatavalues, data: [{ timeStamp, average?, total? }] }], errorCode }],
// namespace, resourceregion }) with values derived from the VM id and the minute; a VM that is not running has
// timestamps without values, as Azure answers. Validation errors are Azure Monitor's top-level { code, message }.
//
// Batch (the metrics data plane, https://{region}.metrics.monitor.azure.com): POST /subscriptions/{sub}/metrics:getBatch
// ?api-version=…&starttime=…&endtime=…&interval=…&metricnamespace=…&metricnames=…&aggregation=… with the body
// { resourceids: [...] }, a bearer token for https://metrics.monitor.azure.com (arm.mjs verifies it): at most 50 VMs of
// the path's subscription, all in one region; answers { values: [{ starttime, endtime, interval, namespace,
// resourceregion, resourceid, value: [as above] }] }. A VM that does not exist fails the whole batch with
// ResourceNotFound (404), the strict reading of the documentation; clients that ask again VM by VM then skip it.
//
// Retail prices: GET /api/retail/prices?$filter=… (unauthenticated, like https://prices.azure.com): the $filter is parsed
// strictly (`field eq 'value'` clauses joined by `and`, known fields only) and answered in the API's shape
// ({ BillingCurrency, CustomerEntityId, CustomerEntityType, Items, NextPageLink, Count }), with each size's look-alikes
// (Windows, Spot, Low Priority, DevTest, reservations) so a client's filtering shows.
import { createHash } from 'node:crypto';
import { LOCATIONS, VM_SIZES } from './model.mjs';

const seedOf = (id) => parseInt(createHash('sha256').update(String(id).toLowerCase()).digest('hex').slice(0, 8), 16) % 1000;

/** Virtual machine metrics the fake serves: name → unit, default aggregation. */
export const VM_METRICS = {
  'Percentage CPU': { unit: 'Percent', primary: 'average', description: 'The percentage of allocated compute units that are currently in use by the Virtual Machine(s)' },
  'Disk Read Bytes': { unit: 'Bytes', primary: 'total', description: 'Bytes read from disk during monitoring period' },
  'Disk Write Bytes': { unit: 'Bytes', primary: 'total', description: 'Bytes written to disk during monitoring period' },
  'Network In Total': { unit: 'Bytes', primary: 'total', description: 'The number of bytes received on all network interfaces by the Virtual Machine(s) (Incoming Traffic)' },
  'Network Out Total': { unit: 'Bytes', primary: 'total', description: 'The number of bytes out on all network interfaces by the Virtual Machine(s) (Outgoing Traffic)' },
  'Available Memory Bytes': { unit: 'Bytes', primary: 'average', description: 'Amount of physical memory, in bytes, immediately available for allocation to a process or for system use in the Virtual Machine' },
};
const GRAINS = { PT1M: 60, PT5M: 300, PT15M: 900, PT30M: 1800, PT1H: 3600, PT6H: 21600, PT12H: 43200, P1D: 86400 };
const AGGREGATIONS = ['average', 'count', 'minimum', 'maximum', 'total'];

/**
 * The fake's one-minute sample of `metric` for the VM `vmId` in the minute starting at `tSec` (epoch seconds): percent
 * for Percentage CPU, bytes of the minute for the disk/network counters, bytes for Available Memory Bytes.
 */
export function azureMetricSample(vmId, metric, tSec) {
  const h = seedOf(vmId);
  const k = Math.floor(tSec / 60);
  switch (metric) {
    case 'Percentage CPU':
      return ((h + 3 * k) % 1000) / 10;
    case 'Disk Read Bytes':
      return 60 * 512 * ((h + k) % 64);
    case 'Disk Write Bytes':
      return 60 * 512 * ((2 * h + k) % 128);
    case 'Network In Total':
      return 60 * (500 + ((h + 7 * k) % 1000));
    case 'Network Out Total':
      return 60 * (800 + ((5 * h + k) % 1000));
    case 'Available Memory Bytes':
      return 1048576 * (256 + ((h + k) % 768));
    default:
      return null;
  }
}

const monitorError = (status, code, message) => ({ status, body: { code, message } });

/**
 * @param {{ now: () => number }} ctx
 * @param {{ vm: (id: string) => any, power: (id: string) => string | undefined }} arm
 */
export function createMonitor(ctx, arm) {
  /** @param {URL} url @param {string} vmPath */
  function metrics(url, vmPath) {
    const vm = arm.vm(vmPath);
    if (!vm) {
      const m = /resourcegroups\/([^/]+)\/providers\/microsoft\.compute\/virtualmachines\/([^/]+)/i.exec(vmPath);
      return monitorError(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachines/${m?.[2]}' under resource group '${m?.[1]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    }
    const q = url.searchParams;
    const ns = q.get('metricnamespace');
    if (ns !== null && ns.toLowerCase() !== 'microsoft.compute/virtualmachines') return monitorError(400, 'BadRequest', `Metric namespace '${ns}' is not valid for resource type 'Microsoft.Compute/virtualMachines'.`);
    const names = (q.get('metricnames') ?? 'Percentage CPU').split(',').map((s) => s.trim());
    if (names.length > 20) return monitorError(400, 'BadRequest', 'The number of metric names (' + names.length + ') exceeds the limit of 20.');
    const known = Object.keys(VM_METRICS);
    const resolved = [];
    for (const n of names) {
      const k = known.find((x) => x.toLowerCase() === n.toLowerCase());
      if (!k) return monitorError(400, 'BadRequest', `Failed to find metric configuration for provider: Microsoft.Compute, resource Type: virtualMachines, metric: ${n}, Valid metrics: ${known.join(',')}`);
      resolved.push(k);
    }
    const aggs = q.get('aggregation')?.split(',').map((s) => s.trim().toLowerCase());
    for (const a of aggs ?? []) if (!AGGREGATIONS.includes(a)) return monitorError(400, 'BadRequest', `Invalid aggregation '${a}'. Valid values are: ${AGGREGATIONS.join(', ')}.`);
    const interval = q.get('interval') ?? 'PT1M';
    const grain = GRAINS[/** @type {keyof typeof GRAINS} */ (interval.toUpperCase())];
    if (!grain) return monitorError(400, 'BadRequest', `Invalid time grain '${interval}'. Supported time grains: ${Object.keys(GRAINS).join(', ')}.`);
    const span = q.get('timespan');
    const nowMs = ctx.now();
    let startMs = nowMs - 3600_000;
    let endMs = nowMs;
    if (span !== null) {
      const m = /^([^/]+)\/([^/]+)$/.exec(span);
      const a = m ? Date.parse(m[1] ?? '') : NaN;
      const b = m ? Date.parse(m[2] ?? '') : NaN;
      if (!m || !/^\d{4}-\d{2}-\d{2}T/.test(m[1] ?? '') || !/^\d{4}-\d{2}-\d{2}T/.test(m[2] ?? '') || Number.isNaN(a) || Number.isNaN(b)) return monitorError(400, 'BadRequest', `Invalid timespan '${span}': expected 'startDateTime_ISO/endDateTime_ISO'.`);
      if (a >= b) return monitorError(400, 'BadRequest', `Invalid timespan '${span}': the start time must be before the end time.`);
      startMs = a;
      endMs = b;
    }
    const first = Math.floor(startMs / 1000 / grain) * grain;
    const running = (arm.power(vm.id) ?? 'running') === 'running';
    const value = resolved.map((name) => {
      const meta = VM_METRICS[/** @type {keyof typeof VM_METRICS} */ (name)];
      const wanted = aggs ?? [meta.primary];
      const data = [];
      for (let b = first; b * 1000 < endMs; b += grain) {
        const point = { timeStamp: new Date(b * 1000).toISOString().replace('.000Z', 'Z') };
        const samples = [];
        for (let t = b; t < b + grain; t += 60) if (running && (t + 60) * 1000 <= nowMs) samples.push(/** @type {number} */ (azureMetricSample(vm.id, name, t)));
        if (samples.length) {
          const sum = samples.reduce((x, y) => x + y, 0);
          const all = { average: sum / samples.length, total: sum, minimum: Math.min(...samples), maximum: Math.max(...samples), count: samples.length };
          for (const a of wanted) point[a] = all[/** @type {keyof typeof all} */ (a)];
        }
        data.push(point);
      }
      return {
        id: `${vm.id}/providers/Microsoft.Insights/metrics/${name}`,
        type: 'Microsoft.Insights/metrics',
        name: { value: name, localizedValue: name },
        displayDescription: meta.description,
        unit: meta.unit,
        timeseries: [{ metadatavalues: [], data }],
        errorCode: 'Success',
      };
    });
    const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
    return { status: 200, body: { cost: value.reduce((n, v) => n + v.timeseries[0].data.length, 0), timespan: `${iso(startMs)}/${iso(endMs)}`, interval: interval.toUpperCase(), value, namespace: 'Microsoft.Compute/virtualMachines', resourceregion: vm.location } };
  }

  /**
   * metrics:getBatch: each VM answered as its own metrics request would be, within the batch's rules.
   * @param {URL} url @param {string} sub @param {any} body
   */
  function batch(url, sub, body) {
    // The data plane wraps its errors as { error: { code, message } } (the classic metrics API answers them bare).
    const r = batchValues(url, sub, body);
    return r.status === 200 ? r : { status: r.status, body: { error: r.body } };
  }
  /** @param {URL} url @param {string} sub @param {any} body @returns {{ status: number, body: any }} */
  function batchValues(url, sub, body) {
    const ids = body?.resourceids;
    if (!Array.isArray(ids) || !ids.length || ids.some((x) => typeof x !== 'string')) return monitorError(400, 'BadRequest', "The request body must contain 'resourceids', a non-empty array of resource ids.");
    if (ids.length > 50) return monitorError(400, 'BadRequest', `The number of resource ids (${ids.length}) exceeds the limit of 50.`);
    const q = url.searchParams;
    for (const p of ['metricnamespace', 'metricnames']) if (!q.get(p)) return monitorError(400, 'BadRequest', `The query parameter '${p}' is required.`);
    const one = new URL(url);
    for (const p of ['starttime', 'endtime']) one.searchParams.delete(p);
    const from = q.get('starttime');
    const to = q.get('endtime');
    if ((from === null) !== (to === null)) return monitorError(400, 'BadRequest', "Give both 'starttime' and 'endtime', or neither.");
    if (from !== null && to !== null) one.searchParams.set('timespan', `${from}/${to}`);
    /** @type {any[]} */ const values = [];
    let region = null;
    for (const id of ids) {
      const m = /^\/subscriptions\/([^/]+)\/resourcegroups\/[^/]+\/providers\/microsoft\.compute\/virtualmachines\/[^/]+$/i.exec(id);
      if (!m || (m[1] ?? '').toLowerCase() !== sub.toLowerCase()) return monitorError(400, 'BadRequest', `The resource id '${id}' is not a virtual machine of subscription '${sub}'.`);
      const r = metrics(one, id);
      if (r.status !== 200) return r;
      const b = /** @type {any} */ (r.body);
      if (region !== null && b.resourceregion !== region) return monitorError(400, 'BadRequest', `All resources of a batch must be in one region: '${id}' is in '${b.resourceregion}', the batch in '${region}'.`);
      region = b.resourceregion;
      const [starttime, endtime] = String(b.timespan).split('/');
      values.push({ starttime, endtime, interval: b.interval, namespace: b.namespace, resourceregion: b.resourceregion, resourceid: id, value: b.value });
    }
    return { status: 200, body: { values } };
  }

  /**
   * The ARM route of a metrics request, or null: `/subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/
   * virtualMachines/{vm}/providers/Microsoft.Insights/metrics`.
   * @param {string} method @param {URL} url @param {any} [body]
   */
  function route(method, url, body) {
    const b = /^\/subscriptions\/([^/]+)\/metrics:getbatch$/i.exec(decodeURIComponent(url.pathname));
    if (b && method === 'POST') return { api: 'metricsBatch', operation: 'Microsoft.Insights/metrics/getBatch', read: true, run: () => batch(url, b[1] ?? '', body) };
    const m = /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.compute\/virtualmachines\/[^/]+)\/providers\/microsoft\.insights\/metrics$/i.exec(decodeURIComponent(url.pathname));
    if (!m || method !== 'GET') return null;
    const vmPath = m[1] ?? '';
    return { api: 'insights', operation: 'Microsoft.Insights/metrics/read', run: () => metrics(url, vmPath) };
  }
  return { route };
}

// ---- Retail Prices ---------------------------------------------------------------------------------------------------
const REGION_FACTOR = { eastus: 1, westus2: 1, westeurope: 1.15, northeurope: 1.08, uksouth: 1.16, southeastasia: 1.2, japaneast: 1.28, westcentralus: 1.05 };
const FAMILY_RATE = { standardBSFamily: 0.0104, standardDSv5Family: 0.048, standardESv5Family: 0.063, standardFSv2Family: 0.0423, standardNCSv3Family: 0.51, standardMSv2Family: 0.3 };

/** The fake's Linux pay-as-you-go price (USD/h) of `size` in `location`, or null where the fake has no price. */
export function azurePrice(size, location) {
  const s = VM_SIZES[/** @type {keyof typeof VM_SIZES} */ (size)];
  const f = REGION_FACTOR[/** @type {keyof typeof REGION_FACTOR} */ (location)];
  if (!s || f === undefined) return null;
  return Math.round(FAMILY_RATE[/** @type {keyof typeof FAMILY_RATE} */ (s.family)] * s.cores * f * 1e4) / 1e4;
}

const FILTER_FIELDS = ['serviceName', 'serviceFamily', 'armRegionName', 'location', 'armSkuName', 'skuName', 'productName', 'meterName', 'meterId', 'skuId', 'productId', 'serviceId', 'priceType', 'type', 'currencyCode', 'unitOfMeasure', 'isPrimaryMeterRegion'];

/**
 * Parses an OData $filter as the Retail Prices API takes it: `field eq 'value'` (or `eq true/false`) clauses joined by
 * `and`. Answers the clauses, or an error message.
 * @param {string} filter
 * @returns {{ clauses: { field: string, value: string | boolean }[] } | { error: string }}
 */
export function parseRetailFilter(filter) {
  const clauses = [];
  let rest = filter.trim();
  if (!rest) return { error: 'The $filter is empty.' };
  const CLAUSE = /^([A-Za-z]+)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false))(?:\s+and\s+|\s*$)/;
  while (rest.length) {
    const m = CLAUSE.exec(rest);
    if (!m) return { error: `Invalid OData filter near '${rest.slice(0, 40)}': expected "field eq 'value'" clauses joined by 'and'.` };
    const field = m[1] ?? '';
    if (!FILTER_FIELDS.includes(field)) return { error: `Could not find a property named '${field}' on type 'RetailPrice'.` };
    clauses.push({ field, value: m[3] !== undefined ? m[3] === 'true' : (m[2] ?? '').replace(/''/g, "'") });
    rest = rest.slice(m[0].length);
  }
  return { clauses };
}

/**
 * @param {{ endpoint: () => string, pageSize: number }} ctx
 */
export function createRetail(ctx) {
  const items = [];
  const now = '2026-11-01T00:00:00Z';
  for (const loc of LOCATIONS) {
    for (const [size, s] of Object.entries(VM_SIZES)) {
      const price = azurePrice(size, loc.name);
      if (price === null) continue;
      const short = size.replace(/^Standard_/, '').replace(/_/g, ' ');
      const series = `${short.replace(/^([A-Z]+)\d+([a-z]*)\s*(v\d+)?.*$/, (_, a, b, v) => `${a}${b}${v ?? ''}`)} Series`;
      const productId = `DZH318Z0${createHash('md5').update(series).digest('hex').slice(0, 4).toUpperCase()}`;
      const base = { currencyCode: 'USD', tierMinimumUnits: 0, armRegionName: loc.name, location: loc.displayName, effectiveStartDate: now, serviceName: 'Virtual Machines', serviceId: 'DZH313Z7MMC8', serviceFamily: 'Compute', unitOfMeasure: '1 Hour', isPrimaryMeterRegion: true, armSkuName: size };
      const mk = (o) => {
        const meterId = createHash('md5').update(`${loc.name}/${size}/${o.productName}/${o.meterName}/${o.type}`).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5');
        items.push({ ...base, retailPrice: o.price, unitPrice: o.price, meterId, meterName: o.meterName, productId, skuId: `${productId}/${meterId.slice(0, 4).toUpperCase()}`, productName: o.productName, skuName: o.skuName, type: o.type, ...(o.reservationTerm ? { reservationTerm: o.reservationTerm, unitOfMeasure: '1 Hour' } : {}) });
      };
      const r4 = (x) => Math.round(x * 1e4) / 1e4;
      mk({ productName: `Virtual Machines ${series}`, meterName: short, skuName: short, type: 'Consumption', price });
      mk({ productName: `Virtual Machines ${series}`, meterName: `${short} Spot`, skuName: `${short} Spot`, type: 'Consumption', price: r4(price * 0.2) });
      mk({ productName: `Virtual Machines ${series}`, meterName: `${short} Low Priority`, skuName: `${short} Low Priority`, type: 'Consumption', price: r4(price * 0.2) });
      mk({ productName: `Virtual Machines ${series} Windows`, meterName: short, skuName: short, type: 'Consumption', price: r4(price + 0.046 * s.cores) });
      mk({ productName: `Virtual Machines ${series} Windows`, meterName: `${short} Spot`, skuName: `${short} Spot`, type: 'Consumption', price: r4((price + 0.046 * s.cores) * 0.2) });
      mk({ productName: `Virtual Machines ${series} Windows`, meterName: short, skuName: short, type: 'DevTestConsumption', price });
      mk({ productName: `Virtual Machines ${series}`, meterName: short, skuName: short, type: 'Reservation', reservationTerm: '1 Year', price: r4(price * 8760 * 0.6) });
    }
  }
  const filters = [];
  /** @param {string} method @param {URL} url @returns {{ status: number, headers?: Record<string, string>, body: unknown } | null} */
  function handle(method, url) {
    if (!/^\/api\/retail\/prices\/?$/i.test(url.pathname)) return null;
    if (method !== 'GET') return { status: 405, body: { Error: { Code: 'MethodNotAllowed', Message: `The requested resource does not support http method '${method}'.` } } };
    const filter = url.searchParams.get('$filter') ?? '';
    filters.push(filter);
    let clauses = [];
    if (filter) {
      const p = parseRetailFilter(filter);
      if ('error' in p) return { status: 400, body: { Error: { Code: 'InvalidFilter', Message: p.error } } };
      clauses = p.clauses;
    }
    const skip = Number(url.searchParams.get('$skip') ?? 0);
    if (!Number.isInteger(skip) || skip < 0) return { status: 400, body: { Error: { Code: 'InvalidSkip', Message: `Invalid $skip '${url.searchParams.get('$skip')}'.` } } };
    // api-version 2023-01-01-preview and later compare values case-sensitively.
    const hits = items.filter((it) => clauses.every((c) => (c.field === 'priceType' ? it.type : it[c.field]) === c.value));
    const page = hits.slice(skip, skip + ctx.pageSize);
    let next = null;
    if (skip + ctx.pageSize < hits.length) {
      const u = new URL(`${ctx.endpoint()}/api/retail/prices`);
      for (const [k, v] of url.searchParams) if (k !== '$skip') u.searchParams.set(k, v);
      u.searchParams.set('$skip', String(skip + ctx.pageSize));
      next = u.toString();
    }
    return { status: 200, body: { BillingCurrency: 'USD', CustomerEntityId: 'Default', CustomerEntityType: 'Retail', Items: page, NextPageLink: next, Count: page.length } };
  }
  return { handle, filters };
}
