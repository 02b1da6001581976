import { z } from 'zod';
import { command } from './define';
import { isoTime } from './common';
import { listQuerySchema, listResultSchema } from '../list';

export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: isoTime,
  /** Who: `desktop:<os user>` or `api:<remote address>`. */
  actor: z.string(),
  /** What: the command name, e.g. `settings.set`. */
  action: z.string(),
  /** The resource acted on, when there is one, as `kind/id`. */
  target: z.string().nullable(),
  /** The input, with secret fields masked. */
  params: z.record(z.string(), z.unknown()),
  result: z.enum(['ok', 'error']),
  /** The error code when result is `error`. */
  errorCode: z.string().nullable(),
  message: z.string().nullable(),
  durationMs: z.number(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const audit = {
  'audit.list': command({
    summary: 'The audit log, newest first; q searches action, actor, target and parameters; filter by action, actor, result',
    input: listQuerySchema,
    output: listResultSchema(auditEntrySchema),
    mutating: false,
    list: 'audit',
  }),
};
