import { CONSOLE_CLOSE } from '@shared/contract/consoles';
import type { ErrorCode } from '@shared/errors';
import { toApiError } from '../api/errors';

/**
 * Why a console is not (or no longer) showing: a message key (translated by the component) and the server's own words,
 * when it said any. Kept free of Vue and i18n so the session logic is tested in Node.
 */
export interface ConsoleProblem {
  /** An i18n key: `consoles.close.*`, `consoles.problem.*` or `errors.<code>`. */
  key: string;
  /** The server's reason or message, untranslated; null when it adds nothing. */
  detail: string | null;
  /** The WebSocket close code, when the problem is a close. */
  closeCode?: number;
  /** The API error code, when the problem is a refused consoles.open. */
  errorCode?: ErrorCode;
}

const CLOSE_KEYS: Record<number, string> = {
  [CONSOLE_CLOSE.badTicket]: 'consoles.close.badTicket',
  [CONSOLE_CLOSE.notFound]: 'consoles.close.notFound',
  [CONSOLE_CLOSE.notRunning]: 'consoles.close.notRunning',
  [CONSOLE_CLOSE.unreachable]: 'consoles.close.unreachable',
  [CONSOLE_CLOSE.refused]: 'consoles.close.refused',
  [CONSOLE_CLOSE.cloudUrlRefused]: 'consoles.close.cloudUrlRefused',
  [CONSOLE_CLOSE.closedByUser]: 'consoles.close.closedByUser',
  [CONSOLE_CLOSE.ended]: 'consoles.close.ended',
  [CONSOLE_CLOSE.failed]: 'consoles.close.failed',
  1000: 'consoles.close.normal',
  1001: 'consoles.close.goingAway',
  1006: 'consoles.close.abnormal',
};

/** A reason from a server as one clean line: control characters (a VNC server's trailing NUL) become spaces. */
export function cleanReason(s: string | null | undefined): string | null {
  if (!s) return null;
  let out = '';
  for (const ch of s) out += ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch;
  return out.replace(/\s+/g, ' ').trim() || null;
}

/** The problem a console WebSocket's close code and reason describe. */
export function closeProblem(code: number, reason: string): ConsoleProblem {
  return { key: CLOSE_KEYS[code] ?? 'consoles.close.other', detail: cleanReason(reason), closeCode: code };
}

/**
 * Closes worth a new ticket and another try: a used or expired ticket, an unreachable host, a VNC server that went away
 * (the next consoles.open says whether the guest still runs), a dropped connection. Not: the target is gone, the guest
 * stopped, authentication was refused, or the session was closed on purpose.
 */
export function isRetryableClose(code: number): boolean {
  const final: number[] = [CONSOLE_CLOSE.notFound, CONSOLE_CLOSE.notRunning, CONSOLE_CLOSE.refused, CONSOLE_CLOSE.closedByUser];
  return !final.includes(code);
}

/** consoles.open errors that may pass by themselves (host offline for a moment); every other code is the answer. */
const RETRYABLE_ERRORS: readonly ErrorCode[] = ['unreachable', 'timeout', 'rate_limited'];

export function isRetryableError(e: unknown): boolean {
  return RETRYABLE_ERRORS.includes(toApiError(e).code);
}

/** A refused consoles.open (or anything thrown) as a problem: the error code's meaning and the server's message. */
export function errorProblem(e: unknown): ConsoleProblem {
  const err = toApiError(e);
  // Reasons the UI can say in the admin's language (the server's message is English).
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  if (reason === 'not_running') return { key: 'consoles.problem.notRunning', detail: null, errorCode: err.code };
  if (reason === 'no_vnc') return { key: 'consoles.problem.noVnc', detail: null, errorCode: err.code };
  if (reason === 'no_console') return { key: 'consoles.problem.noCloudConsole', detail: null, errorCode: err.code };
  return { key: `errors.${err.code}`, detail: err.message.trim() || null, errorCode: err.code };
}

/** A problem in one line, translated: "Title: detail". */
export function problemText(p: ConsoleProblem, t: (key: string) => string): string {
  const title = t(p.key);
  return p.detail && p.detail.toLowerCase() !== title.toLowerCase() ? `${title}: ${p.detail}` : title;
}
