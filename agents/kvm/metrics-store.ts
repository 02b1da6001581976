import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MetricSample } from '@shared/agent/protocol';
import type { Logger } from './log';

/**
 * The metrics ring: the newest `capacity` samples in memory, mirrored to an NDJSON file so that they outlive an agent
 * restart. Each tick's samples are appended to the file; once it holds about twice the ring, it is rewritten from the
 * ring (temp file + rename, so a crash leaves the old or the new file, never half of one).
 *
 * Sequence numbers only grow (the next one continues from the file after a restart); a reader passes the last one it
 * has, and `dropped` tells how many after it were overwritten before it came back. A reader whose afterSeq is beyond
 * lastSeq has a different agent's numbers (state directory wiped) and should start again from 0.
 */
export interface MetricsRead {
  samples: MetricSample[];
  lastSeq: number;
  dropped: number;
}

export class MetricsStore {
  private readonly ring: (MetricSample | undefined)[];
  private head = 0; // index of the oldest sample
  private count = 0;
  private lastSeq = 0;
  private fileLines = 0;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly o: { file: string; capacity: number; log: Logger }) {
    if (!Number.isInteger(o.capacity) || o.capacity < 1) throw new Error('metrics capacity must be a positive integer');
    this.ring = new Array<MetricSample | undefined>(o.capacity);
  }

  /** Reads what a previous run left (a torn last line from a crash is skipped). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.o.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log.warn('metrics file unreadable; starting empty', { error: (e as Error).message });
      return;
    }
    const lines = text.split('\n');
    this.fileLines = 0;
    for (const line of lines) {
      if (!line) continue;
      this.fileLines++;
      try {
        const s = JSON.parse(line) as MetricSample;
        if (typeof s.seq === 'number' && s.seq > this.lastSeq && typeof s.ts === 'number' && typeof s.scope === 'string' && s.values && typeof s.values === 'object') this.push(s);
      } catch {
        // torn write
      }
    }
    if (this.fileLines > this.count * 2 + 100) await this.compact();
  }

  get seq(): number {
    return this.lastSeq;
  }

  get size(): number {
    return this.count;
  }

  private push(s: MetricSample): void {
    const tail = (this.head + this.count) % this.o.capacity;
    this.ring[tail] = s;
    if (this.count < this.o.capacity) this.count++;
    else this.head = (this.head + 1) % this.o.capacity;
    this.lastSeq = s.seq;
  }

  private at(i: number): MetricSample {
    return this.ring[(this.head + i) % this.o.capacity] as MetricSample;
  }

  /** Numbers and stores samples taken together, and queues them for the file. */
  append(batch: Omit<MetricSample, 'seq'>[]): MetricSample[] {
    const stored: MetricSample[] = [];
    for (const b of batch) {
      const s = { seq: this.lastSeq + 1, ...b };
      this.push(s);
      stored.push(s);
    }
    if (stored.length) {
      const text = stored.map((s) => JSON.stringify(s)).join('\n') + '\n';
      this.enqueue(async () => {
        await mkdir(dirname(this.o.file), { recursive: true, mode: 0o700 });
        await appendFile(this.o.file, text);
        this.fileLines += stored.length;
        if (this.fileLines >= this.o.capacity * 2 + 100) await this.compact();
      });
    }
    return stored;
  }

  read(afterSeq: number, limit: number): MetricsRead {
    if (this.count === 0) return { samples: [], lastSeq: this.lastSeq, dropped: Math.max(0, this.lastSeq - afterSeq) };
    const first = this.at(0).seq;
    const dropped = Math.max(0, first - afterSeq - 1);
    // Binary search for the first sample with seq > afterSeq (seqs grow along the ring).
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    const samples: MetricSample[] = [];
    for (let i = lo; i < this.count && samples.length < limit; i++) samples.push(this.at(i));
    return { samples, lastSeq: this.lastSeq, dropped };
  }

  /** Waits for queued file writes (on shutdown). */
  flush(): Promise<void> {
    return this.writes;
  }

  private enqueue(op: () => Promise<void>): void {
    this.writes = this.writes.then(op).catch((e: Error) => this.o.log.warn('metrics file write failed', { error: e.message }));
  }

  private async compact(): Promise<void> {
    const lines: string[] = [];
    for (let i = 0; i < this.count; i++) lines.push(JSON.stringify(this.at(i)));
    const tmp = `${this.o.file}.tmp`;
    await mkdir(dirname(this.o.file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, lines.length ? `${lines.join('\n')}\n` : '');
    await rename(tmp, this.o.file);
    this.fileLines = lines.length;
  }
}
