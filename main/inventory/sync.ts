import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import { SPECS } from './specs';

/**
 * The one write path of every sync: cloud drivers, host agents and the seed all hand pages of what a provider lists to
 * `upsertPage`, and say afterwards what it no longer lists with `markVanished`. `markUnreachable`/`markReachable` are
 * the "offline and staleness" mechanism: when a host or account cannot be asked, what it holds is kept as last known
 * (`stale = 1`, shown with its `synced_at`) instead of being guessed at or dropped.
 *
 * These functions write rows only; the caller (a sync task) announces changes on the event bus.
 */

type SqlValue = string | number | bigint | Buffer | null;

/** Where a sync looked: one cloud account, one region, one zone, one host, or (empty) the whole provider. */
export interface SyncScope {
  cloudAccountId?: string;
  regionId?: string;
  zoneId?: string;
  hostId?: string;
}

export interface SyncNic {
  idx?: number;
  mac: string;
  ip?: string | null;
  network_id?: string | null;
  bridge?: string | null;
}

/**
 * One resource as the provider lists it: `external_id`, `name`, `status`, and any other column of the kind's table by
 * its column name (unknown or Skydeck-owned columns are refused). `created_at` is used on insert only (the provider's
 * creation time); booleans become 0/1 and arrays/objects JSON.
 * `tags` replaces the row's provider-sourced tags (omitted: they are left as they are; `{}`: they are removed); user
 * tags are never touched. `nics` (guests only) replaces the guest's NICs the same way, and fills `ips` when the row does
 * not give it.
 */
export type SyncRow = { external_id: string; name: string; status: string; tags?: Record<string, string>; nics?: SyncNic[] } & Record<string, unknown>;

export interface UpsertOptions {
  provider: string;
  /** When this listing was taken (ISO 8601); stamps `synced_at`, and `updated_at` of rows that changed. Default: now. */
  syncedAt?: string;
  /** Stamped onto rows whose table has the matching column (`cloud_account_id`, `region_id`, `zone_id`, `host_id`) unless the row sets it. */
  scope?: SyncScope;
  /** Id of a new row (default: `newResourceId`, unique and ascending in time). The seed passes a deterministic one. */
  newId?: (kind: ResourceKind, row: SyncRow) => string;
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
  /** The id of each row, in the order given (stable across syncs: an id is generated on insert only). */
  ids: string[];
}

export const ID_PREFIX: Record<ResourceKind, string> = {
  projects: 'prj',
  cloudAccounts: 'acc',
  regions: 'rgn',
  zones: 'zone',
  hosts: 'host',
  storages: 'stor',
  wires: 'wire',
  networks: 'net',
  guests: 'vm',
  disks: 'disk',
  snapshots: 'snap',
  images: 'img',
  securityGroups: 'sg',
  eips: 'eip',
  keypairs: 'key',
};

/** Columns the sync itself owns: a row cannot set them. */
const RESERVED = new Set(['id', 'provider', 'updated_at', 'synced_at', 'stale', 'sync_digest']);
/** Keys of a row that are not columns. */
const SIDE = new Set(['tags', 'nics', 'created_at']);
const SCOPE_COLUMN: [keyof SyncScope, string][] = [
  ['cloudAccountId', 'cloud_account_id'],
  ['regionId', 'region_id'],
  ['zoneId', 'zone_id'],
  ['hostId', 'host_id'],
];

/** The tag (provider-sourced, so the next sync that lists the guest again removes it) that says why a guest vanished. */
export const VANISHED_TAG = 'skydeck.vanished';

// ---- per-connection caches: table columns and prepared statements ---------------------------------------------------

const columnCache = new WeakMap<Database.Database, Map<string, Set<string>>>();
const stmtCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function columnsOf(db: Database.Database, table: string): Set<string> {
  let m = columnCache.get(db);
  if (!m) columnCache.set(db, (m = new Map()));
  let cols = m.get(table);
  if (!cols) {
    cols = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
    m.set(table, cols);
  }
  return cols;
}

function stmt(db: Database.Database, sql: string): Database.Statement {
  let m = stmtCache.get(db);
  if (!m) stmtCache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) {
    s = db.prepare(sql);
    m.set(sql, s);
  }
  return s;
}

function toSql(v: unknown): SqlValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || Buffer.isBuffer(v)) return v;
  return JSON.stringify(v);
}

function same(a: unknown, b: SqlValue): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return false;
}

/**
 * `<prefix>-<ms time, base 36><counter><random>`: unique, and ascending in creation order, so a page of new rows and
 * their tags land at the right edge of the id and tag indexes instead of on hundreds of random pages (measured: inserts
 * with tags 3x faster than with random ids).
 */
let lastMs = 0;
let counter = 0;
export function newResourceId(kind: ResourceKind): string {
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = randomInt(0, 36 ** 3);
  } else counter++;
  return `${ID_PREFIX[kind]}-${lastMs.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${randomInt(0, 36 ** 4).toString(36).padStart(4, '0')}`;
}
const newIdDefault = newResourceId;

function sameTags(old: Map<string, string> | undefined, next: Record<string, string>): boolean {
  const keys = Object.keys(next);
  if ((old?.size ?? 0) !== keys.length) return false;
  for (const k of keys) if (old!.get(k) !== next[k]) return false;
  return true;
}

interface NicRow {
  idx: number;
  mac: string;
  ip: string | null;
  network_id: string | null;
  bridge: string | null;
}

