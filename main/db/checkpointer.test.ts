import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers';
import { DB_FILE, openDatabase, type OpenedDatabase } from './open';

let dir: { path: string; cleanup(): void };
let opened: OpenedDatabase | undefined;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  opened?.close();
  opened = undefined;
  dir.cleanup();
});

const wal = () => join(dir.path, `${DB_FILE}-wal`);
const walBytes = () => (existsSync(wal()) ? statSync(wal()).size : 0);
/** A table and a transaction that writes ~`kib` KiB of fresh pages into it. */
function writer(o: OpenedDatabase) {
  o.db.exec('CREATE TABLE IF NOT EXISTS blob_rows (id INTEGER PRIMARY KEY, b BLOB NOT NULL)');
  const ins = o.db.prepare('INSERT INTO blob_rows (b) VALUES (randomblob(3000))');
  const read = o.db.prepare('SELECT count(*) AS n FROM blob_rows');
  // Reads first, then writes: the shape that gets SQLITE_BUSY at once if another connection holds the writer's lock.
  return (kib: number) => o.db.transaction(() => {
    read.get();
    for (let i = 0; i < kib / 3; i++) ins.run();
  })();
}
async function until(what: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

describe('WAL checkpointer thread', () => {
  it('copies the WAL into the database off the main thread, and the WAL starts over instead of growing', async () => {
    opened = openDatabase(dir.path, 't', undefined, { checkpointer: { intervalMs: 20 } });
    const o = opened;
    expect(o.checkpointer).not.toBeNull();
    // The main connection checkpoints only as a fallback, at 64 MiB instead of SQLite's 4 MiB.
    expect(o.db.pragma('wal_autocheckpoint', { simple: true })).toBe(16_384);
    const write = writer(o);
    let largest = 0;
    for (let round = 0; round < 12; round++) {
      write(4096); // 4 MiB: each round alone would have triggered SQLite's own checkpoint in this COMMIT
      largest = Math.max(largest, walBytes());
      const copies = o.checkpointer!.stats().copies;
      await until(() => o.checkpointer!.stats().copies > copies);
    }
    const s = o.checkpointer!.stats();
    expect(s.copies).toBeGreaterThanOrEqual(12);
    expect(s.copiedFrames).toBe(s.walFrames);
    // 48 MiB written in all; the WAL was reused from its start after each copy (no more than a round or two in it).
    expect(largest).toBeLessThan(12 * 1024 * 1024);
  });

  it('never makes a main-thread transaction fail, even one that reads and then writes while it copies', async () => {
    opened = openDatabase(dir.path, 't', undefined, { checkpointer: { intervalMs: 1 } });
    const o = opened;
    const write = writer(o);
    const started = o.checkpointer!.stats().copies;
    for (let i = 0; i < 300; i++) {
      write(96);
      if (i % 20 === 0) await sleep(2);
    }
    expect(o.checkpointer!.stats().copies).toBeGreaterThan(started);
    expect(o.db.prepare('SELECT count(*) AS n FROM blob_rows').get()).toEqual({ n: 300 * 32 });
  });

  it('closes with the database: the worker lets go first, so the last connection removes the WAL, and nothing is lost', () => {
    opened = openDatabase(dir.path, 't', undefined, { checkpointer: { intervalMs: 60_000 } });
    writer(opened)(2048);
    expect(walBytes()).toBeGreaterThan(2 * 1024 * 1024);
    opened.close();
    opened = undefined;
    expect(existsSync(wal())).toBe(false);
    opened = openDatabase(dir.path, 't', undefined, { checkpointer: false });
    expect(opened.checkpointer).toBeNull();
    expect(opened.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(opened.db.prepare('SELECT count(*) AS n FROM blob_rows').get()).toEqual({ n: Math.ceil(2048 / 3) });
  });
});
