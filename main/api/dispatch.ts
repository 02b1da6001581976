import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { commands, isCommandName, type CommandName } from '@shared/contract';
import { ApiError, type FieldIssue } from '@shared/errors';
import type { CallContext } from '../core-types';
import type { AuditRepo } from '../audit/audit-repo';
import { MASK, redact, type Logger } from '../log/logger';
import type { Handlers } from './handlers';

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
}

export function validationError(error: z.ZodError, what: string): ApiError {
  const issues = zodIssues(error);
  const first = issues[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid input';
  return new ApiError('validation', `Invalid input for ${what}: ${summary}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, { issues });
}

/** The audit target of a call: `kind/id` when the input names one resource. */
function targetOf(name: CommandName, input: unknown): string | null {
  if (input && typeof input === 'object' && 'id' in input && typeof (input as { id: unknown }).id === 'string') {
    return `${name.split('.')[0]}/${(input as { id: string }).id}`;
  }
  return null;
}

function auditParams(name: CommandName, input: unknown): Record<string, unknown> {
  const secret = commands[name].secretFields ?? [];
  const r = redact(input, secret);
  if (r && typeof r === 'object' && !Array.isArray(r)) return r as Record<string, unknown>;
  return { value: r === undefined ? null : r === input ? r : MASK };
}

/**
 * The one entry point of every transport: parse, run, audit. Transports only move bytes; everything a command means
 * happens here, so IPC and HTTP behave identically.
 */
export function createDispatcher(handlers: Handlers, audit: AuditRepo, logger: Logger, onAudit: (id: number) => void = () => {}) {
  const log = logger.scope('api');
  return async function dispatch(name: string, raw: unknown, ctx: CallContext): Promise<unknown> {
    if (!isCommandName(name)) throw new ApiError('not_found', `Unknown command ${name}`, { command: name });
    const def = commands[name];
    const t0 = performance.now();
    const record = (result: 'ok' | 'error', err?: ApiError) => {
      if (!def.mutating) return;
      try {
        const id = audit.record({
          at: new Date().toISOString(),
          actor: ctx.actor,
          action: name,
          target: targetOf(name, raw),
          params: auditParams(name, raw ?? {}),
          result,
          errorCode: err?.code ?? null,
          message: err?.message ?? null,
          durationMs: Math.round((performance.now() - t0) * 100) / 100,
        });
        onAudit(id);
      } catch (e) {
        log.error('audit write failed', { command: name, error: e });
      }
    };

    const parsed = (def.input as z.ZodType).safeParse(raw ?? {});
    if (!parsed.success) {
      const err = validationError(parsed.error, name);
      record('error', err);
      throw err;
    }
    try {
      const handler = handlers[name] as (input: unknown, ctx: CallContext) => unknown;
      const out = await handler(parsed.data, ctx);
      // The output schema is the contract: it strips anything a handler should not have sent (never a stray secret).
      const checked = (def.output as z.ZodType).safeParse(out);
      if (!checked.success) {
        log.error('handler answered outside its contract', { command: name, issues: zodIssues(checked.error) });
        throw new ApiError('internal', 'Internal error');
      }
      record('ok');
      return checked.data;
    } catch (e) {
      const err = ApiError.is(e) ? e : new ApiError('internal', 'Internal error');
      if (!ApiError.is(e)) log.error('command failed', { command: name, error: e });
      record('error', err);
      throw err;
    }
  };
}
