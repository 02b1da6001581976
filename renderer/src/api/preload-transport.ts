import { ApiError } from '@shared/errors';
import type { PreloadBridge, Transport } from '@shared/client';

/** Wraps the object the Electron preload exposes as `window.skydeck`: results arrive as `{ ok, value | error }`. */
export function preloadTransport(bridge: PreloadBridge): Transport {
  return {
    async invoke(name, input) {
      let answer: Awaited<ReturnType<PreloadBridge['invoke']>>;
      try {
        answer = await bridge.invoke(name, input);
      } catch (e) {
        // The IPC channel itself failed (the main process is gone or restarting).
        throw new ApiError('unreachable', e instanceof Error && e.message ? e.message : 'The Skydeck core did not answer');
      }
      if (answer && answer.ok === true) return answer.value;
      throw ApiError.fromBody(answer && answer.ok === false ? answer.error : answer);
    },
    subscribe(listener) {
      return bridge.onEvent(listener);
    },
  };
}
