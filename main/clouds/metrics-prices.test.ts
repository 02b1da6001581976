import { afterEach, describe, expect, it } from 'vitest';
import { ec2MetricSample, ec2Price, startAwsFake, type AwsFake } from '../../scripts/peers/clouds/aws/fake.mjs';
import { startTencentFake, type TencentFake } from '../../scripts/peers/clouds/tencent/fake.mjs';
import { tencentMetricValue } from '../../scripts/peers/clouds/tencent/monitor.mjs';
import { testServer } from '../test/helpers';
import { parseExtId } from './sync';

/**
 * Cloud metrics and prices wired into the product, end to end through the API: a cloud account's sync stores the
 * on-demand prices of the instance types it found (AWS Price List through @aws-sdk/client-pricing; Tencent Cloud
 * InquiryPriceRunInstances in CNY, stored only once the rate card has a CNY rate), and the monitoring collector reads
 * the running instances' metrics from CloudWatch / Cloud Monitor into the guests' charts. The fakes verify every
 * signature and answer values derived from instance and time, so the stored numbers are checked exactly.
 */
type T = Awaited<ReturnType<typeof testServer>>;

describe('cloud metrics and prices in the product', () => {
  let t: T;
  let aws: AwsFake | null = null;
  let tc: TencentFake | null = null;
  afterEach(async () => {
    await t?.close();
    await aws?.close();
    await tc?.close();
    aws = tc = null;
  });

  const guestsOf = (id: string) =>
    t.core.db.prepare(`SELECT id, external_id AS ext, instance_type AS type, status FROM guests WHERE cloud_account_id = ? ORDER BY name`).all(id) as { id: string; ext: string; type: string; status: string }[];
  const series = async (guestId: string, metric: string, from: number, to: number) => {
    const r = await t.call('monitoring.series', { kind: 'guest', id: guestId, metrics: [metric], from, to, resolution: 'raw' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body.series[0]?.points ?? []) as [number, number, number, number][];
  };
  /** Adds the account through the API and waits for its first sync, which must succeed. */
  const addAccount = async (body: Record<string, unknown>) => {
    const r = await t.call('clouds.add', body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await t.core.engine.waitFor(r.body.taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    return { accountId: r.body.account.account.id as string, task };
  };
  /** Waits for the collector (its own timer or this call) to have stored the source's first round. */
  const collected = async (sourceId: string) => {
    const until = Date.now() + 20_000;
    for (;;) {
      await t.core.monitoring.collectAll();
      const s = ((await t.call('monitoring.sources', {})).body.items as { sourceId: string; samplesTotal: number; lastError: string | null; kind: string; name: string | null }[]).find((x) => x.sourceId === sourceId);
      if (s && s.samplesTotal > 0) return s;
      if (Date.now() > until) throw new Error(`no samples from ${sourceId}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('AWS: the sync stores Price List prices; the collector stores CloudWatch metrics of running instances', async () => {
    aws = await startAwsFake({ defaultInstances: 6 });
    t = await testServer();
    const { accountId, task } = await addAccount({ name: 'prod', credentials: { provider: 'aws', accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey }, endpoint: aws.endpoint, regions: ['us-east-1'] });

    // Prices: one per instance type in use, exactly what the Price List answered, marked as the provider's.
    const guests = guestsOf(accountId);
    const types = [...new Set(guests.map((g) => g.type))].sort();
    expect(types.length).toBeGreaterThan(0);
    const result = task.result as { prices: { asked: number; stored: number; unconverted: string[]; failed: unknown[] } };
    const priced = types.filter((x) => ec2Price(x, 'us-east-1') !== null);
    expect(result.prices).toMatchObject({ asked: types.length, stored: priced.length, unconverted: [], failed: [] });
    const prices = (await t.call('reports.listPrices', {})).body.items as { provider: string; region: string; instanceType: string; hourly: number; source: string; currency: string }[];
    expect(prices.map((p) => [p.provider, p.region, p.instanceType, p.hourly, p.source, p.currency])).toEqual(priced.map((x) => ['aws', 'us-east-1', x, ec2Price(x, 'us-east-1'), 'provider', 'USD']));
    expect(aws.stats.byService).toMatchObject({ pricing: expect.any(Number) });

    // Metrics: the account's source, CPU of a running guest over the first window equals CloudWatch's answer.
    const src = await collected(`cloud:${accountId}`);
    expect(src).toMatchObject({ lastError: null, kind: 'cloud', name: 'prod', intervalMs: 60_000 });
    const running = guests.filter((g) => g.status === 'running');
    expect(running.length).toBeGreaterThan(0);
    const g = running[0]!;
    const now = Date.now();
    const cpu = await series(g.id, 'cpu.util', now - 4 * 3_600_000, now + 60_000);
    expect(cpu.length).toBeGreaterThanOrEqual(30); // 3 h of 5-minute periods
    const { id: instanceId } = parseExtId(g.ext);
    for (const [ts, avg] of cpu) expect(avg).toBe(ec2MetricSample(instanceId, 'CPUUtilization', ts / 1000));
    const rx = await series(g.id, 'net.rx_bytes_per_s', now - 4 * 3_600_000, now + 60_000);
    expect(rx[0]![1]).toBe(ec2MetricSample(instanceId, 'NetworkIn', rx[0]![0] / 1000)! / 300);
    // A stopped instance is not asked about.
    for (const s of guests.filter((x) => x.status !== 'running')) expect(await series(s.id, 'cpu.util', now - 4 * 3_600_000, now + 60_000)).toEqual([]);

    // The account removed: its source goes with it.
    expect((await t.call('clouds.remove', { id: accountId })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const before = aws.stats.byService.monitoring ?? 0;
    await t.core.monitoring.collectAll();
    expect(aws.stats.byService.monitoring ?? 0).toBe(before);
  });

  it('Tencent Cloud: CNY prices wait for an exchange rate; Cloud Monitor metrics reach the charts', async () => {
    tc = await startTencentFake();
    t = await testServer();
    const { accountId, task: first } = await addAccount({ name: 'tc', credentials: { provider: 'tencent', secretId: tc.secretId, secretKey: tc.secretKey }, endpoint: tc.url, regions: ['ap-guangzhou'] });
    const p1 = (first.result as { prices: { stored: number; unconverted: string[] } }).prices;
    expect(p1).toMatchObject({ stored: 0, unconverted: ['CNY'] });
    expect(first.message).toContain('prices in CNY not stored');
    expect((await t.call('reports.listPrices', {})).body.items).toEqual([]);

    // With a CNY rate on the card, the next sync stores them converted, the provider's CNY price kept beside.
    expect((await t.call('reports.setRateCard', { currency: 'USD', vcpuMonth: 0, memoryGbMonth: 0, diskGbMonth: 0, exchangeRates: { CNY: 0.14 } })).status).toBe(200);
    const again = await t.call('clouds.syncNow', { id: accountId });
    const second = await t.core.engine.waitFor(again.body.taskId);
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    const p2 = (second.result as { prices: { asked: number; stored: number; unconverted: string[] } }).prices;
    expect(p2.stored).toBeGreaterThan(0);
    expect(p2.unconverted).toEqual([]);
    const prices = (await t.call('reports.listPrices', {})).body.items as { instanceType: string; hourly: number; listHourly: number; currency: string; source: string }[];
    expect(prices).toHaveLength(p2.stored);
    for (const p of prices) {
      expect(p).toMatchObject({ currency: 'CNY', source: 'provider' });
      expect(p.hourly).toBeCloseTo(p.listHourly * 0.14, 6);
    }

    const src = await collected(`cloud:${accountId}`);
    expect(src.lastError).toBeNull();
    const g = guestsOf(accountId).find((x) => x.status === 'running')!;
    const now = Date.now();
    const cpu = await series(g.id, 'cpu.util', now - 4 * 3_600_000, now + 60_000);
    expect(cpu.length).toBeGreaterThanOrEqual(150); // 3 h of 1-minute periods, less the newest minutes
    const { id: instanceId } = parseExtId(g.ext);
    for (const [ts, avg] of cpu) expect(avg).toBe(tencentMetricValue(instanceId, 'CpuUsage', ts / 1000));
  });
});
