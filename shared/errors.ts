/**
 * Errors cross every boundary (IPC, HTTP, WebSocket) as data: `{ code, message, details }`.
 * Stacks stay in the main-process log; the renderer maps `code` to a message in the user's language.
 */
export const ERROR_CODES = [
  'validation', // input failed its schema; details.issues names each field
  'unauthenticated', // missing or wrong token
  'forbidden', // authenticated but not allowed (e.g. read-only snapshot)
  'not_found', // the command or the resource does not exist
  'conflict', // the resource's current status refuses the action, or a name is taken
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unreachable', // a host or provider could not be reached
  'timeout',
  'not_supported', // the driver or platform cannot do this
  'cancelled',
  'internal', // a bug: the message is generic, the log has the stack
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  cancelled: 499,
  internal: 500,
  not_supported: 501,
  unreachable: 502,
  timeout: 504,
};

/** One problem with one input field, as the UI shows it next to the field. */
export interface FieldIssue {
  path: string; // dotted path, e.g. "value.locale"; "" for the whole input
  message: string;
  code: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown> & { issues?: FieldIssue[] };
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorBody['details'];

  constructor(code: ErrorCode, message: string, details?: ErrorBody['details']) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static is(e: unknown): e is ApiError {
    return e instanceof ApiError;
  }

  /** Rebuilds an ApiError from a body that crossed a transport; anything unrecognised becomes `internal`. */
  static fromBody(body: unknown): ApiError {
    if (body && typeof body === 'object') {
      const b = body as Partial<ErrorBody>;
      if (typeof b.code === 'string' && (ERROR_CODES as readonly string[]).includes(b.code) && typeof b.message === 'string') {
        return new ApiError(b.code, b.message, b.details);
      }
    }
    return new ApiError('internal', 'Unexpected error response');
  }
}

/** A validation error about one input field, shown next to that field. */
export function fieldError(path: string, message: string, code = 'invalid'): ApiError {
  return new ApiError('validation', `${path}: ${message}`, { issues: [{ path, message, code }] });
}
