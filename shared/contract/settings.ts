import { z } from 'zod';
import { command } from './define';

export const LOCALES = ['en', 'zh-CN'] as const;
export const THEMES = ['light', 'dark', 'system'] as const;

/** A whole number in [min, max] whose every error (not a number, a fraction, out of range) says what is wanted. */
const wholeNumber = (min: number, max: number, message: string) => z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });

/** Every setting's type. Settings live in SQLite; unknown keys are refused. */
const fields = {
  theme: z.enum(THEMES),
  locale: z.enum(LOCALES),
  /** Rows per page in lists that page (virtualised lists fetch in pages of this size). */
  pageSize: z.number().int().min(10).max(1000),
  /** Finished tasks older than this are pruned from the task history. */
  taskRetentionDays: z.number().int().min(1).max(3650),
  /** Audit rows older than this are pruned. */
  auditRetentionDays: z.number().int().min(1).max(3650),
  /** Tasks the engine runs at once (per-host and per-account limits come on top). */
  taskConcurrency: z.number().int().min(1).max(64),
  /** Where the scheduler puts guests when a request does not say: spread them over hosts, or pack hosts full. */
  schedulerStrategy: z.enum(['spread', 'binpack']),
  /** Monitoring: how often hosts' agents sample and the app collects (seconds). */
  metricsIntervalSeconds: z.number().int().min(1).max(3600),
  /** Monitoring: how long raw samples, 1-minute and 1-hour rollups are kept (days). */
  metricsRawRetentionDays: z.number().int().min(1).max(365),
  metrics1mRetentionDays: z.number().int().min(1).max(3650),
  metrics1hRetentionDays: z.number().int().min(1).max(3650),
  /** Report files: keep the files of the last N runs of each schedule (0: keep every run). */
  reportKeepRuns: wholeNumber(0, 1000, 'Report runs to keep must be a whole number from 0 (keep all) to 1000'),
  /** Report files (scheduled and ad-hoc reports, snapshots): delete those older than this many days (0: never). */
  reportRetentionDays: wholeNumber(0, 3650, 'Report file age must be a whole number of days from 0 (never delete) to 3650'),
};

export const DEFAULT_SETTINGS = {
  theme: 'system',
  locale: 'en',
  pageSize: 100,
  taskRetentionDays: 30,
  auditRetentionDays: 365,
  taskConcurrency: 8,
  schedulerStrategy: 'spread',
  metricsIntervalSeconds: 10,
  metricsRawRetentionDays: 2,
  metrics1mRetentionDays: 30,
  metrics1hRetentionDays: 400,
  reportKeepRuns: 30,
  reportRetentionDays: 90,
} as const satisfies { [K in keyof typeof fields]: z.infer<(typeof fields)[K]> };

export const settingsSchema = z.object(fields);
export type Settings = z.infer<typeof settingsSchema>;
export type SettingKey = keyof Settings;
/** A change to some settings: no defaults here, so a patch never resets what it does not name. */
export const settingsPatchSchema = z.object(fields).partial().strict();

export const settings = {
  'settings.get': command({
    summary: 'All settings',
    input: z.object({}).strict(),
    output: settingsSchema,
    mutating: false,
  }),
  'settings.set': command({
    summary: 'Change one or more settings; answers all settings',
    input: z.object({ patch: settingsPatchSchema }).strict(),
    output: settingsSchema,
    mutating: true,
  }),
  'settings.reset': command({
    summary: 'Reset the given settings (all when none given) to their defaults',
    input: z.object({ keys: z.array(z.enum(Object.keys(DEFAULT_SETTINGS) as [SettingKey, ...SettingKey[]])).optional() }).strict(),
    output: settingsSchema,
    mutating: true,
  }),
};
