// cloud-list: a sync of 10k instances per provider from its loopback fake, listed through the provider's official SDK
// (every request signed by the SDK and verified by the fake), parsed and upserted by the product path: the clouds.sync
// task of a core opened on a fresh data dir (clouds.add → task → SyncSession). Providers and their fakes:
// - aws: @aws-sdk/client-ec2 → scripts/peers/clouds/aws/fake.mjs (SigV4), one region, pages of 100 (MaxResults);
// - aliyun: @alicloud/ecs20140526 → scripts/peers/clouds/aliyun/fake.mjs (ACS3 signature), one region, pages of 100
//   (NextToken/MaxResults);
// - tencent: tencentcloud-sdk-nodejs-cvm → scripts/peers/clouds/tencent/fake.mjs (TC3 signature), one region, pages of
//   100 (Offset/Limit);
// - azure: @azure/arm-compute, -network, identity → scripts/peers/clouds/azure/azure-fake.mjs (HTTPS with a test CA,
//   Entra tokens verified). ARM pages are the server's (nextLink), not the client's: the fake is started with pageSize
//   100. The listing is subscription-wide (the VMs spread over the fake's locations, all of them the account's regions).
//   The test CA is trusted through NODE_EXTRA_CA_CERTS, which the driver reads at connect for an endpoint override.
// Per provider:
// - first sync: regions, zones, VPCs, subnets and 10k instances into an empty inventory → instances/s;
// - re-sync of the same 10k (nothing changed, the steady state of the 15-minute sync) → instances/s;
// - a full sync of every kind (10k instances and the other kinds the fake holds) → s;
// - the SDK's own load time (import of the driver's SDK modules in a fresh Node process), which the core pays at the
//   first session of that provider only (lazy import).
// The monitoring collector is stopped in these cores: its round, one second after start and then every 10 s, would ask
// the fake for the metrics of whatever instances the measured sync has written so far (measured: Azure's one call per
// VM took the re-sync from 9.5k to 1k instances/s when it overlapped), which is the metrics path, not listing.
// Medians of 3 runs after a warm-up. `npm run bench -- cloud-list` runs all; CLOUD_LIST=aws,azure picks some.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './lib.mjs';
import { startAwsFake } from '../scripts/peers/clouds/aws/fake.mjs';
import { startAliyunFake } from '../scripts/peers/clouds/aliyun/fake.mjs';
import { startTencentFake } from '../scripts/peers/clouds/tencent/fake.mjs';
import { startAzureFake, LOCATIONS as AZURE_LOCATIONS } from '../scripts/peers/clouds/azure/azure-fake.mjs';

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
  // Listing only: the collector's cloud metrics round (10k running instances a minute; Azure Monitor takes one call per
  // VM) would otherwise run during the measured syncs, against the same in-process fake, on the same event loop.
  core.monitoring.stop();
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

/**
 * The providers: start(N) → the fake; account(fake) → clouds.add's credentials, endpoint and regions; listCalls(fake) →
 * how many instance-list requests the fake has answered; sdk → the modules the driver imports at connect.
 */
const PROVIDERS = [
  {
    name: 'aws', label: 'SDK → loopback fake, SigV4 verified', page: `pages of ${PAGE}`,
    start: () => startAwsFake({ regions: ['us-east-1'], instances: { 'us-east-1': N } }),
    account: (f) => ({ credentials: { provider: 'aws', accessKeyId: f.accessKeyId, secretAccessKey: f.secretAccessKey }, endpoint: f.endpoint, regions: ['us-east-1'] }),
    listCalls: (f) => f.stats.byAction.DescribeInstances ?? 0,
    check: (f) => { if (f.stats.rejectedSignatures) throw new Error('the fake rejected a signature'); },
    sdk: ['@aws-sdk/client-ec2'],
    kinds: '10k instances + 10k volumes, SGs, images, EIPs, key pairs',
  },
  {
    name: 'aliyun', label: 'SDK → loopback fake, ACS3 signature verified', page: `pages of ${PAGE} (NextToken/MaxResults)`,
    start: () => startAliyunFake({ instances: N, regions: 1 }),
    account: (f) => ({ credentials: { provider: 'aliyun', accessKeyId: f.accessKeyId, accessKeySecret: f.accessKeySecret }, endpoint: f.url, regions: [f.regions[0]] }),
    listCalls: (f) => f.requests.filter((r) => r.action === 'DescribeInstances').length,
    sdk: ['@alicloud/ecs20140526', '@alicloud/openapi-client'],
    kinds: '10k instances + their disks, SGs, images, EIPs, key pairs, snapshots',
  },
  {
    name: 'tencent', label: 'SDK → loopback fake, TC3 signature verified', page: `pages of ${PAGE} (Offset/Limit)`,
    start: () => startTencentFake({ instances: N, regions: 1 }),
    account: (f) => ({ credentials: { provider: 'tencent', secretId: f.secretId, secretKey: f.secretKey }, endpoint: f.url, regions: [f.regions[0]] }),
    listCalls: (f) => f.requests.filter((r) => r.action === 'DescribeInstances').length,
    sdk: ['tencentcloud-sdk-nodejs-cvm'],
    kinds: '10k instances + their disks, SGs, images, EIPs, key pairs, snapshots',
  },
  {
    name: 'azure', label: 'SDK → loopback HTTPS fake, Entra tokens verified', page: `nextLink pages of ${PAGE} (the fake's pageSize; ARM sets the page size, not the client)`,
    start: async () => {
      const az = await startAzureFake({ vms: N, pageSize: PAGE });
      process.env.NODE_EXTRA_CA_CERTS = az.caFile; // read by the driver at connect (endpoint override)
      return az;
    },
    account: (az) => ({ credentials: { provider: 'azure', tenantId: az.tenantId, clientId: az.clientId, clientSecret: az.clientSecret, subscriptionId: az.subscriptionId }, endpoint: az.endpoint, regions: AZURE_LOCATIONS.map((l) => l.name) }),
    listCalls: (az) => az.requests.filter((r) => r.method === 'GET' && /\/providers\/Microsoft\.Compute\/virtualMachines$/i.test(r.path)).length,
    sdk: ['@azure/identity', '@azure/arm-compute', '@azure/arm-compute/api', '@azure/arm-network'],
    kinds: `10k VMs + their NICs, public IPs and disks, VNets, NSGs, images, snapshots, SSH keys over ${AZURE_LOCATIONS.length} locations`,
  },
];

