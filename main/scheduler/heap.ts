/**
 * A binary max-heap of host indexes by score (ties: the lower index, i.e. the host listed first). Each entry carries
 * the epoch it was scored in, so the batch knows when a shared resource changed since and the host must be checked again.
 */
export class ScoreHeap {
  private readonly score: number[] = [];
  private readonly host: number[] = [];
  private readonly epoch: number[] = [];

  get size(): number {
    return this.score.length;
  }

  push(score: number, host: number, epoch: number): void {
    this.score.push(score);
    this.host.push(host);
    this.epoch.push(epoch);
    this.up(this.score.length - 1);
  }

  /** The best entry's score, or -Infinity when empty. */
  peekScore(): number {
    return this.score.length ? this.score[0]! : -Infinity;
  }

  /** Removes the best entry; answers [score, host, epoch], or null when empty. */
  pop(): [number, number, number] | null {
    const n = this.score.length;
    if (!n) return null;
    const top: [number, number, number] = [this.score[0]!, this.host[0]!, this.epoch[0]!];
    const ls = this.score.pop()!;
    const lh = this.host.pop()!;
    const le = this.epoch.pop()!;
    if (n > 1) {
      this.score[0] = ls;
      this.host[0] = lh;
      this.epoch[0] = le;
      this.down(0);
    }
    return top;
  }

  private better(a: number, b: number): boolean {
    const sa = this.score[a]!;
    const sb = this.score[b]!;
    return sa > sb || (sa === sb && this.host[a]! < this.host[b]!);
  }

  private swap(a: number, b: number): void {
    const s = this.score[a]!;
    this.score[a] = this.score[b]!;
    this.score[b] = s;
    const h = this.host[a]!;
    this.host[a] = this.host[b]!;
    this.host[b] = h;
    const e = this.epoch[a]!;
    this.epoch[a] = this.epoch[b]!;
    this.epoch[b] = e;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.score.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.better(l, m)) m = l;
      if (r < n && this.better(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
