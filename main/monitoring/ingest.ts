import type { MetricSample } from '@shared/agent/protocol';
import type { MetricKind } from '@shared/contract/monitoring';
import { rateName, type MetricsDb, type StoredPoint } from './store';

/** Agent values that are running totals: stored as per-second rates, their last total kept in metric_latest. */
export const COUNTERS = new Set(['blk.rd_bytes', 'blk.wr_bytes', 'net.rx_bytes', 'net.tx_bytes', 'cpu.time_ns']);

const POOL = /^pool\.(.+)\.(size_bytes|free_bytes)$/;

/**
 * Turns one agent sample into stored points: counters into rates against the previous total of the same series (a
 * total that went down — agent or guest restarted — gives no rate, only a new baseline), pools summed into disk.*, and
 * mem.util derived where the parts are known.
 */
export function samplePoints(mdb: MetricsDb, kind: MetricKind, resourceId: string, ts: number, values: Record<string, number>): StoredPoint[] {
  const out: StoredPoint[] = [];
  const put = (metric: string, value: number) => {
    if (Number.isFinite(value)) out.push({ kind, resourceId, metric, ts, value });
  };
  let diskSize = 0;
  let diskFree = 0;
  let pools = 0;
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    if (COUNTERS.has(name)) {
      const prev = mdb.latest(kind, resourceId, name);
      if (prev && ts > prev.ts && value >= prev.value) put(rateName(name), ((value - prev.value) * 1000) / (ts - prev.ts));
      if (!prev || ts >= prev.ts) mdb.setLatest(kind, resourceId, name, ts, value);
      continue;
    }
    const pool = POOL.exec(name);
    if (pool) {
      if (pool[2] === 'size_bytes') {
        diskSize += value;
        pools++;
      } else diskFree += value;
    }
    put(name, value);
  }
  if (pools > 0 && diskSize > 0) {
    put('disk.size_bytes', diskSize);
    put('disk.free_bytes', diskFree);
    put('disk.util', round2(((diskSize - diskFree) / diskSize) * 100));
  }
  if (kind === 'host' && values['mem.total_bytes'] && values['mem.used_bytes'] !== undefined) put('mem.util', round2((values['mem.used_bytes'] / values['mem.total_bytes']) * 100));
  if (kind === 'guest' && values['mem.current_bytes'] && values['mem.unused_bytes'] !== undefined) {
    put('mem.util', round2(((values['mem.current_bytes'] - values['mem.unused_bytes']) / values['mem.current_bytes']) * 100));
  }
  return out;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Resolves an agent sample's scope ('host' or a domain uuid) to the resource it belongs to; null: not (yet) known. */
export type ScopeResolver = (scope: string) => { kind: MetricKind; id: string } | null;

export function ingestSamples(mdb: MetricsDb, samples: MetricSample[], resolve: ScopeResolver): { stored: number; unknown: number } {
  let stored = 0;
  let unknown = 0;
  for (const s of samples) {
    const r = resolve(s.scope);
    if (!r) {
      unknown++;
      continue;
    }
    stored += mdb.insert(samplePoints(mdb, r.kind, r.id, s.ts, s.values));
  }
  return { stored, unknown };
}