async function benchProvider(e, p, rec) {
  const fake = await p.start();
  const LIST = ['regions', 'zones', 'vpcs', 'subnets', 'instances'];
  const m = { first: [], resync: [], full: [], pages: [] };
  try {
    for (let i = 0; i <= RUNS; i++) {
      const { core, close } = await openFresh(e);
      try {
        // The account, its first sync cancelled (so the measured syncs start from an empty instance inventory).
        const added = await core.dispatch('clouds.add', { name: `bench-${p.name}`, ...p.account(fake) }, ctx);
        core.engine.cancel(added.taskId);
        await core.engine.waitFor(added.taskId);
        const id = added.account.account.id;
        const guests = () => core.db.prepare(`SELECT count(*) AS n FROM guests WHERE cloud_account_id = ? AND status <> 'vanished'`).get(id).n;
        const calls0 = p.listCalls(fake);
        const a = await syncOnce(core, id, LIST);
        const pages = p.listCalls(fake) - calls0;
        if (guests() !== N) throw new Error(`${p.name}: expected ${N} guests, got ${guests()}`);
        const b = await syncOnce(core, id, LIST);
        if (guests() !== N) throw new Error(`${p.name}: expected ${N} guests after the re-sync, got ${guests()}`);
        const c = await syncOnce(core, id, undefined);
        p.check?.(fake);
        const rate = (ms) => (N / ms) * 1000;
        process.stderr.write(`  ${p.name} run ${i}${i ? '' : ' (warm-up)'}: first ${Math.round(rate(a.ms))} inst/s (${pages} instance-list requests), re-sync ${Math.round(rate(b.ms))} inst/s, full sync ${Math.round(c.ms)} ms\n`);
        if (i > 0) {
          m.first.push(rate(a.ms));
          m.resync.push(rate(b.ms));
          m.full.push(c.ms / 1000);
          m.pages.push(pages);
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
  const imports = p.sdk.map((s) => `import(${JSON.stringify(s)})`).join(', ');
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const t=performance.now(); await Promise.all([${imports}]); console.log(performance.now()-t)`], { cwd: ROOT, encoding: 'utf8' });
    const ms = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(ms)) throw new Error(`${p.name}: SDK import failed: ${r.stderr}`);
    loads.push(ms);
  }
  const k = `${N / 1000}k`;
  rec.add({ bench: BENCH, metric: `${p.name}: first sync of ${k} instances, ${p.page}, parsed and upserted (${p.label}; ${median(m.pages)} instance-list requests)`, value: median(m.first), unit: 'instances/s', target: '≥ 2,000 instances/s', runs: RUNS });
  rec.add({ bench: BENCH, metric: `${p.name}: re-sync of the same ${k} instances (unchanged), ${p.page}`, value: median(m.resync), unit: 'instances/s', target: '≥ 2,000 instances/s', runs: RUNS });
  rec.add({ bench: BENCH, metric: `${p.name}: full sync of every kind (${p.kinds})`, value: median(m.full), unit: 's', runs: RUNS });
  rec.add({ bench: BENCH, metric: `${p.name}: import ${p.sdk.join(' + ')} in a fresh process (paid at the first session only)`, value: median(loads), unit: 'ms', runs: 3 });
}

export default async function cloudList(rec) {
  const e = await loadBenchEntry();
  const only = process.env.CLOUD_LIST?.split(',').map((s) => s.trim()).filter(Boolean);
  const savedCa = process.env.NODE_EXTRA_CA_CERTS;
  try {
    for (const p of PROVIDERS) if (!only?.length || only.includes(p.name)) await benchProvider(e, p, rec);
  } finally {
    if (savedCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = savedCa;
  }
}
