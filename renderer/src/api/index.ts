import { createClient, type SkydeckClient, type Transport } from '@shared/client';
import { ApiError } from '@shared/errors';
import type { Access } from './access';
import { HttpTransport } from './http-transport';
import { preloadTransport } from './preload-transport';

let client: SkydeckClient | null = null;
let http: HttpTransport | null = null;
const errorObservers = new Set<(e: ApiError) => void>();

/** Lets the app notice errors every call sees (a refused token ends the session whatever page asked). */
function observed(transport: Transport): Transport {
  return {
    async invoke(name, input) {
      try {
        return await transport.invoke(name, input);
      } catch (e) {
        if (ApiError.is(e)) for (const o of errorObservers) o(e);
        throw e;
      }
    },
    subscribe: (listener) => transport.subscribe(listener),
  };
}

export function initApi(access: Exclude<Access, { kind: 'none' }>): SkydeckClient {
  if (access.kind === 'electron') {
    if (!window.skydeck) throw new Error('The Electron preload bridge is missing');
    client = createClient(observed(preloadTransport(window.skydeck)));
  } else {
    http = new HttpTransport({ baseUrl: access.baseUrl, token: access.token });
    client = createClient(observed(http));
  }
  return client;
}

/** The one client of the app (commands and events). */
export function api(): SkydeckClient {
  if (!client) throw new Error('The API client is used before initApi()');
  return client;
}

/** The HTTP transport in headless mode (for the socket's state); null in Electron. */
export function httpTransport(): HttpTransport | null {
  return http;
}

export function onApiError(observer: (e: ApiError) => void): () => void {
  errorObservers.add(observer);
  return () => {
    errorObservers.delete(observer);
  };
}
