import { describe, expect, it } from 'vitest';
import { TOKEN_STORAGE_KEY, forgetToken, resolveAccess } from './access';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

describe('resolveAccess', () => {
  it('uses the Electron bridge when there is one', () => {
    const replaced: string[] = [];
    const a = resolveAccess({ hasBridge: true, href: 'app://skydeck/index.html?token=x', storage: null, replaceUrl: (u) => replaced.push(u) });
    expect(a).toEqual({ kind: 'electron' });
    expect(replaced).toEqual([]);
  });

  it('takes the token from the address, keeps it in storage and removes it from the address bar', () => {
    const storage = memoryStorage();
    const replaced: string[] = [];
    const a = resolveAccess({
      hasBridge: false,
      href: 'http://127.0.0.1:7070/tasks?token=abc&status=failed#x',
      storage,
      replaceUrl: (u) => replaced.push(u),
    });
    expect(a).toEqual({ kind: 'http', baseUrl: 'http://127.0.0.1:7070', token: 'abc' });
    expect(storage.data.get(TOKEN_STORAGE_KEY)).toBe('abc');
    expect(replaced).toEqual(['/tasks?status=failed#x']);
  });

  it('finds the token in storage after a reload', () => {
    const storage = memoryStorage({ [TOKEN_STORAGE_KEY]: 'kept' });
    const replaced: string[] = [];
    const a = resolveAccess({ hasBridge: false, href: 'http://127.0.0.1:7070/settings', storage, replaceUrl: (u) => replaced.push(u) });
    expect(a).toEqual({ kind: 'http', baseUrl: 'http://127.0.0.1:7070', token: 'kept' });
    expect(replaced).toEqual([]);
  });

  it('prefers a new token in the address over a stored one', () => {
    const storage = memoryStorage({ [TOKEN_STORAGE_KEY]: 'old' });
    const a = resolveAccess({ hasBridge: false, href: 'http://127.0.0.1:7070/?token=new', storage, replaceUrl: () => {} });
    expect(a).toMatchObject({ token: 'new' });
    expect(storage.data.get(TOKEN_STORAGE_KEY)).toBe('new');
  });

  it('answers none without a token', () => {
    expect(resolveAccess({ hasBridge: false, href: 'http://127.0.0.1:7070/', storage: memoryStorage(), replaceUrl: () => {} })).toEqual({ kind: 'none' });
    expect(resolveAccess({ hasBridge: false, href: 'http://127.0.0.1:7070/?token=', storage: null, replaceUrl: () => {} })).toEqual({ kind: 'none' });
  });

  it('survives a storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(resolveAccess({ hasBridge: false, href: 'http://h:1/?token=t', storage: broken, replaceUrl: () => {} })).toMatchObject({ token: 't' });
    expect(resolveAccess({ hasBridge: false, href: 'http://h:1/', storage: broken, replaceUrl: () => {} })).toEqual({ kind: 'none' });
  });

  it('forgets the token', () => {
    const storage = memoryStorage({ [TOKEN_STORAGE_KEY]: 'x' });
    forgetToken(storage);
    expect(storage.data.has(TOKEN_STORAGE_KEY)).toBe(false);
  });
});
