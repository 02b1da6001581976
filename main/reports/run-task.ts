import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, accessSync, constants } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiError } from '@shared/errors';
import { LOCALES } from '@shared/contract/settings';
import { REPORT_FORMATS, reportSpecSchema, type ReportFile } from '@shared/contract/reports';
import type { TaskType } from '../tasks/types';
import type { PlatformPort } from '../platform/port';
import { buildReport } from './definitions';
import { writeCsv } from './csv';
import { writeXlsx } from './xlsx';
import { PDF_ROWS, writePdf } from './pdf';
import { RatesRepo } from './rates';
import { snapshotOf } from './snapshot-meta';
import type { TrackedFile } from './retention';

export const EXPORTS_DIR = 'exports';

export const runParams = z.object({
  report: reportSpecSchema,
  format: z.enum(REPORT_FORMATS),
  locale: z.enum(LOCALES),
  bom: z.boolean().default(false),
  fileName: z.string().optional(),
  /** Absolute folder to write to (a schedule's); default `<data dir>/exports`, which the headless server serves. */
  folder: z.string().optional(),
  scheduleId: z.string().optional(),
  /** Fixed when the task starts, so that a run resumed after a restart reports the same period. */
  at: z.string().optional(),
  file: z.string().optional(),
});
export type RunParams = z.infer<typeof runParams>;

/**
 * A read-only connection of its own for one report: one read transaction holds a single WAL snapshot for the whole
 * export (every section and total from the same moment), and its statements can stay open across awaits (back-pressure)
 * without ever making the app's own connection busy.
 */
export function openReader(dbFile: string): { db: Database.Database; close(): void } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  return {
    db,
    close() {
      try {
        if (db.inTransaction) db.exec('COMMIT');
      } finally {
        db.close();
      }
    },
  };
}

const stamp = (iso: string) => iso.replace(/\..*$/, '').replace(/[-:]/g, '').replace('T', '-');

/** A file name not yet taken in `dir` (nor as a partial file). */
export function freeName(dir: string, base: string, ext: string): string {
  const clean = base.replace(new RegExp(`\\.${ext}$`, 'i'), '');
  for (let i = 1; ; i++) {
    const name = `${clean}${i > 1 ? `-${i}` : ''}.${ext}`;
    if (!existsSync(join(dir, name)) && !existsSync(join(dir, `${name}.partial`))) return name;
  }
}

export function checkFolder(folder: string, field: string): void {
  const issue = (message: string, code: string) => new ApiError('validation', `${field}: ${message}`, { issues: [{ path: field, message, code }] });
  if (!existsSync(folder)) throw issue(`the folder ${folder} does not exist`, 'not_found');
  if (!statSync(folder).isDirectory()) throw issue(`${folder} is not a folder`, 'not_a_directory');
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw issue(`the folder ${folder} is not writable`, 'not_writable');
  }
}

export interface RunDeps {
  dataDir: string;
  dbFile: string;
  platform: PlatformPort;
  /** Records each finished file (retention.ts), so that only files Skydeck wrote are ever pruned. */
  track?: (f: TrackedFile) => void;
  /** Runs on the main connection before the report's read-only connection opens (the metrics store folds its pending samples in). */
  beforeRead?: () => void;
}

/**
 * `reports.run`: builds the report on a read-only connection and streams it to `<file>.partial` (CSV and XLSX row by
 * row with back-pressure; PDF through the platform's print), then renames it. Progress counts rows; cancelling stops at
 * the next chunk and removes the partial file.
 */
export function reportRunTask(d: RunDeps): TaskType<RunParams> {
  const exportsDir = join(d.dataDir, EXPORTS_DIR);
  return {
    type: 'reports.run',
    params: runParams,
    stages: {
      async onInit({ params: p }) {
        const folder = p.folder ?? exportsDir;
        if (p.folder) checkFolder(folder, 'folder');
        else mkdirSync(folder, { recursive: true });
        const at = p.at ?? new Date().toISOString();
        const file = p.file ?? freeName(folder, p.fileName ?? `${p.report.type}-${stamp(at)}`, p.format);
        return { next: 'onWrite', progress: 1, message: `writing ${file}`, patch: { at, file, folder } };
      },
      async onWrite(ctx) {
        const p = ctx.params;
        const path = join(p.folder!, p.file!);
        const partial = `${path}.partial`;
        rmSync(partial, { force: true });
        d.beforeRead?.();
        const reader = openReader(d.dbFile);
        let rows: number;
        try {
          const report = buildReport({
            db: reader.db,
            spec: p.report,
            locale: p.locale,
            now: new Date(p.at!),
            rateCard: new RatesRepo(reader.db).rateCard(),
            snapshotAt: snapshotOf(reader.db)?.createdAt ?? null,
          });
          const total = Math.max(1, report.sections.reduce((n, s) => n + (p.format === 'pdf' ? Math.min(PDF_ROWS, s.count()) : s.count()), 0));
          const hooks = {
            signal: ctx.signal,
            progress: (n: number) => ctx.progress(1 + (97 * n) / total, `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows`),
          };
          if (p.format === 'pdf') {
            const r = await writePdf(report, d.platform, p.locale, { ...hooks, printing: () => ctx.progress(95, 'printing the PDF') });
            writeFileSync(partial, r.pdf);
            rows = r.rows;
          } else {
            const out = createWriteStream(partial);
            const failed = new Promise<never>((_, reject) => out.once('error', reject));
            failed.catch(() => {});
            try {
              const write = p.format === 'csv' ? writeCsv(report, out, { bom: p.bom }, hooks) : writeXlsx(report, out, p.locale, hooks);
              rows = await Promise.race([write, failed]);
              if (!out.writableEnded) out.end();
              await Promise.race([out.writableFinished ? Promise.resolve() : once(out, 'finish'), failed]);
            } catch (e) {
              out.destroy();
              throw e;
            }
          }
        } catch (e) {
          rmSync(partial, { force: true });
          throw e;
        } finally {
          reader.close();
        }
        renameSync(partial, path);
        const result: ReportFile = {
          file: p.file!,
          path,
          format: p.format,
          rows,
          bytes: statSync(path).size,
          download: p.folder === exportsDir ? `/api/v1/exports/${encodeURIComponent(p.file!)}` : null,
        };
        d.track?.({ taskId: ctx.task.id, scheduleId: p.scheduleId ?? null, kind: 'report', path, createdAt: p.at! });
        return { done: result, message: `${rows.toLocaleString('en-US')} rows written to ${p.file}` };
      },
    },
    async cancelled({ params: p }) {
      if (p.folder && p.file) rmSync(join(p.folder, `${p.file}.partial`), { force: true });
    },
  };
}
