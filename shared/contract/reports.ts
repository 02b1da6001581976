import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime, ok } from './common';
import { LOCALES } from './settings';
import { TASK_STATUSES, taskRefSchema } from './tasks';
import { PROVIDERS } from './inventory/base';
import { cronError } from '../cron';

/**
 * Reports (issue 9): inventory, capacity, changes and cost, each a few sections of rows; previewed in the app and
 * written as CSV, XLSX or PDF by the `reports.run` task; run on schedules while the app runs; and inventory snapshots
 * that another workstation opens read-only.
 */
export const REPORT_TYPES = ['inventory', 'capacity', 'changes', 'cost'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

/** The sections of each report type, in the order they appear (one XLSX sheet each). */
export const REPORT_SECTIONS = {
  inventory: ['hosts', 'guests', 'disks', 'networks', 'cloud'],
  capacity: ['zones', 'hosts', 'projects'],
  changes: ['summary', 'changes'],
  cost: ['projects', 'guests'],
} as const satisfies Record<ReportType, readonly string[]>;
export type ReportSection = (typeof REPORT_SECTIONS)[ReportType][number];

export const REPORT_FORMATS = ['csv', 'xlsx', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Relative periods, resolved when a report runs (so a schedule's "last month" is always the month before its run). */
export const PERIOD_PRESETS = ['last7d', 'last30d', 'last90d', 'thisMonth', 'lastMonth', 'thisYear'] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];

const instant = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), 'must be a date (YYYY-MM-DD) or an ISO 8601 time');

export const periodSchema = z.union([
  z.object({ preset: z.enum(PERIOD_PRESETS) }).strict(),
  z
    .object({ from: instant, to: instant })
    .strict()
    .refine((p) => Date.parse(p.from) <= Date.parse(p.to), { message: 'the period ends before it starts', path: ['to'] }),
]);
export type Period = z.infer<typeof periodSchema>;

/** `key` or `key=value`, as tags are written in list filters. */
export const tagFilterSchema = z.string().min(1).max(400).regex(/^[^=,\s][^=,]*(=[^,]*)?$/, 'a tag filter is key or key=value');

export const reportFiltersSchema = z
  .object({
    projects: z.array(idSchema).max(200).default([]),
    providers: z.array(z.enum(PROVIDERS)).max(PROVIDERS.length).default([]),
    zones: z.array(idSchema).max(500).default([]),
    /** Every tag must match (AND), on the section's own kind (hosts' tags for hosts, guests' for guests, …). */
    tags: z.array(tagFilterSchema).max(16).default([]),
    /** Changes: the audit period; cost: the period charged; inventory: resources created in it; capacity: not used. */
    period: periodSchema.optional(),
  })
  .strict();
export type ReportFilters = z.infer<typeof reportFiltersSchema>;

export const reportSpecSchema = z
  .object({
    type: z.enum(REPORT_TYPES),
    /** A subset of the type's sections; all of them when left out. */
    sections: z.array(z.string()).min(1).max(8).optional(),
    filters: reportFiltersSchema.prefault({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const allowed = REPORT_SECTIONS[spec.type] as readonly string[];
    spec.sections?.forEach((s, i) => {
      if (!allowed.includes(s)) ctx.addIssue({ code: 'custom', path: ['sections', i], message: `a ${spec.type} report has no section "${s}"; it has ${allowed.join(', ')}` });
    });
  });
export type ReportSpec = z.infer<typeof reportSpecSchema>;
export type ReportSpecInput = z.input<typeof reportSpecSchema>;

/** How a column's cells are typed in XLSX and shown: `bool` cells hold 1 or 0, `date` cells ISO 8601 UTC times. */
export const COLUMN_TYPES = ['text', 'int', 'number', 'percent', 'date', 'money', 'bool'] as const;
export const reportColumnSchema = z.object({ key: z.string(), label: z.string(), type: z.enum(COLUMN_TYPES) });
export type ReportColumn = z.infer<typeof reportColumnSchema>;
export const cellSchema = z.union([z.string(), z.number(), z.null()]);
export type Cell = z.infer<typeof cellSchema>;

export const reportSectionSchema = z.object({
  key: z.string(),
  title: z.string(),
  columns: z.array(reportColumnSchema),
  rows: z.array(z.array(cellSchema)),
  /** Rows in the whole section; `rows` holds the first of them. */
  total: z.number().int(),
  /** A totals line (same columns), where sums mean something. */
  footer: z.array(cellSchema).nullable(),
});
export type ReportSectionData = z.infer<typeof reportSectionSchema>;

/** Bars per category, one value per series (e.g. allocated vs physical per zone). */
export const reportChartSchema = z.object({
  key: z.string(),
  title: z.string(),
  unit: z.string(),
  categories: z.array(z.string()),
  series: z.array(z.object({ label: z.string(), values: z.array(z.number()) })),
});
export type ReportChart = z.infer<typeof reportChartSchema>;

export const reportPreviewSchema = z.object({
  title: z.string(),
  generatedAt: isoTime,
  period: z.object({ from: isoTime, to: isoTime }).nullable(),
  /** The filters in words, for the report's header. */
  filters: z.array(z.string()),
  /** What the reader must know: gaps (no monitoring data yet), unpriced instances, rows left out of a PDF. */
  notes: z.array(z.string()),
  sections: z.array(reportSectionSchema),
  charts: z.array(reportChartSchema),
  /** Set when this core is an opened snapshot: the report describes the inventory as of that time. */
  snapshotAt: isoTime.nullable(),
});
export type ReportPreview = z.infer<typeof reportPreviewSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM (24 hours)');
export const cronSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((s, ctx) => {
    const err = cronError(s);
    if (err) ctx.addIssue({ code: 'custom', message: err });
  });
export const cadenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('daily'), time: hhmm }).strict(),
  z.object({ kind: z.literal('weekly'), time: hhmm, weekday: z.number().int().min(0, '0 is Sunday').max(6, '6 is Saturday') }).strict(),
  z.object({ kind: z.literal('monthly'), time: hhmm, day: z.number().int().min(1).max(28, 'day 29 to 31 do not exist in every month: use 1-28 or a cron expression') }).strict(),
  z.object({ kind: z.literal('cron'), expression: cronSchema }).strict(),
]);
export type Cadence = z.infer<typeof cadenceSchema>;

