import type { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { Cell, ReportColumn } from '@shared/contract/reports';
import { CHUNK_ROWS, tick, type WriteHooks } from './csv';
import { headerLines, type BuiltReport } from './definitions';
import { labels, type Locale } from './labels';

/**
 * XLSX through exceljs's streaming writer: one sheet per section (written and committed one after the other, so only
 * the rows in flight are in memory; no shared-strings table), typed cells (numbers, dates, booleans), a bold frozen
 * header row with an auto-filter over the rows, a bold totals line, and a last sheet with the report's header and notes.
 * exceljs is loaded on first use: it takes ~150 ms to import, which the app's start should not pay.
 */
const NUM_FMT: Partial<Record<ReportColumn['type'], string>> = {
  int: '#,##0',
  number: '#,##0.00',
  percent: '0.0',
  money: '#,##0.00',
  date: 'yyyy-mm-dd hh:mm',
};
const WIDTH: Record<ReportColumn['type'], number> = { text: 22, int: 11, number: 13, percent: 11, money: 14, date: 17, bool: 10 };

export function xlsxValue(v: Cell, type: ReportColumn['type']): ExcelJS.CellValue {
  if (v === null || v === undefined) return null;
  if (type === 'bool') return v === 1 || v === '1';
  if (type === 'date') {
    const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    return Number.isNaN(t) ? String(v) : new Date(t);
  }
  if (type !== 'text' && typeof v === 'number') return v;
  return String(v);
}

/** Excel's rules for sheet names: at most 31 characters, none of : \ / ? * [ ], unique in the workbook. */
export function sheetName(title: string, taken: Set<string>): string {
  const base = title.replace(/[:\\/?*[\]]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 31) || 'Sheet';
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base.slice(0, 31 - String(i).length - 1)} ${i}`;
  taken.add(name.toLowerCase());
  return name;
}

export async function writeXlsx(report: BuiltReport, out: Writable, locale: Locale, hooks: WriteHooks): Promise<number> {
  const L = labels(locale);
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  wb.creator = 'Skydeck';
  wb.title = report.title;
  wb.created = new Date(report.generatedAt);
  const taken = new Set<string>();
  let rows = 0;
  for (const s of report.sections) {
    const ws = wb.addWorksheet(sheetName(s.title, taken), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = s.columns.map((c) => ({ key: c.key, width: Math.max(WIDTH[c.type], Math.min(40, c.label.length + 2)), style: NUM_FMT[c.type] ? { numFmt: NUM_FMT[c.type] } : {} }));
    const header = ws.addRow(s.columns.map((c) => c.label));
    header.font = { bold: true };
    header.commit();
    let n = 0;
    const it = s.rows();
    try {
      for (const r of it) {
        ws.addRow(r.map((v, i) => xlsxValue(v, s.columns[i]!.type))).commit();
        n++;
        if (n % CHUNK_ROWS === 0) {
          hooks.progress(rows + n);
          await tick();
          if (hooks.signal.aborted) throw hooks.signal.reason;
        }
      }
    } finally {
      it.return?.();
    }
    rows += n;
    ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: n + 1, column: s.columns.length } };
    const footer = s.footer();
    if (footer) {
      const f = ws.addRow(footer.map((v, i) => xlsxValue(v, i === 0 ? 'text' : s.columns[i]!.type)));
      f.font = { bold: true };
      f.commit();
    }
    ws.commit();
    hooks.progress(rows);
  }
  const about = wb.addWorksheet(sheetName(L.about, taken));
  about.columns = [{ width: 120 }];
  const title = about.addRow([report.title]);
  title.font = { bold: true, size: 14 };
  title.commit();
  for (const line of [...headerLines(report, locale), '', ...report.notes]) about.addRow([line]).commit();
  about.commit();
  await wb.commit();
  return rows;
}
