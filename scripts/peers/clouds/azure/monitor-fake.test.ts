import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { parseRetailFilter, startAzureFake, type AzureFake } from './azure-fake.mjs';

/**
 * The Azure fake's Azure Monitor metrics and Retail Prices endpoints on the wire (raw HTTPS with the test CA, tokens
 * signed by the fake): what they refuse and with which code.
 */

let az: AzureFake;
beforeEach(async () => {
  az = await startAzureFake({ vms: 10 });
});
afterEach(async () => az.close());

/** One HTTPS request to a fake (the test CA trusted), JSON body if given; answers the status and the parsed body. */
function send(method: 'GET' | 'POST', path: string, o: { token?: string; body?: unknown; fake?: AzureFake } = {}): Promise<{ status: number; body: any }> {
  const fake = o.fake ?? az;
  const headers = { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };
  return new Promise((resolve, reject) => {
    const req = request(`${fake.endpoint}${path}`, { method, ca: fake.caPem, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(o.body !== undefined ? JSON.stringify(o.body) : undefined);
  });
}
const get = (path: string, token?: string) => send('GET', path, { token });
const post = (path: string, body: unknown, token?: string, fake?: AzureFake) => send('POST', path, { body, token, ...(fake ? { fake } : {}) });
const metricsPath = (vm: string, q: Record<string, string>) => `${vm}/providers/Microsoft.Insights/metrics?${new URLSearchParams(q).toString()}`;
const ok = { 'api-version': '2024-02-01', timespan: '2026-11-01T10:00:00Z/2026-11-01T10:05:00Z', interval: 'PT1M', metricnames: 'Percentage CPU,Network In Total', aggregation: 'average,total' };

describe('Azure Monitor metrics (fake)', () => {
  it('answers the 2024-02-01 Response shape for a VM, with a bearer token', async () => {
    const vm = az.vmIds().find((id) => az.powerState(id) === 'running')!;
    const r = await get(metricsPath(vm, ok), az.issueToken());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ interval: 'PT1M', namespace: 'Microsoft.Compute/virtualMachines', timespan: '2026-11-01T10:00:00Z/2026-11-01T10:05:00Z' });
    expect(r.body.value.map((v: any) => [v.name.value, v.unit, v.type, v.errorCode])).toEqual([
      ['Percentage CPU', 'Percent', 'Microsoft.Insights/metrics', 'Success'],
      ['Network In Total', 'Bytes', 'Microsoft.Insights/metrics', 'Success'],
    ]);
    const data = r.body.value[0].timeseries[0].data;
    expect(data.map((d: any) => d.timeStamp)).toEqual(['2026-11-01T10:00:00Z', '2026-11-01T10:01:00Z', '2026-11-01T10:02:00Z', '2026-11-01T10:03:00Z', '2026-11-01T10:04:00Z']);
    expect(Object.keys(data[0]).sort()).toEqual(['average', 'timeStamp', 'total']);
  });

  it('refuses no token, an expired token, an unknown api-version, metric name, interval or timespan', async () => {
    const vm = az.vmIds()[0]!;
    expect((await get(metricsPath(vm, ok))).body.error.code).toBe('AuthenticationFailed');
    expect((await get(metricsPath(vm, ok), az.issueToken({ expiresInSec: -60 }))).body.error.code).toBe('ExpiredAuthenticationToken');
    const t = az.issueToken();
    expect((await get(metricsPath(vm, { ...ok, 'api-version': '2099-01-01' }), t)).body.error.code).toBe('NoRegisteredProviderFound');
    const bads: Record<string, string>[] = [{ metricnames: 'CPU Credits Consumed' }, { interval: 'PT2M' }, { timespan: '2026-11-01T10:05:00Z/2026-11-01T10:00:00Z' }, { timespan: 'last hour' }, { aggregation: 'median' }, { metricnamespace: 'Microsoft.Storage/storageAccounts' }];
    for (const bad of bads) {
      const r = await get(metricsPath(vm, { ...ok, ...bad }), t);
      expect([r.status, r.body.code], JSON.stringify(bad)).toEqual([400, 'BadRequest']);
    }
    const gone = await get(metricsPath(vm.replace(/[^/]+$/, 'nope'), ok), t);
    expect([gone.status, gone.body.code]).toEqual([404, 'ResourceNotFound']);
  });
});

