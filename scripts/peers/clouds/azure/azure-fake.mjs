// A loopback Azure for tests and benchmarks: one HTTPS server (certificate from a throwaway test CA) that is both the
// Microsoft Entra ID authority host (token endpoint, OpenID metadata, JWKS) and Azure Resource Manager (VMs, disks,
// snapshots, images, SSH keys, VNets/subnets, NSGs/rules, public IPs, NICs, resource groups, locations, SKUs), with
// verified bearer tokens, api-version checks, nextLink paging, long-running operations and fault injection.
//
//   const az = await startAzureFake({ vms: 10_000 });
//   // az.endpoint (ARM), az.authorityHost (Entra), az.caFile (trust it), az.tenantId, az.subscriptionId,
//   // az.clientId / az.clientSecret (a Contributor service principal), az.inject({ kind: 'throttle', times: 2 }), az.close()
//
// Run by hand: node scripts/peers/clouds/azure/azure-fake.mjs [--vms N] [--port P]  (prints the connection JSON).
// Details: scripts/peers/clouds/azure/README.md.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArm } from './arm.mjs';
import { createEntra } from './entra.mjs';
import { createRetail } from './monitor.mjs';
import { jwk, keyId, signJwt } from './jwt.mjs';
import { guid, opensshRsa } from './model.mjs';
import { createTestCa } from './tls.mjs';

export { API_VERSIONS, ARM_AUDIENCES } from './arm.mjs';
export { LOCATIONS, VM_SIZES } from './model.mjs';
export { VM_METRICS, azureMetricSample, azurePrice, parseRetailFilter } from './monitor.mjs';

/**
 * @typedef {{ clientId: string, clientSecret: string, objectId: string, role: 'Contributor' | 'Reader', secretExpired?: boolean }} FakePrincipal
 * @typedef {{
 *   kind: 'throttle' | 'server' | 'quota' | 'sku' | 'authz' | 'error',
 *   times?: number, target?: 'arm' | 'token' | 'retail', method?: string, path?: string | RegExp, operation?: string | RegExp,
 *   status?: number, code?: string, message?: string, retryAfterSec?: number, async?: boolean,
 *   limit?: number, used?: number, required?: number,
 * }} AzureFault
 * @typedef {{
 *   tenantId: string, tenantDomain: string, subscriptionId: string, principals: FakePrincipal[],
 *   endpoint: () => string, authorityHost: () => string, now: () => number,
 *   tokenLifetimeSec: number, tokensIssued: number,
 *   issueToken: (o: { clientId?: string, audience?: string, expiresInSec?: number, notBeforeSec?: number, tenantId?: string }) => string,
 *   jwks: () => unknown[], verificationKeys: Map<string, import('node:crypto').KeyObject>,
 *   vmCount: number, vmsPerGroup: number, sshKeys: string[], pageSize: number,
 *   lroPolls: number, lroMaxMs: number, lroRetryAfterSec: number | undefined,
 *   coresQuota: number, unavailableSkus: Record<string, string[]> | undefined, extraApiVersions: Record<string, string[]>,
 *   takeFault: (req: { target: 'arm' | 'token' | 'retail', method: string, path: string, operation?: string, lro?: boolean }) => AzureFault | null,
 * }} FakeContext
 */

/** @param {string | RegExp | undefined} m @param {string | undefined} s */
const matches = (m, s) => m === undefined || (s !== undefined && (typeof m === 'string' ? s.toLowerCase().includes(m.toLowerCase()) : m.test(s)));

/**
 * @param {import('./azure-fake.d.mts').StartAzureFakeOptions} [opts]
 * @returns {Promise<import('./azure-fake.d.mts').AzureFake>}
 */
