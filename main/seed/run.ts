import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, StartupError } from '../db/open';
import { VERSION } from '../version';
import { checkEmpty, seedInventory, SeedRefused } from './seed';

/**
 * `npm run seed -- --data-dir DIR [--hosts N] [--guests N] [--seed N]`: fills a new data directory with a synthetic,
 * read-only inventory (see seed.ts). Refuses a data dir in use by a running Skydeck (its lock) or already holding an
 * inventory.
 */
const USAGE = `Usage: npm run seed -- --data-dir DIR [--hosts 10000] [--guests 100000] [--seed 1]
  --data-dir   the data directory to fill (created if missing; must not hold an inventory or be in use)
  --hosts      KVM, ESXi and bare-metal hosts (default 10000)
  --guests     guests in all, 10% of them cloud instances (default 100000)
  --seed       PRNG seed: the same seed gives the same inventory (default 1)`;

const fmt = (n: number) => n.toLocaleString('en-US');

function count(name: string, v: string | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`--${name} must be an integer from 0 to ${fmt(max)} (got ${v})`);
  return n;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** The CLI without the process: arguments in, text out, an exit code back (tests call it directly). */
export function runSeed(argv: string[], io: Io): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, hosts: { type: 'string' }, guests: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE + '\n');
    return 0;
  }
  let hosts: number, guests: number, seed: number;
  try {
    hosts = count('hosts', args.hosts, 10_000, 1_000_000);
    guests = count('guests', args.guests, 100_000, 10_000_000);
    seed = count('seed', args.seed, 1, 2 ** 31 - 1);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return 2;
  }
  if (!args['data-dir']) {
    io.err(`--data-dir is required (seeding never writes into your default data directory)\n${USAGE}\n`);
    return 2;
  }
  const dataDir = resolve(args['data-dir']);

  let opened;
  try {
    opened = openDatabase(dataDir, VERSION);
  } catch (e) {
    if (e instanceof StartupError) {
      io.err(`Cannot seed: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    checkEmpty(opened.db);
    // A bulk load touches index pages all over a 200+ MB file: a larger page cache for this connection keeps them in
    // memory instead of re-reading and spilling them on every page of rows (~20% faster at 100k guests).
    opened.db.pragma('cache_size = -131072');
    io.out(`Seeding ${dataDir}: ${fmt(hosts)} hosts, ${fmt(guests)} guests (seed ${seed})\n`);
    const t0 = performance.now();
    let lastPhase = '';
    let lastAt = 0;
    const r = seedInventory(opened.db, {
      hosts,
      guests,
      seed,
      onProgress: ({ phase, done, total }) => {
        const now = performance.now();
        if (phase === lastPhase && done < total && now - lastAt < 1000) return;
        lastPhase = phase;
        lastAt = now;
        io.out(`  ${phase} ${fmt(done)}/${fmt(total)}  ${((now - t0) / 1000).toFixed(1)} s\n`);
      },
    });
    const t1 = performance.now();
    const secs = (t1 - t0) / 1000;
    // Planner statistics and a folded WAL, as a database that has been in use for a while would have.
    opened.db.exec('PRAGMA analysis_limit = 1000; ANALYZE;');
    opened.db.pragma('wal_checkpoint(TRUNCATE)');
    const c = r.counts;
    io.out(`  statistics and checkpoint  ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
    io.out(
      `Seeded ${dataDir} in ${secs.toFixed(1)} s: ${fmt(c.hosts)} hosts (${fmt(r.unreachableHosts)} unreachable), ${fmt(c.guests)} guests ` +
        `(${fmt(r.onPremGuests)} on KVM/ESXi, ${fmt(r.cloudGuests)} in ${fmt(c.cloudAccounts)} cloud accounts), ${fmt(c.disks)} disks, ${fmt(c.snapshots)} snapshots, ` +
        `${fmt(c.storages)} storages, ${fmt(c.networks)} networks, ${fmt(r.side.ipAllocations)} IP allocations, ${fmt(r.side.nics)} NICs, ${fmt(c.eips)} EIPs, ` +
        `${fmt(c.projects)} projects, ${fmt(c.images)} images, ${fmt(c.securityGroups)} security groups, ${fmt(c.keypairs)} key pairs, ${fmt(r.side.tags)} tags; ` +
        `${fmt(r.rows)} rows, ${fmt(Math.round(r.rows / secs))} rows/s. Read-only (imported).\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof SeedRefused) {
      io.err(`Cannot seed ${dataDir}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    opened.close();
  }
}