function nicRows(nics: SyncNic[]): NicRow[] {
  return nics.map((n, i) => ({ idx: n.idx ?? i, mac: n.mac.toLowerCase(), ip: n.ip ?? null, network_id: n.network_id ?? null, bridge: n.bridge ?? null }));
}

function sameNics(old: NicRow[] | undefined, next: NicRow[]): boolean {
  if ((old?.length ?? 0) !== next.length) return false;
  for (const n of next) {
    const o = old!.find((x) => x.idx === n.idx);
    if (!o || o.mac !== n.mac || o.ip !== n.ip || o.network_id !== n.network_id || o.bridge !== n.bridge) return false;
  }
  return true;
}

/**
 * Everything a listed row says, as one 53-bit hash (a safe integer): the columns it sets (by name; scope columns and
 * derived `ips` included), its provider tags in key order and its NICs in idx order (providers list both in no fixed
 * order); an omitted `tags` or `nics` ("leave as they are") hashes differently from an empty one. Stored in
 * `sync_digest` where the table has it (guests, migration 0017) and compared on the next sync before anything else of
 * the row is loaded. Two 32-bit multiply-xor lanes over every value, each value preceded by its type and length, with
 * no string built on the way (building one and hashing it with node:crypto: 192 vs 111 ms per 100k rows in a re-sync,
 * measured in place); what all rows of a plan share (column names, scope values) is mixed once per plan (less again). A change goes unnoticed
 * only if the new row hashes to the old one's digest: about 1 in 2^53 per change.
 */
let h1 = 0;
let h2 = 0;
function mix(c: number): void {
  h1 = Math.imul(h1 ^ c, 2654435761);
  h2 = Math.imul(h2 ^ c, 1597334677);
}
function mixValue(x: SqlValue | undefined): void {
  if (x === null || x === undefined) return mix(0x100001);
  if (typeof x === 'number' && (x | 0) === x && !Object.is(x, -0)) {
    mix(0x100002);
    return mix(x);
  }
  const s = typeof x === 'string' ? x : typeof x === 'number' ? `n${x}` : typeof x === 'bigint' ? `i${x}` : `b${x.toString('base64')}`;
  mix(0x100003);
  mix(s.length);
  for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
}
type Lanes = [number, number];

/** The lanes after what all rows of one plan share: the column names (in order) and the scope values. */
function digestSeed(names: string[], scopeValues: SqlValue[]): Lanes {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  mix(names.length);
  for (const n of names) mixValue(n);
  for (const v of scopeValues) mixValue(v);
  return [h1, h2];
}

/** `values` is laid out as the plan's: the row's own columns (`own`), then `scoped` scope values (in the seed), then any derived ones. */
function rowDigest(seed: Lanes, values: SqlValue[], own: number, scoped: number, tags: Record<string, string> | undefined, nics: NicRow[] | undefined): number {
  [h1, h2] = seed;
  for (let i = 0; i < values.length; i++) if (i < own || i >= own + scoped) mixValue(values[i]);
  if (tags === undefined) mix(0x100004);
  else {
    const keys = Object.keys(tags);
    mix(keys.length);
    for (const k of keys.length > 1 ? keys.sort() : keys) {
      mixValue(k);
      mixValue(String(tags[k]));
    }
  }
  if (nics === undefined) mix(0x100005);
  else {
    mix(nics.length);
    let sorted = true;
    for (let i = 1; i < nics.length; i++) if (nics[i - 1]!.idx > nics[i]!.idx) sorted = false;
    for (const n of sorted ? nics : [...nics].sort((a, b) => a.idx - b.idx)) {
      mixValue(n.idx);
      mixValue(n.mac);
      mixValue(n.ip);
      mixValue(n.network_id);
      mixValue(n.bridge);
    }
  }
  // Final avalanche of both lanes (as in cyrb53), folded into 53 bits.
  let x = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  x ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  let y = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  y ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & y) + (x >>> 0);
}

/** A MAC the provider now reports on this guest moves here from wherever it was. */
const NIC_MOVES = ' ON CONFLICT (mac) DO UPDATE SET guest_id = excluded.guest_id, idx = excluded.idx, ip = excluded.ip, network_id = excluded.network_id, bridge = excluded.bridge';

/** Most rows one INSERT statement writes (a power of two; bound parameters stay far below SQLite's 32,766). */
const MULTI_ROW = 64;

/**
 * Writes `items` with `head` + `one`, `one`, … + `tail` statements in input order: as many rows per statement as fit
 * in powers of two up to MULTI_ROW (100 rows: 64 + 32 + 4), so each table needs at most 7 prepared statements.
 */
function insertRows<T>(db: Database.Database, head: string, one: string, tail: string, items: readonly T[], bind: (item: T, out: SqlValue[]) => void): void {
  let i = 0;
  while (i < items.length) {
    let n = MULTI_ROW;
    while (n > items.length - i) n >>= 1;
    const args: SqlValue[] = [];
    for (let j = i; j < i + n; j++) bind(items[j]!, args);
    stmt(db, `${head}${one}${`, ${one}`.repeat(n - 1)}${tail}`).run(...args);
    i += n;
  }
}

/**
 * Inserts or updates one page of rows of one kind, matched by (provider, external_id), in one transaction (its own, or
 * the caller's if one is open) with cached prepared statements: one query per table loads what exists for the whole
 * page; a new row gets an id, a changed row has only its changed columns written (so FTS and host-allocation triggers
 * fire only when what they follow changed), and every listed row gets `synced_at` and `stale = 0` (the provider just
 * answered for it). Provider tags and NICs are replaced only when they differ.
 */
