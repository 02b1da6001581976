import { describe, expect, it } from 'vitest';
import { blankMapping, mappingForm, mappingInput } from './mapping';

describe('the tag → project mapping form', () => {
  it('maps nothing to null and keeps only complete override rows, trimmed', () => {
    expect(mappingInput(blankMapping())).toBeNull();
    expect(mappingInput({ tagKey: '  ', defaultProjectId: '', overrides: [{ value: 'x', projectId: '' }] })).toBeNull();
    expect(mappingInput({ tagKey: ' env ', defaultProjectId: '', overrides: [{ value: ' dev ', projectId: 'p1' }, { value: '', projectId: 'p2' }] })).toEqual({ tagKey: 'env', defaultProjectId: null, overrides: { dev: 'p1' } });
    expect(mappingInput({ tagKey: '', defaultProjectId: 'p3', overrides: [] })).toEqual({ tagKey: null, defaultProjectId: 'p3', overrides: {} });
  });

  it('round-trips an account’s mapping', () => {
    const m = { tagKey: 'project', defaultProjectId: 'p1', overrides: { web: 'p2' } };
    expect(mappingInput(mappingForm(m))).toEqual(m);
    expect(mappingForm(null)).toEqual(blankMapping());
  });
});
