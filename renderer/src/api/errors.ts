import { ApiError, ERROR_CODES, type ErrorCode, type FieldIssue } from '@shared/errors';

/** Translates a message key; the i18n `t` fits. */
export type Translate = (key: string, named?: Record<string, unknown>) => string;

/** Anything thrown → an ApiError: ApiErrors as they are, error bodies rebuilt, everything else `internal`. */
export function toApiError(e: unknown): ApiError {
  if (ApiError.is(e)) return e;
  if (e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') {
    const code = (e as { code: string }).code;
    if ((ERROR_CODES as readonly string[]).includes(code) && typeof (e as { message?: unknown }).message === 'string') {
      return ApiError.fromBody(e);
    }
  }
  if (e instanceof Error) {
    if (e.name === 'AbortError') return new ApiError('cancelled', e.message || 'Aborted');
    return new ApiError('internal', e.message || e.name || '');
  }
  if (typeof e === 'string') return new ApiError('internal', e);
  return new ApiError('internal', '');
}

export interface ErrorDescription {
  code: ErrorCode;
  /** The translated meaning of the code. */
  title: string;
  /** The server's own message (or the issues), when it adds something to the title. */
  detail: string | null;
}

/** Issues as one line each: `destination: destination must be an absolute path`. */
function issuesText(issues: FieldIssue[] | undefined): string | null {
  if (!issues || issues.length === 0) return null;
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n');
}

/** What to tell the user about an error, in their language; never a stack, never `[object Object]`. */
export function describeError(e: unknown, t: Translate): ErrorDescription {
  const err = toApiError(e);
  const title = t(`errors.${err.code}`);
  const issues = issuesText(err.details?.issues);
  let detail: string | null = issues ?? (err.message.trim() || null);
  if (detail !== null && detail.toLowerCase() === title.toLowerCase()) detail = null;
  return { code: err.code, title, detail };
}

/** One line: "Title: detail". */
export function errorText(e: unknown, t: Translate): string {
  const d = describeError(e, t);
  return d.detail ? `${d.title}: ${d.detail.replace(/\n/g, '; ')}` : d.title;
}

/**
 * A validation error's issues keyed by form field. `stripPrefix` removes the wrapper of the input (settings.set nests
 * its fields under `patch.`); issues of the same field are joined.
 */
export function fieldErrors(e: unknown, stripPrefix = ''): Record<string, string> {
  const err = toApiError(e);
  const out: Record<string, string> = {};
  if (err.code !== 'validation') return out;
  for (const issue of err.details?.issues ?? []) {
    let path = issue.path ?? '';
    if (stripPrefix && path.startsWith(stripPrefix)) path = path.slice(stripPrefix.length);
    if (!path) continue;
    out[path] = out[path] ? `${out[path]}; ${issue.message}` : issue.message;
  }
  return out;
}

/**
 * The errors of a form: validation issues by field, and a conflict that names its field (`details.field`, e.g. an
 * overlapping CIDR or a taken name) next to that field too. `fields` limits the result to the form's own fields;
 * whatever matched none of them is left for a message above the form.
 */
export function formErrors(e: unknown, fields?: readonly string[]): { byField: Record<string, string>; unmatched: boolean } {
  const err = toApiError(e);
  const byField: Record<string, string> = {};
  const put = (path: string, message: string): void => {
    const top = fields ? (fields.find((f) => path === f || path.startsWith(`${f}.`)) ?? null) : path;
    if (!top) return;
    byField[top] = byField[top] ? `${byField[top]}; ${message}` : message;
  };
  if (err.code === 'validation') {
    for (const issue of err.details?.issues ?? []) if (issue.path) put(issue.path, issue.message);
  } else if (typeof err.details?.field === 'string') {
    put(err.details.field, err.message);
  }
  return { byField, unmatched: Object.keys(byField).length === 0 };
}
