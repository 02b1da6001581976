export type ApiFamily = 'compute' | 'disk' | 'skus' | 'network' | 'resources' | 'subscriptions' | 'insights';

export interface FakePrincipal {
  clientId: string;
  clientSecret: string;
  /** The service principal's object id (`oid` in its tokens; named in AuthorizationFailed messages). */
  objectId: string;
  /** Reader: every write/action answers 403 AuthorizationFailed. */
  role: 'Contributor' | 'Reader';
  /** The token endpoint answers AADSTS7000222 (secret expired). */
  secretExpired?: boolean;
}

/** A fault for the next `times` matching requests (after authentication, before the api-version check). */
export interface AzureFault {
  /**
   * throttle: 429 TooManyRequests + Retry-After (ARM's throttling) · server: 500 InternalServerError (status 503/504
   * → ServiceUnavailable/GatewayTimeout) · quota: 409 OperationNotAllowed with Compute's regional cores quota message ·
   * sku: 409 SkuNotAvailable · authz: 403 AuthorizationFailed · error: any status/code/message.
   */
  kind: 'throttle' | 'server' | 'quota' | 'sku' | 'authz' | 'error';
  /** How many matching requests fail (default 1; Infinity for all until cleared). */
  times?: number;
  /** 'arm' (default), 'token' (the Entra token/metadata endpoints: 429/503 with an AADSTS body) or 'retail' (the Retail Prices API: status default 429, { Error: { Code, Message } }). */
  target?: 'arm' | 'token' | 'retail';
  method?: string;
  /** Substring (case-insensitive) or RegExp on the URL path. */
  path?: string | RegExp;
  /** ARM operation, e.g. 'Microsoft.Compute/virtualMachines/start/action', '…/virtualMachines/read', '…/write', '…/delete'. */
  operation?: string | RegExp;
  status?: number;
  code?: string;
  message?: string;
  retryAfterSec?: number;
  /** For long-running operations: accept the request (201/202) and let the operation end Failed with this error. */
  async?: boolean;
  /** quota: the numbers in the message (defaults: limit 10, usage 10, required = the VM size's cores). */
  limit?: number;
  used?: number;
  required?: number;
}

export interface FaultHandle {
  remaining(): number;
  clear(): void;
}

export interface AzureRequestLog {
  method: string;
  path: string;
  query: string;
  status: number;
  /** ARM operation the request mapped to (ARM requests that passed authentication). */
  operation?: string;
  /** Client id of the verified token. */
  principal?: string;
  ms: number;
}

export interface StartAzureFakeOptions {
  /** Generated VMs (deterministic; interleaved over 8 locations, 250 per resource group). Default 10 000. */
  vms?: number;
  vmsPerGroup?: number;
  /** Items per list page before nextLink (default 1000; `$top` may ask fewer). */
  pageSize?: number;
  /** Retail Prices API items per page before NextPageLink (default 100). */
  retailPageSize?: number;
  tenantId?: string;
  subscriptionId?: string;
  /** The default Contributor principal's credentials (a Reader principal is always added unless `principals` is given). */
  clientId?: string;
  clientSecret?: string;
  principals?: (Omit<FakePrincipal, 'objectId' | 'role'> & Partial<FakePrincipal>)[];
  /** expires_in of issued tokens (default 3599). */
  tokenLifetimeSec?: number;
  /** InProgress answers of an operation's status before it completes (default 1). */
  lroPolls?: number;
  /** An operation nobody polls completes after this long (default 30 s). */
  lroMaxMs?: number;
  /** Retry-After on 202/operation-status answers (default: none, as Compute sends). */
  lroRetryAfterSec?: number;
  /** Regional cores limit per location (default unlimited; per location with setQuota()). */
  coresQuota?: number;
  /** location (or '*') → VM sizes not offered there; merged over the defaults (M416ms_v2 everywhere, NC6s_v3 in westeurope/westcentralus). */
  unavailableSkus?: Record<string, string[]>;
  /** api-versions to accept beyond the built-in lists (e.g. a newer SDK's). */
  extraApiVersions?: Partial<Record<ApiFamily, string[]>>;
  port?: number;
  /** Default 127.0.0.1 (the certificate also names localhost and ::1). */
  host?: string;
  /** Where ca.pem/server.pem go; default a fresh temporary directory removed by close(). */
  dir?: string;
  /** The clock for tokens and timestamps (ms). */
  now?: () => number;
}

export interface AzureFake {
  /** ARM base URL, e.g. https://127.0.0.1:PORT (what the SDKs call `endpoint` / `$host`). */
  endpoint: string;
  /** Entra authority host (same server): ClientSecretCredential's `authorityHost`. */
  authorityHost: string;
  port: number;
  /** PEM of the test CA: NODE_EXTRA_CA_CERTS for another process, or `tlsOptions: { ca }` in-process. */
  caFile: string;
  caPem: string;
  dir: string;
  tenantId: string;
  tenantDomain: string;
  subscriptionId: string;
  /** The Contributor principal. */
  clientId: string;
  clientSecret: string;
  principals: FakePrincipal[];
  /** 'https://management.azure.com/.default' */
  scope: string;
  requests: AzureRequestLog[];
  /** The $filter of every Retail Prices request, in order. */
  retailFilters: string[];
  readonly tokensIssued: number;
  inject(fault: AzureFault): FaultHandle;
  clearFaults(): void;
  /** Signs a token with the fake's key (tests: expired, wrong audience, other tenant). Defaults: the Contributor, ARM audience, normal lifetime. */
  issueToken(o?: { clientId?: string; audience?: string; expiresInSec?: number; notBeforeSec?: number; tenantId?: string }): string;
  setQuota(location: string, cores: number): void;
  coresUsed(location: string): number;
  /** A top-level resource by ARM id (the stored wire object), or undefined. */
  resource(id: string): any;
  /** running | stopped | deallocated | starting | stopping | deallocating, or undefined for an unknown VM. */
  powerState(vmId: string): string | undefined;
  vmIds(): string[];
  /** Completes every operation in flight. */
  settleAll(): void;
  close(): Promise<void>;
}

export const API_VERSIONS: Record<ApiFamily, string[]>;
export const ARM_AUDIENCES: string[];
export const LOCATIONS: { name: string; displayName: string; zones: boolean }[];
export const VM_SIZES: Record<string, { cores: number; memoryMB: number; family: string }>;
export function startAzureFake(opts?: StartAzureFakeOptions): Promise<AzureFake>;
/** Virtual machine metrics the fake's Azure Monitor serves (name → unit, default aggregation). */
export const VM_METRICS: Record<string, { unit: string; primary: 'average' | 'total'; description: string }>;
/** The fake's one-minute sample (percent; bytes of the minute; bytes for Available Memory Bytes) for a VM id and minute start. */
export function azureMetricSample(vmId: string, metric: string, tSec: number): number | null;
/** The fake's Linux pay-as-you-go price (USD/h) of a size in a location, or null. */
export function azurePrice(size: string, location: string): number | null;
export function parseRetailFilter(filter: string): { clauses: { field: string; value: string | boolean }[] } | { error: string };
