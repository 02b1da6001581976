import { ApiError } from '@shared/errors';
import { CloudError, type CloudProvider } from './types';

/** Error codes the clouds use for throttling (AWS, Alibaba, Tencent, Azure). */
const THROTTLE = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'Throttling.User', 'Throttling.Api', 'RequestLimitExceeded.UinLimitExceeded', 'LimitExceeded', 'TooManyRequests', 'SlowDown', 'ServiceUnavailable']);
const AUTH = new Set(['AuthFailure', 'SignatureDoesNotMatch', 'InvalidClientTokenId', 'UnrecognizedClientException', 'IncompleteSignature', 'MissingAuthenticationToken', 'RequestExpired', 'ExpiredToken', 'InvalidAccessKeyId.NotFound', 'SignatureDoesNotMatch', 'AuthFailure.SignatureFailure', 'AuthFailure.SecretIdNotFound', 'InvalidAuthenticationToken', 'AuthenticationFailed', 'InvalidAccessKeyId', 'IncompleteSignature', 'InvalidAccessKeyId.Inactive', 'AuthFailure.SignatureExpire', 'AuthFailure.InvalidSecretId', 'AuthFailure.InvalidAuthorization', 'AuthFailure.TokenFailure', 'AuthFailure.MFAFailure', 'ExpiredAuthenticationToken', 'InvalidAuthenticationTokenAudience', 'InvalidAuthenticationTokenTenant', 'InvalidSignatureException', 'ExpiredTokenException', 'IncompleteSignatureException', 'InvalidAccessKeyId.NotFound']);
const PERMISSION = new Set(['UnauthorizedOperation', 'AccessDenied', 'Forbidden', 'AuthorizationFailed', 'UnauthorizedOperation.PermissionDenied', 'Forbidden.RAM', 'OptInRequired', 'AuthFailure.UnauthorizedOperation']);
/** Server-side failures some clouds answer with HTTP 200 and an error code (Tencent Cloud's InternalError). */
const SERVER = new Set(['InternalError']);

export function isThrottle(e: unknown): boolean {
  return e instanceof CloudError && (THROTTLE.has(e.cloudCode) || e.httpStatus === 429);
}
export function isServerError(e: unknown): boolean {
  return e instanceof CloudError && ((e.httpStatus !== null && e.httpStatus >= 500) || SERVER.has(e.cloudCode)) && !THROTTLE.has(e.cloudCode);
}
function isNetwork(e: unknown): boolean {
  return e instanceof CloudError && e.httpStatus === null && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|TimeoutError|socket hang up)$/.test(e.cloudCode);
}
/** Connection errors worth another try (a name that does not resolve is not). */
function isTransientNetwork(e: unknown): boolean {
  return isNetwork(e) && (e as CloudError).cloudCode !== 'ENOTFOUND';
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** Attempts in all (default 6). */
  attempts?: number;
  /** First back-off (ms, default 250), doubled each time, with jitter, capped at maxDelayMs (default 20 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each wait (for task progress messages). */
  onRetry?: (e: CloudError, attempt: number, delayMs: number) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs one cloud call, retrying throttling, 5xx and connection errors with exponential back-off and jitter; a
 * Retry-After the cloud sent is honoured (waited at least that long). Other errors are thrown at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 6;
  const base = o.baseDelayMs ?? 250;
  const cap = o.maxDelayMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (!(e instanceof CloudError) || attempt >= attempts || !(isThrottle(e) || isServerError(e) || isTransientNetwork(e))) throw e;
      const backoff = Math.min(cap, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      const delay = Math.min(Math.max(cap, 60_000), Math.max(backoff, (e.retryAfterSeconds ?? 0) * 1000));
      o.onRetry?.(e, attempt, delay);
      await sleep(delay, o.signal);
    }
  }
}

const NAMES: Record<CloudProvider, string> = { aws: 'AWS', aliyun: 'Alibaba Cloud', tencent: 'Tencent Cloud', azure: 'Azure' };

/** A cloud's error as the API and the task show it: Skydeck's code, the cloud's code kept in details.cloudCode. */
export function toApiError(e: unknown): unknown {
  if (!(e instanceof CloudError)) return e;
  const who = NAMES[e.provider];
  // reason (what a task keeps besides code and message) is the cloud's own code unless a Skydeck reason says more.
  const details = { cloudCode: e.cloudCode, reason: e.cloudCode, provider: e.provider, ...(e.httpStatus !== null ? { httpStatus: e.httpStatus } : {}) };
  const msg = `${who}: ${e.cloudCode}: ${e.message}`;
  // Entra ID (Azure): AADSTSnnn token errors other than throttling (90055) and outages (5xx) are the credentials'.
  if (AUTH.has(e.cloudCode) || (/^AADSTS\d+$/.test(e.cloudCode) && !isThrottle(e) && !isServerError(e))) return new ApiError('forbidden', `${who} refused the credentials (${e.cloudCode}): ${e.message}`, { ...details, reason: 'credentials' });
  if (PERMISSION.has(e.cloudCode)) return new ApiError('forbidden', `${who} denied the operation (${e.cloudCode}): ${e.message}`, { ...details, reason: 'permission' });
  if (isThrottle(e)) return new ApiError('rate_limited', `${who} kept throttling the requests (${e.cloudCode}) after retries`, details);
  if (isNetwork(e)) return new ApiError('unreachable', `${who} cannot be reached: ${e.message}`, details);
  if (isServerError(e)) return new ApiError('unreachable', `${who} failed with a server error after retries: ${msg}`, details);
  if (/NotFound$|\.NotFound\b|NotFound\./.test(e.cloudCode)) return new ApiError('not_found', msg, details);
  if (/LimitExceeded|QuotaExceeded|InsufficientInstanceCapacity|Unsupported|IncorrectState|IncorrectInstanceState|InUse|AlreadyAssociated|Duplicate|OperationNotPermitted|^QuotaExceed|^Incorrect[A-Za-z]*Status|\.NotSupported$|NoStock|DeletionProtection|^ResourcesSoldOut|^ResourceInsufficient|^SkuNotAvailable$|^OperationNotAllowed$|^Conflict$|^AllocationFailed$|^OperationPreempted$|^ScopeLocked$/.test(e.cloudCode)) return new ApiError('conflict', msg, details);
  return new ApiError('validation', msg, details);
}

/** The words of an error for last_error and task messages (never a secret: messages come from the cloud or Skydeck). */
export function errorText(e: unknown): { message: string; code: string | null } {
  const a = toApiError(e);
  if (ApiError.is(a)) return { message: a.message, code: (a.details?.cloudCode as string | undefined) ?? a.code };
  return { message: a instanceof Error ? a.message : String(a), code: null };
}
