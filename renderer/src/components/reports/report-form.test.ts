import { describe, expect, it } from 'vitest';
import { reportSpecSchema } from '@shared/contract/reports';
import { emptyForm, fromSpec, toSpec, validTag } from './report-form';

describe('report form', () => {
  it('sends every section as none named, a subset by name, and only the filters set', () => {
    const f = emptyForm('inventory');
    expect(toSpec(f)).toEqual({ type: 'inventory', filters: { projects: [], providers: [], zones: [], tags: [] } });
    f.sections = ['guests', 'hosts'];
    f.tags = ['env=prod'];
    f.period = 'lastMonth';
    expect(toSpec(f)).toEqual({ type: 'inventory', sections: ['hosts', 'guests'], filters: { projects: [], providers: [], zones: [], tags: ['env=prod'], period: { preset: 'lastMonth' } } });
    expect(reportSpecSchema.safeParse(toSpec(f)).success).toBe(true);
  });

  it('charges cost and changes over the last 30 days unless told, and takes custom dates as they are', () => {
    expect(emptyForm('cost').period).toBe('last30d');
    expect(emptyForm('capacity').period).toBe('');
    const f = { ...emptyForm('changes'), period: 'custom' as const, range: ['2026-01-01', '2026-01-31'] as [string, string] };
    expect(toSpec(f).filters?.period).toEqual({ from: '2026-01-01', to: '2026-01-31' });
    expect(fromSpec(toSpec(f))).toEqual(f);
  });

  it('knows a tag filter as the contract does', () => {
    expect(['env', 'env=prod', 'team=数据', 'k='].every(validTag)).toBe(true);
    expect(['=x', 'a,b', ' x', ''].some(validTag)).toBe(false);
  });
});
