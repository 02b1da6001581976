import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createGunzip, createGzip } from 'node:zlib';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiError } from '@shared/errors';
import { SNAPSHOT_EXTENSION, type ReportFile } from '@shared/contract/reports';
import { DB_FILE } from '../db/open';
import { MIGRATIONS } from '../db/migrations';
import { latestVersion } from '../db/migrate';
import type { TaskType } from '../tasks/types';
import { ShutdownSignal } from '../tasks/types';
import { EXPORTS_DIR, freeName } from './run-task';
import { SNAPSHOT_META_KEY, type SnapshotMeta } from './snapshot-meta';
import type { TrackedFile } from './retention';

/**
 * Inventory snapshots: the whole inventory in one file that another workstation opens read-only.
 *
 * The file is a header and a gzip'd SQLite database:
 *   `SKYDECK-SNAPSHOT\n` + one line of JSON (format, version, id, time, app and schema versions, row counts, the
 *   database's size and SHA-256) + `\n` + gzip(database).
 * The database is a copy of this one (VACUUM INTO, in a worker on its own read-only connection) from which everything
 * that is not inventory is emptied: only the tables in KEEP keep their rows. So secrets (the vault's table and its
 * wrapped master key), host connection details and trusted host keys, tasks, settings, schedules and reservations are
 * left out, and so is any table a later migration adds until it is named here. The copy is vacuumed after, so no
 * deleted page survives in the file. Every inventory row is marked read-only, and meta says what the snapshot is.
 *
 * Opening checks the header (a foreign file is named as such), the format and schema versions (a newer snapshot is
 * refused), unpacks while hashing (a truncated or altered file is named damaged), and runs SQLite's quick_check.
 */
export const MAGIC = 'SKYDECK-SNAPSHOT\n';
export const FORMAT = 'skydeck.inventory-snapshot';
export const FORMAT_VERSION = 1;
const MAX_HEADER = 64 * 1024;

/** Tables whose rows a snapshot keeps (FTS indexes of kept tables follow their tables). */
export const KEEP = [
  'projects', 'cloud_accounts', 'regions', 'zones', 'hosts', 'storages', 'wires', 'networks', 'ip_allocations',
  'guests', 'guest_nics', 'disks', 'snapshots', 'images', 'security_groups', 'security_group_rules', 'eips', 'keypairs',
  'tags', 'guest_tag_rowids', 'host_wires', 'image_hosts', 'instance_groups', 'instance_group_guests',
  'audit_log', 'saved_views', 'favorites', 'report_rate_card', 'cloud_prices', 'schema_migrations', 'meta',
] as const;
/** Inventory tables (read_only set on every row), counted in the header. */
export const INVENTORY_TABLES = ['projects', 'cloud_accounts', 'regions', 'zones', 'hosts', 'storages', 'wires', 'networks', 'guests', 'disks', 'snapshots', 'images', 'security_groups', 'eips', 'keypairs'] as const;

export interface SnapshotHeader {
  format: typeof FORMAT;
  version: number;
  id: string;
  createdAt: string;
  app: string;
  schemaVersion: number;
  source: { host: string };
  counts: Record<string, number>;
  database: { bytes: number; sha256: string };
}

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

const WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const Database = require(w.module);
try {
  const src = new Database(w.source, { readonly: true, fileMustExist: true });
  src.prepare('VACUUM INTO ?').run(w.target);
  src.close();
  const db = new Database(w.target);
  db.pragma('journal_mode = DELETE');
  db.pragma('foreign_keys = OFF');
  const keep = new Set(w.keep);
  const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  const virtual = tables.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql || '')).map((t) => t.name);
  const shadowOf = (name) => virtual.find((v) => name.startsWith(v + '_'));
  db.exec('BEGIN');
  for (const t of tables) {
    if (keep.has(t.name) || virtual.includes(t.name)) continue;
    const owner = shadowOf(t.name);
    if (owner) continue;
    db.exec('DELETE FROM "' + t.name.replace(/"/g, '""') + '"');
  }
  // A virtual (FTS) table over a table that was emptied is rebuilt from it, so no indexed text of it survives.
  for (const v of virtual) {
    const m = /content\\s*=\\s*'([^']+)'/i.exec(tables.find((t) => t.name === v).sql);
    if (m && !keep.has(m[1])) db.exec('INSERT INTO "' + v + '" ("' + v + '") VALUES (\\'rebuild\\')');
  }
  db.prepare("DELETE FROM meta").run();
  for (const [k, v] of Object.entries(w.meta)) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(k, v);
  const counts = {};
  for (const t of w.inventory) {
    db.exec('UPDATE "' + t + '" SET read_only = 1 WHERE read_only <> 1');
    counts[t] = db.prepare('SELECT count(*) AS n FROM "' + t + '"').get().n;
  }
  db.exec('COMMIT');
  db.exec('VACUUM');
  const check = db.pragma('quick_check', { simple: true });
  db.close();
  if (check !== 'ok') throw new Error('the copy failed its integrity check: ' + check);
  parentPort.postMessage({ done: true, counts });
} catch (e) {
  parentPort.postMessage({ error: String((e && e.message) || e) });
}
`;

const requireHere = createRequire(import.meta.url);

function copyAndScrub(source: string, target: string, meta: Record<string, string>, signal: AbortSignal): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { module: requireHere.resolve('better-sqlite3'), source, target, keep: KEEP, inventory: INVENTORY_TABLES, meta },
    });
    const abort = () => {
      void worker.terminate();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: { done?: boolean; counts?: Record<string, number>; error?: string }) => {
      signal.removeEventListener('abort', abort);
      if (m.error) reject(new ApiError('internal', `the snapshot could not be written: ${m.error}`));
      else resolve(m.counts ?? {});
    });
    worker.on('error', (e) => {
      signal.removeEventListener('abort', abort);
      reject(e);
    });
  });
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const snapshotParams = z.object({ fileName: z.string().optional(), file: z.string().optional(), at: z.string().optional(), id: z.string().optional() });
type SnapshotParams = z.infer<typeof snapshotParams>;

/** `reports.snapshot`: copy and scrub in a worker, then header + gzip into `<data dir>/exports/<name>.sdsnap`. */
export function snapshotTask(d: { dataDir: string; dbFile: string; version: string; track?: (f: TrackedFile) => void }): TaskType<SnapshotParams> {
  const dir = join(d.dataDir, EXPORTS_DIR);
  const paths = (p: SnapshotParams) => ({ out: join(dir, p.file!), db: join(dir, `${p.file!}.db.partial`), partial: join(dir, `${p.file!}.partial`) });
  const clean = (p: SnapshotParams) => {
    if (!p.file) return;
    const x = paths(p);
    rmSync(x.db, { force: true });
    rmSync(x.partial, { force: true });
  };
  return {
    type: 'reports.snapshot',
    params: snapshotParams,
    stages: {
      async onInit({ params: p }) {
        mkdirSync(dir, { recursive: true });
        const at = p.at ?? new Date().toISOString();
        const file = p.file ?? freeName(dir, p.fileName ?? `skydeck-snapshot-${at.slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`, SNAPSHOT_EXTENSION);
        return { next: 'onCopy', progress: 2, message: `copying the inventory for ${file}`, patch: { at, file, id: p.id ?? randomUUID() } };
      },
      async onCopy(ctx) {
        const p = ctx.params;
        const x = paths(p);
        clean(p);
        const schemaVersion = latestVersion(MIGRATIONS);
        const meta: SnapshotMeta = { id: p.id!, createdAt: p.at!, app: d.version, schemaVersion, source: { host: hostname() } };
        const counts = await copyAndScrub(
          d.dbFile,
          x.db,
          {
            [SNAPSHOT_META_KEY]: JSON.stringify(meta),
            // What the inventory screens show in their banner (kind and date), as for a seeded inventory.
            'inventory.origin': JSON.stringify({ kind: 'snapshot', at: p.at, source: meta.source.host, app: d.version }),
          },
          ctx.signal,
        );
        ctx.progress(60, 'packing');
        const header: SnapshotHeader = { format: FORMAT, version: FORMAT_VERSION, id: p.id!, createdAt: p.at!, app: d.version, schemaVersion, source: meta.source, counts, database: { bytes: statSync(x.db).size, sha256: await sha256(x.db) } };
        const out = createWriteStream(x.partial);
        out.write(MAGIC + JSON.stringify(header) + '\n');
        await pipeline(createReadStream(x.db), createGzip({ level: 6 }), out, { signal: ctx.signal });
        rmSync(x.db, { force: true });
        renameSync(x.partial, x.out);
        const bytes = statSync(x.out).size;
        const result: ReportFile & { createdAt: string; counts: Record<string, number> } = {
          file: p.file!,
          path: x.out,
          format: 'snapshot',
          rows: Object.values(counts).reduce((a, b) => a + b, 0),
          bytes,
          download: `/api/v1/exports/${encodeURIComponent(p.file!)}`,
          createdAt: p.at!,
          counts,
        };
        d.track?.({ taskId: ctx.task.id, scheduleId: null, kind: 'snapshot', path: x.out, createdAt: p.at! });
        return { done: result, message: `snapshot of ${counts.guests ?? 0} guests and ${counts.hosts ?? 0} hosts written to ${p.file}` };
      },
    },
    failed: {
      async onCopyFailed({ params }, e) {
        if (!(e instanceof ShutdownSignal)) clean(params);
      },
    },
    async cancelled({ params }) {
      clean(params);
    },
  };
}

/** Reads and checks the header of a snapshot file. */
export function readSnapshotHeader(file: string): { header: SnapshotHeader; offset: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new SnapshotError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let head: Buffer;
  try {
    const buf = Buffer.alloc(MAX_HEADER + MAGIC.length + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    head = buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
  if (!head.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) {
    throw new SnapshotError(`${file} is not a Skydeck inventory snapshot: it does not begin with a snapshot header (export one with Reports → Inventory snapshot)`);
  }
  const end = head.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw new SnapshotError(`${file} is damaged: its header is incomplete`);
  let header: SnapshotHeader;
  try {
    header = JSON.parse(head.subarray(MAGIC.length, end).toString('utf8')) as SnapshotHeader;
  } catch {
    throw new SnapshotError(`${file} is damaged: its header is not readable`);
  }
  if (header.format !== FORMAT || typeof header.version !== 'number' || !header.database?.sha256 || typeof header.createdAt !== 'string') {
    throw new SnapshotError(`${file} is damaged: its header does not describe a Skydeck inventory snapshot`);
  }
  if (header.version > FORMAT_VERSION) throw new SnapshotError(`${file} was written by a newer Skydeck (snapshot format ${header.version}; this version reads format ${FORMAT_VERSION}): open it with Skydeck ${header.app} or newer`);
  const latest = latestVersion(MIGRATIONS);
  if (header.schemaVersion > latest) throw new SnapshotError(`${file} holds an inventory from a newer Skydeck (${header.app}, schema ${header.schemaVersion}; this version knows up to ${latest}): open it with that version or newer`);
  return { header, offset: end + 1 };
}

/** The id of the snapshot a database file holds, or null (another database, or none that opens). */
function snapshotIdIn(file: string): string | null {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(SNAPSHOT_META_KEY) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as SnapshotMeta).id : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/**
 * Unpacks a snapshot file into `dataDir` as its database, checking it on the way. A data directory that already holds
 * this snapshot is reused as it is; one that holds any other database is refused (a snapshot never overwrites data).
 */
export async function openSnapshotFile(file: string, dataDir: string): Promise<SnapshotHeader> {
  const { header, offset } = readSnapshotHeader(file);
  const target = join(dataDir, DB_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (existsSync(target)) {
    if (snapshotIdIn(target) === header.id) return header;
    throw new SnapshotError(`${dataDir} already holds a Skydeck database: open the snapshot into a new or empty data directory`);
  }
  const partial = `${target}.partial`;
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(file, { start: offset }), createGunzip(), tap, createWriteStream(partial, { mode: 0o600 }));
  } catch (e) {
    rmSync(partial, { force: true });
    throw new SnapshotError(`${file} is damaged: its data is truncated or corrupt (${(e as Error).message})`);
  }
  if (bytes !== header.database.bytes || hash.digest('hex') !== header.database.sha256) {
    rmSync(partial, { force: true });
    throw new SnapshotError(`${file} is damaged: its data does not match the checksum in its header`);
  }
  try {
    const db = new Database(partial, { readonly: true, fileMustExist: true });
    try {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(String(check));
    } finally {
      db.close();
    }
  } catch (e) {
    rmSync(partial, { force: true });
    throw new SnapshotError(`${file} is damaged: the database inside fails its integrity check (${(e as Error).message})`);
  }
  renameSync(partial, target);
  return header;
}

/** The title of what a refused snapshot file answers, headless (stderr) and on the desktop (an error dialog). */
export const SNAPSHOT_OPEN_FAILED = 'Skydeck cannot open the snapshot';

/**
 * Unpacks a snapshot file into a new data directory of its own (under `parent`, default the OS temp folder), ready for
 * a core to open read-only. A refused file leaves nothing behind. The caller removes the directory when done with it.
 */
export async function openSnapshotInNewDataDir(file: string, parent = tmpdir()): Promise<{ dataDir: string; header: SnapshotHeader }> {
  const dataDir = mkdtempSync(join(parent, 'skydeck-snapshot-'));
  try {
    return { dataDir, header: await openSnapshotFile(file, dataDir) };
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}
