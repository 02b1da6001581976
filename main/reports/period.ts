import type { Period, ReportType } from '@shared/contract/reports';

export interface ResolvedPeriod {
  /** Inclusive start, ISO 8601 UTC. */
  from: string;
  /** Exclusive end, ISO 8601 UTC. */
  to: string;
}

const DAY = 86_400_000;
const isDateOnly = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);

/**
 * A period as absolute times, half-open [from, to), in UTC. Presets are relative to `now`; a date-only `to` means the
 * whole of that day. Changes and cost reports default to the last 30 days; inventory and capacity to no period.
 */
export function resolvePeriod(type: ReportType, period: Period | undefined, now: Date): ResolvedPeriod | null {
  if (!period) return type === 'changes' || type === 'cost' ? resolvePeriod(type, { preset: 'last30d' }, now) : null;
  if ('from' in period) {
    const from = new Date(Date.parse(isDateOnly(period.from) ? `${period.from}T00:00:00Z` : period.from));
    const to = new Date(Date.parse(isDateOnly(period.to) ? `${period.to}T00:00:00Z` : period.to) + (isDateOnly(period.to) ? DAY : 0));
    return { from: from.toISOString(), to: to.toISOString() };
  }
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const at = (d: number) => new Date(now.getTime() - d * DAY).toISOString();
  // A period that ends now includes now (the end is exclusive).
  const end = new Date(now.getTime() + 1).toISOString();
  switch (period.preset) {
    case 'last7d':
      return { from: at(7), to: end };
    case 'last30d':
      return { from: at(30), to: end };
    case 'last90d':
      return { from: at(90), to: end };
    case 'thisMonth':
      return { from: new Date(Date.UTC(y, m, 1)).toISOString(), to: end };
    case 'lastMonth':
      return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
    case 'thisYear':
      return { from: new Date(Date.UTC(y, 0, 1)).toISOString(), to: end };
  }
}

/** `2026-05-01T12:34:56.789Z` → `2026-05-01 12:34` (reports state that times are UTC). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}
