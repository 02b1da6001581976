/** Formatting shared by the views; pure, so it is tested in Node. */

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local time as `2025-11-27 14:03:09`: the same in every language, sortable, unambiguous. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const rtfs = new Map<string, Intl.RelativeTimeFormat>();
/** One formatter per locale: building one costs more than formatting (lists call this for every visible cell). */
function rtfFor(locale: string): Intl.RelativeTimeFormat {
  let f = rtfs.get(locale);
  if (!f) rtfs.set(locale, (f = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })));
  return f;
}

/** "3 minutes ago" / "3 分钟前". */
export function relativeTime(iso: string | null | undefined, now: number, locale: string): string {
  if (!iso) return '';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const s = Math.round((then - now) / 1000);
  const rtf = rtfFor(locale);
  const abs = Math.abs(s);
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 26 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  if (abs < 320 * 86400) return rtf.format(Math.round(s / (30 * 86400)), 'month');
  return rtf.format(Math.round(s / (365 * 86400)), 'year');
}

/** Unit labels, e.g. `(n) => t('units.s', { n })`. */
export interface DurationUnits {
  ms: (n: string) => string;
  s: (n: string) => string;
  min: (n: string) => string;
  h: (n: string) => string;
  d: (n: string) => string;
}

/** 12 ms, 1.4 s, 3 min 4 s, 2 h 5 min, 3 d 4 h: two units at most. */
export function formatDuration(ms: number | null | undefined, u: DurationUnits): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return u.ms(ms < 10 && ms % 1 !== 0 ? ms.toFixed(1) : String(Math.round(ms)));
  const totalS = ms / 1000;
  if (totalS < 60) return u.s(totalS < 10 ? totalS.toFixed(1).replace(/\.0$/, '') : String(Math.floor(totalS)));
  const s = Math.floor(totalS);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (d) parts.push(u.d(String(d)), ...(h ? [u.h(String(h))] : []));
  else if (h) parts.push(u.h(String(h)), ...(m ? [u.min(String(m))] : []));
  else parts.push(u.min(String(m)), ...(sec ? [u.s(String(sec))] : []));
  return parts.join(' ');
}

/** Milliseconds between two timestamps (to `now` while unfinished). */
export function elapsedMs(from: string | null | undefined, to: string | null | undefined, now: number): number | null {
  if (!from) return null;
  const a = new Date(from).getTime();
  const b = to ? new Date(to).getTime() : now;
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.max(0, b - a);
}

/** One-line JSON, cut at `max` characters: `{"destination":"/x","pagesPerStep":1000}`. */
export function compactJson(value: unknown, max = 120): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0) return '';
  let s: string;
  try {
    s = JSON.stringify(value) ?? '';
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? '';
  } catch {
    return String(value);
  }
}

type Target = { kind: string; id: string; name?: string | undefined } | null | undefined;

/** A task's target in full: `web (guest/g-1)`; empty for system tasks. */
export function targetText(target: Target): string {
  if (!target) return '';
  return target.name && target.name !== target.id ? `${target.name} (${target.kind}/${target.id})` : `${target.kind}/${target.id}`;
}

/** A task's target, short: its name, else `kind/id`. */
export function targetShort(target: Target): string {
  if (!target) return '';
  return target.name || `${target.kind}/${target.id}`;
}

/** Clamps a progress value to a whole percentage for el-progress. */
export function percent(progress: number | null | undefined): number {
  if (progress === null || progress === undefined || !Number.isFinite(progress)) return 0;
  return Math.max(0, Math.min(100, Math.round(progress)));
}

/** 114688 → "112 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

const nfs = new Map<string, Intl.NumberFormat>();
/** 12345 → "12,345" in the locale, with a cached formatter. */
export function formatNumber(n: number, locale: string): string {
  let f = nfs.get(locale);
  if (!f) nfs.set(locale, (f = new Intl.NumberFormat(locale)));
  return f.format(n);
}
