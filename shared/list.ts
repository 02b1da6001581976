import { z } from 'zod';

/**
 * Every resource list is paged, sorted and filtered on the server. The same query shape is accepted as a JSON body
 * (`POST /api/v1/tasks.list`) and as a query string (`GET /api/v1/tasks?limit=50&sort=-created_at&q=backup&filter=status:running`).
 */
export const MAX_PAGE = 1000;

export const filterSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_.]*:.*$/i, 'filter must look like field:value')
  .max(512);

export const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
    offset: z.coerce.number().int().min(0).default(0),
    /** Field name, optionally prefixed with `-` for descending. */
    sort: z
      .string()
      .regex(/^-?[a-z_][a-z0-9_]*$/i, 'sort must be a field name, optionally prefixed with -')
      .optional(),
    /** Free text. */
    q: z.string().max(256).optional(),
    /** `field:value` pairs; several are ANDed. */
    filter: z.array(filterSchema).max(32).default([]),
  })
  .strict();

export type ListQuery = z.infer<typeof listQuerySchema>;
export type ListQueryInput = z.input<typeof listQuerySchema>;

export function listResultSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number().int().min(0) });
}

export interface ListResult<T> {
  items: T[];
  total: number;
}

/** Splits `status:running` into its field and value (the value may itself contain colons). */
export function parseFilter(f: string): { field: string; value: string } {
  const i = f.indexOf(':');
  return { field: f.slice(0, i), value: f.slice(i + 1) };
}
