import { METRICS, type MetricUnit } from '@shared/contract/monitoring';

const BYTES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function unitOf(metric: string): MetricUnit {
  if (METRICS[metric]) return METRICS[metric].unit;
  return /bytes_per_s$/.test(metric) ? 'bytes_per_s' : /bytes$/.test(metric) ? 'bytes' : 'count';
}

/** A metric value for people: 12.5 %, 1.2 GiB, 3.4 MiB/s, 0.52 (load). */
export function formatMetric(v: number | null | undefined, unit: MetricUnit, locale = 'en'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const num = (x: number, d = 1) => x.toLocaleString(locale, { maximumFractionDigits: d });
  switch (unit) {
    case 'percent':
      return `${num(v)} %`;
    case 'bytes':
    case 'bytes_per_s': {
      let x = Math.abs(v);
      let i = 0;
      while (x >= 1024 && i < BYTES.length - 1) {
        x /= 1024;
        i++;
      }
      return `${num(Math.sign(v) * x)} ${BYTES[i]}${unit === 'bytes_per_s' ? '/s' : ''}`;
    }
    case 'ns_per_s':
      return `${num(v / 1e9, 2)} s/s`;
    case 'load':
      return num(v, 2);
    default:
      return num(v, 2);
  }
}

/** Heat map colour of a percentage: green → yellow → red (hue 120 → 0). */
export function heatColor(pct: number): string {
  const p = Math.max(0, Math.min(100, pct));
  return `hsl(${Math.round(120 - p * 1.2)} 70% 45%)`;
}

/** A metric's name in the admin's language; its id where no name is known (a metric a newer agent reports). */
export function metricLabel(metric: string, t: (key: string) => string, te: (key: string) => boolean): string {
  const key = `monitoring.metricNames.${metric.replace(/\./g, '_')}`;
  return te(key) ? t(key) : metric;
}
