import type Database from 'better-sqlite3';
import type { Price, RateCard } from '@shared/contract/reports';

export const DEFAULT_RATE_CARD: RateCard = { currency: 'USD', vcpuMonth: 0, memoryGbMonth: 0, diskGbMonth: 0, exchangeRates: {} };

interface PriceRow {
  provider: string;
  region: string;
  instance_type: string;
  hourly: number;
  source: 'manual' | 'provider';
  currency: string | null;
  list_hourly: number | null;
  updated_at: string;
}

/** A price as a provider's price API answered it (main/clouds/prices.ts). */
export interface ProviderPrice {
  provider: Price['provider'];
  region: string;
  instanceType: string;
  listHourly: number;
  currency: string;
}

/** The rate card (one row) and cloud instance prices, for cost reports. */
export class RatesRepo {
  constructor(private readonly db: Database.Database) {}

  rateCard(): RateCard {
    const r = this.db.prepare('SELECT currency, vcpu_month, memory_gb_month, disk_gb_month, exchange_rates FROM report_rate_card WHERE id = 1').get() as
      | { currency: string; vcpu_month: number; memory_gb_month: number; disk_gb_month: number; exchange_rates: string }
      | undefined;
    return r
      ? { currency: r.currency, vcpuMonth: r.vcpu_month, memoryGbMonth: r.memory_gb_month, diskGbMonth: r.disk_gb_month, exchangeRates: JSON.parse(r.exchange_rates) as Record<string, number> }
      : { ...DEFAULT_RATE_CARD, exchangeRates: {} };
  }

  setRateCard(c: RateCard): RateCard {
    this.db
      .prepare(
        `INSERT INTO report_rate_card (id, currency, vcpu_month, memory_gb_month, disk_gb_month, exchange_rates, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET currency = excluded.currency, vcpu_month = excluded.vcpu_month, memory_gb_month = excluded.memory_gb_month,
           disk_gb_month = excluded.disk_gb_month, exchange_rates = excluded.exchange_rates, updated_at = excluded.updated_at`,
      )
      .run(c.currency, c.vcpuMonth, c.memoryGbMonth, c.diskGbMonth, JSON.stringify(c.exchangeRates ?? {}), new Date().toISOString());
    // Provider prices follow the card: re-converted into its currency with its rates (or dropped to unpriced).
    this.db.transaction(() => {
      for (const p of this.db.prepare(`SELECT * FROM cloud_prices WHERE source = 'provider' AND list_hourly IS NOT NULL`).all() as PriceRow[]) this.convertStored(p);
    })();
    return this.rateCard();
  }

  /** The price in the rate card's currency, or null when no exchange rate converts it. */
  convert(amount: number, currency: string, card = this.rateCard()): number | null {
    if (currency === card.currency) return amount;
    const rate = card.exchangeRates[currency];
    return rate === undefined ? null : Math.round(amount * rate * 1e6) / 1e6;
  }

  private convertStored(p: PriceRow) {
    const hourly = this.convert(p.list_hourly!, p.currency!);
    if (hourly === null) this.db.prepare('DELETE FROM cloud_prices WHERE provider = ? AND region = ? AND instance_type = ?').run(p.provider, p.region, p.instance_type);
    else this.db.prepare('UPDATE cloud_prices SET hourly = ? WHERE provider = ? AND region = ? AND instance_type = ?').run(hourly, p.provider, p.region, p.instance_type);
  }

  /**
   * Stores what a provider's price API answered, converted into the rate card's currency. A price entered by hand for
   * the same type and region wins and is left alone. Answers how many were stored and the currencies that had no rate.
   */
  storeProviderPrices(prices: readonly ProviderPrice[]): { stored: number; keptManual: number; unconverted: string[] } {
    const card = this.rateCard();
    const t = new Date().toISOString();
    const put = this.db.prepare(
      `INSERT INTO cloud_prices (provider, region, instance_type, hourly, source, currency, list_hourly, updated_at) VALUES (?, ?, ?, ?, 'provider', ?, ?, ?)
       ON CONFLICT (provider, region, instance_type) DO UPDATE SET hourly = excluded.hourly, currency = excluded.currency, list_hourly = excluded.list_hourly,
         updated_at = excluded.updated_at WHERE cloud_prices.source = 'provider'`,
    );
    const unconverted = new Set<string>();
    let stored = 0;
    let keptManual = 0;
    this.db.transaction(() => {
      for (const p of prices) {
        const hourly = this.convert(p.listHourly, p.currency, card);
        if (hourly === null) {
          unconverted.add(p.currency);
          continue;
        }
        if (put.run(p.provider, p.region, p.instanceType, hourly, p.currency, p.listHourly, t).changes) stored++;
        else keptManual++;
      }
    })();
    return { stored, keptManual, unconverted: [...unconverted].sort() };
  }

  prices() {
    return (this.db.prepare('SELECT * FROM cloud_prices ORDER BY provider, region, instance_type').all() as PriceRow[]).map(toPrice);
  }

  /** `source` is 'provider' when a driver stores what the provider's price API answered. */
  setPrice(p: Price, source: 'manual' | 'provider' = 'manual') {
    const t = new Date().toISOString();
    const row = this.db
      .prepare(
        `INSERT INTO cloud_prices (provider, region, instance_type, hourly, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (provider, region, instance_type) DO UPDATE SET hourly = excluded.hourly, source = excluded.source, updated_at = excluded.updated_at,
           currency = NULL, list_hourly = NULL
         RETURNING *`,
      )
      .get(p.provider, p.region, p.instanceType, p.hourly, source, t) as PriceRow;
    return toPrice(row);
  }

  deletePrice(provider: string, region: string, instanceType: string): boolean {
    return this.db.prepare('DELETE FROM cloud_prices WHERE provider = ? AND region = ? AND instance_type = ?').run(provider, region, instanceType).changes > 0;
  }
}

function toPrice(r: PriceRow) {
  return {
    provider: r.provider as Price['provider'],
    region: r.region,
    instanceType: r.instance_type,
    hourly: r.hourly,
    source: r.source,
    listHourly: r.list_hourly,
    currency: r.currency,
    updatedAt: r.updated_at,
  };
}
