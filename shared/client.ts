import { ApiError } from './errors';
import { commands, type CommandName, type Input, type Output } from './contract';
import type { SkydeckEvent } from './events';

/**
 * How a client reaches the core. The Electron preload and the HTTP/WebSocket transport both implement it; the
 * renderer's client is the same over either.
 */
export interface Transport {
  /** Resolves with the command's output, or rejects with an ApiError. */
  invoke(name: string, input: unknown): Promise<unknown>;
  /** Delivers every event; returns an unsubscribe function. */
  subscribe(listener: (event: SkydeckEvent) => void): () => void;
}

export interface SkydeckClient {
  /** The input may be left out when every field of it is optional. */
  call<N extends CommandName>(name: N, ...input: Record<never, never> extends Input<N> ? [Input<N>?] : [Input<N>]): Promise<Output<N>>;
  on(listener: (event: SkydeckEvent) => void): () => void;
}

export function createClient(transport: Transport): SkydeckClient {
  return {
    async call(name, ...args) {
      if (!(name in commands)) throw new ApiError('not_found', `Unknown command ${String(name)}`);
      try {
        return (await transport.invoke(name, args[0] ?? {})) as never;
      } catch (e) {
        throw ApiError.is(e) ? e : ApiError.fromBody((e as { body?: unknown })?.body ?? e);
      }
    },
    on: (listener) => transport.subscribe(listener),
  };
}

/** The contract of the object the Electron preload exposes as `window.skydeck`. */
export interface PreloadBridge {
  invoke(name: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
  onEvent(listener: (event: SkydeckEvent) => void): () => void;
}
