// The Azure Resource Manager part of the Azure fake. Every request must carry a bearer token issued by the fake's
// Entra endpoint: signature (RS256, the fake's key), audience, expiry, not-before and tenant are verified here. Then the
// api-version is checked per resource provider, injected faults are applied, and the request is answered in ARM's wire
// format: paged lists ({ value, nextLink }), resources, ARM errors ({ error: { code, message } }) and long-running
// operations the real way (201/202 + Azure-AsyncOperation / Location, a polling endpoint answering InProgress, then
// Succeeded or Failed; the state change becomes visible when the operation completes).
import { randomUUID } from 'node:crypto';
import { verifyJwt } from './jwt.mjs';
import { DEFAULT_UNAVAILABLE_SKUS, LOCATIONS, VM_SIZES, armTime, buildModel, guid, locationEntry } from './model.mjs';
import { createMonitor } from './monitor.mjs';

/**
 * api-versions ARM accepts, per resource provider family (an unknown one → NoRegisteredProviderFound, like ARM). The
 * newest are what @azure/arm-compute 25.1 (Compute 2026-04-01, disks 2026-03-02, skus 2021-07-01) and
 * @azure/arm-network 39.0 (2026-01-01) send.
 */
export const API_VERSIONS = {
  compute: ['2020-06-01', '2020-12-01', '2021-03-01', '2021-04-01', '2021-07-01', '2021-11-01', '2022-03-01', '2022-08-01', '2022-11-01', '2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01', '2025-11-01', '2026-04-01'],
  disk: ['2020-12-01', '2021-04-01', '2021-08-01', '2021-12-01', '2022-03-02', '2022-07-02', '2023-01-02', '2023-04-02', '2023-10-02', '2024-03-02', '2025-01-02', '2026-03-02'],
  skus: ['2017-09-01', '2019-04-01', '2021-07-01'],
  network: ['2020-11-01', '2021-02-01', '2021-05-01', '2021-08-01', '2022-01-01', '2022-05-01', '2022-07-01', '2022-09-01', '2022-11-01', '2023-02-01', '2023-04-01', '2023-05-01', '2023-06-01', '2023-09-01', '2023-11-01', '2024-01-01', '2024-03-01', '2024-05-01', '2024-07-01', '2024-10-01', '2025-01-01', '2025-03-01', '2025-05-01', '2025-07-01', '2026-01-01'],
  resources: ['2019-10-01', '2020-06-01', '2020-10-01', '2021-01-01', '2021-04-01', '2022-09-01', '2023-07-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01'],
  subscriptions: ['2016-06-01', '2019-06-01', '2019-11-01', '2020-01-01', '2021-01-01', '2022-01-01', '2022-12-01'],
  /** Azure Monitor metrics (Microsoft.Insights/metrics); @azure/arm-monitor 8.0 sends 2024-02-01. */
  insights: ['2018-01-01', '2019-07-01', '2021-05-01', '2023-10-01', '2024-02-01'],
  /** Azure Monitor's metrics data plane (metrics:getBatch); @azure/monitor-query-metrics 1.0 sends 2024-02-01. */
  metricsBatch: ['2023-10-01', '2024-02-01'],
};

/** Audiences ARM accepts (what Entra puts in `aud` for https://management.azure.com/.default and the classic resource). */
export const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.azure.com/', 'https://management.core.windows.net', 'https://management.core.windows.net/'];
/**
 * Audiences Azure Monitor's metrics data plane (https://{region}.metrics.monitor.azure.com, metrics:getBatch) takes: its
 * own, and ARM's, which @azure/monitor-query-metrics 1.0 asks for by default (KnownMonitorMetricsQueryAudience).
 */
export const METRICS_AUDIENCES = ['https://metrics.monitor.azure.com', 'https://metrics.monitor.azure.com/', ...ARM_AUDIENCES];
/** The data-plane batch path, which takes a token for METRICS_AUDIENCES. */
export const METRICS_BATCH_PATH = /^\/subscriptions\/[^/]+\/metrics:getbatch$/i;

/** Resource types served under resource groups: lower-case 'namespace/type' → wire name, api family, children. */
const TYPES = {
  'microsoft.compute/virtualmachines': { name: 'Microsoft.Compute/virtualMachines', api: 'compute', rp: 'Microsoft.Compute' },
  'microsoft.compute/disks': { name: 'Microsoft.Compute/disks', api: 'disk', rp: 'Microsoft.Compute' },
  'microsoft.compute/snapshots': { name: 'Microsoft.Compute/snapshots', api: 'disk', rp: 'Microsoft.Compute' },
  'microsoft.compute/images': { name: 'Microsoft.Compute/images', api: 'compute', rp: 'Microsoft.Compute' },
  'microsoft.compute/sshpublickeys': { name: 'Microsoft.Compute/sshPublicKeys', api: 'compute', rp: 'Microsoft.Compute', sync: true },
  'microsoft.network/virtualnetworks': { name: 'Microsoft.Network/virtualNetworks', api: 'network', rp: 'Microsoft.Network', children: { subnets: { prop: 'subnets', name: 'subnets' } } },
  'microsoft.network/networksecuritygroups': { name: 'Microsoft.Network/networkSecurityGroups', api: 'network', rp: 'Microsoft.Network', children: { securityrules: { prop: 'securityRules', name: 'securityRules' } } },
  'microsoft.network/publicipaddresses': { name: 'Microsoft.Network/publicIPAddresses', api: 'network', rp: 'Microsoft.Network' },
  'microsoft.network/networkinterfaces': { name: 'Microsoft.Network/networkInterfaces', api: 'network', rp: 'Microsoft.Network' },
};
const VM_TYPE = 'microsoft.compute/virtualmachines';
const VM_ACTIONS = { start: ['starting', 'running'], poweroff: ['stopping', 'stopped'], deallocate: ['deallocating', 'deallocated'], restart: ['starting', 'running'] };
const POWER_TEXT = { running: 'VM running', stopped: 'VM stopped', deallocated: 'VM deallocated', starting: 'VM starting', stopping: 'VM stopping', deallocating: 'VM deallocating' };

/**
 * @typedef {import('./azure-fake.mjs').FakeContext} FakeContext
 * @typedef {{ status: number, headers?: Record<string, string>, body?: unknown }} FakeResponse
 * @typedef {{ status: number, code: string, message: string }} ArmErrorSpec
 */

class ArmError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {Record<string, unknown>} [extra] */
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}
/** @param {number} status @param {string} code @param {string} message @param {Record<string, unknown>} [extra] */
const fail = (status, code, message, extra) => { throw new ArmError(status, code, message, extra); };
/** @param {ArmError} e @returns {FakeResponse} */
const errorResponse = (e) => ({ status: e.status, body: { error: { code: e.code, message: e.message, ...e.extra } } });

/** Deep merge for PATCH (objects merge, arrays and scalars replace, null removes). */
function merge(target, patch) {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v && typeof v === 'object' && !Array.isArray(v) ? merge(out[k], v) : v;
  }
  return out;
}

/**
 * @param {FakeContext} ctx
 */
