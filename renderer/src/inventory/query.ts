import type { ListQueryInput } from '@shared/list';

/**
 * What a resource list's toolbar holds, and how it maps to the API's ListQuery and to a saved view's query. Pure, so
 * it is tested in Node.
 */
export interface ListState {
  /** `field` or `-field` (snake_case API field); undefined = the server's default order. */
  sort: string | undefined;
  /** Free text. */
  q: string;
  status: string[];
  providers: string[];
  /** `key=value` or `key` (has the tag, any value). */
  tags: string[];
  favoritesOnly: boolean;
  /** Favourites folder ('' = any). A folder implies favourites. */
  folder: string;
  /** Any other `field:value` filter (from a saved view, or a link such as `host_id:h-1`). */
  extra: string[];
}

export function emptyState(): ListState {
  return { sort: undefined, q: '', status: [], providers: [], tags: [], favoritesOnly: false, folder: '', extra: [] };
}

/** The `filter` array of a list query. Several values of one field are ORed (`status:running,ready`). */
export function toFilter(s: ListState): string[] {
  const f: string[] = [];
  if (s.status.length) f.push(`status:${s.status.join(',')}`);
  if (s.providers.length) f.push(`provider:${s.providers.join(',')}`);
  for (const tag of s.tags) f.push(`tag:${tag}`);
  if (s.folder) f.push(`folder:${s.folder}`);
  else if (s.favoritesOnly) f.push('favorite:true');
  f.push(...s.extra);
  return f;
}

export function toListQuery(s: ListState, offset: number, limit: number): ListQueryInput {
  const q = s.q.trim();
  return { offset, limit, filter: toFilter(s), ...(s.sort ? { sort: s.sort } : {}), ...(q ? { q } : {}) };
}

/** Saved views keep the query the server understands: sort, q and filter. */
export interface SavedQuery {
  sort?: string | undefined;
  q?: string | undefined;
  filter: string[];
}

export function toSavedQuery(s: ListState): SavedQuery {
  const q = s.q.trim();
  return { ...(s.sort ? { sort: s.sort } : {}), ...(q ? { q } : {}), filter: toFilter(s) };
}

const split = (v: string): string[] => v.split(',').map((x) => x.trim()).filter(Boolean);

/** A saved (or linked) query back into toolbar state: known filters fill their controls, the rest stay as extras. */
export function fromSavedQuery(query: Partial<SavedQuery>): ListState {
  const s = emptyState();
  s.sort = query.sort || undefined;
  s.q = query.q ?? '';
  for (const f of query.filter ?? []) {
    const i = f.indexOf(':');
    if (i < 0) continue;
    const field = f.slice(0, i);
    const value = f.slice(i + 1);
    if (field === 'status' && s.status.length === 0) s.status = split(value);
    else if (field === 'provider' && s.providers.length === 0) s.providers = split(value);
    else if (field === 'tag' && value) s.tags.push(value);
    else if (field === 'favorite' && value === 'true') s.favoritesOnly = true;
    else if (field === 'folder' && value) {
      s.folder = value;
      s.favoritesOnly = true;
    } else s.extra.push(f);
  }
  return s;
}

/** Anything narrowing the list (sort alone does not). */
export function isFiltered(s: ListState): boolean {
  return s.q.trim() !== '' || toFilter(s).length > 0;
}

/** Same query (what the server would answer), to tell a stale answer from a current one and a dirty view from a clean one. */
export function sameQuery(a: SavedQuery, b: SavedQuery): boolean {
  return (a.sort ?? '') === (b.sort ?? '') && (a.q ?? '') === (b.q ?? '') && JSON.stringify([...a.filter].sort()) === JSON.stringify([...b.filter].sort());
}

/** `env=prod` → { key: 'env', value: 'prod' }; `env` → { key: 'env', value: null }. */
export function parseTagFilter(text: string): { key: string; value: string | null } | null {
  const t = text.trim();
  if (!t) return null;
  const eq = t.indexOf('=');
  const key = (eq < 0 ? t : t.slice(0, eq)).trim();
  if (!key || /[,\s]/.test(key)) return null;
  return { key, value: eq < 0 ? null : t.slice(eq + 1).trim() };
}

/** Sort cycle of a header click: ascending, descending, then back to the default order. */
export function nextSort(current: string | undefined, field: string): string | undefined {
  if (current === field) return `-${field}`;
  if (current === `-${field}`) return undefined;
  return field;
}