const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'must be an absolute path');

export const fileNameSchema = z.string().min(1).max(120).regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'a file name holds letters, digits, spaces, . _ - (no folders)');

const outputOptions = {
  format: z.enum(REPORT_FORMATS),
  /** The language of titles, column headers and notes. */
  locale: z.enum(LOCALES).default('en'),
  /** CSV only: a UTF-8 byte-order mark, so that Excel reads the file as UTF-8. */
  bom: z.boolean().default(false),
};

export const scheduleInputSchema = z
  .object({
    name: z.string().trim().min(1).max(128),
    report: reportSpecSchema,
    ...outputOptions,
    cadence: cadenceSchema,
    /** Where each run writes its file (a folder on this workstation). */
    folder: absolutePath,
    enabled: z.boolean().default(true),
    /** Mail each run's file to these addresses through the SMTP server set up for alerts (`alerts.setChannels`). */
    recipients: z.array(z.email('an e-mail address, e.g. ops@example.com')).max(20).default([]),
  })
  .strict();
export type ScheduleInput = z.infer<typeof scheduleInputSchema>;

export const scheduleSchema = z.object({
  id: z.string(),
  name: z.string(),
  report: reportSpecSchema,
  format: z.enum(REPORT_FORMATS),
  locale: z.enum(LOCALES),
  bom: z.boolean(),
  cadence: cadenceSchema,
  folder: z.string(),
  enabled: z.boolean(),
  createdAt: isoTime,
  updatedAt: isoTime,
  lastRunAt: isoTime.nullable(),
  nextRunAt: isoTime.nullable(),
  lastTaskId: z.string().nullable(),
  /** How the last run was started: on time, or once at start for runs missed while the app was closed. */
  lastTrigger: z.enum(['schedule', 'missed', 'manual']).nullable(),
  /** The last run's task: its status, the file it wrote, or why it failed. */
  lastStatus: z.enum(TASK_STATUSES).nullable(),
  lastFile: z.string().nullable(),
  lastError: z.string().nullable(),
  recipients: z.array(z.string()),
  /** The last run's mail: sending, sent or failed (with why), and when; null when none was sent. */
  lastDelivery: z.object({ status: z.enum(['sending', 'sent', 'failed']), error: z.string().nullable(), at: isoTime }).nullable(),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const CURRENCY = z.string().regex(/^[A-Z]{3}$/, 'a three-letter currency code (ISO 4217), e.g. USD');
const money = z.number().min(0).max(1_000_000);
export const rateCardSchema = z
  .object({
    currency: CURRENCY,
    /** Per month, for own hosts' guests (KVM, ESXi, bare metal, local). */
    vcpuMonth: money,
    memoryGbMonth: money,
    diskGbMonth: money,
    /**
     * What one unit of another currency is worth in `currency` (e.g. { CNY: 0.14 } for a USD card): prices a provider's
     * API answers in another currency are converted with these; without a rate they stay out of cost reports (named in
     * the report's notes).
     */
    exchangeRates: z
      .record(z.string(), z.number().positive('an exchange rate is more than 0').max(1_000_000))
      .refine((r) => Object.keys(r).length <= 50, 'at most 50 exchange rates')
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const k of Object.keys(c.exchangeRates)) {
      if (!/^[A-Z]{3}$/.test(k)) ctx.addIssue({ code: 'custom', path: ['exchangeRates', k], message: `${JSON.stringify(k)} is not a three-letter currency code (ISO 4217), e.g. CNY` });
    }
    if (c.currency in c.exchangeRates) ctx.addIssue({ code: 'custom', path: ['exchangeRates', c.currency], message: `the rate card's own currency (${c.currency}) needs no exchange rate` });
  });
export type RateCard = z.infer<typeof rateCardSchema>;

/** Providers whose instances are charged by an hourly price (the others by the rate card). */
export const PRICED_PROVIDERS = ['aws', 'aliyun', 'tencent', 'azure'] as const;
export const priceSchema = z
  .object({
    provider: z.enum(PRICED_PROVIDERS),
    /** The region name as synced (e.g. us-east-1); '' applies to every region without its own price. */
    region: z.string().max(64).regex(/^[A-Za-z0-9._-]*$/, 'a region name as the provider writes it, or empty for every region').default(''),
    instanceType: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'an instance type as the provider writes it, e.g. m6i.large'),
    /** Per hour, in the rate card's currency. */
    hourly: z.number().min(0).max(100_000),
  })
  .strict();