export function upsertPage(db: Database.Database, kind: ResourceKind, rows: readonly SyncRow[], opts: UpsertOptions): UpsertResult {
  return writePage(db, kind, rows, opts);
}

/** The rows of a page that exist: `columns` (and `_rowid`) of `table` by (provider = ?2, external_id in the JSON array ?1). */
export function lookupSql(table: string, columns: string[]): string {
  return `SELECT t.rowid AS _rowid, ${columns.map((c) => `t.${c}`).join(', ')} FROM json_each(?) AS j CROSS JOIN ${table} AS t ON t.provider = ? AND t.external_id = j.value`;
}

/** Ids of the rows a SyncSession found unchanged: their `synced_at` is written once, at finish(). */
type Touched = string[];

/** upsertPage; with `deferred`, rows found unchanged are handed to it instead of having `synced_at` written now. */
function writePage(db: Database.Database, kind: ResourceKind, rows: readonly SyncRow[], opts: UpsertOptions, deferred?: Touched): UpsertResult {
  const table = SPECS[kind].table;
  const tagKind = SPECS[kind].tagKind;
  const cols = columnsOf(db, table);
  const digested = cols.has('sync_digest');
  const syncedAt = opts.syncedAt ?? new Date().toISOString();
  const provider = opts.provider;
  const newId = opts.newId ?? newIdDefault;
  const scoped = SCOPE_COLUMN.filter(([k, c]) => opts.scope?.[k] !== undefined && cols.has(c)).map(([k, c]) => [c, opts.scope![k]!] as const);

  const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0, ids: new Array<string>(rows.length) };
  if (!rows.length) return result;

  // Validate and shape every row before touching the database. Rows of one page usually share their keys: each key
  // list is checked once (its plan: which keys are columns, which scope columns and derived `ips` it adds).
  interface Plan {
    keys: string[];
    names: string[];
    sig: string;
    scopeValues: SqlValue[];
    deriveIps: boolean;
    /** The digest lanes after the column names and scope values, which every row of the plan shares. */
    seed: Lanes | null;
  }
  const plans = new Map<string, Plan>();
  let last: { all: string[]; plan: Plan } | undefined;
  const planFor = (row: SyncRow, i: number): Plan => {
    const all = Object.keys(row);
    // Most rows have the keys of the row before them: compared key by key, without building the map key.
    if (last && last.all.length === all.length && all.every((k, j) => k === last!.all[j])) return last.plan;
    const key = all.join('\u0000');
    let plan = plans.get(key);
    if (plan) {
      last = { all, plan };
      return plan;
    }
    const keys: string[] = [];
    for (const k of all) {
      if (SIDE.has(k) || k === 'external_id') continue;
      if (RESERVED.has(k)) throw new Error(`${kind} row ${i} (${row.external_id}): ${k} is set by the sync, not by the row`);
      if (!cols.has(k)) throw new Error(`${kind} row ${i} (${row.external_id}): ${table} has no column ${k}`);
      keys.push(k);
    }
    if (row.nics !== undefined && kind !== 'guests') throw new Error(`${kind} row ${i} (${row.external_id}): only guests have nics`);
    const extra = scoped.filter(([c]) => !(c in row));
    const deriveIps = row.nics !== undefined && !('ips' in row);
    const names = [...keys, ...extra.map(([c]) => c), ...(deriveIps ? ['ips'] : [])];
    const scopeValues = extra.map(([, v]) => v);
    plan = { keys, names, sig: names.join(','), scopeValues, deriveIps, seed: digested ? digestSeed(names, scopeValues) : null };
    plans.set(key, plan);
    last = { all, plan };
    return plan;
  };
  const shaped = rows.map((row, i) => {
    if (typeof row.external_id !== 'string' || !row.external_id) throw new Error(`${kind} row ${i}: external_id is required`);
    if (typeof row.name !== 'string' || typeof row.status !== 'string') throw new Error(`${kind} row ${i} (${row.external_id}): name and status are required`);
    const plan = planFor(row, i);
    const values: SqlValue[] = new Array(plan.names.length);
    let j = 0;
    for (const k of plan.keys) values[j++] = toSql(row[k]);
    for (const v of plan.scopeValues) values[j++] = v;
    const nics = row.nics !== undefined ? nicRows(row.nics) : undefined;
    if (plan.deriveIps) values[j] = nics!.map((n) => n.ip).filter(Boolean).join(' ');
    const digest = plan.seed ? rowDigest(plan.seed, values, plan.keys.length, plan.scopeValues.length, row.tags, nics) : null;
    return { row, names: plan.names, values, sig: plan.sig, nics, digest };
  });

  const body = () => {
    const externalIds = JSON.stringify(rows.map((r) => r.external_id));
    // What the page is compared against, in one query per table for the whole page: only the columns the page sets
    // (not SELECT * of a wide table), then the provider tags and NICs of the rows that exist. Where the table keeps a
    // digest of what the last sync wrote (migration 0017), the first query reads only the digest, and the columns, tags
    // and NICs are loaded for the rows whose digest differs: in the steady state of a re-sync, a few.
    const wanted = new Set(['id', 'external_id', 'status']);
    for (const p of plans.values()) for (const n of p.names) wanted.add(n);
    const existing = new Map<string, Record<string, unknown>>();
    // Driven from the page's ids, each looked up in the (provider, external_id) index as listed: 25 % faster than
    // `external_id IN (…)`, which first builds and sorts a temporary index of them (bench inventory-sync, re-sync).
    const sel = stmt(db, lookupSql(table, digested ? ['id', 'external_id', 'status', 'sync_digest'] : [...wanted]));
    for (const r of sel.all(externalIds, provider) as Record<string, unknown>[]) existing.set(r.external_id as string, r);
    const oldTags = new Map<string, Map<string, string>>();
    const oldNics = new Map<string, NicRow[]>();
    const slow = new Set<string>();
    for (const x of shaped) {
      const old = existing.get(x.row.external_id);
      if (old && (!digested || old.sync_digest !== x.digest)) slow.add(old.id as string);
    }
    if (slow.size) {
      const ids = JSON.stringify([...slow]);
      if (digested) {
        const full = stmt(db, `SELECT ${[...wanted].join(', ')} FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`);
        for (const r of full.all(ids) as Record<string, unknown>[]) Object.assign(existing.get(r.external_id as string)!, r);
      }
      if (rows.some((r) => r.tags !== undefined)) {
        const q = stmt(db, `SELECT resource_id, key, value FROM tags WHERE kind = ? AND resource_id IN (SELECT value FROM json_each(?)) AND source = 'provider'`);
        for (const [rid, key, value] of q.raw(true).all(tagKind, ids) as [string, string, string][]) {
          let m = oldTags.get(rid);
          if (!m) oldTags.set(rid, (m = new Map()));
          m.set(key, value);
        }
      }
      if (shaped.some((x) => x.nics !== undefined)) {
        const q = stmt(db, 'SELECT guest_id, idx, mac, ip, network_id, bridge FROM guest_nics WHERE guest_id IN (SELECT value FROM json_each(?))');
        for (const [gid, idx, mac, ip, network_id, bridge] of q.raw(true).all(ids) as [string, number, string, string | null, string | null, string | null][]) {
          let l = oldNics.get(gid);
          if (!l) oldNics.set(gid, (l = []));
          l.push({ idx, mac, ip, network_id, bridge });
        }
      }
    }

    const delTags = stmt(db, `DELETE FROM tags WHERE kind = ? AND resource_id = ? AND source = 'provider'`);
    const addTag = stmt(db, `INSERT INTO tags (kind, resource_id, key, value, source) VALUES (?, ?, ?, ?, 'provider')`);
    const delVanished = stmt(db, `DELETE FROM tags WHERE kind = ? AND resource_id = ? AND key = ? AND source = 'provider'`);
    const delNics = stmt(db, 'DELETE FROM guest_nics WHERE guest_id = ?');
    const addNic = stmt(db, `INSERT INTO guest_nics (guest_id, idx, mac, ip, network_id, bridge) VALUES (?, ?, ?, ?, ?, ?)${NIC_MOVES}`);
    // Rows found unchanged, by rowid (the ids of rows written earlier in this page, which have none here yet).
    const touched: number[] = [];
    const touchedIds: string[] = [];

    // New rows are written together, a few multi-row INSERTs per table instead of one statement per row: each statement
    // on a table with triggers opens a statement journal and makes FTS5 flush its pending terms as a new segment, which
    // per row was most of a first sync's time. A run of new rows is written before the next existing row is compared,
    // so each table gets its rows in page order and a later duplicate in the page compares against what was written.
    let fresh: { id: string; s: (typeof shaped)[number] }[] = [];
    const writeFresh = () => {
      if (!fresh.length) return;
      const batch = fresh;
      fresh = [];
      for (let a = 0; a < batch.length; ) {
        // Rows with the same keys share a statement.
        let b = a + 1;
        while (b < batch.length && batch[b]!.s.sig === batch[a]!.s.sig) b++;
        const names = batch[a]!.s.names;
        const head = `INSERT INTO ${table} (id, provider, external_id, created_at, updated_at, synced_at, stale${digested ? ', sync_digest' : ''}${names.map((n) => `, ${n}`).join('')}) VALUES `;
        const one = `(?, ?, ?, ?, ?, ?, 0${digested ? ', ?' : ''}${', ?'.repeat(names.length)})`;
        insertRows(db, head, one, '', batch.slice(a, b), ({ id, s: x }, out) => {
          out.push(id, provider, x.row.external_id, toSql(x.row.created_at) ?? syncedAt, syncedAt, syncedAt);
          if (digested) out.push(x.digest);
          for (const v of x.values) out.push(v);
        });
        a = b;
      }
      const tagArgs: SqlValue[][] = [];
      const nicArgs: SqlValue[][] = [];
      for (const { id, s: x } of batch) {
        if (x.row.tags) for (const [k, v] of Object.entries(x.row.tags)) tagArgs.push([tagKind, id, k, String(v)]);
        if (x.nics) for (const n of x.nics) nicArgs.push([id, n.idx, n.mac, n.ip, n.network_id, n.bridge]);
      }
      insertRows(db, 'INSERT INTO tags (kind, resource_id, key, value, source) VALUES ', `(?, ?, ?, ?, 'provider')`, '', tagArgs, (a, out) => out.push(...a));
      insertRows(db, 'INSERT INTO guest_nics (guest_id, idx, mac, ip, network_id, bridge) VALUES ', '(?, ?, ?, ?, ?, ?)', NIC_MOVES, nicArgs, (a, out) => out.push(...a));
    };

    shaped.forEach((s, i) => {
      const { row, names, values } = s;
      const old = existing.get(row.external_id);
      if (!old) {
        const id = newId(kind, row);
        fresh.push({ id, s });
        // The same resource twice in one page: the later entry compares against what was just written.
        const written: Record<string, unknown> = { id, external_id: row.external_id, sync_digest: s.digest };
        names.forEach((n, j) => (written[n] = values[j]));
        existing.set(row.external_id, written);
        if (row.tags) oldTags.set(id, new Map(Object.entries(row.tags)));
        if (s.nics) oldNics.set(id, s.nics);
        result.inserted++;
        result.ids[i] = id;
        return;
      }
      writeFresh();
      const id = old.id as string;
      const wasVanished = kind === 'guests' && old.status === 'vanished';
      result.ids[i] = id;
      // The same digest: listed as the last sync wrote it, and nothing has changed it since (migration 0017).
      const known = digested && old.sync_digest === s.digest;
      const setNames: string[] = [];
      const setValues: SqlValue[] = [];
      if (!known) {
        names.forEach((n, j) => {
          if (!same(old[n], values[j]!)) {
            setNames.push(n);
            setValues.push(values[j]!);
          }
        });
      }
      const tagsChanged = !known && row.tags !== undefined && !sameTags(oldTags.get(id), row.tags);
      const nicsChanged = !known && s.nics !== undefined && !sameNics(oldNics.get(id), s.nics);
      if (!setNames.length && !tagsChanged && !nicsChanged) {
        result.unchanged++;
        if (digested && !known) {
          // Compared row by row and found the same: only the digest is written (once per guest after the migration).
          stmt(db, `UPDATE ${table} SET sync_digest = ?, synced_at = ?, stale = 0 WHERE id = ?`).run(s.digest, syncedAt, id);
          old.sync_digest = s.digest;
        } else if (typeof old._rowid === 'number') {
          if (deferred) deferred.push(id);
          else touched.push(old._rowid);
        } else touchedIds.push(id);
        return;
      }
      // Tags and NICs first, then the row with its digest: deleting a provider tag or a NIC clears the digest (triggers
      // of migration 0017), and the row's UPDATE sets it again to what was just written.
      if (tagsChanged) {
        delTags.run(tagKind, id);
        for (const [k, v] of Object.entries(row.tags!)) addTag.run(tagKind, id, k, String(v));
        oldTags.set(id, new Map(Object.entries(row.tags!)));
      }
      if (nicsChanged) {
        delNics.run(id);
        for (const n of s.nics!) addNic.run(id, n.idx, n.mac, n.ip, n.network_id, n.bridge);
        oldNics.set(id, s.nics!);
      }
      // A vanished guest listed again is back: the reason it vanished goes (tags given or not).
      if (wasVanished && !tagsChanged) delVanished.run(tagKind, id, VANISHED_TAG);
      // Only what changed is written, so FTS and allocation triggers fire only when a column they follow changed.
      const digestSet = digested ? 'sync_digest = ?, ' : '';
      stmt(db, `UPDATE ${table} SET ${setNames.map((n) => `${n} = ?, `).join('')}${digestSet}updated_at = ?, synced_at = ?, stale = 0 WHERE id = ?`).run(...setValues, ...(digested ? [s.digest] : []), syncedAt, syncedAt, id);
      setNames.forEach((n, j) => (old[n] = setValues[j]));
      if (digested) old.sync_digest = s.digest;
      result.updated++;
    });
    writeFresh();
    // Rows seen again unchanged carry this listing's time too: one statement for the page, by rowid (by id, each would
    // be looked up in the id index first).
    if (touched.length) {
      stmt(db, `UPDATE ${table} SET synced_at = ?, stale = 0 WHERE rowid IN (SELECT value FROM json_each(?)) AND (synced_at IS NOT ? OR stale <> 0)`).run(syncedAt, JSON.stringify(touched), syncedAt);
    }
    if (touchedIds.length) {
      stmt(db, `UPDATE ${table} SET synced_at = ?, stale = 0 WHERE id IN (SELECT value FROM json_each(?)) AND (synced_at IS NOT ? OR stale <> 0)`).run(syncedAt, JSON.stringify(touchedIds), syncedAt);
    }
  };
  // Inside a caller's transaction the page simply joins it: a nested transaction would be a SAVEPOINT, and with one
  // open every page SQLite touches is copied to a sub-journal (3-10x slower writes, measured). An error then propagates
  // and the caller's transaction must roll back, as db.transaction() does.
  if (db.inTransaction) body();
  else db.transaction(body)();
  return result;
}

