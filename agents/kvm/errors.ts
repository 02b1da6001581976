import { RPC_CANCELLED, RPC_HOST, RPC_INTERNAL, RPC_INVALID_PARAMS, RPC_TIMEOUT, type RpcErrorBody } from '@shared/agent/protocol';

/** An error that crosses the wire as a JSON-RPC error with this code (and optional data). */
export class AgentError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'AgentError';
  }

  toBody(): RpcErrorBody {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

export const invalidParams = (message: string): AgentError => new AgentError(RPC_INVALID_PARAMS, message);
export const cancelled = (): AgentError => new AgentError(RPC_CANCELLED, 'cancelled');
export const timedOut = (message: string): AgentError => new AgentError(RPC_TIMEOUT, message);
export const hostError = (message: string, data?: unknown): AgentError => new AgentError(RPC_HOST, message, data);

/** Any thrown value as an error body: AgentErrors keep their code, anything else is an internal error. */
export function toErrorBody(e: unknown): RpcErrorBody {
  if (e instanceof AgentError) return e.toBody();
  return { code: RPC_INTERNAL, message: e instanceof Error ? e.message : String(e) };
}

/** Throws the cancellation error when the signal has fired (call between the steps of a long operation). */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

/** Resolves after ms, or rejects with the cancellation error when the signal fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
