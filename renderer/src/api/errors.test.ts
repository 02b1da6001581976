import { describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import en from '../i18n/en';
import zhCN from '../i18n/zh-CN';
import { describeError, errorText, fieldErrors, formErrors, toApiError, type Translate } from './errors';

/** A translate function over a message tree, like vue-i18n's for these keys. */
function translator(tree: unknown): Translate {
  return (key, named) => {
    let v: unknown = tree;
    for (const part of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    if (typeof v !== 'string') return key;
    return v.replace(/\{(\w+)\}/g, (_, n: string) => String(named?.[n] ?? ''));
  };
}
const tEn = translator(en);
const tZh = translator(zhCN);

const validation = new ApiError('validation', 'Invalid input', {
  issues: [
    { path: 'destination', message: 'destination must be an absolute path', code: 'invalid_format' },
    { path: 'patch.pageSize', message: 'Too small: expected number to be >=10', code: 'too_small' },
    { path: '', message: 'Unrecognized key: "x"', code: 'unrecognized_keys' },
  ],
});

describe('toApiError', () => {
  it('keeps ApiErrors and rebuilds error bodies', () => {
    const e = new ApiError('conflict', 'busy');
    expect(toApiError(e)).toBe(e);
    const rebuilt = toApiError({ code: 'not_found', message: 'task x does not exist' });
    expect(ApiError.is(rebuilt)).toBe(true);
    expect(rebuilt.code).toBe('not_found');
  });

  it('turns anything else into internal, with no stack and no [object Object]', () => {
    const fromError = toApiError(new TypeError('x is undefined'));
    expect(fromError.code).toBe('internal');
    expect(fromError.message).toBe('x is undefined');
    expect(toApiError('boom').message).toBe('boom');
    expect(toApiError({ weird: true }).message).toBe('');
    expect(toApiError(undefined).code).toBe('internal');
    expect(toApiError({ code: 'made_up', message: 'm' }).code).toBe('internal');
  });

  it('maps an abort to cancelled', () => {
    const abort = new Error('The operation was aborted');
    abort.name = 'AbortError';
    expect(toApiError(abort).code).toBe('cancelled');
  });
});

describe('describeError', () => {
  it('translates the code and keeps the server message as detail', () => {
    const d = describeError(new ApiError('unreachable', 'Cannot reach the Skydeck server at http://127.0.0.1:1'), tEn);
    expect(d.title).toBe(en.errors.unreachable);
    expect(d.detail).toBe('Cannot reach the Skydeck server at http://127.0.0.1:1');
    expect(describeError(new ApiError('unreachable', 'x'), tZh).title).toBe(zhCN.errors.unreachable);
  });

  it('lists validation issues as the detail', () => {
    const d = describeError(validation, tEn);
    expect(d.title).toBe(en.errors.validation);
    expect(d.detail).toBe(
      'destination: destination must be an absolute path\npatch.pageSize: Too small: expected number to be >=10\nUnrecognized key: "x"',
    );
  });

  it('drops a detail that repeats the title or is empty', () => {
    expect(describeError(new ApiError('not_found', 'Not found'), tEn).detail).toBeNull();
    expect(describeError(new ApiError('internal', '   '), tEn).detail).toBeNull();
  });

  it('has a translation for every error code in both languages', async () => {
    const { ERROR_CODES } = await import('@shared/errors');
    for (const code of ERROR_CODES) {
      expect(en.errors[code], code).toBeTruthy();
      expect(zhCN.errors[code], code).toBeTruthy();
    }
  });

  it('formats one line for a message', () => {
    expect(errorText(new ApiError('conflict', 'task t1 is already succeeded'), tEn)).toBe(`${en.errors.conflict}: task t1 is already succeeded`);
    expect(errorText(validation, tEn)).not.toContain('\n');
    expect(errorText(new Error('plain'), tEn)).toBe(`${en.errors.internal}: plain`);
    expect(errorText({}, tEn)).toBe(en.errors.internal);
  });
});

describe('fieldErrors', () => {
  it('keys issues by field, stripping the input wrapper', () => {
    expect(fieldErrors(validation)).toEqual({
      destination: 'destination must be an absolute path',
      'patch.pageSize': 'Too small: expected number to be >=10',
    });
    expect(fieldErrors(validation, 'patch.')).toMatchObject({ pageSize: 'Too small: expected number to be >=10' });
  });

  it('joins several issues of one field', () => {
    const e = new ApiError('validation', 'bad', {
      issues: [
        { path: 'pauseMs', message: 'too big', code: 'too_big' },
        { path: 'pauseMs', message: 'not an integer', code: 'invalid_type' },
      ],
    });
    expect(fieldErrors(e)).toEqual({ pauseMs: 'too big; not an integer' });
  });

  it('is empty for other errors', () => {
    expect(fieldErrors(new ApiError('conflict', 'x', { issues: [{ path: 'a', message: 'b', code: 'c' }] }))).toEqual({});
    expect(fieldErrors(new Error('x'))).toEqual({});
  });
});

describe('formErrors', () => {
  it('puts validation issues and a conflict that names its field next to the fields', () => {
    const v = new ApiError('validation', 'bad', { issues: [{ path: 'cidr', message: 'not a CIDR', code: 'x' }, { path: 'dns.1', message: 'not an IPv4 address', code: 'x' }, { path: 'other', message: 'no', code: 'x' }] });
    expect(formErrors(v, ['cidr', 'dns'])).toEqual({ byField: { cidr: 'not a CIDR', dns: 'not an IPv4 address' }, unmatched: false });
    const c = new ApiError('conflict', '10.0.0.0/24 overlaps a (10.0.0.0/16) on the same wire', { reason: 'overlap', field: 'cidr' });
    expect(formErrors(c, ['name', 'cidr']).byField.cidr).toContain('overlaps');
    expect(formErrors(new ApiError('forbidden', 'read-only'), ['name']).unmatched).toBe(true);
  });
});