// ---- a whole listing: SyncSession --------------------------------------------------------------------------------------

export interface SessionOptions extends UpsertOptions {
  /** Rows gathered before they are written, in one transaction through upsertPage (default 2,000). */
  batchRows?: number;
}

export interface SessionResult extends UpsertResult {
  /** Transactions the listing was written in. */
  batches: number;
}

/**
 * One complete listing of one kind, handed over page by page as the provider's API returns them: `page(rows)` for each,
 * then `finish()`, and then (for a complete listing) `markVanished` with `syncedAt` as the time the listing started.
 *
 * Pages are gathered and written through upsertPage in transactions of up to `batchRows` rows instead of one per API
 * page. Each commit writes every index page the transaction touched, and the rows of one API page touch a different leaf
 * of the external-id, name and tag indexes each: with a transaction per page of 100, a first sync of 100k instances
 * rewrote the same index pages a thousand times over (bench inventory-sync: 2x slower than in batches of 2,000; larger
 * batches gain little more and block the event loop longer, ~80 ms per 2,000 new rows). No transaction is held open
 * between pages (other writers, the task engine's commits, would join it): a batch is written synchronously, when it is
 * full and at `finish()`. All pages carry the same `synced_at`, the listing's time. A batch is not in the database until
 * it is written: a process that dies mid-listing leaves the batches written so far, and the next sync lists the rest.
 * A bad row, or a write that fails, throws from the `page()` or `finish()` that writes its batch, and nothing of that
 * batch is written. The rows found unchanged get this listing's `synced_at` at `finish()`, all in one statement.
 * (The WAL the batches fill is copied back into the database by the checkpointer thread, db/checkpointer.ts, not in
 * any of these commits.)
 */
