import { createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { z } from 'zod';
import { RESOURCE_KINDS, type ResourceKind } from '@shared/contract/inventory/kinds';
import type { TaskType } from '../tasks/types';
import type { InventoryRepo } from './repo';

const params = z.object({
  kind: z.enum(Object.keys(RESOURCE_KINDS) as [ResourceKind, ...ResourceKind[]]),
  query: z.object({ sort: z.string().optional(), q: z.string().optional(), filter: z.array(z.string()).default([]) }),
  bom: z.boolean().default(false),
  file: z.string().optional(),
});
type Params = z.infer<typeof params>;

export const EXPORTS_DIR = 'exports';

/** RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; lines end with CRLF. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.map((x) => (typeof x === 'object' && x && 'key' in x ? `${(x as { key: string }).key}=${(x as { value: string }).value}` : typeof x === 'object' ? JSON.stringify(x) : String(x))).join('; ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Exports a whole list, with the same sort/search/filters as the screen, page by page into `<data dir>/exports/`, with
 * back-pressure and progress. Reads only the local database, so it works offline.
 */
export function exportTask(d: { repo: InventoryRepo; dataDir: string }): TaskType<Params> {
  return {
    type: 'inventory.export',
    params,
    stages: {
      async onInit({ params: p }) {
        const file = `${p.kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
        mkdirSync(join(d.dataDir, EXPORTS_DIR), { recursive: true });
        return { next: 'onWrite', progress: 1, patch: { file } };
      },
      async onWrite(ctx) {
        const p = ctx.params;
        const path = join(d.dataDir, EXPORTS_DIR, p.file!);
        const partial = `${path}.partial`;
        const out = createWriteStream(partial);
        const write = async (s: string) => {
          if (!out.write(s)) await once(out, 'drain');
        };
        const columns = Object.keys(RESOURCE_KINDS[p.kind].shape);
        let rows = 0;
        try {
          if (p.bom) await write('\ufeff');
          await write(columns.map(csvField).join(',') + '\r\n');
          for (let offset = 0; ; offset += 1000) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            const page = d.repo.list(p.kind, { limit: 1000, offset, filter: p.query.filter, ...(p.query.sort ? { sort: p.query.sort } : {}), ...(p.query.q ? { q: p.query.q } : {}) });
            let chunk = '';
            for (const item of page.items as Record<string, unknown>[]) chunk += columns.map((c) => csvField(item[c])).join(',') + '\r\n';
            await write(chunk);
            rows += page.items.length;
            ctx.progress(1 + (97 * rows) / Math.max(1, page.total), `${rows} of ${page.total} rows`);
            if (page.items.length < 1000) break;
          }
          out.end();
          await once(out, 'finish');
        } catch (e) {
          out.destroy();
          rmSync(partial, { force: true });
          throw e;
        }
        renameSync(partial, path);
        return { done: { path, file: p.file, rows, bytes: statSync(path).size, download: `/api/v1/exports/${p.file}` }, message: `${rows} rows exported` };
      },
    },
  };
}
