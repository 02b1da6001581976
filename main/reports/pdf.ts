import type { Cell, ReportColumn } from '@shared/contract/reports';
import type { PlatformPort } from '../platform/port';
import { CHUNK_ROWS, tick, type WriteHooks } from './csv';
import { chartSvg, escapeXml } from './charts';
import { headerLines, type BuiltReport } from './definitions';
import { fill, labels, type Locale } from './labels';
import { shortTime } from './period';

/**
 * PDF: the report as one self-contained HTML document (inline CSS and SVG charts, no script), printed by Chromium
 * through the platform port (Electron's printToPDF on the desktop, Debian's Chromium headless). Chinese text needs a
 * CJK font on the machine that prints: the font stack names Noto Sans CJK (Debian: fonts-noto-cjk), WenQuanYi
 * (fonts-wqy-microhei/zenhei), and the Windows and macOS system fonts. A PDF is for reading, so each section shows at
 * most PDF_ROWS rows, and says so; CSV and XLSX hold them all.
 */
export const PDF_ROWS = 2000;

const FONTS = `"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Noto Sans", "DejaVu Sans", Arial, sans-serif`;

const CSS = `
  @page { margin: 12mm 10mm; }
  body { font-family: ${FONTS}; color: #111827; margin: 0; font-size: 9pt; }
  h1 { font-size: 17pt; margin: 0 0 4px; }
  h2 { font-size: 12pt; margin: 18px 0 4px; break-after: avoid; }
  .meta { color: #4b5563; font-size: 8.5pt; line-height: 1.5; }
  .notes { margin: 10px 0; padding: 6px 10px; border-left: 3px solid #f59e0b; background: #fffbeb; font-size: 8.5pt; }
  .notes p { margin: 3px 0; }
  .chart { margin: 10px 0; break-inside: avoid; }
  .chart h3 { font-size: 10pt; margin: 0 0 4px; }
  .count { color: #6b7280; font-size: 8pt; margin: 0 0 4px; }
  table { border-collapse: collapse; width: 100%; font-family: ${FONTS}; font-size: 7.5pt; }
  th, td { border: 0.5pt solid #d1d5db; padding: 2px 4px; text-align: left; vertical-align: top; font-size: 7.5pt; word-break: break-word; }
  th { background: #f3f4f6; font-weight: 600; }
  td.n, th.n { text-align: right; white-space: nowrap; }
  /* The row's name (host, zone, project) stays whole however many columns squeeze the table. */
  td:first-child { white-space: nowrap; }
  tbody tr:nth-child(even) td { background: #f9fafb; }
  tfoot td { font-weight: 700; background: #eef2ff; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
`;

const NUMERIC = new Set<ReportColumn['type']>(['int', 'number', 'percent', 'money']);

function show(v: Cell, type: ReportColumn['type'], yes: string, no: string): string {
  if (v === null || v === undefined) return '';
  if (type === 'bool') return v ? yes : no;
  if (type === 'date') return shortTime(String(v));
  if (typeof v === 'number') {
    if (type === 'money' || type === 'number') return v.toLocaleString('en-US', { minimumFractionDigits: type === 'money' ? 2 : 0, maximumFractionDigits: 2 });
    if (type === 'percent') return v.toFixed(1);
    return v.toLocaleString('en-US');
  }
  return escapeXml(String(v));
}

/** The HTML of the report (exported for tests and for a preview of the print layout). */
export async function reportHtml(report: BuiltReport, locale: Locale, hooks: WriteHooks): Promise<{ html: string; rows: number; landscape: boolean }> {
  const L = labels(locale);
  const out: string[] = [];
  let rows = 0;
  const notes = [...report.notes];
  const body: string[] = [];
  let landscape = false;
  for (const s of report.sections) {
    if (s.columns.length > 8) landscape = true;
    const total = s.count();
    const cls = (c: ReportColumn) => (NUMERIC.has(c.type) ? ' class="n"' : '');
    body.push(`<section><h2>${escapeXml(s.title)}</h2>`);
    const shown = Math.min(total, PDF_ROWS);
    if (total > PDF_ROWS) notes.push(fill(L.note.pdfTruncated, { section: s.title, shown: shown.toLocaleString('en-US'), total: total.toLocaleString('en-US') }));
    body.push(`<p class="count">${escapeXml(fill(L.rowsShown, { shown: shown.toLocaleString('en-US'), total: total.toLocaleString('en-US') }))}</p>`);
    body.push(`<table><thead><tr>${s.columns.map((c) => `<th${cls(c)}>${escapeXml(c.label)}</th>`).join('')}</tr></thead><tbody>`);
    const it = s.rows();
    let n = 0;
    try {
      for (const r of it) {
        if (n >= PDF_ROWS) break;
        body.push(`<tr>${r.map((v, i) => `<td${cls(s.columns[i]!)}>${show(v, s.columns[i]!.type, L.yes, L.no)}</td>`).join('')}</tr>`);
        if (++n % CHUNK_ROWS === 0) {
          hooks.progress(rows + n);
          await tick();
          if (hooks.signal.aborted) throw hooks.signal.reason;
        }
      }
    } finally {
      it.return?.();
    }
    rows += n;
    body.push('</tbody>');
    const footer = s.footer();
    if (footer) body.push(`<tfoot><tr>${footer.map((v, i) => `<td${i ? cls(s.columns[i]!) : ''}>${i === 0 ? escapeXml(String(v ?? '')) : show(v, s.columns[i]!.type, L.yes, L.no)}</td>`).join('')}</tr></tfoot>`);
    body.push('</table></section>');
    hooks.progress(rows);
  }
  out.push(`<!DOCTYPE html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeXml(report.title)}</title><style>${CSS}</style></head><body>`);
  out.push(`<header><h1>${escapeXml(report.title)}</h1><div class="meta">${headerLines(report, locale).map((l) => `<div>${escapeXml(l)}</div>`).join('')}</div></header>`);
  if (notes.length) out.push(`<div class="notes">${notes.map((n) => `<p>${escapeXml(n)}</p>`).join('')}</div>`);
  for (const c of report.charts()) out.push(`<div class="chart"><h3>${escapeXml(c.title)}</h3>${chartSvg(c, landscape ? 960 : 680)}</div>`);
  out.push(...body, '</body></html>');
  return { html: out.join('\n'), rows, landscape };
}

export async function writePdf(report: BuiltReport, platform: PlatformPort, locale: Locale, hooks: WriteHooks & { printing(): void }): Promise<{ pdf: Buffer; rows: number }> {
  const { html, rows, landscape } = await reportHtml(report, locale, hooks);
  if (hooks.signal.aborted) throw hooks.signal.reason;
  hooks.printing();
  const pdf = await platform.printToPdf(html, { landscape, pageSize: 'A4', printBackground: true });
  return { pdf, rows };
}
