import type Database from 'better-sqlite3';
import type { Price, RateCard } from '@shared/contract/reports';

export const DEFAULT_RATE_CARD: RateCard = { currency: 'USD', vcpuMonth: 0, memoryGbMonth: 0, diskGbMonth: 0 };

interface PriceRow {
  provider: string;
  region: string;
  instance_type: string;
  hourly: number;
  source: 'manual' | 'provider';
  updated_at: string;
}

/** The rate card (one row) and cloud instance prices, for cost reports. */
export class RatesRepo {
  constructor(private readonly db: Database.Database) {}

  rateCard(): RateCard {
    const r = this.db.prepare('SELECT currency, vcpu_month, memory_gb_month, disk_gb_month FROM report_rate_card WHERE id = 1').get() as
      | { currency: string; vcpu_month: number; memory_gb_month: number; disk_gb_month: number }
      | undefined;
    return r ? { currency: r.currency, vcpuMonth: r.vcpu_month, memoryGbMonth: r.memory_gb_month, diskGbMonth: r.disk_gb_month } : { ...DEFAULT_RATE_CARD };
  }

  setRateCard(c: RateCard): RateCard {
    this.db
      .prepare(
        `INSERT INTO report_rate_card (id, currency, vcpu_month, memory_gb_month, disk_gb_month, updated_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET currency = excluded.currency, vcpu_month = excluded.vcpu_month, memory_gb_month = excluded.memory_gb_month,
           disk_gb_month = excluded.disk_gb_month, updated_at = excluded.updated_at`,
      )
      .run(c.currency, c.vcpuMonth, c.memoryGbMonth, c.diskGbMonth, new Date().toISOString());
    return this.rateCard();
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
         ON CONFLICT (provider, region, instance_type) DO UPDATE SET hourly = excluded.hourly, source = excluded.source, updated_at = excluded.updated_at
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
  return { provider: r.provider as Price['provider'], region: r.region, instanceType: r.instance_type, hourly: r.hourly, source: r.source, updatedAt: r.updated_at };
}
