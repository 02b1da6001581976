import { z } from 'zod';
import { command } from './define';

export const LOCALES = ['en', 'zh-CN'] as const;
export const THEMES = ['light', 'dark', 'system'] as const;

/** Every setting, with its default. Settings live in SQLite; unknown keys are refused. */
export const settingsSchema = z.object({
  theme: z.enum(THEMES).default('system'),
  locale: z.enum(LOCALES).default('en'),
  /** Rows per page in lists that page (virtualised lists fetch in pages of this size). */
  pageSize: z.number().int().min(10).max(1000).default(100),
  /** Finished tasks older than this are pruned from the task history. */
  taskRetentionDays: z.number().int().min(1).max(3650).default(30),
  /** Audit rows older than this are pruned. */
  auditRetentionDays: z.number().int().min(1).max(3650).default(365),
  /** Tasks the engine runs at once (per-host and per-account limits come on top). */
  taskConcurrency: z.number().int().min(1).max(64).default(8),
});
export type Settings = z.infer<typeof settingsSchema>;
export type SettingKey = keyof Settings;
export const DEFAULT_SETTINGS: Settings = settingsSchema.parse({});

export const settings = {
  'settings.get': command({
    summary: 'All settings',
    input: z.object({}).strict(),
    output: settingsSchema,
    mutating: false,
  }),
  'settings.set': command({
    summary: 'Change one or more settings; answers all settings',
    input: z.object({ patch: settingsSchema.partial().strict() }).strict(),
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
