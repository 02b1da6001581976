/**
 * The metrics block codec (main/monitoring/store.ts): a series' samples as one compact byte string, in the spirit of
 * Gorilla and VictoriaMetrics but byte- rather than bit-aligned, so that it stays small and fast in plain TypeScript.
 *
 * - Timestamps (integer Unix ms, strictly increasing): the first one, the first delta, then delta-of-deltas as zigzag
 *   varints, a run of zero delta-of-deltas (regular sampling) written as one token — a 360-sample regular block costs a
 *   few bytes of timestamps.
 * - Values: if every value of the block is a decimal of at most 6 places that round-trips exactly (k / 10^d === v,
 *   which is how gauges like 53.27 or byte counts arrive), the scaled integers k as zigzag-varint deltas, zero-delta runs
 *   as one token (constant metrics cost nothing); otherwise the float64 XOR of each value with the previous one, byte
 *   aligned (a header byte of leading / trailing zero bytes, then the bytes between).
 * - 1-minute rollups (min, max, sum, count, last and the last one's timestamp) per bucket, in the same scaled-integer
 *   form where it is exact, floats otherwise.
 * Decoding gives back exactly the doubles that were encoded (tested, -0 and subnormals included).
 */

const TWO52 = 2 ** 52;
const MAX_SCALE = 6;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
const FLOAT_MODE = 255;

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;
  constructor(size = 256) {
    this.buf = new Uint8Array(size);
  }
  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }
  byte(b: number): void {
    this.grow(1);
    this.buf[this.pos++] = b;
  }
  /** An unsigned integer up to 2^53. */
  uvarint(n: number): void {
    this.grow(8);
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  /** A signed safe integer, zigzag. */
  svarint(n: number): void {
    this.uvarint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  f64(x: number): void {
    this.grow(8);
    F64[0] = x;
    this.buf.set(F64B, this.pos);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  finish(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}

export class ByteReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('metrics codec: truncated data');
    return this.buf[this.pos++]!;
  }
  uvarint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 127) * mul;
      if (b < 128) return n;
      mul *= 128;
    }
  }
  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new Error('metrics codec: truncated data');
    for (let i = 0; i < 8; i++) F64B[i] = this.buf[this.pos + i]!;
    this.pos += 8;
    return F64[0]!;
  }
}

const F64 = new Float64Array(1);
const F64B = new Uint8Array(F64.buffer);
const PREV = new Uint8Array(8);

/** The fewest decimal places (≤ 6) at which v round-trips exactly as k / 10^d, starting the search at `from`; 7: none. */
export function decimalScale(v: number, from = 0): number {
  if (Object.is(v, -0)) return MAX_SCALE + 1;
  for (let d = from; d <= MAX_SCALE; d++) {
    const p = POW10[d]!;
    const k = Math.round(v * p);
    if (Math.abs(k) < TWO52 / 2 && k / p === v) return d;
  }
  return MAX_SCALE + 1;
}

/** Signed integers with runs of zeros as one token (0, run length - 1); a non-zero n as zigzag(n) ≥ 1. */
function writeRuns(w: ByteWriter, xs: ArrayLike<number>, from: number, to: number): void {
  let i = from;
  while (i < to) {
    const x = xs[i]!;
    if (x === 0) {
      let j = i + 1;
      while (j < to && xs[j] === 0) j++;
      w.uvarint(0);
      w.uvarint(j - i - 1);
      i = j;
    } else {
      w.svarint(x);
      i++;
    }
  }
}

