import { z } from 'zod';
import { command } from './define';
import { empty, idSchema } from './common';

/**
 * Monitoring: time series of hosts and guests (KVM agents now; cloud drivers' metrics APIs behind the same store),
 * kept raw and rolled up to 1-minute and 1-hour buckets (min, max, avg, last). A series query picks the resolution
 * that fits its range and what retention still holds; top-N and latest answer from the newest value of each series.
 */

export const METRIC_KINDS = ['host', 'guest'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export type MetricUnit = 'percent' | 'bytes' | 'bytes_per_s' | 'ns_per_s' | 'load' | 'count';

/** The metrics Skydeck stores, with their unit. Counters from agents are stored as per-second rates (`…_per_s`). */
export const METRICS: Record<string, { unit: MetricUnit; kinds: readonly MetricKind[] }> = {
  'cpu.util': { unit: 'percent', kinds: ['host', 'guest'] },
  'mem.util': { unit: 'percent', kinds: ['host', 'guest'] },
  'mem.used_bytes': { unit: 'bytes', kinds: ['host'] },
  'mem.total_bytes': { unit: 'bytes', kinds: ['host'] },
  'mem.available_bytes': { unit: 'bytes', kinds: ['host', 'guest'] },
  'load.1': { unit: 'load', kinds: ['host'] },
  'load.5': { unit: 'load', kinds: ['host'] },
  'load.15': { unit: 'load', kinds: ['host'] },
  'disk.util': { unit: 'percent', kinds: ['host'] },
  'disk.free_bytes': { unit: 'bytes', kinds: ['host'] },
  'disk.size_bytes': { unit: 'bytes', kinds: ['host'] },
  'blk.rd_bytes_per_s': { unit: 'bytes_per_s', kinds: ['host', 'guest'] },
  'blk.wr_bytes_per_s': { unit: 'bytes_per_s', kinds: ['host', 'guest'] },
  'net.rx_bytes_per_s': { unit: 'bytes_per_s', kinds: ['host', 'guest'] },
  'net.tx_bytes_per_s': { unit: 'bytes_per_s', kinds: ['host', 'guest'] },
  'cpu.time_ns_per_s': { unit: 'ns_per_s', kinds: ['guest'] },
  'vcpu.current': { unit: 'count', kinds: ['guest'] },
  'mem.current_bytes': { unit: 'bytes', kinds: ['guest'] },
  'mem.max_bytes': { unit: 'bytes', kinds: ['guest'] },
  'mem.rss_bytes': { unit: 'bytes', kinds: ['guest'] },
  'mem.unused_bytes': { unit: 'bytes', kinds: ['guest'] },
};

export const RESOLUTIONS = ['raw', '1m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

const metricName = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'not a metric name');
const ms = z.number().int().min(0).describe('Unix time in milliseconds');

export const seriesQuerySchema = z
  .object({
    kind: z.enum(METRIC_KINDS),
    id: idSchema,
    metrics: z.array(metricName).min(1).max(32),
    from: ms,
    to: ms,
    resolution: z.enum(['auto', ...RESOLUTIONS]).default('auto'),
  })
  .strict()
  .refine((v) => v.to > v.from, { message: 'the range ends before it starts', path: ['to'] });

/** One point: [ts, avg, min, max] (raw points have min = max = avg). */
export const pointSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);

export const seriesResultSchema = z.object({
  resolution: z.enum(RESOLUTIONS),
  stepMs: z.number(),
  series: z.array(z.object({ metric: z.string(), points: z.array(pointSchema) })),
});

const topItem = z.object({ kind: z.enum(METRIC_KINDS), id: z.string(), name: z.string(), hostId: z.string().nullable(), value: z.number(), ts: z.number() });

export const sourceSchema = z.object({
  sourceId: z.string(),
  kind: z.string(),
  name: z.string().nullable(),
  lastSeq: z.number(),
  droppedTotal: z.number(),
  lastDroppedAt: z.string().nullable(),
  intervalMs: z.number().nullable(),
  samplesTotal: z.number(),
  lastCollectAt: z.string().nullable(),
  lastSampleTs: z.number().nullable(),
  lastError: z.string().nullable(),
});
export type MonitoringSource = z.infer<typeof sourceSchema>;

export const monitoring = {
  'monitoring.series': command({
    summary: 'Time series of one host or guest over a range; resolution auto picks raw, 1-minute or 1-hour data',
    input: seriesQuerySchema,
    output: seriesResultSchema,
    mutating: false,
  }),
  'monitoring.top': command({
    summary: 'Hosts or guests ranked by the newest value of a metric (also the fleet heat map with a large limit)',
    input: z
      .object({
        kind: z.enum(METRIC_KINDS),
        metric: metricName,
        limit: z.number().int().min(1).max(10_000).default(10),
        order: z.enum(['desc', 'asc']).default('desc'),
        /** Only values newer than this many seconds (default: 10 minutes; older ones are stale). */
        maxAgeSeconds: z.number().int().min(1).max(86_400 * 365).default(600),
      })
      .strict(),
    output: z.object({ items: z.array(topItem) }),
    mutating: false,
  }),
  'monitoring.latest': command({
    summary: 'The newest value of every metric of one host or guest',
    input: z.object({ kind: z.enum(METRIC_KINDS), id: idSchema }).strict(),
    output: z.object({ values: z.record(z.string(), z.object({ value: z.number(), ts: z.number() })) }),
    mutating: false,
  }),
  'monitoring.sources': command({
    summary: 'Metric sources (KVM agents): last sequence read, samples dropped by the agent’s buffer, last collection',
    input: empty,
    output: z.object({ items: z.array(sourceSchema) }),
    mutating: false,
  }),
  'monitoring.collect': command({
    summary: 'Collects from every online source now (the collector also runs on its own every metricsIntervalSeconds)',
    input: empty,
    output: z.object({ samples: z.number() }),
    mutating: false,
  }),
  'monitoring.exposition': command({
    summary: 'Current values in the Prometheus text exposition format (also GET /metrics on the headless server)',
    input: empty,
    output: z.object({ text: z.string() }),
    mutating: false,
  }),
};
