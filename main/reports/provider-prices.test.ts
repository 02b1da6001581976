import { afterEach, describe, expect, it } from 'vitest';
import { testServer } from '../test/helpers';
import { RatesRepo } from './rates';

/**
 * Prices a provider's price API answered (main/clouds/prices.ts → RatesRepo.storeProviderPrices): converted into the
 * rate card's currency with its exchange rates, re-converted when the card changes, never over a price entered by
 * hand; and the rate card's exchange rates validated at the API boundary.
 */
type T = Awaited<ReturnType<typeof testServer>>;
describe('provider prices and exchange rates', () => {
  let t: T;
  afterEach(async () => {
    await t?.close();
  });

  it('converts, keeps hand-entered prices, and follows the rate card', async () => {
    t = await testServer();
    const rates = new RatesRepo(t.core.db);
    expect((await t.call('reports.setPrice', { provider: 'tencent', region: 'ap-guangzhou', instanceType: 'S5.LARGE8', hourly: 0.05 })).status).toBe(200);

    const answered = [
      { provider: 'aws' as const, region: 'us-east-1', instanceType: 'm6i.large', listHourly: 0.096, currency: 'USD' },
      { provider: 'tencent' as const, region: 'ap-guangzhou', instanceType: 'S5.MEDIUM4', listHourly: 0.31, currency: 'CNY' },
      { provider: 'tencent' as const, region: 'ap-guangzhou', instanceType: 'S5.LARGE8', listHourly: 0.62, currency: 'CNY' },
    ];
    // USD card, no rate for CNY: the CNY prices are not stored, and named.
    expect(rates.storeProviderPrices(answered)).toEqual({ stored: 1, keptManual: 0, unconverted: ['CNY'] });

    const card = await t.call('reports.setRateCard', { currency: 'USD', vcpuMonth: 1, memoryGbMonth: 1, diskGbMonth: 0.1, exchangeRates: { CNY: 0.14 } });
    expect(card.status, JSON.stringify(card.body)).toBe(200);
    expect(card.body.exchangeRates).toEqual({ CNY: 0.14 });
    // With the rate: S5.MEDIUM4 converted; S5.LARGE8 has a price entered by hand, which wins.
    expect(rates.storeProviderPrices(answered)).toEqual({ stored: 2, keptManual: 1, unconverted: [] });
    const list = async () => Object.fromEntries(((await t.call('reports.listPrices', {})).body.items as { instanceType: string; hourly: number; source: string; currency: string | null; listHourly: number | null }[]).map((p) => [p.instanceType, p]));
    let prices = await list();
    expect(prices['m6i.large']).toMatchObject({ hourly: 0.096, source: 'provider', currency: 'USD', listHourly: 0.096 });
    expect(prices['S5.MEDIUM4']).toMatchObject({ hourly: 0.0434, source: 'provider', currency: 'CNY', listHourly: 0.31 });
    expect(prices['S5.LARGE8']).toMatchObject({ hourly: 0.05, source: 'manual', currency: null, listHourly: null });

    // A new rate re-converts what the providers answered; dropping the rate drops those prices (they would be wrong).
    expect((await t.call('reports.setRateCard', { currency: 'USD', vcpuMonth: 1, memoryGbMonth: 1, diskGbMonth: 0.1, exchangeRates: { CNY: 0.15 } })).status).toBe(200);
    prices = await list();
    expect(prices['S5.MEDIUM4']!.hourly).toBeCloseTo(0.0465, 6);
    expect((await t.call('reports.setRateCard', { currency: 'USD', vcpuMonth: 1, memoryGbMonth: 1, diskGbMonth: 0.1 })).status).toBe(200);
    prices = await list();
    expect(prices['S5.MEDIUM4']).toBeUndefined();
    expect(prices['m6i.large']!.hourly).toBe(0.096);
    expect(prices['S5.LARGE8']!.hourly).toBe(0.05);
  });

  it('refuses bad exchange rates with the field named', async () => {
    t = await testServer();
    const bad = async (exchangeRates: unknown) => (await t.call('reports.setRateCard', { currency: 'USD', vcpuMonth: 0, memoryGbMonth: 0, diskGbMonth: 0, exchangeRates })).body;
    expect(await bad({ CNY: 0 })).toMatchObject({ code: 'validation' });
    expect(JSON.stringify(await bad({ CNY: -1 }))).toContain('exchangeRates');
    expect(JSON.stringify(await bad({ yuan: 0.14 }))).toContain('three-letter currency code');
    expect(JSON.stringify(await bad({ USD: 1 }))).toContain('needs no exchange rate');
    expect((await t.call('reports.getRateCard', {})).body.exchangeRates).toEqual({});
  });
});
