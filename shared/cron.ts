/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), as crontab(5) reads them: numbers, `*`,
 * ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`, month and weekday names (`jan`, `mon`), 7 for Sunday, and the
 * shorthands `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. Like Vixie cron, when both day fields are
 * restricted a day matches if either does. Times are the workstation's local time. Shared so that the contract can
 * refuse a bad expression with the field named, and the UI can show the next runs.
 */
export interface CronSchedule {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Day of month / day of week was `*` (crontab's rule: only the restricted one counts, or either when both are). */
  anyDay: boolean;
  anyWeekday: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const SHORTHANDS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Names count from this number (months from 1). */
  nameBase?: number;
}
const FIELDS: FieldDef[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

function value(token: string, f: FieldDef): number {
  const lower = token.toLowerCase();
  const named = f.names?.indexOf(lower) ?? -1;
  if (named >= 0) return named + (f.nameBase ?? 0);
  if (!/^\d+$/.test(token)) throw new CronError(`${f.name}: "${token}" is not a number${f.names ? ' or a name' : ''}`);
  const n = Number(token);
  if (n < f.min || n > f.max) throw new CronError(`${f.name}: ${n} is outside ${f.min}-${f.max}`);
  return n;
}

function field(text: string, f: FieldDef): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw new CronError(`${f.name}: empty list item`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronError(`${f.name}: "${part}" has more than one /`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new CronError(`${f.name}: step "${stepText}" must be a whole number of at least 1`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = f.min;
      hi = f.name === 'day of week' ? 6 : f.max;
    } else {
      const dash = range!.split('-');
      if (dash.length > 2) throw new CronError(`${f.name}: "${range}" is not a range`);
      lo = value(dash[0]!, f);
      hi = dash.length === 2 ? value(dash[1]!, f) : stepText !== undefined ? (f.name === 'day of week' ? 6 : f.max) : lo;
      if (hi < lo) throw new CronError(`${f.name}: range ${range} runs backwards`);
    }
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

/** Parses an expression or throws a CronError that names the field at fault. */
export function parseCron(expression: string): CronSchedule {
  const text = expression.trim();
  const expanded = SHORTHANDS[text.toLowerCase()] ?? text;
  if (expanded.startsWith('@')) throw new CronError(`unknown shorthand ${text}: use @hourly, @daily, @weekly, @monthly or @yearly`);
  const parts = expanded.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) throw new CronError(`a cron expression has 5 fields (minute hour day-of-month month day-of-week); this one has ${parts.length}`);
  const [mi, h, d, mo, wd] = parts.map((p, i) => field(p, FIELDS[i]!));
  return { minutes: mi!, hours: h!, days: d!, months: mo!, weekdays: wd!, anyDay: parts[2] === '*', anyWeekday: parts[4] === '*' };
}

/** The error message for a bad expression, or null when it parses. */
export function cronError(expression: string): string | null {
  try {
    parseCron(expression);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.days.has(d.getDate());
  const dow = s.weekdays.has(d.getDay());
  if (s.anyDay && s.anyWeekday) return true;
  if (s.anyDay) return dow;
  if (s.anyWeekday) return dom;
  return dom || dow;
}

/**
 * The first minute strictly after `after` that the schedule matches, in local time; null when there is none within
 * five years (e.g. `0 0 31 2 *`). Walks months, then days, then hours and minutes, so it never steps minute by minute
 * through a year.
 */
export function nextCronRun(s: CronSchedule, after: Date): Date | null {
  const t = new Date(after.getTime());
  t.setSeconds(0, 0);
  t.setMinutes(t.getMinutes() + 1);
  const limit = after.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (!s.months.has(t.getMonth() + 1)) {
      t.setMonth(t.getMonth() + 1, 1);
      t.setHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, t)) {
      t.setDate(t.getDate() + 1);
      t.setHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(t.getHours())) {
      t.setHours(t.getHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(t.getMinutes())) {
      t.setMinutes(t.getMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return null;
}
