import type { Migration } from '../migrate';

/**
 * Prices from the providers' price APIs (main/clouds/prices.ts):
 * - cloud_prices.currency and list_hourly: what the provider answered (e.g. 0.62 CNY); `hourly` stays the price in the
 *   rate card's currency that cost reports use, converted with the rate card's exchange rates. NULL for prices entered
 *   by hand (they are in the rate card's currency).
 * - report_rate_card.exchange_rates: JSON `{ "CNY": 0.14 }`, one unit of each currency in the rate card's currency.
 */
export const m0015: Migration = {
  id: 15,
  name: 'provider_prices',
  up(db) {
    db.exec(`
      ALTER TABLE cloud_prices ADD COLUMN currency TEXT;
      ALTER TABLE cloud_prices ADD COLUMN list_hourly REAL;
      ALTER TABLE report_rate_card ADD COLUMN exchange_rates TEXT NOT NULL DEFAULT '{}';
    `);
  },
};
