import { describe, expect, it } from 'vitest';
import { RowCache, isPlaceholder, rowsView, type PageResult } from './row-cache';

interface R {
  id: string;
  n: number;
}

/** A fake server of `total` rows; records every request; answers when told. */
function server(total: number) {
  const calls: { offset: number; limit: number; resolve: () => void }[] = [];
  let rows = Array.from({ length: total }, (_, n) => ({ id: `r${n}`, n }));
  return {
    calls,
    setRows(n: number) {
      rows = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, n: i }));
    },
    fetch: (offset: number, limit: number) =>
      new Promise<PageResult<R>>((resolve) => {
        const snapshot = rows;
        calls.push({ offset, limit, resolve: () => resolve({ items: snapshot.slice(offset, offset + limit), total: snapshot.length }) });
      }),
    async answerAll() {
      while (calls.some((c) => c.resolve)) {
        for (const c of calls.splice(0)) c.resolve();
        await new Promise((r) => setTimeout(r, 0));
      }
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('RowCache', () => {
  it('learns the total from the first page and fetches further pages only as they come into view', async () => {
    const s = server(100_000);
    const cache = new RowCache<R>({ fetch: s.fetch, pageSize: 200, overscan: 0 });
    const done = cache.reset();
    expect(s.calls.map((c) => c.offset)).toEqual([0]);
    s.calls.shift()!.resolve();
    await done;
    expect(cache.total).toBe(100_000);
    expect(cache.row(5)).toEqual({ id: 'r5', n: 5 });
    expect(cache.row(250)).toBeUndefined();

    cache.setVisible(50_000, 50_020);
    expect(s.calls.map((c) => c.offset)).toEqual([50_000 - (50_000 % 200)]);
    await s.answerAll();
    expect(cache.row(50_010)).toEqual({ id: 'r50010', n: 50_010 });
  });

  it('fetches only what is near the screen when the user scrolls past pages quickly', async () => {
    const s = server(100_000);
    const cache = new RowCache<R>({ fetch: s.fetch, pageSize: 200, overscan: 0, maxConcurrent: 2 });
    const done = cache.reset();
    await s.answerAll();
    await done;
    for (let start = 1000; start < 90_000; start += 1000) cache.setVisible(start, start + 20);
    // Two requests in flight from the first positions, then only the last position's page.
    const offsets = s.calls.map((c) => c.offset);
    expect(offsets.length).toBe(2);
    await s.answerAll();
    expect(cache.row(89_005)).toBeDefined();
    expect(cache.pageCount).toBeLessThan(6);
  });

  it('drops an answer that belongs to a query that has changed since', async () => {
    const s = server(1000);
    const cache = new RowCache<R>({ fetch: s.fetch, pageSize: 100 });
    const first = cache.reset();
    const stale = s.calls.shift()!;
    const other = server(5);
    const second = cache.reset(other.fetch);
    other.calls.shift()!.resolve();
    await second;
    stale.resolve();
    await first;
    await tick();
    expect(cache.total).toBe(5);
    expect(cache.row(0)).toEqual({ id: 'r0', n: 0 });
  });

  it('keeps memory bounded by evicting pages far from the screen', async () => {
    const s = server(100_000);
    const cache = new RowCache<R>({ fetch: s.fetch, pageSize: 100, maxPages: 5, overscan: 0, maxConcurrent: 1 });
    const done = cache.reset();
    await s.answerAll();
    await done;
    for (let p = 1; p < 30; p++) {
      cache.setVisible(p * 100, p * 100 + 10);
      await s.answerAll();
    }
    expect(cache.pageCount).toBeLessThanOrEqual(5);
    expect(cache.row(2905)).toBeDefined();
    expect(cache.row(5)).toBeUndefined();
  });

  it('refresh keeps what is shown until the new pages have arrived, then swaps them in at once', async () => {
    const s = server(1000);
    const cache = new RowCache<R>({ fetch: s.fetch, pageSize: 100, overscan: 0 });
    const done = cache.reset();
    await s.answerAll();
    await done;
    cache.setVisible(0, 20);
    s.setRows(500);
    const r = cache.refresh();
    expect(cache.total).toBe(1000);
    expect(cache.row(3)).toBeDefined();
    await s.answerAll();
    await r;
    expect(cache.total).toBe(500);
  });

  it('remembers a failed page and does not hammer the server for it', async () => {
    let fail = true;
    let n = 0;
    const cache = new RowCache<R>({
      pageSize: 10,
      overscan: 0,
      retryAfterMs: 60_000,
      fetch: async (offset, limit) => {
        n++;
        if (offset > 0 && fail) throw new Error('boom');
        return { items: Array.from({ length: limit }, (_, i) => ({ id: `r${offset + i}`, n: offset + i })), total: 100 };
      },
    });
    await cache.reset();
    cache.setVisible(50, 55);
    await tick();
    expect(cache.error).toBeInstanceOf(Error);
    cache.setVisible(50, 56);
    cache.setVisible(50, 57);
    await tick();
    expect(n).toBe(2);
    fail = false;
  });
});

describe('rowsView', () => {
  it('is an array of `total` rows that reads loaded rows and placeholders without materialising them', async () => {
    const cache = new RowCache<R>({ pageSize: 10, fetch: async () => ({ items: Array.from({ length: 10 }, (_, n) => ({ id: `r${n}`, n })), total: 1_000_000 }) });
    await cache.reset();
    const view = rowsView(cache);
    expect(Array.isArray(view)).toBe(true);
    expect(view.length).toBe(1_000_000);
    expect(view[3]).toEqual({ id: 'r3', n: 3 });
    const ph = view[500_000];
    expect(isPlaceholder(ph)).toBe(true);
    expect(ph!.id).not.toBe(view[500_001]!.id);
    expect(view[500_000]).toBe(ph);
    expect(view[2_000_000]).toBeUndefined();
  });
});
