/**
 * The rows behind a virtual list: `total` comes with the first page, the other pages are fetched as the visible range
 * reaches them, a few at a time, nearest first, and far-away pages are evicted so memory stays bounded at any total.
 * Every answer is tagged with the generation of the query it belongs to: an answer to an older query (the sort or a
 * filter changed meanwhile) is dropped, never shown. Framework-free, so it is tested in Node.
 */
export interface PageResult<T> {
  items: T[];
  total: number;
}
export type PageFetcher<T> = (offset: number, limit: number) => Promise<PageResult<T>>;

export interface RowCacheOptions<T> {
  fetch: PageFetcher<T>;
  pageSize?: number;
  /** Pages kept at most (the rest are evicted, farthest from the visible range first). */
  maxPages?: number;
  /** Requests in flight at most. */
  maxConcurrent?: number;
  /** Rows beyond the visible range that are fetched ahead. */
  overscan?: number;
  /** Called after anything visible changed (a page arrived, the total changed, an error). */
  onChange?: () => void;
  /** A failed page is not asked again before this many ms. */
  retryAfterMs?: number;
}

export class RowCache<T> {
  readonly pageSize: number;
  total = 0;
  /** The first page of the current query has arrived. */
  loaded = false;
  /** The last error of the current query (cleared by the next success). */
  error: unknown = null;
  /** Bumped on every change: a view keyed on it re-renders. */
  version = 0;

  private fetcher: PageFetcher<T>;
  private readonly maxPages: number;
  private readonly maxConcurrent: number;
  private readonly overscan: number;
  private readonly retryAfterMs: number;
  private readonly onChange: () => void;
  private pages = new Map<number, T[]>();
  private inflight = new Set<number>();
  private failed = new Map<number, number>();
  private queue: number[] = [];
  private gen = 0;
  private visible = { start: 0, end: 0 };
  private refreshing = false;

