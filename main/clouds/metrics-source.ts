import type Database from 'better-sqlite3';
import type { Logger } from '../log/logger';
import type { MetricSource } from '../monitoring/service';
import type { StoredPoint } from '../monitoring/store';
import type { CloudService } from './service';
import { parseExtId } from './sync';

/**
 * Cloud instance metrics for the monitoring collector: one MetricSource per cloud account whose driver offers
 * `metrics` (CloudWatch, CloudMonitor, Cloud Monitor, Azure Monitor), registered and removed as accounts come and go.
 *
 * The collector asks every source at each round (10 s by default), but a cloud API is billed per call and only gains a
 * point per period, so a source asks its cloud at most once per `minIntervalMs`. Providers publish a period's point
 * minutes after it ends, so each call looks back `lookbackMs` before the newest point already stored: the store
 * ignores samples it holds, so the overlap costs nothing and no late point is missed. Running guests only: a stopped
 * instance has no metrics to read.
 */
export const CLOUD_METRICS_MIN_INTERVAL_MS = 60_000;
export const CLOUD_METRICS_LOOKBACK_MS = 15 * 60_000;
/** The first collection of an account reads this much history. */
export const CLOUD_METRICS_FIRST_WINDOW_MS = 3 * 3_600_000;

export class CloudMetricSource implements MetricSource {
  readonly id: string;
  readonly kind = 'cloud';
  private lastCall = 0;
  get intervalMs(): number {
    return this.o.minIntervalMs ?? CLOUD_METRICS_MIN_INTERVAL_MS;
  }

  constructor(
    private readonly o: {
      db: Database.Database;
      clouds: CloudService;
      accountId: string;
      now?: () => number;
      minIntervalMs?: number;
      lookbackMs?: number;
    },
  ) {
    this.id = `cloud:${o.accountId}`;
  }

  async collect(since: number | null, signal: AbortSignal): Promise<StoredPoint[]> {
    const now = (this.o.now ?? Date.now)();
    if (now - this.lastCall < this.intervalMs) return [];
    const from = since === null ? now - CLOUD_METRICS_FIRST_WINDOW_MS : Math.max(now - CLOUD_METRICS_FIRST_WINDOW_MS, since - (this.o.lookbackMs ?? CLOUD_METRICS_LOOKBACK_MS));
    const rows = this.o.db
      .prepare(`SELECT id, external_id, memory_mb FROM guests WHERE cloud_account_id = ? AND status = 'running' AND external_id IS NOT NULL`)
      .all(this.o.accountId) as { id: string; external_id: string; memory_mb: number | null }[];
    const memBytes = new Map(rows.map((r) => [r.id, (r.memory_mb ?? 0) * 1_048_576]));
    // No running instance (or the first sync is still under way): nothing to ask, and the next round may ask at once.
    if (!rows.length) return [];
    this.lastCall = now;
    const byRegion = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const { region, id } = parseExtId(r.external_id);
      let m = byRegion.get(region);
      if (!m) byRegion.set(region, (m = new Map()));
      m.set(id, r.id);
    }
    const session = await this.o.clouds.session(this.o.accountId);
    const out: StoredPoint[] = [];
    const errors: string[] = [];
    for (const [region, ids] of byRegion) {
      try {
        for (const p of await session.instanceMetrics(region, [...ids.keys()], from, now, signal)) {
          const guestId = ids.get(p.instanceId);
          if (!guestId || !Number.isFinite(p.value)) continue;
          out.push({ kind: 'guest', resourceId: guestId, metric: p.metric, ts: p.ts, value: p.value });
          // Azure reports available bytes, not a percentage: the VM size's nominal memory (synced) makes it one, a close
          // approximation (the guest sees slightly less than its size's memory, so the use reads a little high).
          const total = memBytes.get(guestId) ?? 0;
          if (p.metric === 'mem.available_bytes' && total > 0) out.push({ kind: 'guest', resourceId: guestId, metric: 'mem.util', ts: p.ts, value: Math.round(Math.min(100, Math.max(0, 100 * (1 - p.value / total))) * 100) / 100 });
        }
      } catch (e) {
        if (signal.aborted) throw e;
        errors.push(`${region}: ${(e as Error).message}`);
      }
    }
    // Every region failing is the source's error (kept on metric_sources.last_error); a partial failure still stores
    // what the other regions answered.
    if (errors.length && errors.length === byRegion.size) throw new Error(errors.join('; '));
    return out;
  }
}

/** Keeps one CloudMetricSource registered per account whose driver offers metrics. */
export class CloudMetricSources {
  private readonly removers = new Map<string, () => void>();
  constructor(
    private readonly o: {
      db: Database.Database;
      clouds: CloudService;
      monitoring: { addSource(s: MetricSource): () => void };
      logger: Logger;
    },
  ) {}

  /** Registers sources for new accounts and drops those of removed ones. */
  refresh(): void {
    const rows = this.o.db.prepare('SELECT id, provider FROM cloud_accounts').all() as { id: string; provider: string }[];
    const want = new Set<string>();
    for (const r of rows) {
      if (!this.o.clouds.registry.has(r.provider)) continue;
      if (!this.o.clouds.registry.get(r.provider as never).capabilities.operations.includes('metrics')) continue;
      want.add(r.id);
      if (!this.removers.has(r.id)) this.removers.set(r.id, this.o.monitoring.addSource(new CloudMetricSource({ db: this.o.db, clouds: this.o.clouds, accountId: r.id })));
    }
    for (const [id, remove] of this.removers) {
      if (want.has(id)) continue;
      remove();
      this.removers.delete(id);
    }
  }

  get size(): number {
    return this.removers.size;
  }
}
