// cloud-list: a sync of 10k instances from the loopback EC2 fake, listed in pages of 100 through the real
// @aws-sdk/client-ec2 (every request signed by the SDK and its signature verified by the fake), parsed and upserted by
// the product path: the clouds.sync task of a core opened on a fresh data dir (clouds.add → task → SyncSession).
// - first sync: regions, zones, VPCs, subnets and 10k instances into an empty inventory → instances/s;
// - re-sync of the same 10k (nothing changed, the steady state of the 15-minute sync) → instances/s;
// - a full sync of every kind (10k instances and their 10k volumes, security groups, images, EIPs, key pairs) → s;
// - the SDK's own load time (import of @aws-sdk/client-ec2 in a fresh Node process), which the core pays at the first
//   session only (lazy import).
// Medians of 3 runs after a warm-up.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './lib.mjs';
import { startAwsFake } from '../scripts/peers/clouds/aws/fake.mjs';

const ROOT = join(import.meta.dirname, '..');
const N = 10_000;
const PAGE = 100;
const RUNS = 3;
const BENCH = 'cloud-list';

async function loadBenchEntry() {
  const entry = join(ROOT, 'out/main/bench-entry.js');
  if (!existsSync(entry)) spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  return import(pathToFileURL(entry).href);
}

async function openFresh(e) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-cloud-'));
  const logger = e.createLogger({ level: 'error' });
  const platform = new e.HeadlessPlatform({ dataDir: dir, logger, passphrase: 'bench' });
  const core = await e.openCore({ dataDir: dir, platform, logger, version: e.VERSION });
  platform.bus = core.events;
  return { core, close: async () => (await core.close(), rmSync(dir, { recursive: true, force: true })) };
}

const ctx = { actor: 'bench', transport: 'internal' };

async function syncOnce(core, accountId, kinds) {
  const t0 = performance.now();
  const task = core.engine.submit('clouds.sync', { accountId, kinds, pageSize: PAGE }, { createdBy: 'bench', target: { kind: 'cloudAccount', id: accountId }, concurrencyKey: `account:${accountId}` });
  const done = await core.engine.waitFor(task.id);
  if (done.status !== 'succeeded') throw new Error(`sync failed: ${JSON.stringify(done.error)}`);
  return { ms: performance.now() - t0, result: done.result };
}

export default async function cloudList(rec) {
  const e = await loadBenchEntry();
  const fake = await startAwsFake({ regions: ['us-east-1'], instances: { 'us-east-1': N } });
  const LIST = ['regions', 'zones', 'vpcs', 'subnets', 'instances'];
  const m = { first: [], resync: [], full: [], requests: [] };
  try {
    for (let i = 0; i <= RUNS; i++) {
      const { core, close } = await openFresh(e);
      try {
        // The account, with a sync of regions only (so the measured syncs start from an empty instance inventory).
        const before = fake.stats.requests;
        const added = await core.dispatch('clouds.add', { name: 'bench', credentials: { provider: 'aws', accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey }, endpoint: fake.endpoint, regions: ['us-east-1'] }, ctx);
        core.engine.cancel(added.taskId);
        await core.engine.waitFor(added.taskId);
        const id = added.account.account.id;
        const guests = () => core.db.prepare(`SELECT count(*) AS n FROM guests WHERE cloud_account_id = ? AND status <> 'vanished'`).get(id).n;
        const a = await syncOnce(core, id, LIST);
        if (guests() !== N) throw new Error(`expected ${N} guests, got ${guests()}`);
        const b = await syncOnce(core, id, LIST);
        const c = await syncOnce(core, id, undefined);
        if (fake.stats.rejectedSignatures) throw new Error('the fake rejected a signature');
        const rate = (ms) => (N / ms) * 1000;
        process.stderr.write(`  run ${i}${i ? '' : ' (warm-up)'}: first ${Math.round(rate(a.ms))} inst/s, re-sync ${Math.round(rate(b.ms))} inst/s, full sync ${Math.round(c.ms)} ms\n`);
        if (i > 0) {
          m.first.push(rate(a.ms));
          m.resync.push(rate(b.ms));
          m.full.push(c.ms / 1000);
          m.requests.push(fake.stats.requests - before);
        }
      } finally {
        await close();
      }
    }
  } finally {
    await fake.close();
  }
  // The SDK's load time in a fresh process.
  const loads = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const t=performance.now(); await import('@aws-sdk/client-ec2'); console.log(performance.now()-t)`], { cwd: ROOT, encoding: 'utf8' });
    loads.push(Number(r.stdout.trim()));
  }
  rec.add({ bench: BENCH, metric: `aws: first sync of ${N / 1000}k instances, pages of ${PAGE}, parsed and upserted (SDK → loopback fake, SigV4 verified)`, value: median(m.first), unit: 'instances/s', target: '≥ 2,000 instances/s', runs: RUNS });
  rec.add({ bench: BENCH, metric: `aws: re-sync of the same ${N / 1000}k instances (unchanged), pages of ${PAGE}`, value: median(m.resync), unit: 'instances/s', target: '≥ 2,000 instances/s', runs: RUNS });
  rec.add({ bench: BENCH, metric: `aws: full sync of every kind (${N / 1000}k instances + ${N / 1000}k volumes, SGs, images, EIPs, key pairs)`, value: median(m.full), unit: 's', runs: RUNS });
  rec.add({ bench: BENCH, metric: 'aws: import @aws-sdk/client-ec2 in a fresh process (paid at the first session only)', value: median(loads), unit: 'ms', runs: 3 });
}
