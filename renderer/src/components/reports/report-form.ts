import { PERIOD_PRESETS, REPORT_SECTIONS, type Cadence, type PeriodPreset, type ReportSpecInput, type ReportType } from '@shared/contract/reports';
import type { Provider } from '@shared/contract/inventory/base';

/** The report builder's state, as the form holds it, and the spec the API takes from it. */
export interface ReportForm {
  type: ReportType;
  sections: string[];
  projects: string[];
  providers: Provider[];
  zones: string[];
  tags: string[];
  /** '' no period; a preset; 'custom' with `range` (YYYY-MM-DD, both ends included). */
  period: '' | PeriodPreset | 'custom';
  range: [string, string] | null;
}

export function emptyForm(type: ReportType = 'inventory'): ReportForm {
  return { type, sections: [...REPORT_SECTIONS[type]], projects: [], providers: [], zones: [], tags: [], period: defaultPeriod(type), range: null };
}

/** Changes and cost always cover a period (the last 30 days unless chosen). */
export function defaultPeriod(type: ReportType): ReportForm['period'] {
  return type === 'changes' || type === 'cost' ? 'last30d' : '';
}

export function toSpec(f: ReportForm): ReportSpecInput {
  const all = REPORT_SECTIONS[f.type] as readonly string[];
  const sections = all.filter((s) => f.sections.includes(s));
  const period =
    f.period === 'custom' ? (f.range ? { from: f.range[0], to: f.range[1] } : undefined) : f.period && (PERIOD_PRESETS as readonly string[]).includes(f.period) ? { preset: f.period } : undefined;
  return {
    type: f.type,
    ...(sections.length && sections.length < all.length ? { sections } : {}),
    filters: {
      projects: f.projects,
      providers: f.providers,
      zones: f.zones,
      tags: f.tags,
      ...(period ? { period } : {}),
    },
  };
}

/** The other way, for editing a schedule's report. */
export function fromSpec(spec: ReportSpecInput): ReportForm {
  const f = emptyForm(spec.type);
  const filters = spec.filters ?? {};
  return {
    ...f,
    sections: spec.sections ? [...spec.sections] : f.sections,
    projects: [...(filters.projects ?? [])],
    providers: [...(filters.providers ?? [])],
    zones: [...(filters.zones ?? [])],
    tags: [...(filters.tags ?? [])],
    period: filters.period ? ('preset' in filters.period ? filters.period.preset : 'custom') : '',
    range: filters.period && 'from' in filters.period ? [filters.period.from.slice(0, 10), filters.period.to.slice(0, 10)] : null,
  };
}

/** A tag filter as the contract takes it: `key` or `key=value`, no commas. */
export function validTag(s: string): boolean {
  return /^[^=,\s][^=,]*(=[^,]*)?$/.test(s);
}

export function cadenceTime(c: Cadence): string {
  return c.kind === 'cron' ? '' : c.time;
}

/** Default schedule folder: the data directory's reports folder, as a hint (it must exist). */
export function suggestedFolder(dataDir: string | undefined, platform: string | undefined): string {
  if (!dataDir) return '';
  const sep = platform === 'win32' ? '\\' : '/';
  return `${dataDir.replace(/[\\/]+$/, '')}${sep}exports`;
}