export class SyncSession {
  private pending: SyncRow[] = [];
  private readonly opts: UpsertOptions & { syncedAt: string };
  private readonly batchRows: number;
  private readonly out: SessionResult = { inserted: 0, updated: 0, unchanged: 0, ids: [], batches: 0 };
  private done = false;
  /** Rows found unchanged so far, whose `synced_at` is written at finish(). */
  private touched: Touched = [];

  constructor(
    private readonly db: Database.Database,
    private readonly kind: ResourceKind,
    o: SessionOptions,
  ) {
    const { batchRows, ...opts } = o;
    this.opts = { ...opts, syncedAt: opts.syncedAt ?? new Date().toISOString() };
    this.batchRows = Math.max(1, batchRows ?? 2000);
  }

  /** The listing's time, stamped as `synced_at` on every row of it. */
  get syncedAt(): string {
    return this.opts.syncedAt;
  }

  /** Takes one API page; writes what is gathered once it reaches `batchRows`. */
  page(rows: readonly SyncRow[]): void {
    if (this.done) throw new Error('this sync session has finished');
    for (const r of rows) this.pending.push(r);
    if (this.pending.length >= this.batchRows) this.flush();
  }

  /** Writes what is gathered now (one transaction). */
  flush(): void {
    if (!this.pending.length) return;
    const rows = this.pending;
    this.pending = [];
    const r = writePage(this.db, this.kind, rows, this.opts, this.touched);
    this.out.inserted += r.inserted;
    this.out.updated += r.updated;
    this.out.unchanged += r.unchanged;
    for (const id of r.ids) this.out.ids.push(id);
    this.out.batches++;
  }

