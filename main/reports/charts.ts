import type { ReportChart } from '@shared/contract/reports';

/**
 * Charts for the PDF as inline SVG: horizontal bars, one group per category and one bar per series, with a legend and
 * the values at the bars' ends. No script and no external resource, so any print engine draws them as they are.
 */
export const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#14b8a6'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 1 }));

export function chartSvg(c: ReportChart, width = 700): string {
  const labelW = 170;
  const barH = 11;
  const gap = 7;
  const groupH = c.series.length * barH + gap;
  const legendH = 22;
  const height = legendH + c.categories.length * groupH + 6;
  const max = Math.max(1, ...c.series.flatMap((s) => s.values));
  const plotW = width - labelW - 70;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(c.title)}">`);
  c.series.forEach((s, i) => {
    const x = labelW + i * 130;
    parts.push(`<rect x="${x}" y="4" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${x + 14}" y="13" font-size="10" fill="#374151">${escapeXml(s.label)}${c.unit ? ` (${escapeXml(c.unit)})` : ''}</text>`);
  });
  c.categories.forEach((cat, ci) => {
    const y0 = legendH + ci * groupH;
    const name = cat.length > 28 ? `${cat.slice(0, 27)}…` : cat;
    parts.push(`<text x="${labelW - 6}" y="${y0 + (c.series.length * barH) / 2 + 4}" font-size="10" text-anchor="end" fill="#111827">${escapeXml(name)}</text>`);
    c.series.forEach((s, si) => {
      const v = s.values[ci] ?? 0;
      const w = Math.max(0, (plotW * v) / max);
      const y = y0 + si * barH;
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${PALETTE[si % PALETTE.length]}"/>`);
      parts.push(`<text x="${labelW + w + 4}" y="${y + barH - 3}" font-size="9" fill="#4b5563">${fmt(v)}</text>`);
    });
  });
  parts.push(`<line x1="${labelW}" y1="${legendH - 2}" x2="${labelW}" y2="${height - 4}" stroke="#9ca3af" stroke-width="1"/>`);
  parts.push('</svg>');
  return parts.join('');
}
