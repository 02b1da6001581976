import { z } from 'zod';
import { command } from './define';

export const searchHitSchema = z.object({
  kind: z.string(),
  id: z.string(),
  title: z.string(),
  subtitle: z.string(),
  /** The renderer route that shows it, e.g. `/tasks/abc`. */
  route: z.string(),
});
export type SearchHit = z.infer<typeof searchHitSchema>;

export const search = {
  'search.global': command({
    summary: 'Search everything Skydeck knows (tasks, audit log; inventory as it arrives) by free text',
    input: z.object({ q: z.string().trim().min(1, 'type something to search for').max(256), limit: z.number().int().min(1).max(100).default(20) }).strict(),
    output: z.object({ hits: z.array(searchHitSchema) }),
    mutating: false,
  }),
};
