import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { azureMetricSample, azurePrice, startAzureFake, type AzureFake } from '../../../scripts/peers/clouds/azure/azure-fake.mjs';
import { toApiError } from '../retry';
import { CloudError, type CloudSession } from '../types';
import { azureDriver } from '.';
import { retailFilter } from './metrics';

/**
 * Azure metrics (Azure Monitor's metrics:getBatch through the real @azure/monitor-query-metrics, bearer tokens for
 * https://metrics.monitor.azure.com from the real @azure/identity verified by the fake) and prices (the Retail Prices API on the fake's origin), over HTTPS with the fake's test CA (trusted
 * through NODE_EXTRA_CA_CERTS, which the driver reads at connect for an endpoint override).
 */

const savedCa = process.env.NODE_EXTRA_CA_CERTS;
afterAll(() => {
  if (savedCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = savedCa;
});

const MIN = 60_000;
const SINCE = Date.UTC(2026, 10, 1, 10, 0);
const UNTIL = SINCE + 10 * MIN;

let az: AzureFake;
let s: CloudSession | null = null;
afterEach(async () => {
  s?.close();
  s = null;
  await az?.close();
});
const start = async (o: Parameters<typeof startAzureFake>[0] = {}, secret?: string) => {
  az = await startAzureFake({ vms: 20, ...o });
  process.env.NODE_EXTRA_CA_CERTS = az.caFile;
  s = await azureDriver.connect({ accountId: 'a', provider: 'azure', endpoint: az.endpoint, credentials: { tenantId: az.tenantId, clientId: az.clientId, clientSecret: secret ?? az.clientSecret, subscriptionId: az.subscriptionId } });
  return s;
};
/** VM ids as the session has them (lower-case ARM ids), by power state, in eastus (a batch holds one region's VMs). */
const vms = (state: string) => az.vmIds().filter((id) => az.powerState(id) === state && /\/resourcegroups\/rg-eastus-/i.test(id)).map((id) => id.toLowerCase());
const metricCalls = () => az.requests.filter((r) => /\/metrics:getBatch$/i.test(r.path));

describe('Azure instanceMetrics (Azure Monitor)', () => {
  it('maps the VM metrics to Skydeck metrics with exact values (bytes per minute → per second); a VM that is gone is asked about alone', async () => {
    await start();
    const [a, b] = vms('running');
    const stopped = vms('deallocated')[0]!;
    const gone = a!.replace(/[^/]+$/, 'no-such-vm');
    const points = await s!.instanceMetrics('eastus', [a!, b!, stopped, gone], SINCE, UNTIL);
    // 2 running VMs × 6 metrics × 10 minutes; the deallocated VM has timestamps without values; the deleted one fails
    // the batch (404), which is then asked VM by VM.
    expect(points).toHaveLength(2 * 6 * 10);
    expect(new Set(points.map((p) => p.metric))).toEqual(new Set(['cpu.util', 'blk.rd_bytes_per_s', 'blk.wr_bytes_per_s', 'net.rx_bytes_per_s', 'net.tx_bytes_per_s', 'mem.available_bytes']));
    expect(points.some((p) => p.metric === 'mem.util')).toBe(false);
    const name = { 'cpu.util': 'Percentage CPU', 'blk.rd_bytes_per_s': 'Disk Read Bytes', 'blk.wr_bytes_per_s': 'Disk Write Bytes', 'net.rx_bytes_per_s': 'Network In Total', 'net.tx_bytes_per_s': 'Network Out Total', 'mem.available_bytes': 'Available Memory Bytes' } as const;
    for (const p of points) {
      expect(p.ts > SINCE && p.ts <= UNTIL && p.ts % MIN === 0).toBe(true);
      const raw = azureMetricSample(p.instanceId, name[p.metric as keyof typeof name], p.ts / 1000)!;
      expect(p.value).toBe(p.metric === 'cpu.util' || p.metric === 'mem.available_bytes' ? raw : raw / 60);
    }
    // By hand: vm-00000 (rg-eastus-0, seed 969) at 10:10 UTC (minute 29892130): Percentage CPU (969 + 3·29892130) mod 1000
    // / 10 = 35.9 %; Network In Total 60·(500 + (969 + 7·29892130) mod 1000) = 82740 B in the minute = 1379 B/s.
    expect(a).toBe('/subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/rg-eastus-0/providers/microsoft.compute/virtualmachines/vm-00000');
    const at = (metric: string) => points.find((p) => p.instanceId === a && p.ts === UNTIL && p.metric === metric)?.value;
    expect([at('cpu.util'), at('net.rx_bytes_per_s')]).toEqual([35.9, 1379]);
    // The wire: POSTs to metrics:getBatch with the documented query, api-version 2024-02-01, bearer token verified: the
    // batch of 4 (404), then each VM alone.
    const calls = metricCalls();
    expect(calls).toHaveLength(5);
    expect(calls.every((c) => c.method === 'POST' && c.path === `/subscriptions/${az.subscriptionId}/metrics:getBatch`)).toBe(true);
    const q = new URLSearchParams(calls[0]!.query);
    expect(Object.fromEntries(q)).toMatchObject({
      'api-version': '2024-02-01',
      interval: 'PT1M',
      aggregation: 'average,total',
      metricnamespace: 'Microsoft.Compute/virtualMachines',
      metricnames: 'Percentage CPU,Disk Read Bytes,Disk Write Bytes,Network In Total,Network Out Total,Available Memory Bytes',
      starttime: '2026-11-01T10:01:00.000Z',
      endtime: '2026-11-01T10:11:00.000Z',
    });
    expect(calls[0]!.status).toBe(404);
    expect(calls.map((c) => c.status).sort()).toEqual([200, 200, 200, 404, 404]);
    expect(calls.every((c) => c.principal === az.clientId)).toBe(true);
  });

  it('asks for 50 VMs a call, the API\'s limit', async () => {
    await start({ vms: 800 });
    const running = vms('running');
    expect(running.length).toBeGreaterThan(50);
    const points = await s!.instanceMetrics('eastus', running, SINCE, UNTIL);
    expect(points).toHaveLength(running.length * 6 * 10);
    expect(new Set(points.map((p) => p.instanceId))).toEqual(new Set(running));
    expect(metricCalls().map((c) => c.status)).toEqual(Array.from({ length: Math.ceil(running.length / 50) }, () => 200));
  });

  it('retries ARM throttling (429 TooManyRequests, Retry-After) and keeps the code when it persists', async () => {
    await start();
    const [a] = vms('running');
    az.inject({ kind: 'throttle', path: 'metrics:getBatch', times: 2, retryAfterSec: 0 });
    expect(await s!.instanceMetrics('eastus', [a!], SINCE, UNTIL)).toHaveLength(60);
    expect(metricCalls().map((c) => c.status)).toEqual([429, 429, 200]);
    az.inject({ kind: 'throttle', path: 'metrics:getBatch', times: 6, retryAfterSec: 0 });
    const e = await s!.instanceMetrics('eastus', [a!], SINCE, UNTIL).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect(e).toMatchObject({ provider: 'azure', cloudCode: 'TooManyRequests', httpStatus: 429 });
    expect(toApiError(e)).toMatchObject({ code: 'rate_limited' });
  }, 30_000);

  it('an expired bearer token is refused with ExpiredAuthenticationToken, surfaced with that code', async () => {
    let skew = 0;
    await start({ now: () => Date.now() + skew });
    const [a] = vms('running');
    expect(await s!.instanceMetrics('eastus', [a!], SINCE, UNTIL)).toHaveLength(60);
    // Two hours later by the fake's clock: the token the SDK still holds (valid by its own clock) has expired.
    skew = 2 * 3600_000;
    const e = await s!.instanceMetrics('eastus', [a!], SINCE, UNTIL).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect(e).toMatchObject({ cloudCode: 'ExpiredAuthenticationToken', httpStatus: 401 });
    expect(toApiError(e)).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
  });

  it('a wrong client secret fails at Entra with AADSTS7000215', async () => {
    await start({}, 'wrong~secret');
    await expect(s!.instanceMetrics('eastus', vms('running').slice(0, 1), SINCE, UNTIL)).rejects.toMatchObject({ cloudCode: 'AADSTS7000215', httpStatus: 401 });
    expect(metricCalls()).toHaveLength(0);
  });
});

describe('Azure instancePrices (Retail Prices API)', () => {
  it("answers the Linux pay-as-you-go price per size (Spot, Low Priority and Windows skipped), leaving out unpriced sizes", async () => {
    await start();
    const prices = await s!.instancePrices('westeurope', ['Standard_D2s_v5', 'Standard_B1s', 'Standard_Nope_v9']);
    expect(prices).toEqual([
      { instanceType: 'Standard_D2s_v5', hourly: azurePrice('Standard_D2s_v5', 'westeurope'), currency: 'USD' },
      { instanceType: 'Standard_B1s', hourly: azurePrice('Standard_B1s', 'westeurope'), currency: 'USD' },
    ]);
    expect(prices[0]!.hourly).toBe(0.1104);
    expect(az.retailFilters).toEqual([retailFilter('westeurope', 'Standard_D2s_v5'), retailFilter('westeurope', 'Standard_B1s'), retailFilter('westeurope', 'Standard_Nope_v9')]);
    expect(az.retailFilters[0]).toBe("serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' and armSkuName eq 'Standard_D2s_v5' and priceType eq 'Consumption'");
    // Unauthenticated: no token is asked for prices.
    expect(az.tokensIssued).toBe(0);
  });

  it('follows NextPageLink and retries 429', async () => {
    await start({ retailPageSize: 1 });
    az.inject({ kind: 'throttle', target: 'retail', times: 1, retryAfterSec: 0 });
    const prices = await s!.instancePrices('eastus', ['Standard_D4s_v5']);
    expect(prices).toEqual([{ instanceType: 'Standard_D4s_v5', hourly: azurePrice('Standard_D4s_v5', 'eastus'), currency: 'USD' }]);
    // Consumption items of the size: Linux, Linux Spot, Linux Low Priority, Windows, Windows Spot → 5 pages, plus the 429.
    const calls = az.requests.filter((r) => r.path === '/api/retail/prices');
    expect(calls.map((c) => c.status)).toEqual([429, 200, 200, 200, 200, 200]);
    expect(calls.slice(2).every((c) => /[?&](\$|%24)skip=\d/.test(c.query))).toBe(true);
  });

  it('declares metrics and prices', () => {
    expect(azureDriver.capabilities.operations).toEqual(expect.arrayContaining(['metrics', 'prices']));
  });
});
