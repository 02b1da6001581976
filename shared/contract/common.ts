import { z } from 'zod';

export const idSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'id must be letters, digits, _ or -');
export const isoTime = z.string().describe('ISO 8601 timestamp, UTC');
export const empty = z.object({}).strict();
export const ok = z.object({ ok: z.literal(true) });