  /** Writes the rest; answers the counts and the id of every row handed over, in listing order. */
  finish(): SessionResult {
    try {
      this.flush();
      this.touch();
    } finally {
      this.done = true;
    }
    return this.out;
  }

  /**
   * `synced_at` of every row found unchanged, in one statement in id order at the end of the listing instead of one
   * per batch: each batch's unchanged rows lie on most pages of the table, so a per-batch write made every commit carry
   * most of the table again (bench inventory-sync, re-sync of 100k). By id, not rowid: a row deleted meanwhile could
   * have its rowid reused by another, an id never is; and ids ascend in creation order, so in id order the rows are
   * mostly visited in table order too (measured on 100k: 273 ms, against 253 ms by rowid and 296 ms checking rowid and id).
   */
  private touch(): void {
    const list = this.touched;
    this.touched = [];
    if (!list.length) return;
    list.sort();
    const table = SPECS[this.kind].table;
    const at = this.opts.syncedAt;
    const sql = `UPDATE ${table} SET synced_at = ?, stale = 0 WHERE id IN (SELECT value FROM json_each(?)) AND (synced_at IS NOT ? OR stale <> 0)`;
    const run = () => stmt(this.db, sql).run(at, JSON.stringify(list), at);
    if (this.db.inTransaction) run();
    else this.db.transaction(run)();
  }
}

// ---- scope → SQL, for markVanished ------------------------------------------------------------------------------------

/** A condition on `table` (aliased `t`) that keeps only rows within the scope; refuses a scope the table cannot be reached by. */
function scopeSql(kind: ResourceKind, table: string, cols: Set<string>, scope: SyncScope): { sql: string; args: string[] } {
  const parts: string[] = [];
  const args: string[] = [];
  const add = (sql: string, v: string) => {
    parts.push(sql);
    args.push(...Array.from({ length: sql.split('?').length - 1 }, () => v));
  };
  const guestsWhere = (cond: string) => `t.guest_id IN (SELECT id FROM guests WHERE ${cond})`;
  const refuse = (what: string) => new Error(`${kind} cannot be scoped by ${what}`);
  const { cloudAccountId: acc, regionId: region, zoneId: zone, hostId: host } = scope;
  if (acc !== undefined) {
    if (table === 'cloud_accounts') add('t.id = ?', acc);
    else if (cols.has('cloud_account_id')) add('t.cloud_account_id = ?', acc);
    else if (cols.has('region_id')) add('t.region_id IN (SELECT id FROM regions WHERE cloud_account_id = ?)', acc);
    else if (cols.has('guest_id')) add(guestsWhere('cloud_account_id = ?'), acc);
    else throw refuse('cloud account');
  }
  if (region !== undefined) {
    if (table === 'regions') add('t.id = ?', region);
    else if (cols.has('region_id')) add('t.region_id = ?', region);
    else if (cols.has('zone_id')) add('t.zone_id IN (SELECT id FROM zones WHERE region_id = ?)', region);
    else if (cols.has('guest_id')) add(guestsWhere('zone_id IN (SELECT id FROM zones WHERE region_id = ?)'), region);
    else throw refuse('region');
  }
  if (zone !== undefined) {
    if (table === 'zones') add('t.id = ?', zone);
    else if (cols.has('zone_id')) add('t.zone_id = ?', zone);
    else if (cols.has('guest_id')) add(guestsWhere('zone_id = ?'), zone);
    else throw refuse('zone');
  }
  if (host !== undefined) {
    if (table === 'hosts') add('t.id = ?', host);
    else if (cols.has('host_id')) add('t.host_id = ?', host);
    else if (table === 'disks') add(`(${guestsWhere('host_id = ?')} OR t.storage_id IN (SELECT id FROM storages WHERE host_id = ?))`, host);
    else if (cols.has('guest_id')) add(guestsWhere('host_id = ?'), host);
    else throw refuse('host');
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), args };
}

