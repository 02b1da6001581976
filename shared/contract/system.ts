import { z } from 'zod';
import { command } from './define';
import { isoTime } from './common';
import { taskRefSchema } from './tasks';

export const systemInfoSchema = z.object({
  name: z.literal('Skydeck'),
  version: z.string(),
  mode: z.enum(['desktop', 'headless']),
  platform: z.string(),
  arch: z.string(),
  node: z.string(),
  electron: z.string().nullable(),
  sqlite: z.string(),
  dataDir: z.string(),
  schemaVersion: z.number().int(),
  startedAt: isoTime,
  uptimeSeconds: z.number(),
  readOnly: z.boolean(),
});
export type SystemInfo = z.infer<typeof systemInfoSchema>;

export const system = {
  'system.info': command({
    summary: 'Version, mode, runtime and data directory of this Skydeck core',
    input: z.object({}).strict(),
    output: systemInfoSchema,
    mutating: false,
  }),
  'system.backup': command({
    summary:
      'Online backup of the state database to a file, as a task with progress. pagesPerStep and pauseMs throttle it so a large database never stalls the app.',
    input: z
      .object({
        /** Absolute path of the backup file; default: <data dir>/backups/skydeck-<timestamp>.db */
        destination: z
          .string()
          .min(1)
          .max(4096)
          .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'destination must be an absolute path')
          .optional(),
        pagesPerStep: z.number().int().min(1).max(100_000).default(1000),
        pauseMs: z.number().int().min(0).max(1000).default(0),
      })
      .strict(),
    output: taskRefSchema,
    mutating: true,
  }),
};