  constructor(opts: RowCacheOptions<T>) {
    this.fetcher = opts.fetch;
    this.pageSize = opts.pageSize ?? 200;
    this.maxPages = Math.max(2, opts.maxPages ?? 60);
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? 2);
    this.overscan = opts.overscan ?? 40;
    this.retryAfterMs = opts.retryAfterMs ?? 3000;
    this.onChange = opts.onChange ?? (() => {});
  }

  /** The current generation (changes with every reset). */
  get generation(): number {
    return this.gen;
  }

  /** How many pages are held now. */
  get pageCount(): number {
    return this.pages.size;
  }

  /** Whether any page is being fetched. */
  get busy(): boolean {
    return this.inflight.size > 0 || this.refreshing;
  }

  row(index: number): T | undefined {
    if (index < 0 || index >= this.total) return undefined;
    const page = this.pages.get(Math.floor(index / this.pageSize));
    return page?.[index % this.pageSize];
  }

  /** Every row held now, in index order (for "select what is loaded"). */
  loadedRows(): T[] {
    return [...this.pages.keys()].sort((a, b) => a - b).flatMap((p) => this.pages.get(p)!);
  }

  /** A new query (or a new fetcher for one): forgets everything and loads the first page. */
  async reset(fetch?: PageFetcher<T>): Promise<void> {
    if (fetch) this.fetcher = fetch;
    const gen = ++this.gen;
    this.pages.clear();
    this.inflight.clear();
    this.failed.clear();
    this.queue = [];
    this.total = 0;
    this.loaded = false;
    this.error = null;
    this.refreshing = false;
    this.visible = { start: 0, end: 0 };
    this.changed();
    this.inflight.add(0);
    try {
      const res = await this.fetcher(0, this.pageSize);
      if (gen !== this.gen) return;
      this.inflight.delete(0);
      this.pages.set(0, res.items);
      this.total = res.total;
      this.loaded = true;
      this.error = null;
      this.changed();
      this.schedule();
    } catch (e) {
      if (gen !== this.gen) return;
      this.inflight.delete(0);
      this.failed.set(0, Date.now());
      this.error = e;
      this.loaded = true;
      this.changed();
      throw e;
    }
  }

  /** The rows on screen now (inclusive): missing pages around them are fetched, nearest first. */
  setVisible(start: number, end: number): void {
    this.visible = { start: Math.max(0, start), end: Math.max(start, end) };
    this.schedule();
  }

  /**
   * The data changed on the server: refetches the pages on screen under a new generation and swaps them in at once
   * when they have all arrived (what is shown meanwhile stays), then drops the others.
   */
  async refresh(): Promise<void> {
    if (!this.loaded) return this.reset();
    const gen = ++this.gen;
    this.queue = [];
    this.inflight.clear();
    this.failed.clear();
    this.refreshing = true;
    const wanted = this.pagesFor(this.visible.start, this.visible.end, 0);
    if (wanted.length === 0) wanted.push(0);
    try {
      const results = await Promise.all(wanted.map((p) => this.fetcher(p * this.pageSize, this.pageSize).then((r) => [p, r] as const)));
      if (gen !== this.gen) return;
      this.pages = new Map(results.map(([p, r]) => [p, r.items]));
      this.total = results[results.length - 1]![1].total;
      this.error = null;
    } catch (e) {
      if (gen !== this.gen) return;
      this.error = e;
    } finally {
      if (gen === this.gen) this.refreshing = false;
    }
    this.changed();
    this.schedule();
  }

  private changed(): void {
    this.version++;
    this.onChange();
  }

  private pagesFor(start: number, end: number, overscan: number): number[] {
    if (this.total === 0) return [];
    const last = Math.ceil(this.total / this.pageSize) - 1;
    const from = Math.max(0, Math.floor((start - overscan) / this.pageSize));
    const to = Math.min(last, Math.floor((end + overscan) / this.pageSize));
    const out: number[] = [];
    for (let p = from; p <= to; p++) out.push(p);
    return out;
  }

  private distance(p: number): number {
    const mid = (this.visible.start + this.visible.end) / 2;
    return Math.abs(p * this.pageSize + this.pageSize / 2 - mid);
  }

  private schedule(): void {
    if (!this.loaded || this.refreshing) return;
    const now = Date.now();
    const wanted = this.pagesFor(this.visible.start, this.visible.end, this.overscan).filter(
      (p) => !this.pages.has(p) && !this.inflight.has(p) && now - (this.failed.get(p) ?? -Infinity) >= this.retryAfterMs,
    );
    // Only what is near the screen now: pages scrolled past while they waited are not fetched at all.
    this.queue = wanted.sort((a, b) => this.distance(a) - this.distance(b));
    this.pump();
  }

  private pump(): void {
    while (this.inflight.size < this.maxConcurrent && this.queue.length > 0) {
      void this.load(this.queue.shift()!);
    }
  }

  private async load(p: number): Promise<void> {
    const gen = this.gen;
    this.inflight.add(p);
    try {
      const res = await this.fetcher(p * this.pageSize, this.pageSize);
      if (gen !== this.gen) return;
      this.inflight.delete(p);
      this.failed.delete(p);
      this.pages.set(p, res.items);
      this.total = res.total;
      this.error = null;
      this.evict();
      this.changed();
    } catch (e) {
      if (gen !== this.gen) return;
      this.inflight.delete(p);
      this.failed.set(p, Date.now());
      this.error = e;
      this.changed();
    }
    this.schedule();
  }

  private evict(): void {
    if (this.pages.size <= this.maxPages) return;
    const keep = new Set(this.pagesFor(this.visible.start, this.visible.end, this.overscan));
    const victims = [...this.pages.keys()].filter((p) => !keep.has(p)).sort((a, b) => this.distance(b) - this.distance(a));
    while (this.pages.size > this.maxPages && victims.length) this.pages.delete(victims.shift()!);
  }
}

/** A placeholder row: `id` is unique per index so keyed rendering stays stable while pages load. */
export interface PlaceholderRow {
  id: string;
  __placeholder: true;
  __index: number;
}

export function isPlaceholder(row: unknown): row is PlaceholderRow {
  return typeof row === 'object' && row !== null && (row as { __placeholder?: unknown }).__placeholder === true;
}

/**
 * An array-like view of `total` rows for the virtual table, without materialising them: index `i` reads the cache,
 * or a placeholder while its page loads. A new view per cache version makes the table re-render.
 */
export function rowsView<T>(cache: RowCache<T>): (T | PlaceholderRow)[] {
  const placeholders = new Map<number, PlaceholderRow>();
  const target = new Array<T | PlaceholderRow>(cache.total);
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'string') {
        const c = prop.charCodeAt(0);
        if (c >= 48 && c <= 57) {
          const i = Number(prop);
          const row = cache.row(i);
          if (row !== undefined) return row;
          if (i >= cache.total) return undefined;
          let ph = placeholders.get(i);
          if (!ph) {
            ph = { id: `\u0000${i}`, __placeholder: true, __index: i };
            placeholders.set(i, ph);
          }
          return ph;
        }
      }
      return Reflect.get(t, prop, receiver);
    },
  });
}
