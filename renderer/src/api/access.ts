/** How the renderer reaches the core, decided once at boot. */
export type Access =
  | { kind: 'electron' }
  | { kind: 'http'; baseUrl: string; token: string }
  | { kind: 'none' };

export const TOKEN_STORAGE_KEY = 'skydeck.token';

interface AccessEnv {
  hasBridge: boolean;
  /** The page's address. */
  href: string;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** Replaces the address bar without the token (history.replaceState). */
  replaceUrl: (url: string) => void;
}

/**
 * Electron when the preload bridge exists; otherwise the headless server, whose token arrives once as `?token=` in
 * the address: it moves to sessionStorage and leaves the address bar (and so the history and any screenshot).
 */
export function resolveAccess(env: AccessEnv): Access {
  if (env.hasBridge) return { kind: 'electron' };
  const url = new URL(env.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    try {
      env.storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
    } catch {
      /* storage disabled: the token lives only in memory for this page */
    }
    env.replaceUrl(url.pathname + url.search + url.hash);
  }
  let token = fromUrl;
  if (!token) {
    try {
      token = env.storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
    } catch {
      token = null;
    }
  }
  if (!token) return { kind: 'none' };
  return { kind: 'http', baseUrl: url.origin, token };
}

export function forgetToken(storage: Pick<Storage, 'removeItem'> | null): void {
  try {
    storage?.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    /* nothing to forget */
  }
}
