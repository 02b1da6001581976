// Shared helpers of the benchmark suite: medians over repeated runs, one JSON line per result, a readable table.
// A benchmark measures and reports; it never fails on a time.
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export class Recorder {
  constructor() {
    this.results = [];
  }
  /** { bench, metric, value, unit, peer?, peerValue?, ratio?, target?, runs? } */
  add(r) {
    const rec = { ...r, value: round(r.value, 2) };
    if (rec.peerValue !== undefined) rec.peerValue = round(rec.peerValue, 2);
    if (rec.ratio !== undefined) rec.ratio = round(rec.ratio, 3);
    this.results.push(rec);
    process.stdout.write(JSON.stringify(rec) + '\n');
  }
  table() {
    const rows = this.results.map((r) => [r.bench, r.metric, `${r.value} ${r.unit}`, r.peer ? `${r.peer}: ${r.peerValue} ${r.unit}` : '', r.ratio ?? '', r.target ?? '']);
    const head = ['bench', 'metric', 'value', 'peer', 'ratio', 'target'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  }
}
