import { describe, expect, it } from 'vitest';
import { blockScale, decodeBuckets, decodeJournal, decodeSamples, encodeBuckets, encodeJournal, encodeSamples, rollUp } from './codec';
import { xorshift } from '../test/helpers';

function rng(seed: number) {
  const next = xorshift(seed);
  return () => next() / 2 ** 32;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`at ${i}: ${a[i]} !== ${b[i]}`);
};

describe('metrics codec', () => {
  const r = rng(7);
  const t0 = Date.UTC(2026, 0, 1, 10, 0, 0) + 1234;
  const regular = Array.from({ length: 360 }, (_, i) => t0 + i * 10_000);
  const jittered = Array.from({ length: 500 }, (_, i) => t0 + i * 1000 + Math.floor(r() * 900));
  const cases: [string, number[], number[]][] = [
    ['gauges with two decimals', regular, regular.map((_, i) => Math.round((50 + 40 * Math.sin(i / 7) + r()) * 100) / 100)],
    ['a constant', regular, regular.map(() => 1)],
    ['byte counts', regular, regular.map(() => Math.floor(r() * 2 ** 40))],
    ['arbitrary doubles', jittered, jittered.map(() => (r() - 0.5) * 1e6 * r())],
    ['odd values', jittered.slice(0, 12), [0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-300, 0.1 + 0.2, 2 ** 53, -(2 ** 52) + 1, 123.456789, 1e21]],
    ['negative decimals', regular.slice(0, 50), regular.slice(0, 50).map((_, i) => -i * 0.25)],
    ['one sample', [t0], [42.5]],
    ['two samples, negative times', [-5000, -10], [1, 2]],
    ['nothing', [], []],
  ];
  for (const [name, ts, vs] of cases) {
    it(`round-trips ${name} exactly`, () => {
      const buf = encodeSamples(ts, vs);
      const back = decodeSamples(buf);
      same(back.ts, ts);
      same(back.vs, vs);
    });
  }

  it('is small for regular gauges: timestamps almost free, values a couple of bytes', () => {
    const [, ts, vs] = cases[0]!;
    expect(encodeSamples(ts, vs).length).toBeLessThan(ts.length * 2.2);
    expect(encodeSamples(cases[1]![1], cases[1]![2]).length).toBeLessThan(24); // 360 samples
    expect(blockScale(vs, 0, vs.length)).toBe(2);
    expect(blockScale([0.1 + 0.2], 0, 1)).toBe(255);
  });

  it('encodes a part of the arrays', () => {
    const [, ts, vs] = cases[0]!;
    const back = decodeSamples(encodeSamples(ts, vs, 10, 20));
    same(back.ts, ts.slice(10, 20));
    same(back.vs, vs.slice(10, 20));
  });

  it('rolls up into minute buckets and round-trips them exactly, scaled or not', () => {
    for (const [, ts, vs] of cases.slice(0, 6)) {
      const scale = blockScale(vs, 0, vs.length);
      const bs = rollUp(ts, vs, 60_000, 0, ts.length, scale);
      for (const b of bs) {
        const inB = ts.map((t, i) => [t, vs[i]!] as const).filter(([t]) => t >= b.ts && t < b.ts + 60_000);
        expect(b.count).toBe(inB.length);
        expect(b.min).toBe(Math.min(...inB.map((x) => x[1])));
        expect(b.max).toBe(Math.max(...inB.map((x) => x[1])));
        expect(b.lastTs).toBe(inB.at(-1)![0]);
        expect(Object.is(b.last, inB.at(-1)![1])).toBe(true);
        expect(b.sum).toBeCloseTo(inB.reduce((a, x) => a + x[1], 0), 6);
      }
      expect(decodeBuckets(encodeBuckets(bs))).toEqual(bs);
    }
  });

  it('round-trips journal rows (samples and latest-only values, any order)', () => {
    const e: number[] = [];
    for (let i = 0; i < 3000; i++) e.push(1 + Math.floor(r() * 50_000), t0 + Math.floor(r() * 3) * 10_000, i % 3 ? Math.round(r() * 1e4) / 100 : (r() - 0.5) * 1e9, i % 17 === 0 ? 1 : 0);
    e.push(5, t0, -0, 0, 6, -t0, 2 ** 60, 0, 7, t0, 1e-7, 0);
    const back: number[] = [];
    decodeJournal(encodeJournal(e), (...x) => back.push(...x));
    same(back, e);
    // A collection round: consecutive series, one timestamp, two-decimal values: ~4 bytes a point.
    const round: number[] = [];
    for (let s = 1; s <= 20_000; s++) round.push(s, t0, Math.round(r() * 10_000) / 100, 0);
    expect(encodeJournal(round).length).toBeLessThan(20_000 * 4.2);
  });
});