export interface VanishOptions {
  /** Why, recorded on vanished guests (tag `skydeck.vanished`). Default: "not listed by <provider> since <syncStartedAt>". */
  reason?: string;
  /** How long a guest stays `vanished` before it is deleted (default 24 h). */
  graceMs?: number;
  /** The current time (tests). */
  now?: string;
}

export interface VanishResult {
  /** Rows deleted. */
  deleted: number;
  /** Rows newly marked `vanished` (guests, and rows other rows still depend on). */
  vanished: number;
}

const DAY = 86_400_000;

/**
 * Deals with what the provider no longer lists after a complete listing of `scope` that started at `syncStartedAt`:
 * rows of `provider` in that scope not synced since then (and not created since then by Skydeck itself).
 *
 * Guests are marked `status = 'vanished'` with the reason, and deleted only once they have stayed vanished for
 * `graceMs`. A listing that misses a VM is often transient (cloud APIs are eventually consistent right after a launch; a
 * host agent may list while libvirtd restarts; a paged listing can be cut short), and deleting a guest would drop what
 * only Skydeck knows about it (user tags, IP allocations, project, task history) and bring it back later under a new id.
 * While vanished it still counts on its host and project: over-counting capacity for a while is the safe side.
 *
 * Every other kind is deleted with its tags: it carries nothing of the user's, and a later listing recreates it. A row
 * that others still depend on (a host with guests, a storage with disks, a network with allocated addresses) cannot be
 * deleted yet: it is marked `vanished` instead, and deleted by a later sync once its dependants have gone.
 */