export async function startAzureFake(opts = {}) {
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skydeck-azure-fake-'));
  const tls = await createTestCa(dir);
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = keyId(signing.publicKey);
  const sshKeys = [0, 1].map((i) => opensshRsa(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, `skydeck-test-${i}`));
  const tenantId = (opts.tenantId ?? '5ca1ab1e-0000-4000-8000-00000000d00d').toLowerCase();
  const subscriptionId = (opts.subscriptionId ?? '00000000-1111-2222-3333-444444444444').toLowerCase();
  /** @type {FakePrincipal[]} */
  const principals = opts.principals?.map((p) => ({ role: 'Contributor', objectId: guid(`${p.clientId}oid`), ...p })) ?? [
    { clientId: opts.clientId ?? '11111111-2222-3333-4444-555555555555', clientSecret: opts.clientSecret ?? 'fake~Secret.0123456789abcdefghijklmnopqrstu', objectId: guid('contributor-oid'), role: 'Contributor' },
    { clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', clientSecret: 'reader~Secret.0123456789abcdefghijklmnopqrs', objectId: guid('reader-oid'), role: 'Reader' },
  ];
  const now = opts.now ?? (() => Date.now());
  let base = '';
  /** @type {(AzureFault & { id: number, left: number })[]} */
  let faults = [];
  let faultSeq = 0;

  /** @type {FakeContext} */
  const ctx = {
    tenantId, tenantDomain: 'skydecktest.onmicrosoft.com', subscriptionId, principals,
    endpoint: () => base, authorityHost: () => base, now,
    tokenLifetimeSec: opts.tokenLifetimeSec ?? 3599, tokensIssued: 0,
    issueToken: (o) => {
      const t = Math.floor(now() / 1000);
      const p = principals.find((x) => x.clientId === (o.clientId ?? principals[0]?.clientId)) ?? principals[0];
      const tid = o.tenantId ?? tenantId;
      return signJwt({
        aud: o.audience ?? 'https://management.azure.com', iss: `https://sts.windows.net/${tid}/`,
        iat: t - 300, nbf: t - 300 + (o.notBeforeSec ?? 0), exp: t + (o.expiresInSec ?? ctx.tokenLifetimeSec),
        aio: Buffer.from(randomUUID()).toString('base64url'), appid: p?.clientId, appidacr: '1', idp: `https://sts.windows.net/${tid}/`, idtyp: 'app',
        oid: p?.objectId, rh: `0.${Buffer.from(randomUUID()).toString('base64url').slice(0, 40)}.`, sub: p?.objectId, tid, uti: Buffer.from(randomUUID()).toString('base64url').slice(0, 22), ver: '1.0',
        xms_tcdt: 1289241547,
      }, signing.privateKey, kid);
    },
    jwks: () => [jwk(signing.publicKey, kid, `https://sts.windows.net/${tenantId}/`)],
    verificationKeys: new Map([[kid, signing.publicKey]]),
    vmCount: opts.vms ?? 10_000, vmsPerGroup: opts.vmsPerGroup ?? 250, sshKeys, pageSize: opts.pageSize ?? 1000,
    lroPolls: opts.lroPolls ?? 1, lroMaxMs: opts.lroMaxMs ?? 30_000, lroRetryAfterSec: opts.lroRetryAfterSec,
    coresQuota: opts.coresQuota ?? Infinity, unavailableSkus: opts.unavailableSkus, extraApiVersions: opts.extraApiVersions ?? {},
    takeFault: (req) => {
      const f = faults.find((x) => x.left > 0 && (x.target ?? 'arm') === req.target && matches(x.method, req.method) && matches(x.path, req.path) && matches(x.operation, req.operation));
      if (!f) return null;
      f.left--;
      faults = faults.filter((x) => x.left > 0);
      return f;
    },
  };
  const entra = createEntra(ctx);
  const arm = createArm(ctx);
  const retail = createRetail({ endpoint: () => base, pageSize: opts.retailPageSize ?? 100 });
  /** @type {import('./azure-fake.d.mts').AzureRequestLog[]} */
  const requests = [];

  const server = createServer({ key: tls.keyPem, cert: tls.certPem, keepAlive: true }, (req, res) => {
    const started = Date.now();
    /** @type {Buffer[]} */ const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= 4 << 20) chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const method = (req.method ?? 'GET').toUpperCase();
      const raw = Buffer.concat(chunks).toString('utf8');
      /** @type {import('./arm.mjs').FakeResponse & { operation?: string, principal?: string }} */
      let out;
      try {
        if (size > 4 << 20) out = { status: 413, body: { error: { code: 'RequestEntityTooLarge', message: 'The request content size exceeds the maximum size of 4 MB.' } } };
        else if (/^\/(subscriptions|tenants|providers)(\/|$)/i.test(url.pathname)) out = arm.handle(method, url, raw, req.headers);
        else if (/^\/api\/retail\/prices\/?$/i.test(url.pathname)) {
          // The Retail Prices API (prices.azure.com): no authentication; faults with target 'retail'.
          const f = ctx.takeFault({ target: 'retail', method, path: url.pathname });
          out = f ? { status: f.status ?? 429, headers: f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec) } : {}, body: { Error: { Code: f.code ?? (f.kind === 'throttle' ? 'TooManyRequests' : 'InternalServerError'), Message: f.message ?? 'Too many requests. Please retry after some time.' } } } : /** @type {any} */ (retail.handle(method, url));
        }
        else {
          const f = ctx.takeFault({ target: 'token', method, path: url.pathname });
          if (f) out = tokenFault(f);
          else out = entra.handle(method, url, raw, req.headers) ?? { status: 404, body: { error: 'not_found', error_description: `No route for ${method} ${url.pathname}` } };
        }
      } catch (e) {
        out = { status: 500, body: { error: { code: 'InternalServerError', message: `fake: ${e instanceof Error ? e.stack : String(e)}` } } };
      }
      const requestId = randomUUID();
      /** @type {Record<string, string>} */
      const headers = {
        'x-ms-request-id': requestId,
        'x-ms-correlation-request-id': String(req.headers['x-ms-client-request-id'] ?? req.headers['client-request-id'] ?? randomUUID()),
        'x-ms-routing-request-id': `WESTEUROPE:${new Date(now()).toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z:${requestId}`,
        'cache-control': 'no-cache',
        ...(out.headers ?? {}),
      };
      const body = out.body === undefined ? '' : JSON.stringify(out.body);
      if (body) headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(Buffer.byteLength(body));
      res.writeHead(out.status, headers);
      res.end(method === 'HEAD' ? undefined : body);
      if (requests.length >= 100_000) requests.splice(0, 10_000);
      requests.push({ method, path: url.pathname, query: url.search, status: out.status, operation: out.operation, principal: out.principal, ms: Date.now() - started });
    });
  });
  /** @param {AzureFault} f */
  function tokenFault(f) {
    const status = f.status ?? (f.kind === 'throttle' ? 429 : 503);
    const now2 = new Date(now()).toISOString().slice(0, 19).replace('T', ' ');
    const code = f.kind === 'throttle' ? 90055 : 90033;
    const desc = f.message ?? (f.kind === 'throttle' ? 'TenantThrottlingError - There are too many incoming requests. This request was throttled. Please try again later.' : 'A transient error has occurred. Please try again.');
    return {
      status,
      headers: f.kind === 'throttle' || f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec ?? 1) } : {},
      body: { error: f.code ?? 'temporarily_unavailable', error_description: `AADSTS${code}: ${desc}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${now2}Z`, error_codes: [code], timestamp: `${now2}Z`, trace_id: randomUUID(), correlation_id: randomUUID() },
    };
  }

  const host = opts.host ?? '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve(undefined));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  base = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const exitHook = () => { if (ownDir) rmSync(dir, { recursive: true, force: true }); };
  process.once('exit', exitHook);
  let closed = false;

  const first = principals[0];
  return {
    endpoint: base,
    authorityHost: base,
    port,
    caFile: tls.caFile,
    caPem: tls.caPem,
    dir,
    tenantId,
    tenantDomain: ctx.tenantDomain,
    subscriptionId,
    clientId: first?.clientId ?? '',
    clientSecret: first?.clientSecret ?? '',
    principals,
    scope: 'https://management.azure.com/.default',
    requests,
    retailFilters: retail.filters,
    get tokensIssued() { return ctx.tokensIssued; },
    inject(f) {
      const entry = { ...f, id: ++faultSeq, left: f.times ?? 1 };
      faults.push(entry);
      return { remaining: () => entry.left, clear: () => { entry.left = 0; faults = faults.filter((x) => x.left > 0); } };
    },
    clearFaults() { faults = []; },
    issueToken: (o = {}) => ctx.issueToken(o),
    setQuota: (location, cores) => arm.setQuota(location, cores),
    coresUsed: (location) => arm.coresUsed(location),
    resource: (id) => arm.getResource(id),
    powerState: (vmId) => arm.power.get(vmId.toLowerCase()),
    vmIds: () => [...(arm.store.get('microsoft.compute/virtualmachines')?.values() ?? [])].map((v) => v.id),
    settleAll: () => arm.settleAll(),
    async close() {
      if (closed) return;
      closed = true;
      arm.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      process.removeListener('exit', exitHook);
      exitHook();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (/** @type {string} */ name) => { const k = process.argv.indexOf(name); return k > 0 ? process.argv[k + 1] : undefined; };
  const az = await startAzureFake({ vms: Number(arg('--vms') ?? 10_000), port: Number(arg('--port') ?? 0) });
  process.stdout.write(`${JSON.stringify({ endpoint: az.endpoint, authorityHost: az.authorityHost, caFile: az.caFile, tenantId: az.tenantId, subscriptionId: az.subscriptionId, clientId: az.clientId, clientSecret: az.clientSecret })}\n`);
  const stop = () => { void az.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
