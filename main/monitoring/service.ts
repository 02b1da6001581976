import type Database from 'better-sqlite3';
import type { Settings } from '@shared/contract/settings';
import type { MonitoringSource } from '@shared/contract/monitoring';
import type { Logger } from '../log/logger';
import type { KvmService } from '../kvm/service';
import { ingestSamples } from './ingest';
import { MetricsDb, type Retention, type StoredPoint } from './store';

/**
 * A source of metrics other than the KVM agents — the hook for cloud drivers whose provider has a metrics API
 * (CloudWatch, CloudMonitor, Cloud Monitor, Azure Monitor). `collect` answers points newer than `since` (Unix ms, the
 * newest timestamp this source delivered before, or null the first time); the collector stores them like agent
 * samples (duplicates are ignored, so overlapping windows are safe) and remembers the newest timestamp.
 */
export interface MetricSource {
  /** Stable id, e.g. `cloud:<accountId>`. */
  id: string;
  kind: string;
  /** How often the source asks its API at most (ms), shown as its interval; null when it answers every round. */
  intervalMs?: number | null;
  collect(since: number | null, signal: AbortSignal): Promise<StoredPoint[]>;
}

export interface MonitoringOptions {
  db: Database.Database;
  kvm: KvmService;
  settings: () => Settings;
  logger: Logger;
}

const PAGE = 2000;

interface SourceRow {
  source_id: string;
  kind: string;
  last_seq: number;
  dropped_total: number;
  last_dropped_at: string | null;
  interval_ms: number | null;
  samples_total: number;
  last_collect_at: string | null;
  last_sample_ts: number | null;
  last_error: string | null;
}

/**
 * The collector: every metricsIntervalSeconds it reads each online KVM host's agent ring from the last sequence number
 * it stored (metric_sources.last_seq, written in the same transaction as the samples, so a crash neither loses nor
 * doubles a sample), which includes everything the agent buffered while the app was away. It also keeps each agent's
 * sampling interval equal to the setting and prunes by retention.
 */
export class MonitoringService {
  readonly mdb: MetricsDb;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly inflight = new Map<string, Promise<number>>();
  private readonly extra = new Map<string, MetricSource>();
  private readonly guestIds = new Map<string, string>();
  private abort = new AbortController();
  /** Runs after every collection round (core wires the alert evaluation here). */
  onCollected: (() => Promise<unknown>) | null = null;

  constructor(private readonly o: MonitoringOptions) {
    this.mdb = MetricsDb.of(o.db);
    this.log = o.logger.scope('monitoring');
  }

  get intervalMs(): number {
    return this.o.settings().metricsIntervalSeconds * 1000;
  }

  retention(): Retention {
    const s = this.o.settings();
    return { rawDays: s.metricsRawRetentionDays, m1Days: s.metrics1mRetentionDays, h1Days: s.metrics1hRetentionDays };
  }

  /** Registers a non-KVM source (cloud drivers). */
  addSource(s: MetricSource): () => void {
    this.extra.set(s.id, s);
    return () => this.extra.delete(s.id);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.schedule(1000);
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    this.prune();
  }