export function markVanished(db: Database.Database, kind: ResourceKind, provider: string, scope: SyncScope, syncStartedAt: string, opts: VanishOptions = {}): VanishResult {
  const table = SPECS[kind].table;
  const tagKind = SPECS[kind].tagKind;
  const cols = columnsOf(db, table);
  const sc = scopeSql(kind, table, cols, scope);
  const now = opts.now ?? new Date().toISOString();
  const reason = opts.reason ?? `not listed by ${provider} since ${syncStartedAt}`;
  const gone = `t.provider = ? AND t.external_id IS NOT NULL AND (t.synced_at IS NULL OR t.synced_at < ?) AND t.created_at < ?${sc.sql}`;
  const goneArgs = [provider, syncStartedAt, syncStartedAt, ...sc.args];
  const out: VanishResult = { deleted: 0, vanished: 0 };
  const setTag = db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES (?, ?, ?, ?, 'provider') ON CONFLICT (kind, resource_id, key, source) DO UPDATE SET value = excluded.value`);
  const delTags = db.prepare('DELETE FROM tags WHERE kind = ? AND resource_id = ?');

  db.transaction(() => {
    if (kind === 'guests') {
      const marked = db.prepare(`UPDATE guests AS t SET status = 'vanished', updated_at = ? WHERE ${gone} AND t.status <> 'vanished' RETURNING id`).all(now, ...goneArgs) as { id: string }[];
      for (const { id } of marked) setTag.run(tagKind, id, VANISHED_TAG, reason);
      out.vanished = marked.length;
      const cutoff = new Date(Date.parse(now) - (opts.graceMs ?? DAY)).toISOString();
      const expired = db.prepare(`SELECT id FROM guests AS t WHERE ${gone} AND t.status = 'vanished' AND t.updated_at < ?`).all(...goneArgs, cutoff) as { id: string }[];
      const delIps = db.prepare(`DELETE FROM ip_allocations WHERE owner_kind = 'guest' AND owner_id = ?`);
      const del = db.prepare('DELETE FROM guests WHERE id = ?');
      for (const { id } of expired) {
        delIps.run(id);
        delTags.run(tagKind, id);
        out.deleted += del.run(id).changes;
      }
      return;
    }
    const candidates = db.prepare(`SELECT id, status FROM ${table} AS t WHERE ${gone}`).all(...goneArgs) as { id: string; status: string }[];
    const del = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
    // A network's own reserved addresses (its gateway) go with it; allocated ones keep it.
    const cleanup = kind === 'networks' ? db.prepare(`DELETE FROM ip_allocations WHERE network_id = ? AND kind = 'reserved'`) : null;
    const mark = db.prepare(`UPDATE ${table} SET status = 'vanished', updated_at = ? WHERE id = ?`);
    const one = db.transaction((id: string) => {
      cleanup?.run(id);
      delTags.run(tagKind, id);
      return del.run(id).changes;
    });
    for (const c of candidates) {
      try {
        out.deleted += one(c.id);
      } catch (e) {
        // RESTRICT reports as SQLITE_CONSTRAINT_TRIGGER, NO ACTION as _FOREIGNKEY: both say "FOREIGN KEY constraint failed".
        if (!String((e as { code?: string }).code).startsWith('SQLITE_CONSTRAINT') || !/FOREIGN KEY/.test((e as Error).message)) throw e;
        if (c.status !== 'vanished') {
          mark.run(now, c.id);
          out.vanished++;
        }
      }
    }
  })();
  return out;
}

// ---- offline and staleness ---------------------------------------------------------------------------------------------

export interface ReachTarget {
  hostId?: string;
  cloudAccountId?: string;
}

export interface ReachResult {
  hosts: number;
  accounts: number;
  /** Resources whose stale flag changed (the host or account itself included). */
  stale: number;
}

/** Statements that set `stale` on everything a host or an account holds; `?` is its id. */
function heldBy(target: 'host' | 'account', flag: 0 | 1): string[] {
  const set = `SET stale = ${flag} WHERE stale = ${1 - flag} AND`;
  if (target === 'host') {
    const guests = 'SELECT id FROM guests WHERE host_id = @id';
    const disks = `SELECT id FROM disks WHERE guest_id IN (${guests}) OR storage_id IN (SELECT id FROM storages WHERE host_id = @id)`;
    return [
      `UPDATE guests ${set} host_id = @id`,
      `UPDATE storages ${set} host_id = @id`,
      `UPDATE disks ${set} id IN (${disks})`,
      `UPDATE snapshots ${set} (guest_id IN (${guests}) OR disk_id IN (${disks}))`,
      `UPDATE eips ${set} guest_id IN (${guests})`,
    ];
  }
  const guests = 'SELECT id FROM guests WHERE cloud_account_id = @id';
  const disks = `SELECT id FROM disks WHERE guest_id IN (${guests})`;
  return [
    `UPDATE regions ${set} cloud_account_id = @id`,
    `UPDATE zones ${set} region_id IN (SELECT id FROM regions WHERE cloud_account_id = @id)`,
    `UPDATE guests ${set} cloud_account_id = @id`,
    `UPDATE disks ${set} id IN (${disks})`,
    `UPDATE snapshots ${set} (guest_id IN (${guests}) OR disk_id IN (${disks}))`,
    `UPDATE eips ${set} (cloud_account_id = @id OR guest_id IN (${guests}))`,
  ];
}

/**
 * A host (its agent or SSH) or a cloud account cannot be reached: the host's status becomes `unreachable` with the
 * reason (an account's health `error` with the reason as its last error), and it and everything it holds are marked
 * stale. Guests keep their last-known status: the UI shows it as of `synced_at`, and nothing is guessed.
 */
export function markUnreachable(db: Database.Database, target: ReachTarget, reason: string, now = new Date().toISOString()): ReachResult {
  const out: ReachResult = { hosts: 0, accounts: 0, stale: 0 };
  db.transaction(() => {
    if (target.hostId !== undefined) {
      const r = db.prepare(`UPDATE hosts SET status = 'unreachable', status_reason = ?, updated_at = ?, stale = 1 WHERE id = ? RETURNING id`).all(reason, now, target.hostId);
      out.hosts += r.length;
      if (r.length) {
        out.stale += r.length;
        for (const sql of heldBy('host', 1)) out.stale += stmt(db, sql).run({ id: target.hostId }).changes;
      }
    }
    if (target.cloudAccountId !== undefined) {
      const r = db.prepare(`UPDATE cloud_accounts SET health = 'error', last_error = ?, updated_at = ?, stale = 1 WHERE id = ? RETURNING id`).all(reason, now, target.cloudAccountId);
      out.accounts += r.length;
      if (r.length) {
        out.stale += r.length;
        for (const sql of heldBy('account', 1)) out.stale += stmt(db, sql).run({ id: target.cloudAccountId }).changes;
      }
    }
  })();
  return out;
}

/**
 * The host or account answers again: an `unreachable` host becomes `status` (default `online`, last seen now), an
 * account's health `ok`, and the stale flags set by `markUnreachable` are cleared. (The sync that follows refreshes
 * the rows themselves.)
 */
export function markReachable(db: Database.Database, target: ReachTarget, opts: { status?: string; now?: string } = {}): ReachResult {
  const now = opts.now ?? new Date().toISOString();
  const out: ReachResult = { hosts: 0, accounts: 0, stale: 0 };
  db.transaction(() => {
    if (target.hostId !== undefined) {
      const before = db.prepare('SELECT stale FROM hosts WHERE id = ?').get(target.hostId) as { stale: number } | undefined;
      if (before) {
        db.prepare(
          `UPDATE hosts SET status = CASE WHEN status = 'unreachable' THEN ? ELSE status END, status_reason = CASE WHEN status = 'unreachable' THEN NULL ELSE status_reason END,
             last_seen_at = ?, updated_at = ?, stale = 0 WHERE id = ?`,
        ).run(opts.status ?? 'online', now, now, target.hostId);
        out.hosts++;
        out.stale += before.stale;
        for (const sql of heldBy('host', 0)) out.stale += stmt(db, sql).run({ id: target.hostId }).changes;
      }
    }
    if (target.cloudAccountId !== undefined) {
      const before = db.prepare('SELECT stale FROM cloud_accounts WHERE id = ?').get(target.cloudAccountId) as { stale: number } | undefined;
      if (before) {
        db.prepare(`UPDATE cloud_accounts SET health = 'ok', last_error = NULL, updated_at = ?, stale = 0 WHERE id = ?`).run(now, target.cloudAccountId);
        out.accounts++;
        out.stale += before.stale;
        for (const sql of heldBy('account', 0)) out.stale += stmt(db, sql).run({ id: target.cloudAccountId }).changes;
      }
    }
  })();
  return out;
}