export function createArm(ctx) {
  const sub = ctx.subscriptionId;
  const subPath = `/subscriptions/${sub}`;
  const model = buildModel({ subscriptionId: sub, vms: ctx.vmCount, vmsPerGroup: ctx.vmsPerGroup, sshKeys: ctx.sshKeys, created: '2026-01-15T08:00:00.0000000+00:00' });
  /** @type {Map<string, any>} lower-case name → resource group */
  const groups = new Map(model.groups.map((g) => [g.name.toLowerCase(), g]));
  /** @type {Map<string, Map<string, any>>} lower 'ns/type' → lower id → resource */
  const store = new Map(Object.keys(TYPES).map((t) => [t, new Map()]));
  for (const r of model.resources) store.get(r.type.toLowerCase())?.set(r.id.toLowerCase(), r);
  const power = model.power;
  /** @type {Map<string, string>} lower resource id → op id in flight */
  const busy = new Map();
  /** @type {Map<string, any>} */
  const ops = new Map();
  /** @type {Map<string, number>} location → regional cores limit */
  const quota = new Map();
  /** @type {Record<string, string[]>} */
  const unavailable = { ...DEFAULT_UNAVAILABLE_SKUS, ...(ctx.unavailableSkus ?? {}) };
  const locNames = new Set(LOCATIONS.map((l) => l.name));
  let ipSeq = 1000;

  const iso = () => new Date(ctx.now()).toISOString();
  /** @param {string} type lower 'ns/type' @param {string} id */
  const lookup = (type, id) => store.get(type)?.get(id.toLowerCase());
  const monitor = createMonitor(ctx, { vm: (id) => lookup(VM_TYPE, id), power: (id) => power.get(id.toLowerCase()) });
  /** @param {string} id any ARM id → its resource (top-level types) */
  const byId = (id) => {
    const m = /\/providers\/([^/]+)\/([^/]+)\/[^/]+$/i.exec(id);
    return m ? lookup(`${m[1]}/${m[2]}`.toLowerCase(), id) : undefined;
  };
  /** @param {string} id a child id (…/virtualNetworks/v/subnets/s) → the child object */
  const childById = (id) => {
    const m = /^(.*\/providers\/([^/]+)\/([^/]+)\/[^/]+)\/([^/]+)\/([^/]+)$/i.exec(id);
    if (!m) return undefined;
    const parent = lookup(`${m[2]}/${m[3]}`.toLowerCase(), m[1] ?? '');
    const prop = TYPES[/** @type {keyof typeof TYPES} */ (`${m[2]}/${m[3]}`.toLowerCase())]?.children?.[(m[4] ?? '').toLowerCase()]?.prop;
    return prop ? parent?.properties?.[prop]?.find((c) => c.name.toLowerCase() === (m[5] ?? '').toLowerCase()) : undefined;
  };

  // ---- quotas and SKU restrictions -------------------------------------------------------------------------------
  /** @param {string} location */
  const coresUsed = (location) => {
    let n = 0;
    for (const vm of store.get(VM_TYPE)?.values() ?? []) {
      if (vm.location !== location || power.get(vm.id.toLowerCase()) === 'deallocated') continue;
      n += VM_SIZES[/** @type {keyof typeof VM_SIZES} */ (vm.properties.hardwareProfile.vmSize)]?.cores ?? 2;
    }
    return n;
  };
  /** @param {string} location @param {number} more */
  function checkQuota(location, more) {
    const limit = quota.get(location) ?? ctx.coresQuota;
    if (!Number.isFinite(limit) || more <= 0) return;
    const used = coresUsed(location);
    if (used + more > limit) quotaError(location, limit, used, more);
  }
  /** @param {string} location @param {number} limit @param {number} used @param {number} more @returns {never} */
  function quotaError(location, limit, used, more) {
    const need = used + more;
    const link = `https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/%7B%22subscriptionId%22:%22${sub}%22,%22command%22:%22openQuotaApprovalBlade%22,%22quotas%22:[%7B%22location%22:%22${location}%22,%22providerId%22:%22Microsoft.Compute%22,%22resourceName%22:%22cores%22,%22quotaRequest%22:%7B%22properties%22:%7B%22limit%22:${need},%22unit%22:%22Count%22,%22name%22:%7B%22value%22:%22cores%22%7D%7D%7D%7D]%7D`;
    return fail(409, 'OperationNotAllowed', `Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: ${location}, Current Limit: ${limit}, Current Usage: ${used}, Additional Required: ${more}, (Minimum) New Limit Required: ${need}. Submit a request for Quota increase at ${link} by specifying parameters listed in the ‘Details’ section for deployment to succeed. Please read more about quota limits at https://docs.microsoft.com/en-us/azure/azure-supportability/regional-quota-requests.`);
  }
  /** @param {string} location @param {string} size */
  const skuAvailable = (location, size) => ![...(unavailable['*'] ?? []), ...(unavailable[location] ?? [])].includes(size);
  /** @param {string} location @param {string} size @returns {never} */
  const skuError = (location, size) =>
    fail(409, 'SkuNotAvailable', `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${size}' is currently not available in location '${location}'. Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.`);

  // ---- long-running operations ----------------------------------------------------------------------------------
  /**
   * @param {{ rp: string, location: string, apiVersion: string, resourceId?: string, onDone?: () => void, onFail?: () => void, failWith?: ArmErrorSpec | null, result?: () => unknown, disk?: boolean }} o
   */
  function startOp(o) {
    const op = { id: randomUUID(), status: 'InProgress', startTime: iso(), endTime: '', polls: 0, error: /** @type {ArmErrorSpec | null} */ (null), ...o, timer: /** @type {NodeJS.Timeout | null} */ (null) };
    ops.set(op.id, op);
    if (o.resourceId) busy.set(o.resourceId.toLowerCase(), op.id);
    op.timer = setTimeout(() => complete(op), ctx.lroMaxMs);
    op.timer.unref();
    return op;
  }
  /** @param {ReturnType<typeof startOp>} op */
  function complete(op) {
    if (op.status !== 'InProgress') return;
    if (op.timer) clearTimeout(op.timer);
    if (op.resourceId && busy.get(op.resourceId.toLowerCase()) === op.id) busy.delete(op.resourceId.toLowerCase());
    op.endTime = iso();
    if (op.failWith) {
      op.status = 'Failed';
      op.error = op.failWith;
      op.onFail?.();
      return;
    }
    try {
      op.onDone?.();
      op.status = 'Succeeded';
    } catch (e) {
      op.status = 'Failed';
      op.error = e instanceof ArmError ? { status: e.status, code: e.code, message: e.message } : { status: 500, code: 'InternalExecutionError', message: String(e) };
      op.onFail?.();
    }
  }
  /** @param {ReturnType<typeof startOp>} op */
  const asyncUrl = (op) => `${ctx.endpoint()}${subPath}/providers/${op.rp}/locations/${op.location}/${op.disk ? 'DiskOperations' : 'operations'}/${op.id}?p=${guid(op.id).slice(0, 8)}&api-version=${op.apiVersion}`;
  /** @param {ReturnType<typeof startOp>} op */
  const locationUrl = (op) => op.rp === 'Microsoft.Network'
    ? `${ctx.endpoint()}${subPath}/providers/${op.rp}/locations/${op.location}/operationResults/${op.id}?api-version=${op.apiVersion}`
    : op.rp === 'Microsoft.Resources'
      ? `${ctx.endpoint()}${subPath}/operationresults/${op.id}?api-version=${op.apiVersion}`
      : `${ctx.endpoint()}${subPath}/providers/${op.rp}/locations/${op.location}/${op.disk ? 'DiskOperations' : 'operations'}/${op.id}?p=${guid(op.id).slice(0, 8)}&monitor=true&api-version=${op.apiVersion}`;
  /** @param {ReturnType<typeof startOp>} op @param {{ async?: boolean, location?: boolean }} which */
  const lroHeaders = (op, which) => ({
    ...(which.async !== false ? { 'azure-asyncoperation': asyncUrl(op) } : {}),
    ...(which.location ? { location: locationUrl(op) } : {}),
    ...(ctx.lroRetryAfterSec !== undefined ? { 'retry-after': String(ctx.lroRetryAfterSec) } : {}),
  });
  /** A poll: the operation advances after `lroPolls` InProgress answers. @param {ReturnType<typeof startOp>} op */
  const poll = (op) => {
    op.polls++;
    if (op.status === 'InProgress' && op.polls > ctx.lroPolls) complete(op);
  };
  /** @param {string} id @param {boolean} monitor @returns {FakeResponse} */
  function pollOperation(id, monitor) {
    const op = ops.get(id);
    if (!op) fail(404, 'NotFound', `The operation '${id}' could not be found.`);
    poll(op);
    const retry = ctx.lroRetryAfterSec !== undefined ? { 'retry-after': String(ctx.lroRetryAfterSec) } : {};
    if (!monitor) {
      const body = op.rp === 'Microsoft.Network'
        ? { status: op.status, ...(op.error ? { error: { code: op.error.code, message: op.error.message } } : {}) }
        : { startTime: op.startTime, ...(op.endTime ? { endTime: op.endTime } : {}), status: op.status, ...(op.error ? { error: { code: op.error.code, message: op.error.message } } : {}), name: op.id };
      return { status: 200, headers: op.status === 'InProgress' ? retry : {}, body };
    }
    if (op.status === 'InProgress') return { status: 202, headers: { location: locationUrl(op), ...retry } };
    if (op.error) return { status: op.error.status, body: { error: { code: op.error.code, message: op.error.message } } };
    const result = op.result?.();
    return result === undefined ? { status: op.rp === 'Microsoft.Compute' ? 200 : 204 } : { status: 200, body: result };
  }

  // ---- rendering ------------------------------------------------------------------------------------------------
  /** @param {any} vm */
  function instanceView(vm) {
    const state = power.get(vm.id.toLowerCase()) ?? 'running';
    const prov = String(vm.properties.provisioningState);
    const linux = vm.properties.storageProfile.osDisk.osType === 'Linux';
    const time = vm.properties.timeCreated;
    const disks = [vm.properties.storageProfile.osDisk, ...vm.properties.storageProfile.dataDisks].map((d) => ({
      name: d.name, statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time }],
    }));
    return {
      computerName: vm.properties.osProfile?.computerName ?? vm.name,
      osName: linux ? (vm.properties.storageProfile.imageReference?.publisher === 'Debian' ? 'debian' : 'ubuntu') : 'Windows Server 2022 Datacenter Azure Edition',
      osVersion: linux ? (vm.properties.storageProfile.imageReference?.publisher === 'Debian' ? '12' : '22.04') : 'Microsoft Windows NT 10.0.20348.0',
      ...(state === 'running'
        ? { vmAgent: { vmAgentVersion: '2.11.1.12', statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Ready', message: 'Guest Agent is running', time: iso() }], extensionHandlers: [] } }
        : {}),
      disks,
      hyperVGeneration: 'V2',
      statuses: [
        prov === 'Succeeded'
          ? { code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time }
          : { code: `ProvisioningState/${prov.toLowerCase()}`, level: 'Info', displayStatus: prov },
        { code: `PowerState/${state}`, level: 'Info', displayStatus: POWER_TEXT[/** @type {keyof typeof POWER_TEXT} */ (state)] ?? state },
      ],
    };
  }
  /** @param {any} vm @param {boolean} withIv */
  const renderVm = (vm, withIv) => (withIv ? { ...vm, properties: { ...vm.properties, instanceView: instanceView(vm) } } : vm);

  /**
   * One page of a list. nextLink carries every query parameter of the request and an opaque $skiptoken.
   * @template T @param {URL} url @param {T[]} items @param {(x: T) => unknown} [render] @param {boolean} [paged]
   * @returns {FakeResponse}
   */
  function page(url, items, render = (x) => x, paged = true) {
    let offset = 0;
    const token = url.searchParams.get('$skiptoken') ?? url.searchParams.get('$skipToken');
    if (token) {
      try {
        offset = Number(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')).o);
      } catch {
        offset = NaN;
      }
      if (!Number.isInteger(offset) || offset < 0) fail(400, 'InvalidSkipToken', `The skip token '${token}' is invalid.`);
    }
    const top = Number(url.searchParams.get('$top') ?? 0);
    const size = paged ? (top > 0 ? Math.min(top, ctx.pageSize) : ctx.pageSize) : items.length;
    const body = /** @type {{ value: unknown[], nextLink?: string }} */ ({ value: items.slice(offset, offset + size).map(render) });
    if (paged && offset + size < items.length) {
      const next = new URL(url.pathname, ctx.endpoint());
      for (const [k, v] of url.searchParams) if (k.toLowerCase() !== '$skiptoken') next.searchParams.append(k, v);
      next.searchParams.set('$skiptoken', Buffer.from(JSON.stringify({ o: offset + size })).toString('base64url'));
      body.nextLink = next.toString();
    }
    return { status: 200, body };
  }

  // ---- authentication -------------------------------------------------------------------------------------------
  /** @param {string} description @param {string} code @param {string} message @returns {FakeResponse} */
  const unauthorized = (description, code, message) => ({
    status: 401,
    headers: {
      'www-authenticate': `Bearer authorization_uri="${ctx.authorityHost()}/${ctx.tenantId}", error="invalid_token", error_description="${description}"`,
      'x-ms-failure-cause': 'gateway',
    },
    body: { error: { code, message } },
  });
  /**
   * Verifies the bearer token: signature with the fake's key, alg, audience, issuer/tenant, exp and nbf.
   * @param {string | undefined} header
   * @param {string[]} audiences
   * @returns {{ principal: import('./azure-fake.mjs').FakePrincipal, claims: Record<string, any> } | { response: FakeResponse }}
   */
  function authenticate(header, audiences = ARM_AUDIENCES) {
    if (!header) return { response: unauthorized("The authentication failed because of missing 'Authorization' header.", 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.") };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { response: unauthorized("The authentication failed because of invalid 'Authorization' header format.", 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.") };
    const v = verifyJwt(m[1] ?? '', ctx.verificationKeys);
    if (!v.ok) return { response: unauthorized('The access token is invalid.', 'InvalidAuthenticationToken', 'The access token is invalid.') };
    const c = v.payload;
    const now = ctx.now() / 1000;
    if (typeof c.exp !== 'number' || typeof c.nbf !== 'number') return { response: unauthorized('The access token is invalid.', 'InvalidAuthenticationToken', 'The access token is invalid.') };
    if (c.exp <= now) {
      return { response: unauthorized('The access token has expired.', 'ExpiredAuthenticationToken', `The access token expiry UTC time '${armTime(new Date(c.exp * 1000))}' is earlier than current UTC time '${armTime(new Date(ctx.now()))}'.`) };
    }
    if (c.nbf > now + 300) {
      return { response: unauthorized('The access token is not yet valid.', 'InvalidAuthenticationToken', `The access token validity start UTC time '${armTime(new Date(c.nbf * 1000))}' is later than current UTC time '${armTime(new Date(ctx.now()))}'.`) };
    }
    if (!audiences.includes(String(c.aud))) {
      return { response: unauthorized('The access token has been obtained for wrong audience or resource.', 'InvalidAuthenticationTokenAudience', `The access token has been obtained for wrong audience or resource '${String(c.aud)}'. It should exactly match with one of the allowed audiences ${audiences.map((a) => `'${a}'`).join(',')}.`) };
    }
    if (c.tid !== ctx.tenantId || c.iss !== `https://sts.windows.net/${ctx.tenantId}/`) {
      return { response: unauthorized('The access token is from the wrong issuer.', 'InvalidAuthenticationTokenTenant', `The access token is from the wrong issuer '${String(c.iss)}'. It must match the tenant 'https://sts.windows.net/${ctx.tenantId}/' associated with this subscription. Please use the authority (URL) '${ctx.authorityHost()}/${ctx.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`) };
    }
    const principal = ctx.principals.find((p) => p.clientId === c.appid);
    if (!principal) return { response: unauthorized('The access token is invalid.', 'InvalidAuthenticationToken', 'The access token is invalid.') };
    return { principal, claims: c };
  }

  // ---- routing --------------------------------------------------------------------------------------------------
  /**
   * @typedef {{ api: keyof typeof API_VERSIONS, operation: string, location?: string, lro?: boolean, read?: boolean, run: (ctx2: { apiVersion: string, asyncError: ArmErrorSpec | null }) => FakeResponse }} Route
   */
  /** @param {string} rg */
  const needGroup = (rg) => {
    const g = groups.get(rg.toLowerCase());
    if (!g) fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    return g;
  };
  /** @param {string} typeName @param {string} name @param {string} rg @returns {never} */
  const notFound = (typeName, name, rg) =>
    fail(404, 'ResourceNotFound', `The Resource '${typeName}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  /** @param {unknown} body */
  const needObject = (body) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) fail(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
    return /** @type {any} */ (body);
  };
  /** @param {any} body @param {string} typeName */
  const needLocation = (body, typeName) => {
    if (typeof body.location !== 'string' || !body.location) fail(400, 'LocationRequired', 'The location property is required for this definition.');
    const loc = body.location.toLowerCase().replace(/\s+/g, '');
    if (!locNames.has(loc)) {
      fail(400, 'LocationNotAvailableForResourceType', `The provided location '${body.location}' is not available for resource type '${typeName}'. List of available regions for the resource type is '${[...locNames].join(',')}'.`);
    }
    return loc;
  };

  /**
   * @param {string} method @param {URL} url @param {unknown} body
   * @returns {Route | null}
   */
  function route(method, url, body) {
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const low = seg.map((s) => s.toLowerCase());
    const read = method === 'GET';
    if (low[0] === 'tenants' && seg.length === 1 && read) {
      return { api: 'subscriptions', operation: 'Microsoft.Resources/tenants/read', run: () => page(url, [{ id: `/tenants/${ctx.tenantId}`, tenantId: ctx.tenantId, countryCode: 'US', displayName: 'Skydeck Test Tenant', domains: [ctx.tenantDomain], tenantCategory: 'Home', defaultDomain: ctx.tenantDomain, tenantType: 'AAD' }]) };
    }
    if (low[0] !== 'subscriptions') return null;
    const subscriptionEntry = { id: subPath, authorizationSource: 'RoleBased', managedByTenants: [], subscriptionId: sub, tenantId: ctx.tenantId, displayName: 'Skydeck Test Subscription', state: 'Enabled', subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' } };
    if (seg.length === 1 && read) return { api: 'subscriptions', operation: 'Microsoft.Resources/subscriptions/read', run: () => page(url, [subscriptionEntry]) };
    if ((low[1] ?? '') !== sub.toLowerCase()) {
      const s = seg[1] ?? '';
      return { api: 'resources', operation: 'Microsoft.Resources/subscriptions/read', run: () => fail(404, 'SubscriptionNotFound', `The subscription '${s}' could not be found.`) };
    }
    if (seg.length === 2 && read) return { api: 'subscriptions', operation: 'Microsoft.Resources/subscriptions/read', run: () => ({ status: 200, body: subscriptionEntry }) };
    if (low[2] === 'locations' && seg.length === 3 && read) {
      return { api: 'subscriptions', operation: 'Microsoft.Resources/subscriptions/locations/read', run: () => page(url, LOCATIONS.map((l) => locationEntry(sub, l)), undefined, false) };
    }
    if (low[2] === 'operationresults' && seg.length === 4 && read) {
      return { api: 'resources', operation: 'Microsoft.Resources/subscriptions/operationresults/read', run: () => pollOperation(seg[3] ?? '', true) };
    }
    const insights = monitor.route(method, url, body);
    if (insights) return insights;
    if (low[2] === 'resourcegroups') return groupRoute(method, url, seg, body);
    if (low[2] === 'providers' && seg.length >= 5) return providerRoute(method, url, seg.slice(3), low.slice(3));
    return null;
  }

  /** @param {string} method @param {URL} url @param {string[]} seg @param {unknown} body @returns {Route | null} */
  function groupRoute(method, url, seg, body) {
    const low = seg.map((s) => s.toLowerCase());
    if (seg.length === 3 && method === 'GET') return { api: 'resources', operation: 'Microsoft.Resources/subscriptions/resourceGroups/read', run: () => page(url, [...groups.values()]) };
    const rg = seg[3] ?? '';
    if (seg.length === 4) {
      const op = (/** @type {string} */ a) => `Microsoft.Resources/subscriptions/resourceGroups/${a}`;
      if (method === 'GET') return { api: 'resources', operation: op('read'), run: () => ({ status: 200, body: needGroup(rg) }) };
      if (method === 'HEAD') return { api: 'resources', operation: op('read'), run: () => ({ status: groups.has(rg.toLowerCase()) ? 204 : 404 }) };
      if (method === 'PUT') {
        return {
          api: 'resources', operation: op('write'), run: () => {
            const b = needObject(body);
            if (!/^[-\w._()]{1,90}$/.test(rg) || rg.endsWith('.')) fail(400, 'InvalidResourceGroup', `The provided resource group name '${rg}' has these invalid characters: '${rg.replace(/[-\w._()]/g, '')}'. The name can only be a letter, digit, '-', '.', '_', '(', ')' and cannot end with '.'.`);
            const location = needLocation(b, 'resourceGroups');
            const existing = groups.get(rg.toLowerCase());
            const g = { id: `${subPath}/resourceGroups/${existing?.name ?? rg}`, name: existing?.name ?? rg, type: 'Microsoft.Resources/resourceGroups', location: existing?.location ?? location, ...(b.tags ? { tags: b.tags } : {}), properties: { provisioningState: 'Succeeded' } };
            groups.set(rg.toLowerCase(), g);
            return { status: existing ? 200 : 201, body: g };
          },
        };
      }
      if (method === 'DELETE') {
        return {
          api: 'resources', operation: op('delete'), lro: true, run: ({ apiVersion }) => {
            const g = groups.get(rg.toLowerCase());
            if (!g) fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
            g.properties.provisioningState = 'Deleting';
            const o = startOp({
              rp: 'Microsoft.Resources', location: g.location, apiVersion, resourceId: g.id, onDone: () => {
                const prefix = `${g.id.toLowerCase()}/`;
                for (const m of store.values()) for (const id of [...m.keys()]) if (id.startsWith(prefix)) { m.delete(id); power.delete(id); }
                groups.delete(rg.toLowerCase());
              },
            });
            return { status: 202, headers: lroHeaders(o, { async: false, location: true }) };
          },
        };
      }
      return null;
    }
    if (low[4] !== 'providers' || seg.length < 7) return null;
    const typeKey = /** @type {keyof typeof TYPES} */ (`${low[5]}/${low[6]}`);
    const T = TYPES[typeKey];
    if (!T) return unknownType(seg[5] ?? '', seg[6] ?? '');
    const items = /** @type {Map<string, any>} */ (store.get(typeKey));
    const base = `${subPath}/resourceGroups/${rg}/providers/${T.name}`;
    const name = seg[7] ?? '';
    const id = `${base}/${name}`;
    const rest = low.slice(8);
    const op = (/** @type {string} */ a) => `${T.name}/${a}`;
    if (seg.length === 7) {
      if (method !== 'GET') return null;
      return {
        api: T.api, operation: op('read'), run: () => {
          const g = needGroup(rg);
          const prefix = `${g.id.toLowerCase()}/`;
          const list = [...items.values()].filter((r) => r.id.toLowerCase().startsWith(prefix));
          return typeKey === VM_TYPE ? page(url, list, (vm) => renderVm(vm, false)) : page(url, list);
        },
      };
    }
    const get = () => {
      needGroup(rg);
      return items.get(id.toLowerCase()) ?? notFound(T.name, name, rg);
    };
    if (rest.length === 0) {
      if (method === 'GET') {
        return {
          api: T.api, operation: op('read'), run: () => {
            const r = get();
            if (typeKey === VM_TYPE) return { status: 200, body: renderVm(r, /instanceview/i.test(url.searchParams.get('$expand') ?? '')) };
            return { status: 200, body: r };
          },
        };
      }
      if (method === 'PUT' || method === 'PATCH') {
        return {
          api: T.api, operation: op('write'), lro: !T.sync, location: undefined, run: ({ apiVersion, asyncError }) => {
            needGroup(rg);
            const existing = items.get(id.toLowerCase());
            if (method === 'PATCH' && !existing) notFound(T.name, name, rg);
            if (existing && busy.has(existing.id.toLowerCase())) conflict(T.name, name);
            const b = needObject(body);
            if (typeKey === VM_TYPE) return putVm(rg, name, id, method === 'PATCH' ? merge(existing, b) : b, existing, apiVersion, asyncError);
            return putResource(typeKey, T, rg, name, id, method === 'PATCH' ? merge(existing, b) : b, existing, apiVersion, asyncError);
          },
        };
      }
      if (method === 'DELETE') {
        return {
          api: T.api, operation: op('delete'), lro: true, run: ({ apiVersion, asyncError }) => {
            needGroup(rg);
            const r = items.get(id.toLowerCase());
            if (!r) return { status: 204 };
            if (busy.has(r.id.toLowerCase()) && typeKey !== VM_TYPE) conflict(T.name, name);
            return deleteResource(typeKey, T, r, apiVersion, asyncError);
          },
        };
      }
      return null;
    }
    if (typeKey === VM_TYPE && rest.length === 1) {
      const action = rest[0] ?? '';
      if (action === 'instanceview' && method === 'GET') return { api: T.api, operation: op('instanceView/read'), run: () => ({ status: 200, body: instanceView(get()) }) };
      if (action in VM_ACTIONS && method === 'POST') {
        const wire = action === 'poweroff' ? 'powerOff' : action;
        return { api: T.api, operation: op(`${wire}/action`), lro: true, run: ({ apiVersion, asyncError }) => vmAction(get(), /** @type {keyof typeof VM_ACTIONS} */ (action), apiVersion, asyncError) };
      }
      if (action === 'vmsizes' && method === 'GET') return { api: T.api, operation: op('vmSizes/read'), run: () => (get(), vmSizes()) };
      return null;
    }
    const child = T.children?.[/** @type {never} */ (rest[0] ?? '')];
    if (child && rest.length <= 2) {
      /** @type {{ prop: string, name: string }} */ const C = child;
      const cop = (/** @type {string} */ a) => `${T.name}/${C.name}/${a}`;
      const list = () => /** @type {any[]} */ (get().properties[C.prop] ??= []);
      if (rest.length === 1 && method === 'GET') return { api: T.api, operation: cop('read'), run: () => page(url, list()) };
      const cname = seg[9] ?? '';
      const cid = `${id}/${C.name}/${cname}`;
      const find = () => list().find((c) => c.name.toLowerCase() === cname.toLowerCase());
      if (method === 'GET') return { api: T.api, operation: cop('read'), run: () => ({ status: 200, body: find() ?? fail(404, 'NotFound', `Resource ${cid} not found.`) }) };
      if (method === 'PUT') {
        return {
          api: T.api, operation: cop('write'), lro: true, run: ({ apiVersion, asyncError }) => {
            const parent = get();
            const b = needObject(body);
            const existing = find();
            const c = validateChild(C.prop, parent, { name: existing?.name ?? cname, id: existing?.id ?? cid, etag: `W/"${randomUUID()}"`, type: `${T.name}/${C.name}`, properties: { ...b.properties, provisioningState: 'Updating' } });
            const arr = list();
            if (existing) arr[arr.indexOf(existing)] = c;
            else arr.push(c);
            const o = startOp({ rp: T.rp, location: parent.location, apiVersion, failWith: asyncError, onDone: () => { c.properties.provisioningState = 'Succeeded'; }, onFail: () => { c.properties.provisioningState = 'Failed'; } });
            return { status: existing ? 200 : 201, headers: lroHeaders(o, {}), body: c };
          },
        };
      }
      if (method === 'DELETE') {
        return {
          api: T.api, operation: cop('delete'), lro: true, run: ({ apiVersion, asyncError }) => {
            const parent = get();
            const c = find();
            if (!c) return { status: 204 };
            if (C.prop === 'subnets' && (c.properties.ipConfigurations?.length || nicsInSubnet(c.id).length)) {
              fail(400, 'InUseSubnetCannotBeDeleted', `Subnet ${c.name} is in use by ${nicsInSubnet(c.id)[0] ?? ''} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.`);
            }
            c.properties.provisioningState = 'Deleting';
            const o = startOp({ rp: T.rp, location: parent.location, apiVersion, failWith: asyncError, onDone: () => { const arr = list(); const k = arr.indexOf(c); if (k >= 0) arr.splice(k, 1); }, onFail: () => { c.properties.provisioningState = 'Succeeded'; } });
            return { status: 202, headers: lroHeaders(o, { location: true }) };
          },
        };
      }
    }
    return null;
  }

  /** @param {string} ns @param {string} type @returns {Route} */
  function unknownType(ns, type) {
    const known = ['microsoft.compute', 'microsoft.network', 'microsoft.resources'].includes(ns.toLowerCase());
    return {
      api: 'resources', operation: `${ns}/${type}/read`, run: () => known
        ? fail(404, 'InvalidResourceType', `The resource type '${type}' could not be found in the namespace '${ns}' for api version.`)
        : fail(404, 'InvalidResourceNamespace', `The resource namespace '${ns}' is invalid.`),
    };
  }

  /** @param {string} method @param {URL} url @param {string[]} seg ns, type, ... @param {string[]} low @returns {Route | null} */
  function providerRoute(method, url, seg, low) {
    if (method !== 'GET') return null;
    const ns = low[0] ?? '';
    // Operation status: …/providers/{rp}/locations/{loc}/operations/{id} (Compute, Network) and …/operationResults/{id}
    if (low[1] === 'locations' && seg.length === 5 && ['operations', 'operationresults', 'diskoperations'].includes(low[3] ?? '')) {
      const api = ns === 'microsoft.network' ? 'network' : low[3] === 'diskoperations' ? 'disk' : 'compute';
      const monitor = low[3] === 'operationresults' || url.searchParams.get('monitor') === 'true';
      const id = seg[4] ?? '';
      return { api, operation: `${seg[0]}/locations/operations/read`, run: () => pollOperation(id, monitor) };
    }
    if (ns === 'microsoft.compute' && low[1] === 'locations' && seg.length === 4) {
      const loc = low[2] ?? '';
      if (low[3] === 'virtualmachines') {
        return { api: 'compute', operation: 'Microsoft.Compute/virtualMachines/read', run: () => page(url, [...(store.get(VM_TYPE)?.values() ?? [])].filter((vm) => vm.location === loc), (vm) => renderVm(vm, false)) };
      }
      if (low[3] === 'vmsizes') return { api: 'compute', operation: 'Microsoft.Compute/locations/vmSizes/read', run: () => (locNames.has(loc) ? vmSizes() : fail(404, 'NoRegisteredProviderFound', `No registered resource provider found for location '${loc}'.`)) };
    }
    if (ns === 'microsoft.compute' && low[1] === 'skus' && seg.length === 2) return { api: 'skus', operation: 'Microsoft.Compute/skus/read', run: () => skus(url) };
    if (seg.length !== 2) return null;
    const typeKey = /** @type {keyof typeof TYPES} */ (`${low[0]}/${low[1]}`);
    const T = TYPES[typeKey];
    if (!T) return unknownType(seg[0] ?? '', seg[1] ?? '');
    const items = /** @type {Map<string, any>} */ (store.get(typeKey));
    if (typeKey === VM_TYPE) {
      // listAll; statusOnly=true answers each VM with its instance view (what a sync uses to learn power states).
      const withIv = url.searchParams.get('statusOnly') === 'true';
      return { api: T.api, operation: `${T.name}/read`, run: () => page(url, [...items.values()], (vm) => renderVm(vm, withIv)) };
    }
    return { api: T.api, operation: `${T.name}/read`, run: () => page(url, [...items.values()]) };
  }

  const vmSizes = () => ({
    status: 200,
    body: { value: Object.entries(VM_SIZES).map(([name, s]) => ({ name, numberOfCores: s.cores, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 0, memoryInMB: s.memoryMB, maxDataDiskCount: Math.min(64, s.cores * 2 + 2) })) },
  });
  /** @param {URL} url */
  function skus(url) {
    const filter = /location\s+eq\s+'([^']+)'/i.exec(url.searchParams.get('$filter') ?? '')?.[1]?.toLowerCase();
    const out = [];
    for (const l of LOCATIONS) {
      if (filter && l.name !== filter) continue;
      for (const [name, s] of Object.entries(VM_SIZES)) {
        const restricted = !skuAvailable(l.name, name);
        out.push({
          resourceType: 'virtualMachines', name, tier: 'Standard', size: name.replace(/^Standard_/, ''), family: s.family, locations: [l.name],
          locationInfo: [{ location: l.name, zones: l.zones ? ['1', '2', '3'] : [], zoneDetails: [] }],
          capabilities: [{ name: 'vCPUs', value: String(s.cores) }, { name: 'MemoryGB', value: String(s.memoryMB / 1024) }, { name: 'HyperVGenerations', value: 'V1,V2' }, { name: 'PremiumIO', value: 'True' }],
          restrictions: restricted ? [{ type: 'Location', values: [l.name], restrictionInfo: { locations: [l.name] }, reasonCode: 'NotAvailableForSubscription' }] : [],
        });
      }
    }
    return { status: 200, body: { value: out } };
  }

  /** @param {string} typeName @param {string} name @returns {never} */
  const conflict = (typeName, name) =>
    fail(409, 'Conflict', `Operation on '${typeName}/${name}' is not allowed since another operation is in progress on it. Please retry after the current operation completes.`);

  /** @param {string} subnetId */
  const nicsInSubnet = (subnetId) => {
    const low = subnetId.toLowerCase();
    return [...(store.get('microsoft.network/networkinterfaces')?.values() ?? [])]
      .filter((n) => n.properties.ipConfigurations?.some((c) => c.properties?.subnet?.id?.toLowerCase() === low))
      .map((n) => n.id);
  };

  /** @param {string} prop @param {any} parent @param {any} c */
  function validateChild(prop, parent, c) {
    if (prop === 'subnets') {
      if (!c.properties.addressPrefix && !c.properties.addressPrefixes) fail(400, 'InvalidRequestFormat', `Cannot parse the request. Subnet ${c.name} must have addressPrefix.`);
      c.properties.ipConfigurations ??= [];
    }
    if (prop === 'securityRules') {
      const p = c.properties;
      if (!Number.isInteger(p.priority) || p.priority < 100 || p.priority > 4096) fail(400, 'SecurityRuleInvalidPriority', `Security rule has invalid Priority. Value provided: ${p.priority}. Allowed range 100-4096.`);
      if (!['Inbound', 'Outbound'].includes(p.direction)) fail(400, 'SecurityRuleInvalidDirection', `Security rule has invalid Direction. Value provided: ${p.direction}. Allowed values: Inbound, Outbound.`);
      if (!['Allow', 'Deny'].includes(p.access)) fail(400, 'SecurityRuleInvalidAccess', `Security rule has invalid Access. Value provided: ${p.access}. Allowed values: Allow, Deny.`);
      if (!['Tcp', 'Udp', 'Icmp', 'Esp', 'Ah', '*'].includes(p.protocol)) fail(400, 'SecurityRuleInvalidProtocol', `Security rule has invalid Protocol. Value provided: ${p.protocol}.`);
      const clash = parent.properties.securityRules?.find((r) => r.name.toLowerCase() !== c.name.toLowerCase() && r.properties.priority === p.priority && r.properties.direction === p.direction);
      if (clash) fail(400, 'SecurityRuleConflict', `Security rule ${clash.name} conflicts with rule ${c.name}. Rules cannot have the same Priority and Direction.`);
    }
    return c;
  }

  // ---- virtual machines -----------------------------------------------------------------------------------------
  /** @param {any} vm @param {keyof typeof VM_ACTIONS} action @param {string} apiVersion @param {ArmErrorSpec | null} asyncError */
  function vmAction(vm, action, apiVersion, asyncError) {
    const id = vm.id.toLowerCase();
    const wire = action === 'poweroff' ? 'powerOff' : action;
    if (vm.properties.provisioningState === 'Deleting') fail(409, 'OperationNotAllowed', `Operation '${wire}' is not allowed on VM '${vm.name}' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).`);
    if (busy.has(id)) conflict('Microsoft.Compute/virtualMachines', vm.name);
    const before = power.get(id) ?? 'running';
    if (action === 'poweroff' && before === 'deallocated') fail(409, 'OperationNotAllowed', `Operation 'powerOff' is not allowed on VM '${vm.name}' since the VM is deallocated.`);
    if (action === 'restart' && before !== 'running') fail(409, 'OperationNotAllowed', `Operation 'restart' is not allowed on VM '${vm.name}' since the VM is not running. Please start the VM and retry.`);
    if (action === 'start' && before === 'deallocated') {
      const size = vm.properties.hardwareProfile.vmSize;
      if (!skuAvailable(vm.location, size)) skuError(vm.location, size);
      checkQuota(vm.location, VM_SIZES[/** @type {keyof typeof VM_SIZES} */ (size)]?.cores ?? 2);
    }
    const [during, after] = VM_ACTIONS[action];
    power.set(id, during);
    vm.properties.provisioningState = 'Updating';
    const o = startOp({
      rp: 'Microsoft.Compute', location: vm.location, apiVersion, resourceId: vm.id, failWith: asyncError,
      onDone: () => { power.set(id, after); vm.properties.provisioningState = 'Succeeded'; },
      onFail: () => { power.set(id, before); vm.properties.provisioningState = 'Failed'; },
    });
    return { status: 202, headers: lroHeaders(o, { location: true }) };
  }

  /**
   * Create (PUT) or update (PUT/PATCH) of a VM. The model changes at once (provisioningState Creating/Updating), the
   * operation completes later; a create adds the OS disk and attaches the NICs.
   * @param {string} rg @param {string} name @param {string} id @param {any} b @param {any} existing @param {string} apiVersion @param {ArmErrorSpec | null} asyncError
   */
  function putVm(rg, name, id, b, existing, apiVersion, asyncError) {
    const typeName = 'Microsoft.Compute/virtualMachines';
    const location = needLocation(b, typeName);
    if (existing && existing.location !== location) fail(409, 'PropertyChangeNotAllowed', "Changing property 'location' is not allowed.");
    if (!/^[a-zA-Z0-9][-a-zA-Z0-9_.]{0,62}[a-zA-Z0-9_]$|^[a-zA-Z0-9]$/.test(name)) fail(400, 'InvalidResourceName', `The resource name '${name}' is invalid.`);
    const p = b.properties ?? fail(400, 'InvalidParameter', "Required parameter 'properties' is missing (null).", { target: 'properties' });
    const size = p.hardwareProfile?.vmSize;
    if (!size) fail(400, 'InvalidParameter', "Required parameter 'hardwareProfile.vmSize' is missing (null).", { target: 'hardwareProfile.vmSize' });
    if (!(size in VM_SIZES)) {
      fail(400, 'InvalidParameter', `The value ${size} provided for the VM size is not valid. The valid sizes in the current region are: ${Object.keys(VM_SIZES).filter((s) => skuAvailable(location, s)).join(',')}.`, { target: 'vmSize' });
    }
    const cores = VM_SIZES[/** @type {keyof typeof VM_SIZES} */ (size)].cores;
    const oldSize = existing?.properties.hardwareProfile.vmSize;
    if (!existing || oldSize !== size) {
      if (!skuAvailable(location, size)) skuError(location, size);
    }
    const state = existing ? power.get(id.toLowerCase()) : undefined;
    if (!existing) checkQuota(location, cores);
    else if (oldSize !== size && state !== 'deallocated') checkQuota(location, cores - (VM_SIZES[/** @type {keyof typeof VM_SIZES} */ (oldSize)]?.cores ?? 2));

    const storage = p.storageProfile ?? {};
    const nicRefs = p.networkProfile?.networkInterfaces;
    if (!existing) {
      const attachOs = storage.osDisk?.createOption === 'Attach';
      if (!attachOs) {
        const ref = storage.imageReference;
        if (!ref) fail(400, 'InvalidParameter', "Required parameter 'storageProfile.imageReference' is missing (null).", { target: 'imageReference' });
        if (ref.id) {
          if (!lookup('microsoft.compute/images', ref.id)) fail(404, 'NotFound', `The Image '${ref.id}' cannot be found in '${location}' region.`);
        } else if (!ref.publisher || !ref.offer || !ref.sku) {
          fail(404, 'PlatformImageNotFound', `The platform image '${ref.publisher}:${ref.offer}:${ref.sku}:${ref.version ?? 'latest'}' is not available. Verify that all fields in the storage profile are correct.`);
        }
        if (!p.osProfile) fail(400, 'InvalidParameter', "Required parameter 'osProfile' is missing (null).", { target: 'osProfile' });
        if (!p.osProfile.adminUsername) fail(400, 'InvalidParameter', "Required parameter 'osProfile.adminUsername' is missing (null).", { target: 'adminUsername' });
        const lc = p.osProfile.linuxConfiguration;
        if (lc?.disablePasswordAuthentication && !lc.ssh?.publicKeys?.length) {
          fail(400, 'InvalidParameter', 'Authentication using either SSH or by user name and password must be enabled in Linux profile.', { target: 'linuxConfiguration' });
        }
        if (!lc?.disablePasswordAuthentication && !lc?.ssh?.publicKeys?.length && !p.osProfile.adminPassword) {
          fail(400, 'InvalidParameter', "Required parameter 'adminPassword' is missing (null).", { target: 'adminPassword' });
        }
      }
      if (!Array.isArray(nicRefs) || nicRefs.length === 0) fail(400, 'InvalidParameter', "Required parameter 'networkProfile' is missing (null).", { target: 'networkProfile' });
    }
    for (const ref of nicRefs ?? []) {
      const nic = ref?.id ? lookup('microsoft.network/networkinterfaces', ref.id) : undefined;
      if (!nic) fail(400, 'InvalidResourceReference', `Resource ${ref?.id} referenced by resource ${id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`);
      if (nic.location !== location) fail(400, 'NetworkInterfaceAndVMInDifferentLocations', `Network interface ${nic.id} is in location ${nic.location} and the VM is in ${location}. They must be in the same location.`);
      const owner = nic.properties.virtualMachine?.id;
      if (owner && owner.toLowerCase() !== id.toLowerCase()) fail(400, 'NicInUse', `Network Interface ${nic.id} is used by existing resource ${owner}. In order to use this network interface with another resource, make sure it is detached from any existing resource.`);
    }
    // Data disks: Attach needs an unattached disk; Empty makes one.
    const newData = [];
    for (const d of storage.dataDisks ?? existing?.properties.storageProfile.dataDisks ?? []) {
      if (d.toBeDetached) continue;
      if (!Number.isInteger(d.lun)) fail(400, 'InvalidParameter', "Required parameter 'dataDisk.lun' is missing (null).", { target: 'dataDisk.lun' });
      if (d.createOption === 'Attach' || d.managedDisk?.id) {
        const disk = d.managedDisk?.id ? lookup('microsoft.compute/disks', d.managedDisk.id) : undefined;
        if (!disk) fail(404, 'NotFound', `Disk ${d.managedDisk?.id ?? d.name} was not found.`);
        if (disk.managedBy && disk.managedBy.toLowerCase() !== id.toLowerCase()) fail(409, 'OperationNotAllowed', `Disk ${disk.name} is already attached to VM ${disk.managedBy}.`);
        newData.push({ ...d, name: disk.name, createOption: 'Attach', managedDisk: { storageAccountType: disk.sku?.name ?? 'Premium_LRS', id: disk.id }, diskSizeGB: disk.properties.diskSizeGB, caching: d.caching ?? 'None', deleteOption: d.deleteOption ?? 'Detach', toBeDetached: false });
      } else if (d.createOption === 'Empty') {
        if (!d.diskSizeGB) fail(400, 'InvalidParameter', "Required parameter 'dataDisk.diskSizeGB' is missing (null).", { target: 'diskSizeGB' });
        const dname = d.name ?? `${name}_disk${d.lun + 2}_${randomUUID().replace(/-/g, '')}`;
        const did = `${subPath}/resourceGroups/${rg}/providers/Microsoft.Compute/disks/${dname}`;
        newData.push({ ...d, name: dname, createOption: 'Empty', caching: d.caching ?? 'None', managedDisk: { storageAccountType: d.managedDisk?.storageAccountType ?? 'Premium_LRS', id: did }, deleteOption: d.deleteOption ?? 'Delete', toBeDetached: false });
      } else {
        fail(400, 'InvalidParameter', `The value '${d.createOption}' of parameter 'dataDisk.createOption' is not allowed.`, { target: 'dataDisk.createOption' });
      }
    }
    // Commit.
    const vm = existing ?? { name, id, type: typeName, location };
    const osType = storage.osDisk?.osType ?? (p.osProfile?.windowsConfiguration ? 'Windows' : 'Linux');
    const osDiskName = existing?.properties.storageProfile.osDisk.name ?? storage.osDisk?.name ?? `${name}_OsDisk_1_${randomUUID().replace(/-/g, '')}`;
    const osDiskId = existing?.properties.storageProfile.osDisk.managedDisk.id ?? `${subPath}/resourceGroups/${rg}/providers/Microsoft.Compute/disks/${osDiskName}`;
    const osDiskGB = storage.osDisk?.diskSizeGB ?? (osType === 'Windows' ? 127 : 30);
    vm.tags = b.tags ?? existing?.tags ?? {};
    if (b.zones) vm.zones = b.zones;
    const { instanceView: _iv, ...props } = p;
    vm.properties = {
      ...props,
      vmId: existing?.properties.vmId ?? randomUUID(),
      hardwareProfile: { ...p.hardwareProfile },
      storageProfile: {
        ...(existing?.properties.storageProfile ?? {}),
        ...storage,
        osDisk: existing?.properties.storageProfile.osDisk ?? { osType, name: osDiskName, createOption: storage.osDisk?.createOption ?? 'FromImage', caching: storage.osDisk?.caching ?? 'ReadWrite', managedDisk: { storageAccountType: storage.osDisk?.managedDisk?.storageAccountType ?? 'Premium_LRS', id: osDiskId }, deleteOption: storage.osDisk?.deleteOption ?? 'Delete', diskSizeGB: osDiskGB },
        dataDisks: newData,
        diskControllerType: 'SCSI',
      },
      ...(p.osProfile ? { osProfile: { computerName: name, ...p.osProfile, adminPassword: undefined, secrets: p.osProfile.secrets ?? [], allowExtensionOperations: true, requireGuestProvisionSignal: true } } : {}),
      networkProfile: { networkInterfaces: (nicRefs ?? existing?.properties.networkProfile.networkInterfaces ?? []).map((r, k) => ({ id: r.id, properties: { ...(nicRefs?.length > 1 ? { primary: r.properties?.primary ?? k === 0 } : {}), deleteOption: r.properties?.deleteOption ?? 'Detach' } })) },
      provisioningState: existing ? 'Updating' : 'Creating',
      timeCreated: existing?.properties.timeCreated ?? iso(),
    };
    if (vm.properties.osProfile) delete vm.properties.osProfile.adminPassword;
    const vms = /** @type {Map<string, any>} */ (store.get(VM_TYPE));
    vms.set(id.toLowerCase(), vm);
    // Disks: data disks attach/detach now; a new VM's OS disk appears now.
    const disks = /** @type {Map<string, any>} */ (store.get('microsoft.compute/disks'));
    const keep = new Set(newData.map((d) => d.managedDisk.id.toLowerCase()));
    for (const disk of disks.values()) {
      if (disk.managedBy?.toLowerCase() === id.toLowerCase() && disk.id.toLowerCase() !== osDiskId.toLowerCase() && !keep.has(disk.id.toLowerCase())) {
        delete disk.managedBy;
        disk.properties.diskState = 'Unattached';
      }
    }
    const newDisk = (/** @type {string} */ did, /** @type {string} */ dname, /** @type {number} */ gb, /** @type {Record<string, unknown>} */ extra) => {
      disks.set(did.toLowerCase(), {
        name: dname, id: did, type: 'Microsoft.Compute/disks', location, tags: {}, ...(b.zones ? { zones: b.zones } : {}), managedBy: id, sku: { name: 'Premium_LRS', tier: 'Premium' },
        properties: { ...extra, diskSizeGB: gb, encryption: { type: 'EncryptionAtRestWithPlatformKey' }, networkAccessPolicy: 'AllowAll', publicNetworkAccess: 'Enabled', timeCreated: iso(), provisioningState: 'Succeeded', diskState: 'Attached', diskSizeBytes: gb * 1073741824, uniqueId: randomUUID() },
      });
    };
    for (const d of newData) {
      const disk = disks.get(d.managedDisk.id.toLowerCase());
      if (disk) { disk.managedBy = id; disk.properties.diskState = 'Attached'; } else newDisk(d.managedDisk.id, d.name, d.diskSizeGB, { creationData: { createOption: 'Empty' } });
    }
    if (!existing && !disks.has(osDiskId.toLowerCase())) newDisk(osDiskId, osDiskName, osDiskGB, { osType, hyperVGeneration: 'V2', creationData: { createOption: 'FromImage', imageReference: { id: storage.imageReference?.id ?? `/Subscriptions/${sub}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${storage.imageReference?.publisher}/ArtifactTypes/VMImage/Offers/${storage.imageReference?.offer}/Skus/${storage.imageReference?.sku}/Versions/${storage.imageReference?.version ?? 'latest'}` } } });
    for (const ref of nicRefs ?? []) {
      const nic = lookup('microsoft.network/networkinterfaces', ref.id);
      nic.properties.virtualMachine = { id };
    }
    if (!existing) power.set(id.toLowerCase(), 'starting');
    const o = startOp({
      rp: 'Microsoft.Compute', location, apiVersion, resourceId: id, failWith: asyncError,
      onDone: () => { vm.properties.provisioningState = 'Succeeded'; if (!existing) power.set(id.toLowerCase(), 'running'); },
      onFail: () => { vm.properties.provisioningState = 'Failed'; if (!existing) power.set(id.toLowerCase(), 'stopped'); },
    });
    return { status: existing ? 200 : 201, headers: lroHeaders(o, {}), body: renderVm(vm, false) };
  }

  // ---- other resources ------------------------------------------------------------------------------------------
  /**
   * @param {string} typeKey @param {(typeof TYPES)[keyof typeof TYPES]} T @param {string} rg @param {string} name @param {string} id
   * @param {any} b @param {any} existing @param {string} apiVersion @param {ArmErrorSpec | null} asyncError
   */
  function putResource(typeKey, T, rg, name, id, b, existing, apiVersion, asyncError) {
    const location = needLocation(b, T.name);
    if (existing && existing.location !== location) fail(409, 'PropertyChangeNotAllowed', "Changing property 'location' is not allowed.");
    const props = { ...(b.properties ?? {}) };
    const r = { name: existing?.name ?? name, id: existing?.id ?? id, ...(T.rp === 'Microsoft.Network' ? { etag: `W/"${randomUUID()}"` } : {}), type: T.name, location, tags: b.tags ?? {}, ...(b.zones ? { zones: b.zones } : {}), ...(b.sku ? { sku: b.sku } : {}), properties: props };
    switch (typeKey) {
      case 'microsoft.network/virtualnetworks': {
        if (!props.addressSpace?.addressPrefixes?.length) fail(400, 'InvalidAddressSpace', `Virtual network ${name} does not have an address space specified.`);
        props.resourceGuid = existing?.properties.resourceGuid ?? randomUUID();
        props.subnets = (props.subnets ?? []).map((/** @type {any} */ s) => validateChild('subnets', r, { name: s.name, id: `${r.id}/subnets/${s.name}`, etag: r.etag, type: 'Microsoft.Network/virtualNetworks/subnets', properties: { ...s.properties, provisioningState: 'Succeeded' } }));
        props.virtualNetworkPeerings ??= [];
        break;
      }
      case 'microsoft.network/networksecuritygroups': {
        props.resourceGuid = existing?.properties.resourceGuid ?? randomUUID();
        const rules = props.securityRules ?? [];
        props.securityRules = [];
        for (const s of rules) props.securityRules.push(validateChild('securityRules', r, { name: s.name, id: `${r.id}/securityRules/${s.name}`, etag: r.etag, type: 'Microsoft.Network/networkSecurityGroups/securityRules', properties: { ...s.properties, provisioningState: 'Succeeded' } }));
        props.defaultSecurityRules = existing?.properties.defaultSecurityRules ?? [];
        break;
      }
      case 'microsoft.network/publicipaddresses': {
        r.sku = b.sku ?? { name: 'Standard', tier: 'Regional' };
        props.publicIPAllocationMethod ??= r.sku.name === 'Standard' ? 'Static' : 'Dynamic';
        props.publicIPAddressVersion ??= 'IPv4';
        props.idleTimeoutInMinutes ??= 4;
        props.ipTags ??= [];
        props.resourceGuid = existing?.properties.resourceGuid ?? randomUUID();
        if (existing?.properties.ipConfiguration) props.ipConfiguration = existing.properties.ipConfiguration;
        if (props.publicIPAllocationMethod === 'Static') { ipSeq++; props.ipAddress = existing?.properties.ipAddress ?? `52.${(ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`; }
        break;
      }
      case 'microsoft.network/networkinterfaces': {
        const cfgs = props.ipConfigurations;
        if (!Array.isArray(cfgs) || cfgs.length === 0) fail(400, 'NetworkInterfaceMustHaveAtLeastOneIpConfiguration', `Network interface ${id} must have at least one IP configuration.`);
        props.ipConfigurations = cfgs.map((/** @type {any} */ c, /** @type {number} */ k) => {
          const ipcId = `${r.id}/ipConfigurations/${c.name ?? `ipconfig${k + 1}`}`;
          const subnetId = c.properties?.subnet?.id;
          const subnet = subnetId ? childById(subnetId) : undefined;
          if (!subnet) fail(400, 'InvalidResourceReference', `Resource ${subnetId} referenced by resource ${r.id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`);
          const pipRef = c.properties?.publicIPAddress?.id;
          if (pipRef) {
            const pip = lookup('microsoft.network/publicipaddresses', pipRef);
            if (!pip) fail(400, 'InvalidResourceReference', `Resource ${pipRef} referenced by resource ${r.id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`);
            const holder = pip.properties.ipConfiguration?.id;
            if (holder && holder.toLowerCase() !== ipcId.toLowerCase()) fail(400, 'PublicIPAddressInUse', `Resource ${pip.id} is referenced by resource ${holder}, so it cannot be referenced by ${ipcId}.`);
          }
          const old = existing?.properties.ipConfigurations?.find((/** @type {any} */ x) => x.id.toLowerCase() === ipcId.toLowerCase());
          ipSeq++;
          return {
            name: c.name ?? `ipconfig${k + 1}`, id: ipcId, etag: r.etag, type: 'Microsoft.Network/networkInterfaces/ipConfigurations',
            properties: {
              provisioningState: 'Succeeded', privateIPAllocationMethod: c.properties?.privateIPAllocationMethod ?? 'Dynamic',
              privateIPAddress: c.properties?.privateIPAddress ?? old?.properties.privateIPAddress ?? `${String(subnet.properties.addressPrefix ?? '10.0.0.0/24').split('.').slice(0, 2).join('.')}.${200 + ((ipSeq >> 8) & 31)}.${ipSeq & 255}`,
              subnet: { id: subnet.id }, primary: k === 0, privateIPAddressVersion: 'IPv4', ...(pipRef ? { publicIPAddress: { id: pipRef } } : {}),
            },
          };
        });
        props.resourceGuid = existing?.properties.resourceGuid ?? randomUUID();
        props.macAddress = existing?.properties.macAddress ?? '';
        props.dnsSettings ??= { dnsServers: [], appliedDnsServers: [] };
        props.enableAcceleratedNetworking ??= false;
        props.enableIPForwarding ??= false;
        props.nicType = 'Standard';
        if (existing?.properties.virtualMachine) props.virtualMachine = existing.properties.virtualMachine;
        if (props.networkSecurityGroup?.id && !lookup('microsoft.network/networksecuritygroups', props.networkSecurityGroup.id)) {
          fail(400, 'InvalidResourceReference', `Resource ${props.networkSecurityGroup.id} referenced by resource ${r.id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`);
        }
        // Public IP associations follow the NIC's ipConfigurations.
        for (const pip of store.get('microsoft.network/publicipaddresses')?.values() ?? []) {
          const holder = pip.properties.ipConfiguration?.id?.toLowerCase();
          if (holder?.startsWith(`${r.id.toLowerCase()}/`)) delete pip.properties.ipConfiguration;
        }
        for (const c of props.ipConfigurations) {
          if (c.properties.publicIPAddress) lookup('microsoft.network/publicipaddresses', c.properties.publicIPAddress.id).properties.ipConfiguration = { id: c.id };
        }
        break;
      }
      case 'microsoft.compute/disks': {
        const cd = props.creationData ?? fail(400, 'InvalidParameter', "Required parameter 'creationData' is missing (null).", { target: 'creationData' });
        if (!existing) {
          if (cd.createOption === 'Empty' && !props.diskSizeGB) fail(400, 'InvalidParameter', "Required parameter 'diskSizeGB' is missing (null).", { target: 'diskSizeGB' });
          if (cd.createOption === 'Copy' && !(byId(cd.sourceResourceId ?? '') )) fail(404, 'NotFound', `Resource ${cd.sourceResourceId} was not found.`);
        } else if (existing.managedBy && props.diskSizeGB && props.diskSizeGB !== existing.properties.diskSizeGB && power.get(existing.managedBy.toLowerCase()) !== 'deallocated') {
          fail(409, 'OperationNotAllowed', `Cannot resize disk ${name} while it is attached to running VM ${existing.managedBy}. Resizing a disk of an Azure Virtual Machine requires the virtual machine to be deallocated. Please stop your VM and retry the operation.`);
        }
        if (existing?.properties.diskSizeGB && props.diskSizeGB < existing.properties.diskSizeGB) fail(409, 'OperationNotAllowed', `Disk resizing is allowed only when creating a VM or when the VM is deallocated. Shrinking a disk is not supported.`);
        const gb = props.diskSizeGB ?? byId(cd.sourceResourceId ?? '')?.properties?.diskSizeGB ?? 32;
        r.sku = b.sku ?? existing?.sku ?? { name: 'Standard_LRS', tier: 'Standard' };
        Object.assign(props, { diskSizeGB: gb, diskSizeBytes: gb * 1073741824, encryption: props.encryption ?? { type: 'EncryptionAtRestWithPlatformKey' }, networkAccessPolicy: props.networkAccessPolicy ?? 'AllowAll', publicNetworkAccess: 'Enabled', timeCreated: existing?.properties.timeCreated ?? iso(), diskState: existing?.properties.diskState ?? 'Unattached', uniqueId: existing?.properties.uniqueId ?? randomUUID() });
        if (existing?.managedBy) r.managedBy = existing.managedBy;
        break;
      }
      case 'microsoft.compute/snapshots': {
        const cd = props.creationData ?? fail(400, 'InvalidParameter', "Required parameter 'creationData' is missing (null).", { target: 'creationData' });
        const source = byId(cd.sourceResourceId ?? '');
        if (!existing && !source) fail(404, 'NotFound', `Resource ${cd.sourceResourceId} was not found.`);
        const gb = source?.properties.diskSizeGB ?? existing?.properties.diskSizeGB ?? 30;
        r.sku = b.sku ?? existing?.sku ?? { name: 'Standard_LRS', tier: 'Standard' };
        Object.assign(props, { ...(source?.properties.osType ? { osType: source.properties.osType } : {}), creationData: { ...cd, sourceUniqueId: source?.properties.uniqueId }, diskSizeGB: gb, diskSizeBytes: gb * 1073741824, incremental: props.incremental ?? false, encryption: { type: 'EncryptionAtRestWithPlatformKey' }, networkAccessPolicy: 'AllowAll', publicNetworkAccess: 'Enabled', timeCreated: existing?.properties.timeCreated ?? iso(), diskState: 'Unattached', uniqueId: existing?.properties.uniqueId ?? randomUUID() });
        break;
      }
      case 'microsoft.compute/images': {
        const src = props.sourceVirtualMachine?.id;
        if (src && !lookup(VM_TYPE, src)) fail(404, 'NotFound', `The Resource '${src}' was not found.`);
        if (!src && !props.storageProfile?.osDisk) fail(400, 'InvalidParameter', "Required parameter 'storageProfile.osDisk' is missing (null).", { target: 'osDisk' });
        if (src && power.get(src.toLowerCase()) !== 'deallocated' && power.get(src.toLowerCase()) !== 'stopped') fail(409, 'OperationNotAllowed', `The operation 'Microsoft.Compute/images/write' cannot be performed on VM ${src} because it is running. Please stop or deallocate the VM and retry the operation.`);
        props.hyperVGeneration ??= 'V2';
        break;
      }
      case 'microsoft.compute/sshpublickeys': {
        if (props.publicKey !== undefined && !/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]{32,}( .*)?$/.test(String(props.publicKey).trim())) {
          fail(400, 'InvalidParameter', 'The value of parameter publicKey is invalid.', { target: 'publicKey' });
        }
        break;
      }
      default:
        break;
    }
    const items = /** @type {Map<string, any>} */ (store.get(typeKey));
    if (T.sync) {
      items.set(r.id.toLowerCase(), r);
      return { status: existing ? 200 : 201, body: r };
    }
    props.provisioningState = existing ? 'Updating' : (T.rp === 'Microsoft.Network' ? 'Updating' : 'Creating');
    items.set(r.id.toLowerCase(), r);
    const o = startOp({ rp: T.rp, location, apiVersion, resourceId: r.id, disk: T.api === 'disk', failWith: asyncError, onDone: () => { props.provisioningState = 'Succeeded'; }, onFail: () => { props.provisioningState = 'Failed'; } });
    return { status: existing ? 200 : 201, headers: lroHeaders(o, {}), body: r };
  }

  /** @param {string} typeKey @param {(typeof TYPES)[keyof typeof TYPES]} T @param {any} r @param {string} apiVersion @param {ArmErrorSpec | null} asyncError */
  function deleteResource(typeKey, T, r, apiVersion, asyncError) {
    const id = r.id.toLowerCase();
    const items = /** @type {Map<string, any>} */ (store.get(typeKey));
    if (typeKey === 'microsoft.network/networkinterfaces' && r.properties.virtualMachine) {
      fail(400, 'NicInUse', `Network Interface ${r.id} is used by existing resource ${r.properties.virtualMachine.id}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`);
    }
    if (typeKey === 'microsoft.network/publicipaddresses' && r.properties.ipConfiguration) {
      fail(400, 'PublicIPAddressCannotBeDeleted', `Public IP address ${r.id} can not be deleted since it is still allocated to resource ${r.properties.ipConfiguration.id}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip.`);
    }
    if (typeKey === 'microsoft.compute/disks' && r.managedBy) fail(409, 'OperationNotAllowed', `Disk ${r.name} is attached to VM ${r.managedBy}.`);
    if (typeKey === 'microsoft.network/networksecuritygroups') {
      const low = r.id.toLowerCase();
      const user = [...(store.get('microsoft.network/networkinterfaces')?.values() ?? [])].find((n) => n.properties.networkSecurityGroup?.id?.toLowerCase() === low)?.id
        ?? [...(store.get('microsoft.network/virtualnetworks')?.values() ?? [])].flatMap((v) => v.properties.subnets ?? []).find((sn) => sn.properties?.networkSecurityGroup?.id?.toLowerCase() === low)?.id;
      if (user) fail(400, 'InUseNetworkSecurityGroupCannotBeDeleted', `Network security group ${r.id} cannot be deleted because it is in use by the following resources: ${user}. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg.`);
    }
    if (typeKey === 'microsoft.network/virtualnetworks') {
      const used = (r.properties.subnets ?? []).flatMap((/** @type {any} */ s) => nicsInSubnet(s.id));
      if (used.length) fail(400, 'InUseSubnetCannotBeDeleted', `Subnet default is in use by ${used[0]} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.`);
    }
    if (typeKey === VM_TYPE && busy.has(id)) {
      // Deleting preempts a running power operation, as ARM does.
      const prev = ops.get(busy.get(id) ?? '');
      if (prev) { prev.failWith = { status: 409, code: 'OperationPreempted', message: 'Operation execution has been preempted by a more recent operation.' }; complete(prev); }
    }
    const before = r.properties.provisioningState;
    r.properties.provisioningState = 'Deleting';
    const o = startOp({
      rp: T.rp, location: r.location, apiVersion, resourceId: r.id, disk: T.api === 'disk', failWith: asyncError,
      onDone: () => {
        items.delete(id);
        if (typeKey !== VM_TYPE) return;
        power.delete(id);
        const disks = /** @type {Map<string, any>} */ (store.get('microsoft.compute/disks'));
        const os = r.properties.storageProfile.osDisk;
        for (const d of [os, ...r.properties.storageProfile.dataDisks]) {
          const disk = disks.get(String(d.managedDisk?.id).toLowerCase());
          if (!disk) continue;
          if (d.deleteOption === 'Delete') disks.delete(disk.id.toLowerCase());
          else { delete disk.managedBy; disk.properties.diskState = 'Unattached'; }
        }
        const nics = /** @type {Map<string, any>} */ (store.get('microsoft.network/networkinterfaces'));
        for (const ref of r.properties.networkProfile.networkInterfaces) {
          const nic = nics.get(ref.id.toLowerCase());
          if (!nic) continue;
          delete nic.properties.virtualMachine;
          if (ref.properties?.deleteOption === 'Delete') {
            for (const c of nic.properties.ipConfigurations ?? []) {
              const pip = c.properties.publicIPAddress ? lookup('microsoft.network/publicipaddresses', c.properties.publicIPAddress.id) : undefined;
              if (pip) delete pip.properties.ipConfiguration;
            }
            nics.delete(nic.id.toLowerCase());
          }
        }
      },
      onFail: () => { r.properties.provisioningState = before === 'Deleting' ? 'Failed' : before; },
    });
    return { status: 202, headers: lroHeaders(o, { location: true }) };
  }

  // ---- faults ---------------------------------------------------------------------------------------------------
  /**
   * The ARM error a fault stands for.
   * @param {import('./azure-fake.mjs').AzureFault} f
   * @param {{ operation: string, scope: string, principal: import('./azure-fake.mjs').FakePrincipal, location: string, vmSize: string }} info
   * @returns {{ spec: ArmErrorSpec, headers: Record<string, string> }}
   */
  function faultError(f, info) {
    switch (f.kind) {
      case 'throttle': {
        const retry = String(f.retryAfterSec ?? 1);
        return {
          spec: { status: f.status ?? 429, code: f.code ?? 'TooManyRequests', message: f.message ?? `The request is being throttled as the limit has been reached for operation type - ${/read$/.test(info.operation) ? 'Read' : 'Write'}_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits` },
          headers: { 'retry-after': retry, [`x-ms-ratelimit-remaining-subscription-${/read$/.test(info.operation) ? 'reads' : 'writes'}`]: '0' },
        };
      }
      case 'server': {
        const status = f.status ?? 500;
        return {
          spec: { status, code: f.code ?? (status === 503 ? 'ServiceUnavailable' : status === 504 ? 'GatewayTimeout' : 'InternalServerError'), message: f.message ?? (status === 503 ? 'The service is unavailable. Please try again later.' : status === 504 ? "The gateway did not receive a response from 'Microsoft.Compute' within the specified time period." : 'Encountered internal server error. Diagnostic information: timestamp, subscription id, tracking id, request correlation id.') },
          headers: f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec) } : {},
        };
      }
      case 'quota': {
        try {
          quotaError(info.location, f.limit ?? 10, f.used ?? 10, f.required ?? (VM_SIZES[/** @type {keyof typeof VM_SIZES} */ (info.vmSize)]?.cores ?? 2));
        } catch (e) {
          if (e instanceof ArmError) return { spec: { status: e.status, code: e.code, message: e.message }, headers: {} };
        }
        return { spec: { status: 409, code: 'OperationNotAllowed', message: 'quota' }, headers: {} };
      }
      case 'sku':
        return { spec: { status: 409, code: 'SkuNotAvailable', message: `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${info.vmSize}' is currently not available in location '${info.location}'. Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.` }, headers: {} };
      case 'authz':
        return { spec: { status: 403, code: 'AuthorizationFailed', message: authzMessage(info) }, headers: {} };
      default:
        return { spec: { status: f.status ?? 400, code: f.code ?? 'BadRequest', message: f.message ?? 'Injected error.' }, headers: {} };
    }
  }
  /** @param {{ operation: string, scope: string, principal: import('./azure-fake.mjs').FakePrincipal }} info */
  const authzMessage = (info) =>
    `The client '${info.principal.clientId}' with object id '${info.principal.objectId}' does not have authorization to perform action '${info.operation}' over scope '${info.scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`;

  /** Where a request's quota/SKU message points: the resource's location and size, else the body's. @param {URL} url @param {any} body */
  function requestSubject(url, body) {
    const vmPath = /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.compute\/virtualmachines\/[^/]+)/i.exec(url.pathname)?.[1];
    const vm = vmPath ? lookup(VM_TYPE, vmPath) : undefined;
    return {
      location: String(vm?.location ?? body?.location ?? 'eastus').toLowerCase().replace(/\s+/g, ''),
      vmSize: String(body?.properties?.hardwareProfile?.vmSize ?? vm?.properties.hardwareProfile.vmSize ?? 'Standard_D2s_v5'),
    };
  }

  /**
   * Answers an ARM request.
   * @param {string} method @param {URL} url @param {string} rawBody @param {Record<string, string | string[] | undefined>} headers
   * @returns {FakeResponse & { operation?: string, principal?: string }}
   */
  function handle(method, url, rawBody, headers) {
    const batch = METRICS_BATCH_PATH.test(decodeURIComponent(url.pathname));
    const auth = authenticate(typeof headers.authorization === 'string' ? headers.authorization : undefined, batch ? METRICS_AUDIENCES : ARM_AUDIENCES);
    if ('response' in auth) return auth.response;
    const { principal } = auth;
    let body;
    if (rawBody.length) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return errorResponse(new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: \'Unexpected character encountered while parsing value.\''));
      }
    }
    let r;
    try {
      r = route(method, url, body);
    } catch (e) {
      if (e instanceof ArmError) return errorResponse(e);
      throw e;
    }
    if (!r) {
      return { status: 404, body: { error: { code: 'NotFound', message: `No HTTP resource was found that matches the request URI '${url.href}'.` } } };
    }
    const info = { operation: r.operation, scope: url.pathname, principal, ...requestSubject(url, body) };
    const tag = { operation: r.operation, principal: principal.clientId };
    // Faults come after authentication, as ARM throttles and fails authenticated requests.
    const fault = ctx.takeFault({ target: 'arm', method, path: url.pathname, operation: r.operation, lro: !!r.lro });
    let asyncError = null;
    if (fault) {
      const fe = faultError(fault, info);
      if (fault.async && r.lro) asyncError = fe.spec;
      else return { ...tag, status: fe.spec.status, headers: fe.headers, body: { error: { code: fe.spec.code, message: fe.spec.message } } };
    }
    if (principal.role === 'Reader' && method !== 'GET' && method !== 'HEAD' && !r.read) {
      return { ...tag, status: 403, body: { error: { code: 'AuthorizationFailed', message: authzMessage(info) } } };
    }
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) return { ...tag, status: 400, body: { error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' } } };
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) {
      return { ...tag, status: 400, body: { error: { code: 'InvalidApiVersionParameter', message: `The api-version '${apiVersion}' is invalid. The supported versions are '${API_VERSIONS[r.api].join(',')}'.` } } };
    }
    const accepted = [...API_VERSIONS[r.api], ...(ctx.extraApiVersions[r.api] ?? [])];
    if (!accepted.includes(apiVersion)) {
      const [ns = '', ...type] = r.operation.split('/');
      return { ...tag, status: 400, body: { error: { code: 'NoRegisteredProviderFound', message: `No registered resource provider found for location '${info.location}' and API version '${apiVersion}' for type '${type.slice(0, -1).join('/') || ns}'. The supported api-versions are '${accepted.join(', ')}'. The supported locations are '${LOCATIONS.map((l) => l.name).join(', ')}'.` } } };
    }
    try {
      return { ...tag, ...r.run({ apiVersion, asyncError }) };
    } catch (e) {
      if (e instanceof ArmError) return { ...tag, ...errorResponse(e) };
      throw e;
    }
  }

  return {
    handle,
    power,
    groups,
    store,
    ops,
    /** @param {string} location @param {number} cores */
    setQuota(location, cores) { quota.set(location, cores); },
    coresUsed,
    /** @param {string} id */
    getResource: (id) => byId(id),
    /** Completes every operation in flight (as if enough time passed). */
    settleAll() { for (const op of ops.values()) complete(op); },
    close() { for (const op of ops.values()) if (op.timer) clearTimeout(op.timer); },
  };
}