function readRuns(r: ByteReader, n: number, out: (x: number) => void): void {
  let i = 0;
  while (i < n) {
    const z = r.uvarint();
    if (z === 0) {
      const run = r.uvarint() + 1;
      for (let k = 0; k < run; k++) out(0);
      i += run;
    } else {
      out(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
      i++;
    }
  }
}

const POW2 = Array.from({ length: 54 }, (_, i) => 2 ** i);
let SCRATCH_INIT: ByteWriter | null = null;
/** A reused buffer for the varint form of a column while it is compared with the packed one. */
const scratch = (): ByteWriter => (SCRATCH_INIT ??= new ByteWriter(4096));

/**
 * A column of signed integers, whichever is shorter: zigzag varints with zero runs (mode byte 255) or every value's
 * zigzag bit-packed at the column's width (mode byte = the width, 0 for a column of zeros).
 */
export function writeInts(w: ByteWriter, xs: ArrayLike<number>, from = 0, to = xs.length): void {
  let maxZ = 0;
  for (let i = from; i < to; i++) {
    const x = xs[i]!;
    const z = x >= 0 ? x * 2 : -x * 2 - 1;
    if (z > maxZ) maxZ = z;
  }
  let width = 0;
  while (width < 54 && POW2[width]! <= maxZ) width++;
  const packed = Math.ceil(((to - from) * width) / 8);
  const runs = scratch();
  runs.pos = 0;
  writeRuns(runs, xs, from, to);
  if (width > 52 || runs.pos <= packed) {
    w.byte(255);
    w.bytes(runs.buf.subarray(0, runs.pos));
    return;
  }
  w.byte(width);
  if (width === 0) return;
  let acc = 0;
  let accBits = 0;
  for (let i = from; i < to; i++) {
    const x = xs[i]!;
    let z = x >= 0 ? x * 2 : -x * 2 - 1;
    let rem = width;
    while (rem > 0) {
      const take = Math.min(8 - accBits, rem);
      const part = z % POW2[take]!;
      acc |= part << accBits;
      accBits += take;
      z = (z - part) / POW2[take]!;
      rem -= take;
      if (accBits === 8) {
        w.byte(acc);
        acc = 0;
        accBits = 0;
      }
    }
  }
  if (accBits) w.byte(acc);
}

export function readInts(r: ByteReader, n: number, out: (x: number) => void): void {
  const width = r.byte();
  if (width === 255) return readRuns(r, n, out);
  if (width > 53) throw new Error(`metrics codec: bad column width ${width}`);
  let acc = 0;
  let accBits = 0;
  for (let i = 0; i < n; i++) {
    let z = 0;
    let got = 0;
    while (got < width) {
      if (accBits === 0) {
        acc = r.byte();
        accBits = 8;
      }
      const take = Math.min(accBits, width - got);
      z += (acc & (POW2[take]! - 1)) * POW2[got]!;
      acc >>= take;
      accBits -= take;
      got += take;
    }
    out(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
  }
}

/** The scale every value of vs[from, to) is exact at (0–6), or 255 (none: floats). */
export function blockScale(vs: ArrayLike<number>, from: number, to: number): number {
  let d = 0;
  for (let i = from; i < to; i++) {
    const v = vs[i]!;
    const p = POW10[d]!;
    const k = Math.round(v * p);
    if (k / p === v && Math.abs(k) < TWO52 / 2 && !Object.is(v, -0)) continue;
    d = decimalScale(v, d + 1);
    if (d > MAX_SCALE) return FLOAT_MODE;
  }
  // Exact at the block's scale too (a value exact at fewer places is exact at more; checked, not assumed).
  const p = POW10[d]!;
  for (let i = from; i < to; i++) if (Math.round(vs[i]! * p) / p !== vs[i]) return FLOAT_MODE;
  return d;
}

function writeValues(w: ByteWriter, vs: ArrayLike<number>, from: number, to: number, scale?: number): void {
  const mode = scale ?? blockScale(vs, from, to);
  w.byte(mode);
  if (mode !== FLOAT_MODE) {
    const p = POW10[mode]!;
    const deltas = new Float64Array(to - from);
    let prev = Math.round(vs[from]! * p);
    w.svarint(prev);
    for (let i = from + 1; i < to; i++) {
      const k = Math.round(vs[i]! * p);
      deltas[i - from] = k - prev;
      prev = k;
    }
    writeInts(w, deltas, 1, deltas.length);
    return;
  }
  PREV.fill(0);
  for (let i = from; i < to; i++) {
    F64[0] = vs[i]!;
    let lead = 0;
    while (lead < 8 && (F64B[7 - lead]! ^ PREV[7 - lead]!) === 0) lead++;
    if (lead === 8) {
      w.byte(0x80);
      continue;
    }
    let trail = 0;
    while ((F64B[trail]! ^ PREV[trail]!) === 0) trail++;
    w.byte((lead << 4) | trail);
    for (let b = trail; b < 8 - lead; b++) w.byte(F64B[b]! ^ PREV[b]!);
    PREV.set(F64B);
  }
}

function readValues(r: ByteReader, n: number, out: Float64Array): void {
  const mode = r.byte();
  if (mode !== FLOAT_MODE) {
    if (mode > MAX_SCALE) throw new Error(`metrics codec: unknown value mode ${mode}`);
    const p = POW10[mode]!;
    let k = r.svarint();
    out[0] = k / p;
    let i = 1;
    readInts(r, n - 1, (d) => {
      k += d;
      out[i++] = k / p;
    });
    return;
  }
  PREV.fill(0);
  for (let i = 0; i < n; i++) {
    const h = r.byte();
    if (h !== 0x80) {
      const lead = h >> 4;
      const trail = h & 15;
      for (let b = trail; b < 8 - lead; b++) PREV[b]! ^= r.byte();
    }
    F64B.set(PREV);
    out[i] = F64[0]!;
  }
}

/** Encodes samples i in [from, to) (timestamps integer and strictly increasing). */
/** `base`: a time the reader knows (the block's key), so the first timestamp costs a byte. */
export function encodeSamples(ts: ArrayLike<number>, vs: ArrayLike<number>, from = 0, to = ts.length, scale?: number, base = 0): Buffer {
  const n = to - from;
  const w = new ByteWriter(16 + n * 3);
  w.uvarint(n);
  if (n === 0) return w.finish();
  w.svarint(ts[from]! - base);
  if (n > 1) {
    w.uvarint(ts[from + 1]! - ts[from]!);
    const dods = new Float64Array(n - 2);
    for (let i = from + 2; i < to; i++) dods[i - from - 2] = ts[i]! - ts[i - 1]! - (ts[i - 1]! - ts[i - 2]!);
    writeInts(w, dods, 0, dods.length);
  }
  writeValues(w, vs, from, to, scale);
  return w.finish();
}

export interface Samples {
  ts: Float64Array;
  vs: Float64Array;
}

export function decodeSamples(buf: Uint8Array, base = 0): Samples {
  const r = new ByteReader(buf);
  const n = r.uvarint();
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  if (n === 0) return { ts, vs };
  ts[0] = base + r.svarint();
  if (n > 1) {
    let delta = r.uvarint();
    ts[1] = ts[0]! + delta;
    let i = 2;
    readInts(r, n - 2, (dod) => {
      delta += dod;
      ts[i] = ts[i - 1]! + delta;
      i++;
    });
  }
  readValues(r, n, vs);
  return { ts, vs };
}

/** One rollup bucket: values of [ts, ts + step). `last` is the value at `lastTs`, the newest sample of the bucket. */
export interface Bucket {
  ts: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  lastTs: number;
}

/**
 * Rolls samples i in [from, to) (sorted by time) up into buckets of `step` ms, in time order. With a decimal `scale`
 * (blockScale) the sums are added as scaled integers, so a bucket's sum is the exact decimal sum.
 */
export function rollUp(ts: ArrayLike<number>, vs: ArrayLike<number>, step: number, from = 0, to = ts.length, scale = FLOAT_MODE): Bucket[] {
  const out: Bucket[] = [];
  const p = scale <= MAX_SCALE ? POW10[scale]! : 1;
  const scaled = scale <= MAX_SCALE;
  let b: Bucket | null = null;
  for (let i = from; i < to; i++) {
    const t = ts[i]!;
    const v = vs[i]!;
    const add = scaled ? Math.round(v * p) : v;
    const start = t - (((t % step) + step) % step);
    if (!b || b.ts !== start) {
      if (b && scaled) b.sum /= p;
      b = { ts: start, min: v, max: v, sum: add, count: 1, last: v, lastTs: t };
      out.push(b);
      continue;
    }
    if (v < b.min) b.min = v;
    if (v > b.max) b.max = v;
    b.sum += add;
    b.count++;
    if (t >= b.lastTs) {
      b.last = v;
      b.lastTs = t;
    }
  }
  if (b && scaled) b.sum /= p;
  return out;
}

/** Merges b into a (the same bucket from two parts): exact for min, max, sum, count; last by its timestamp. */
export function mergeBucket(a: Bucket, b: Bucket): void {
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  a.sum += b.sum;
  a.count += b.count;
  if (b.lastTs >= a.lastTs) {
    a.last = b.last;
    a.lastTs = b.lastTs;
  }
}

/**
 * Encodes 1-minute buckets (sorted, minute-aligned). Scaled-integer form when min, max, last and sum are all exact at
 * one scale and small enough; floats otherwise.
 */
/** `base`: a time the reader knows (the block's key), so the first bucket's time costs a byte. */
export function encodeBuckets(bs: Bucket[], step = 60_000, base = 0): Buffer {
  const w = new ByteWriter(8 + bs.length * 12);
  w.uvarint(bs.length);
  if (!bs.length) return w.finish();
  let d = 0;
  const fit = (v: number) => {
    if (d <= MAX_SCALE && !exactAt(v, POW10[d]!)) d = decimalScale(v, d + 1);
  };
  for (const b of bs) {
    fit(b.min);
    fit(b.max);
    fit(b.last);
    fit(b.sum);
  }
  const p = d <= MAX_SCALE ? POW10[d]! : 0;
  // Integer form also needs every value exact at the final scale and the sums to stay safe integers.
  let intMode = d <= MAX_SCALE;
  for (let i = 0; intMode && i < bs.length; i++) {
    const b = bs[i]!;
    intMode = exactAt(b.min, p) && exactAt(b.max, p) && exactAt(b.last, p) && exactAt(b.sum, p) && b.min <= b.max && b.count * Math.max(Math.abs(b.min), Math.abs(b.max)) * p < TWO52 / 4;
  }
  w.byte(intMode ? d : FLOAT_MODE);
  // Columns: bucket steps, counts, where the last sample fell (against the previous bucket's), then the values.
  const n = bs.length;
  const cols = Array.from({ length: intMode ? 7 : 3 }, () => new Float64Array(n));
  let prevTs = bs[0]!.ts;
  let prevMin = intMode ? Math.round(bs[0]!.min * p) : 0;
  let prevOff = bs[0]!.ts + step - 1 - bs[0]!.lastTs;
  w.svarint(prevTs / step - Math.floor(base / step));
  w.svarint(prevMin);
  w.uvarint(prevOff);
  for (let i = 0; i < n; i++) {
    const b = bs[i]!;
    cols[0]![i] = (b.ts - prevTs) / step;
    prevTs = b.ts;
    cols[1]![i] = b.count;
    const off = b.ts + step - 1 - b.lastTs;
    cols[2]![i] = off - prevOff;
    prevOff = off;
    if (intMode) {
      const mn = Math.round(b.min * p);
      const mx = Math.round(b.max * p);
      cols[3]![i] = mn - prevMin;
      prevMin = mn;
      cols[4]![i] = mx - mn;
      cols[5]![i] = Math.round(b.last * p) - mn;
      // The sum against count × the middle of min and max: small for gauges.
      cols[6]![i] = Math.round(b.sum * p) - Math.round((b.count * (mn + mx)) / 2);
    }
  }
  for (const c of cols) writeInts(w, c);
  if (!intMode)
    for (const b of bs) {
      w.f64(b.min);
      w.f64(b.max);
      w.f64(b.last);
      w.f64(b.sum);
    }
  return w.finish();
}

const exactAt = (v: number, p: number): boolean => Math.round(v * p) / p === v && Math.abs(v * p) < TWO52 / 2 && !Object.is(v, -0);

export function decodeBuckets(buf: Uint8Array, step = 60_000, base = 0): Bucket[] {
  const r = new ByteReader(buf);
  const n = r.uvarint();
  const out: Bucket[] = new Array(n);
  if (!n) return out;
  const mode = r.byte();
  const p = mode <= MAX_SCALE ? POW10[mode]! : 0;
  const col = () => {
    const c = new Float64Array(n);
    let i = 0;
    readInts(r, n, (x) => (c[i++] = x));
    return c;
  };
  let ts = (r.svarint() + Math.floor(base / step)) * step;
  const min0 = r.svarint();
  let off = r.uvarint();
  const steps = col();
  const counts = col();
  const offs = col();
  for (let i = 0; i < n; i++) {
    ts += steps[i]! * step;
    off += offs[i]!;
    out[i] = { ts, count: counts[i]!, lastTs: ts + step - 1 - off, min: 0, max: 0, last: 0, sum: 0 };
  }
  if (mode !== FLOAT_MODE) {
    const mins = col();
    const spans = col();
    const lasts = col();
    const sums = col();
    let mn = min0;
    for (let i = 0; i < n; i++) {
      mn += mins[i]!;
      const mx = mn + spans[i]!;
      const b = out[i]!;
      b.min = mn / p;
      b.max = mx / p;
      b.last = (mn + lasts[i]!) / p;
      b.sum = (Math.round((b.count * (mn + mx)) / 2) + sums[i]!) / p;
    }
  } else {
    for (const b of out) {
      b.min = r.f64();
      b.max = r.f64();
      b.last = r.f64();
      b.sum = r.f64();
    }
  }
  return out;
}

/**
 * A journal row: what one transaction added, as flat [seriesId, ts, value, flag] quadruples (flag 0: a sample, 1: a
 * latest value only, e.g. a counter's running total). Series ids as zigzag deltas with two flag bits (timestamp
 * changed, latest only), timestamps as deltas only when they change, each value as a scaled decimal with its scale in
 * three bits or, when no scale ≤ 6 is exact, a float64: ~4 bytes a point for a collection round.
 */
export function encodeJournal(e: ArrayLike<number>, count = e.length): Buffer {
  const n = count / 4;
  const w = new ByteWriter(16 + n * 5);
  w.uvarint(n);
  let sid = 0;
  let ts = 0;
  let d = 0;
  for (let i = 0; i < count; i += 4) {
    const s = e[i]!;
    const t = e[i + 1]!;
    const v = e[i + 2]!;
    const dz = s - sid;
    w.uvarint((dz >= 0 ? dz * 2 : -dz * 2 - 1) * 4 + (t !== ts ? 2 : 0) + (e[i + 3] ? 1 : 0));
    if (t !== ts) w.svarint(t - ts);
    sid = s;
    ts = t;
    let p = POW10[d]!;
    let k = Math.round(v * p);
    if (!(k / p === v && Math.abs(k) < 2 ** 47 && !Object.is(v, -0))) {
      d = decimalScale(v);
      if (d <= MAX_SCALE) {
        p = POW10[d]!;
        k = Math.round(v * p);
        if (Math.abs(k) >= 2 ** 47) d = MAX_SCALE + 1;
      }
    }
    if (d > MAX_SCALE) {
      w.uvarint(7);
      w.f64(v);
      d = 0;
    } else w.uvarint((k >= 0 ? k * 2 : -k * 2 - 1) * 8 + d);
  }
  return w.finish();
}

export function decodeJournal(buf: Uint8Array, out: (sid: number, ts: number, v: number, flag: number) => void): void {
  const r = new ByteReader(buf);
  const n = r.uvarint();
  let sid = 0;
  let ts = 0;
  for (let i = 0; i < n; i++) {
    const h = r.uvarint();
    const flag = h % 2;
    const tsChanged = Math.floor(h / 2) % 2;
    const z = Math.floor(h / 4);
    sid += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (tsChanged) ts += r.svarint();
    const tok = r.uvarint();
    const d = tok % 8;
    let v: number;
    if (d === 7) v = r.f64();
    else {
      const zk = Math.floor(tok / 8);
      v = (zk % 2 === 0 ? zk / 2 : -(zk + 1) / 2) / POW10[d]!;
    }
    out(sid, ts, v, flag);
  }
}
