import type { Migration } from '../migrate';
import { encodeBuckets, encodeSamples, type Bucket } from '../../monitoring/codec';

const HOUR = 3_600_000;

/**
 * Metrics as compressed per-series blocks (main/monitoring/store.ts, codec.ts), replacing a B-tree row per sample:
 * - metric_blocks: per series, one row per flush (a block spans less than an hour), keyed by its first sample's time
 *   (the blobs' times are stored against it): t1 its last one's, `raw` the samples (delta-of-delta timestamps,
 *   scaled-integer or XOR values; NULL once the raw retention passed) and `m1` their 1-minute rollups (min, max, sum,
 *   count, last and its time), stored when the raw samples expire (computed from them until then; NULL once the
 *   1-minute retention passed).
 *   Two partial indexes by t0 (t1 is less than an hour later) let retention find what expires without reading every
 *   block.
 * - metric_journal: the samples not yet in blocks, one row per transaction (a collection round), replayed at start and
 *   emptied by each flush.
 * metric_raw and metric_1m are converted into blocks (a block per series and hour, the stored minute rollups kept as
 *   they are) and dropped; metric_1h, metric_latest and metric_series stay (metric_latest is now written at flushes).
 */
export const m0014: Migration = {
  id: 14,
  name: 'metric_blocks',
  up(db) {
    db.exec(`
      CREATE TABLE metric_blocks (
        series_id INTEGER NOT NULL,
        t0 INTEGER NOT NULL,
        t1 INTEGER NOT NULL,
        raw BLOB,
        m1 BLOB,
        PRIMARY KEY (series_id, t0)
      ) STRICT, WITHOUT ROWID;
      -- What retention has to look at: the blocks still holding raw samples, and those holding minute rollups.
      CREATE INDEX metric_blocks_raw ON metric_blocks (t0) WHERE raw IS NOT NULL;
      CREATE INDEX metric_blocks_m1 ON metric_blocks (t0) WHERE m1 IS NOT NULL;

      CREATE TABLE metric_journal (
        id INTEGER PRIMARY KEY,
        data BLOB NOT NULL
      ) STRICT;
    `);
    const ids = db.prepare('SELECT DISTINCT series_id FROM metric_raw UNION SELECT DISTINCT series_id FROM metric_1m').pluck().all() as number[];
    const rawQ = db.prepare('SELECT ts, value FROM metric_raw WHERE series_id = ? ORDER BY ts').raw();
    const m1Q = db.prepare('SELECT ts, min, max, sum, count, last, last_ts AS lastTs FROM metric_1m WHERE series_id = ? ORDER BY ts');
    const add = db.prepare('INSERT INTO metric_blocks (series_id, t0, t1, raw, m1) VALUES (?, ?, ?, ?, ?)');
    for (const id of ids) {
      const windows = new Map<number, { ts: number[]; vs: number[]; buckets: Bucket[] }>();
      const w = (ts: number) => {
        const k = ts - (((ts % HOUR) + HOUR) % HOUR);
        let x = windows.get(k);
        if (!x) windows.set(k, (x = { ts: [], vs: [], buckets: [] }));
        return x;
      };
      for (const [ts, v] of rawQ.all(id) as [number, number][]) {
        const x = w(ts);
        x.ts.push(ts);
        x.vs.push(v);
      }
      for (const b of m1Q.all(id) as Bucket[]) w(b.ts).buckets.push(b);
      for (const x of windows.values()) {
        const t0 = Math.min(x.ts[0] ?? Infinity, x.buckets[0]?.ts ?? Infinity);
        const t1 = Math.max(x.ts.at(-1) ?? -Infinity, ...x.buckets.map((b) => b.lastTs));
        add.run(id, t0, t1, x.ts.length ? encodeSamples(x.ts, x.vs, 0, x.ts.length, undefined, t0) : null, x.buckets.length ? encodeBuckets(x.buckets, 60_000, t0) : null);
      }
    }
    db.exec('DROP TABLE metric_raw; DROP TABLE metric_1m;');
  },
};
