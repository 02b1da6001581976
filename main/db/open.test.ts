import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers';
import { MIGRATIONS } from './migrations';
import { DB_FILE, openDatabase, StartupError } from './open';
import type { Migration } from './migrate';

const dirs: { cleanup(): void }[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

describe('openDatabase', () => {
  it('applies every migration in a fresh data dir, with WAL and foreign keys on', () => {
    const d = dir();
    const o = openDatabase(join(d, 'nested', 'data'), '1.0.0');
    expect(o.schemaVersion).toBe(MIGRATIONS.length);
    expect(o.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(o.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const rows = o.db.prepare('SELECT id, name, app_version FROM schema_migrations ORDER BY id').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ id: m.id, name: m.name, app_version: '1.0.0' })));
    o.close();
    // Reopening applies nothing again.
    const again = openDatabase(join(d, 'nested', 'data'), '1.0.1');
    expect(again.db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    again.close();
  });

  it('refuses a database from a newer Skydeck and leaves the file untouched', () => {
    const d = dir();
    const file = join(d, DB_FILE);
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.exec('CREATE TABLE future (x)');
    raw.close();
    const before = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    expect(() => openDatabase(d, '1.0.0')).toThrow(`newer Skydeck (schema 99; this version 1.0.0 knows up to ${MIGRATIONS.length})`);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });

  it('stops start-up on a failed migration, naming it, and keeps the earlier ones', () => {
    const d = dir();
    openDatabase(d, '1.0.0').close();
    const next = MIGRATIONS.length + 1;
    const broken: Migration = { id: next, name: 'broken', up: (db) => db.exec('CREATE TABLE ok_part (x); SELECT * FROM no_such_table') };
    expect(() => openDatabase(d, '1.1.0', [...MIGRATIONS, broken])).toThrow(StartupError);
    expect(() => openDatabase(d, '1.1.0', [...MIGRATIONS, broken])).toThrow(`migration ${String(next).padStart(4, '0')}_broken failed: no such table: no_such_table`);
    const db = new Database(join(d, DB_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'ok_part'`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a data directory it cannot create or write', () => {
    const d = dir();
    writeFileSync(join(d, 'a-file'), 'x');
    expect(() => openDatabase(join(d, 'a-file', 'data'), '1.0.0')).toThrow(/data directory .*a-file\/data cannot be created \(ENOTDIR/);
    expect(() => openDatabase('/proc/skydeck-data', '1.0.0')).toThrow(StartupError);
  });

  it('refuses a file that is not a database', () => {
    const d = dir();
    writeFileSync(join(d, DB_FILE), 'this is not sqlite, it is a shopping list');
    expect(() => openDatabase(d, '1.0.0')).toThrow(/not a Skydeck database or is damaged/);
  });

  it('lets one process own a data directory at a time and takes over a dead owner\'s lock', () => {
    const d = dir();
    const first = openDatabase(d, '1.0.0');
    writeFileSync(join(d, 'skydeck.lock'), String(process.ppid)); // a live process that is not us
    expect(() => openDatabase(d, '1.0.0')).toThrow(/in use by another Skydeck \(process \d+\)/);
    first.close();
    writeFileSync(join(d, 'skydeck.lock'), '2147483646'); // no such process: a crash left it
    const second = openDatabase(d, '1.0.0');
    expect(readFileSync(join(d, 'skydeck.lock'), 'utf8')).toBe(String(process.pid));
    second.close();
  });
});