  stop(): void {
    this.flush();
    this.running = false;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timer = null;
    this.pruneTimer = null;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.collectAll()
        .then(() => this.onCollected?.())
        .catch((e: unknown) => this.log.warn('collection failed', { error: (e as Error).message }))
        .finally(() => this.schedule(this.intervalMs));
    }, ms);
    this.timer.unref();
  }

  /** Turns pending samples into blocks now (at stop; the store does it by itself every FLUSH_AGE_MS otherwise). */
  flush(): void {
    try {
      this.mdb.flush();
    } catch (e) {
      this.log.warn('metrics flush failed', { error: (e as Error).message });
    }
  }

  prune(): void {
    try {
      const n = this.mdb.prune(this.retention());
      if (n) this.log.info('pruned metrics', { rows: n });
    } catch (e) {
      this.log.warn('metrics prune failed', { error: (e as Error).message });
    }
  }

  /** KVM hosts whose agent link is up now. */
  onlineKvmHosts(): string[] {
    const ids = this.o.db.prepare(`SELECT l.host_id FROM host_links l JOIN hosts h ON h.id = l.host_id WHERE l.agent_version IS NOT NULL AND h.status = 'online'`).pluck().all() as string[];
    return ids.filter((id) => this.o.kvm.hasLink(id) && !this.o.kvm.bootstrapping.has(id) && this.o.kvm.link(id).status().state === 'online');
  }

  /** One round over every source; answers the number of points stored. */
  async collectAll(): Promise<number> {
    const jobs: Promise<number>[] = this.onlineKvmHosts().map((id) => this.collectHost(id).catch(() => 0));
    for (const s of this.extra.values()) jobs.push(this.collectSource(s).catch(() => 0));
    const n = (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
    try {
      this.mdb.maybeFlush();
    } catch (e) {
      this.log.warn('metrics flush failed', { error: (e as Error).message });
    }
    return n;
  }

  private source(id: string, kind: string): SourceRow {
    this.o.db.prepare('INSERT OR IGNORE INTO metric_sources (source_id, kind) VALUES (?, ?)').run(id, kind);
    return this.o.db.prepare('SELECT * FROM metric_sources WHERE source_id = ?').get(id) as SourceRow;
  }

  /** Reads a host's agent buffer from the last stored sequence number to its end (one collection at a time per host). */
  collectHost(hostId: string): Promise<number> {
    const running = this.inflight.get(hostId);
    if (running) return running;
    const p = this.readHost(hostId).finally(() => this.inflight.delete(hostId));
    this.inflight.set(hostId, p);
    return p;
  }

  private async readHost(hostId: string): Promise<number> {
    const sourceId = `kvm:${hostId}`;
    let afterSeq = this.source(sourceId, 'kvm').last_seq;
    let stored = 0;
    const signal = this.abort.signal;
    const setErr = this.o.db.prepare('UPDATE metric_sources SET last_error = ?, last_collect_at = ? WHERE source_id = ?');
    try {
      for (let page = 0; page < 10_000; page++) {
        const r = await this.o.kvm.call(hostId, 'metrics.read', { afterSeq, limit: PAGE }, { timeoutMs: 60_000, signal });
        if (r.lastSeq < afterSeq) {
          // A different agent's numbering (its state directory was wiped): start over from its beginning.
          this.log.info('agent metrics sequence restarted', { hostId, had: afterSeq, agentLastSeq: r.lastSeq });
          afterSeq = 0;
          this.o.db.prepare('UPDATE metric_sources SET last_seq = 0 WHERE source_id = ?').run(sourceId);
          continue;
        }
        if (page === 0 && r.intervalMs !== this.intervalMs) {
          await this.o.kvm.call(hostId, 'agent.configure', { metricsIntervalMs: this.intervalMs }, { timeoutMs: 30_000, signal }).catch((e: Error) => this.log.warn('agent.configure failed', { hostId, error: e.message }));
        }
        const last = r.samples.at(-1);
        const nextSeq = last ? last.seq : afterSeq;
        const now = new Date().toISOString();
        // One journal row with this page's points, committed with the cursor (see MetricsDb.transaction).
        const n = this.mdb.transaction(() => {
          const res = ingestSamples(this.mdb, r.samples, (scope) => this.resolve(hostId, scope));
          this.o.db
            .prepare(
              `UPDATE metric_sources SET last_seq = ?, dropped_total = dropped_total + ?, last_dropped_at = CASE WHEN ? > 0 THEN ? ELSE last_dropped_at END,
                 interval_ms = ?, samples_total = samples_total + ?, last_collect_at = ?, last_sample_ts = coalesce(?, last_sample_ts), last_error = NULL WHERE source_id = ?`,
            )
            .run(nextSeq, r.dropped, r.dropped, now, r.intervalMs, r.samples.length, now, last?.ts ?? null, sourceId);
          return res.stored;
        });
        if (r.dropped > 0) this.log.warn('the agent dropped samples before they were collected', { hostId, dropped: r.dropped });
        // A long back-fill must not pile up in memory: flush once MAX_PENDING samples wait (or FLUSH_AGE_MS passed).
        this.mdb.maybeFlush();
        stored += n;
        afterSeq = nextSeq;
        if (r.samples.length < PAGE) break;
      }
    } catch (e) {
      setErr.run((e as Error).message, new Date().toISOString(), sourceId);
      throw e;
    }
    return stored;
  }

  private resolve(hostId: string, scope: string): { kind: 'host' | 'guest'; id: string } | null {
    if (scope === 'host') return { kind: 'host', id: hostId };
    const key = `${hostId}/${scope}`;
    let id = this.guestIds.get(key);
    if (!id) {
      id = this.o.db.prepare('SELECT id FROM guests WHERE host_id = ? AND external_id = ?').pluck().get(hostId, key) as string | undefined;
      if (!id) return null;
      this.guestIds.set(key, id);
    }
    return { kind: 'guest', id };
  }

  private async collectSource(s: MetricSource): Promise<number> {
    const row = this.source(s.id, s.kind);
    try {
      const points = await s.collect(row.last_sample_ts, this.abort.signal);
      const newest = points.reduce<number | null>((m, p) => (m === null || p.ts > m ? p.ts : m), null);
      const now = new Date().toISOString();
      return this.mdb.transaction(() => {
        const n = this.mdb.insert(points);
        this.o.db
          .prepare('UPDATE metric_sources SET samples_total = samples_total + ?, last_collect_at = ?, last_sample_ts = coalesce(?, last_sample_ts), interval_ms = ?, last_error = NULL WHERE source_id = ?')
          .run(points.length, now, newest, s.intervalMs ?? null, s.id);
        return n;
      });
    } catch (e) {
      this.o.db.prepare('UPDATE metric_sources SET last_error = ?, last_collect_at = ? WHERE source_id = ?').run((e as Error).message, new Date().toISOString(), s.id);
      throw e;
    }
  }

  sources(): MonitoringSource[] {
    const rows = this.o.db
      .prepare(
        `SELECT s.*, coalesce(h.name, a.name) AS name FROM metric_sources s
           LEFT JOIN hosts h ON s.kind = 'kvm' AND h.id = substr(s.source_id, 5)
           LEFT JOIN cloud_accounts a ON s.kind = 'cloud' AND a.id = substr(s.source_id, 7)
          ORDER BY s.source_id`,
      )
      .all() as (SourceRow & { name: string | null })[];
    return rows.map((r) => ({
      sourceId: r.source_id,
      kind: r.kind,
      name: r.name,
      lastSeq: r.last_seq,
      droppedTotal: r.dropped_total,
      lastDroppedAt: r.last_dropped_at,
      intervalMs: r.interval_ms,
      samplesTotal: r.samples_total,
      lastCollectAt: r.last_collect_at,
      lastSampleTs: r.last_sample_ts,
      lastError: r.last_error,
    }));
  }
}
