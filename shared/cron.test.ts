import { describe, expect, it } from 'vitest';
import { cronError, nextCronRun, parseCron } from './cron';

// Local times: the tests build dates with the local constructor, as the scheduler reads them.
const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi);
const next = (expr: string, from: Date) => nextCronRun(parseCron(expr), from);

describe('cron', () => {
  it('finds the next minute a five-field expression matches', () => {
    expect(next('* * * * *', at(2026, 1, 1, 10, 0))).toEqual(at(2026, 1, 1, 10, 1));
    expect(next('30 6 * * *', at(2026, 1, 1, 6, 30))).toEqual(at(2026, 1, 2, 6, 30));
    expect(next('30 6 * * *', at(2026, 1, 1, 6, 29))).toEqual(at(2026, 1, 1, 6, 30));
    expect(next('*/15 * * * *', at(2026, 1, 1, 10, 7))).toEqual(at(2026, 1, 1, 10, 15));
    expect(next('0 9-17/4 * * mon-fri', at(2026, 5, 1, 18, 0))).toEqual(at(2026, 5, 4, 9, 0)); // Fri evening → Mon 09:00
    expect(next('0 0 1 jan,jul *', at(2026, 2, 1))).toEqual(at(2026, 7, 1));
    expect(next('@monthly', at(2026, 1, 31, 12))).toEqual(at(2026, 2, 1));
    expect(next('0 0 29 2 *', at(2026, 3, 1))).toEqual(at(2028, 2, 29));
    expect(next('0 0 31 2 *', at(2026, 1, 1))).toBeNull();
  });

  it('takes Sunday as 0 or 7, and either day field when both are restricted (as Vixie cron does)', () => {
    expect(next('0 12 * * 7', at(2026, 5, 1))).toEqual(at(2026, 5, 3, 12));
    expect(next('0 12 * * 0', at(2026, 5, 1))).toEqual(at(2026, 5, 3, 12));
    // The 15th, or any Monday: from Fri 1 May 2026 the first is Mon 4 May.
    expect(next('0 0 15 * 1', at(2026, 5, 1))).toEqual(at(2026, 5, 4));
  });

  it('says which field is wrong and why', () => {
    expect(cronError('0 6 * * *')).toBeNull();
    expect(cronError('60 * * * *')).toBe('minute: 60 is outside 0-59');
    expect(cronError('* 24 * * *')).toBe('hour: 24 is outside 0-23');
    expect(cronError('* * 0 * *')).toBe('day of month: 0 is outside 1-31');
    expect(cronError('* * * 13 *')).toBe('month: 13 is outside 1-12');
    expect(cronError('* * * * fun')).toBe('day of week: "fun" is not a number or a name');
    expect(cronError('*/0 * * * *')).toBe('minute: step "0" must be a whole number of at least 1');
    expect(cronError('5-1 * * * *')).toBe('minute: range 5-1 runs backwards');
    expect(cronError('* * * *')).toMatch(/has 5 fields .* this one has 4/);
    expect(cronError('@often')).toMatch(/unknown shorthand @often/);
    expect(cronError('1,,2 * * * *')).toBe('minute: empty list item');
  });
});
