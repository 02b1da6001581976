import type Database from 'better-sqlite3';
import type { Logger } from '../log/logger';
import { RatesRepo } from '../reports/rates';
import type { CloudProvider, CloudSession } from './types';
import { errorText } from './retry';
import { parseExtId } from './sync';

export interface PriceRefresh {
  /** Instance types asked about, over every region. */
  asked: number;
  stored: number;
  /** Prices the provider answered but a price entered by hand already covers (the user's price wins). */
  keptManual: number;
  /** Currencies the rate card has no exchange rate for (those prices were not stored). */
  unconverted: string[];
  /** Regions whose price call failed, with the cloud's error. */
  failed: { region: string; error: string; code: string | null }[];
}

/**
 * After a sync: the on-demand prices of the instance types the account's guests use, per region, from the provider's
 * price API (ICloudPrices), stored as 'provider' prices in the rate card's currency for cost reports. A failure is
 * reported per region and never fails the sync: inventory matters more than prices.
 */
export async function refreshPrices(o: {
  db: Database.Database;
  accountId: string;
  provider: CloudProvider;
  session: CloudSession;
  regions: readonly string[];
  logger?: Logger;
  signal?: AbortSignal;
}): Promise<PriceRefresh> {
  const rows = o.db.prepare(`SELECT DISTINCT external_id, instance_type FROM guests WHERE cloud_account_id = ? AND instance_type IS NOT NULL AND external_id IS NOT NULL`).all(o.accountId) as {
    external_id: string;
    instance_type: string;
  }[];
  const byRegion = new Map<string, Set<string>>();
  for (const r of rows) {
    const { region } = parseExtId(r.external_id);
    if (!o.regions.includes(region)) continue;
    let s = byRegion.get(region);
    if (!s) byRegion.set(region, (s = new Set()));
    s.add(r.instance_type);
  }
  const rates = new RatesRepo(o.db);
  const out: PriceRefresh = { asked: 0, stored: 0, keptManual: 0, unconverted: [], failed: [] };
  const unconverted = new Set<string>();
  for (const [region, types] of byRegion) {
    out.asked += types.size;
    try {
      const prices = await o.session.instancePrices(region, [...types].sort(), o.signal);
      const r = rates.storeProviderPrices(prices.map((p) => ({ provider: o.provider, region, instanceType: p.instanceType, listHourly: p.hourly, currency: p.currency })));
      out.stored += r.stored;
      out.keptManual += r.keptManual;
      for (const c of r.unconverted) unconverted.add(c);
    } catch (e) {
      if (o.signal?.aborted) throw e;
      const t = errorText(e);
      out.failed.push({ region, error: t.message, code: t.code });
      o.logger?.warn('instance prices failed', { accountId: o.accountId, region, error: t.message, code: t.code });
    }
  }
  out.unconverted = [...unconverted].sort();
  return out;
}