export type Price = z.infer<typeof priceSchema>;
export const storedPriceSchema = priceSchema.extend({
  region: z.string(),
  source: z.enum(['manual', 'provider']),
  /** What the provider's price API answered, in its currency (null for prices entered by hand). */
  listHourly: z.number().nullable(),
  currency: z.string().nullable(),
  updatedAt: isoTime,
});

export const reportFileSchema = z.object({
  file: z.string(),
  path: z.string(),
  format: z.enum(['csv', 'xlsx', 'pdf', 'snapshot']),
  rows: z.number().int(),
  bytes: z.number().int(),
  /** `GET` this (with the API token) to download it from the headless server; null when it was written elsewhere. */
  download: z.string().nullable(),
});
export type ReportFile = z.infer<typeof reportFileSchema>;

export const SNAPSHOT_EXTENSION = 'sdsnap';

export const reports = {
  'reports.preview': command({
    summary: 'Run a report on the local database and answer its first rows per section, with totals, charts and notes (in the given language)',
    input: z.object({ report: reportSpecSchema, locale: z.enum(LOCALES).default('en'), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    output: reportPreviewSchema,
    mutating: false,
  }),
  'reports.run': command({
    summary: 'Write a report to a CSV, XLSX or PDF file as a task (streamed, with progress, cancellable); the task result names the file',
    input: z.object({ report: reportSpecSchema, ...outputOptions, fileName: fileNameSchema.optional() }).strict(),
    output: taskRefSchema,
    mutating: true,
  }),
  'reports.saveAs': command({
    summary: "Desktop: copy a finished report's file to where the user chooses in a save dialog. Headless answers path null: the browser downloads it instead",
    input: z.object({ taskId: idSchema }).strict(),
    output: z.object({ path: z.string().nullable() }),
    mutating: false,
  }),
  'reports.getRateCard': command({
    summary: 'The rate card for own hosts (per vCPU, GiB of memory and GiB of disk per month) and its currency',
    input: z.object({}).strict(),
    output: rateCardSchema,
    mutating: false,
  }),
  'reports.setRateCard': command({ summary: 'Change the rate card', input: rateCardSchema, output: rateCardSchema, mutating: true }),
  'reports.listPrices': command({
    summary: 'Cloud instance prices per hour (entered by hand, or stored by a provider whose API gives them)',
    input: z.object({}).strict(),
    output: z.object({ items: z.array(storedPriceSchema) }),
    mutating: false,
  }),
  'reports.setPrice': command({ summary: 'Set the hourly price of an instance type (in a region, or in every region)', input: priceSchema, output: storedPriceSchema, mutating: true }),
  'reports.deletePrice': command({
    summary: 'Forget the price of an instance type',
    input: z.object({ provider: z.enum(PRICED_PROVIDERS), region: z.string().max(64).default(''), instanceType: z.string().min(1).max(128) }).strict(),
    output: ok,
    mutating: true,
  }),
  'reports.listSchedules': command({ summary: 'Report schedules with their last and next runs', input: z.object({}).strict(), output: z.object({ items: z.array(scheduleSchema) }), mutating: false }),
  'reports.createSchedule': command({ summary: 'Run a report on a schedule while the app runs, into a folder, optionally mailing each file to recipients (SMTP as set up for alerts)', input: scheduleInputSchema, output: scheduleSchema, mutating: true }),
  'reports.updateSchedule': command({
    summary: 'Change a schedule (what is given replaces what it had)',
    input: z.object({ id: idSchema, patch: scheduleInputSchema.partial().strict() }).strict(),
    output: scheduleSchema,
    mutating: true,
  }),
  'reports.deleteSchedule': command({ summary: 'Delete a schedule (its files stay)', input: z.object({ id: idSchema }).strict(), output: ok, mutating: true }),
  'reports.runSchedule': command({ summary: "Run a schedule's report now, into its folder", input: z.object({ id: idSchema }).strict(), output: taskRefSchema, mutating: true }),
  'reports.exportSnapshot': command({
    summary: 'Write the whole inventory, without secrets, to one snapshot file (.sdsnap) that another workstation opens read-only',
    input: z.object({ fileName: fileNameSchema.optional() }).strict(),
    output: taskRefSchema,
    mutating: true,
  }),
};