describe('Retail Prices (fake)', () => {
  it('parses the $filter strictly', () => {
    expect(parseRetailFilter("serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_D2s_v5' and isPrimaryMeterRegion eq true")).toEqual({
      clauses: [
        { field: 'serviceName', value: 'Virtual Machines' },
        { field: 'armSkuName', value: 'Standard_D2s_v5' },
        { field: 'isPrimaryMeterRegion', value: true },
      ],
    });
    expect(parseRetailFilter("productName eq 'O''Brien'")).toEqual({ clauses: [{ field: 'productName', value: "O'Brien" }] });
    for (const bad of ["serviceName = 'Virtual Machines'", "serviceName eq Virtual Machines", "serviceName eq 'Virtual Machines' and", "skuname eq 'x'", "colour eq 'red'", "serviceName eq 'a' or serviceName eq 'b'"]) {
      expect('error' in parseRetailFilter(bad), bad).toBe(true);
    }
  });

  it('answers Items with NextPageLink, unauthenticated, and 400 InvalidFilter for a bad $filter', async () => {
    const f = encodeURIComponent("serviceName eq 'Virtual Machines' and armRegionName eq 'eastus' and armSkuName eq 'Standard_B2s'");
    const r = await get(`/api/retail/prices?$filter=${f}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ BillingCurrency: 'USD', CustomerEntityId: 'Default', CustomerEntityType: 'Retail', NextPageLink: null, Count: 7 });
    expect(new Set(r.body.Items.map((i: any) => i.type))).toEqual(new Set(['Consumption', 'DevTestConsumption', 'Reservation']));
    const bad = await get(`/api/retail/prices?$filter=${encodeURIComponent("armSkuName = 'x'")}`);
    expect([bad.status, bad.body.Error.Code]).toEqual([400, 'InvalidFilter']);
  });
});

describe('Azure Monitor metrics:getBatch (fake)', () => {
  const q = { 'api-version': '2024-02-01', starttime: '2026-11-01T10:00:00Z', endtime: '2026-11-01T10:05:00Z', interval: 'PT1M', metricnamespace: 'Microsoft.Compute/virtualMachines', metricnames: 'Percentage CPU', aggregation: 'average' };
  const path = (query: Record<string, string> = q) => `/subscriptions/${az.subscriptionId}/metrics:getBatch?${new URLSearchParams(query).toString()}`;
  const inRegion = (loc: string) => az.vmIds().filter((id) => new RegExp(`/resourcegroups/rg-${loc}-`, 'i').test(id));

  it('answers each VM of one region in its own metrics shape, under values[]', async () => {
    const ids = inRegion('eastus').slice(0, 2);
    const r = await post(path(), { resourceids: ids }, az.issueToken({ audience: 'https://metrics.monitor.azure.com' }));
    expect(r.status).toBe(200);
    expect(r.body.values.map((v: any) => [v.resourceid, v.resourceregion, v.interval, v.namespace, v.starttime, v.endtime, v.value.map((m: any) => m.name.value)])).toEqual(
      ids.map((id) => [id, 'eastus', 'PT1M', 'Microsoft.Compute/virtualMachines', '2026-11-01T10:00:00Z', '2026-11-01T10:05:00Z', ['Percentage CPU']]),
    );
  });

  it('refuses more than 50 VMs, VMs of two regions, another subscription, a missing VM, and a token for another resource', async () => {
    const token = az.issueToken({ audience: 'https://metrics.monitor.azure.com' });
    const big = await startAzureFake({ vms: 480 });
    try {
      const many = big.vmIds().slice(0, 51);
      const r = await post(`/subscriptions/${big.subscriptionId}/metrics:getBatch?${new URLSearchParams(q).toString()}`, { resourceids: many }, big.issueToken({ audience: 'https://metrics.monitor.azure.com' }), big);
      expect(r).toMatchObject({ status: 400, body: { error: { code: 'BadRequest', message: expect.stringMatching(/exceeds the limit of 50/) } } });
    } finally {
      await big.close();
    }
    const two = [inRegion('eastus')[0]!, inRegion('westeurope')[0]!];
    expect(await post(path(), { resourceids: two }, token)).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/one region/) } } });
    const other = inRegion('eastus')[0]!.replace(az.subscriptionId, '99999999-1111-2222-3333-444444444444');
    expect(await post(path(), { resourceids: [other] }, token)).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/not a virtual machine of subscription/) } } });
    const gone = inRegion('eastus')[0]!.replace(/[^/]+$/, 'no-such-vm');
    expect(await post(path(), { resourceids: [inRegion('eastus')[0]!, gone] }, token)).toMatchObject({ status: 404, body: { error: { code: 'ResourceNotFound' } } });
    expect(await post(path(), { resourceids: [] }, token)).toMatchObject({ status: 400 });
    const { metricnamespace: _ns, ...noNamespace } = q;
    expect(await post(path(noNamespace), { resourceids: [inRegion('eastus')[0]!] }, token)).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/metricnamespace/) } } });
    expect(await post(path(), { resourceids: [inRegion('eastus')[0]!] }, az.issueToken({ audience: 'https://vault.azure.net' }))).toMatchObject({ status: 401, body: { error: { code: 'InvalidAuthenticationTokenAudience' } } });
  });
});
