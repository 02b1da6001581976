import { describe, expect, it } from 'vitest';
import { compactJson, elapsedMs, formatBytes, targetShort, formatDateTime, formatDuration, percent, relativeTime, targetText, type DurationUnits } from './format';
import { pageSizes } from './paging';
import { humanizeStage } from '../components/task-labels';

const u: DurationUnits = { ms: (n) => `${n} ms`, s: (n) => `${n} s`, min: (n) => `${n} min`, h: (n) => `${n} h`, d: (n) => `${n} d` };

describe('format', () => {
  it('formats durations with two units at most', () => {
    expect(formatDuration(0, u)).toBe('0 ms');
    expect(formatDuration(3.456, u)).toBe('3.5 ms');
    expect(formatDuration(12.4, u)).toBe('12 ms');
    expect(formatDuration(1000, u)).toBe('1 s');
    expect(formatDuration(1400, u)).toBe('1.4 s');
    expect(formatDuration(42_000, u)).toBe('42 s');
    expect(formatDuration(184_000, u)).toBe('3 min 4 s');
    expect(formatDuration(180_000, u)).toBe('3 min');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000 + 7000, u)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86400_000 + 4 * 3600_000, u)).toBe('3 d 4 h');
    expect(formatDuration(null, u)).toBe('');
    expect(formatDuration(-1, u)).toBe('');
    expect(formatDuration(Number.NaN, u)).toBe('');
  });

  it('formats local date-times the same in every language', () => {
    const iso = new Date(2025, 0, 2, 3, 4, 5).toISOString();
    expect(formatDateTime(iso)).toBe('2025-01-02 03:04:05');
    expect(formatDateTime(null)).toBe('');
    expect(formatDateTime('garbage')).toBe('garbage');
  });

  it('formats relative times in the given language', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(relativeTime('2025-01-01T11:59:50Z', now, 'en')).toBe('now');
    expect(relativeTime('2025-01-01T11:55:00Z', now, 'en')).toBe('5 minutes ago');
    expect(relativeTime('2025-01-01T09:00:00Z', now, 'en')).toBe('3 hours ago');
    expect(relativeTime('2024-12-30T12:00:00Z', now, 'en')).toBe('2 days ago');
    expect(relativeTime('2025-01-01T11:55:00Z', now, 'zh-CN')).toBe('5分钟前');
  });

  it('measures elapsed time, to now while running', () => {
    expect(elapsedMs('2025-01-01T00:00:00Z', '2025-01-01T00:00:02Z', 0)).toBe(2000);
    expect(elapsedMs('2025-01-01T00:00:00Z', null, Date.parse('2025-01-01T00:01:00Z'))).toBe(60_000);
    expect(elapsedMs(null, null, 0)).toBeNull();
  });

  it('prints parameters as compact JSON, cut', () => {
    expect(compactJson({ destination: '/x', pagesPerStep: 1000 })).toBe('{"destination":"/x","pagesPerStep":1000}');
    expect(compactJson({})).toBe('');
    expect(compactJson(null)).toBe('');
    const long = compactJson({ s: 'x'.repeat(500) }, 40);
    expect(long).toHaveLength(40);
    expect(long.endsWith('…')).toBe(true);
  });

  it('prints targets', () => {
    expect(targetText(null)).toBe('');
    expect(targetText({ kind: 'guest', id: 'g-1' })).toBe('guest/g-1');
    expect(targetText({ kind: 'guest', id: 'g-1', name: 'web' })).toBe('web (guest/g-1)');
    expect(targetShort({ kind: 'guest', id: 'g-1', name: 'web' })).toBe('web');
    expect(targetShort({ kind: 'guest', id: 'g-1' })).toBe('guest/g-1');
    expect(targetShort(null)).toBe('');
  });

  it('clamps progress', () => {
    expect(percent(41.6)).toBe(42);
    expect(percent(-3)).toBe(0);
    expect(percent(140)).toBe(100);
    expect(percent(Number.NaN)).toBe(0);
  });

  it('offers the user page size among the usual ones', () => {
    expect(pageSizes(100)).toEqual([20, 50, 100, 200, 500]);
    expect(pageSizes(30)).toEqual([20, 30, 50, 100, 200, 500]);
  });

  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(114688)).toBe('112 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GiB');
    expect(formatBytes(null)).toBe('');
  });

  it('humanizes stage names', () => {
    expect(humanizeStage('onCopy')).toBe('Copy');
    expect(humanizeStage('onCopyPages')).toBe('Copy pages');
    expect(humanizeStage('wait_for_agent')).toBe('Wait for agent');
    expect(humanizeStage('once')).toBe('Once');
  });
});
