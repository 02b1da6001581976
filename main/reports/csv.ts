import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Cell, ReportColumn } from '@shared/contract/reports';
import type { BuiltReport } from './definitions';

/**
 * RFC 4180 CSV: fields holding a comma, quote, CR or LF are quoted with quotes doubled; records end with CRLF; UTF-8,
 * with a byte-order mark on request (Excel reads UTF-8 only with one). A report of one section is one plain table (a
 * header record, then the rows); several sections follow each other, each as a record holding its title, its header
 * and rows, and an empty line. Text that a spreadsheet would run as a formula (= + - @ at the start) is prefixed with
 * an apostrophe (OWASP's CSV-injection advice): names synced from a cloud are not ours to trust.
 */
export function csvEscape(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvCell(v: Cell, type: ReportColumn['type']): string {
  if (v === null || v === undefined) return '';
  if (type === 'bool') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = type === 'text' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return csvEscape(s);
}

export function csvRecord(cells: readonly Cell[], columns: readonly ReportColumn[]): string {
  return cells.map((c, i) => csvCell(c, columns[i]?.type ?? 'text')).join(',') + '\r\n';
}

export interface WriteHooks {
  signal: AbortSignal;
  /** Rows written so far (all sections). */
  progress(rows: number): void;
}

/** Writes with back-pressure: waits for 'drain' when the stream's buffer is full. */
export async function put(out: Writable, s: string): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

export const CHUNK_ROWS = 500;
export const tick = () => new Promise<void>((r) => setImmediate(r));

export async function writeCsv(report: BuiltReport, out: Writable, o: { bom: boolean }, hooks: WriteHooks): Promise<number> {
  let rows = 0;
  if (o.bom) await put(out, '\ufeff');
  const several = report.sections.length > 1;
  for (const [i, s] of report.sections.entries()) {
    if (several) await put(out, (i > 0 ? '\r\n' : '') + csvEscape(s.title) + '\r\n');
    await put(out, s.columns.map((c) => csvEscape(c.label)).join(',') + '\r\n');
    const it = s.rows();
    try {
      let chunk = '';
      let n = 0;
      for (const r of it) {
        chunk += csvRecord(r, s.columns);
        if (++n === CHUNK_ROWS) {
          rows += n;
          n = 0;
          await put(out, chunk);
          chunk = '';
          hooks.progress(rows);
          await tick();
          if (hooks.signal.aborted) throw hooks.signal.reason;
        }
      }
      rows += n;
      await put(out, chunk);
      hooks.progress(rows);
    } finally {
      it.return?.();
    }
  }
  return rows;
}
