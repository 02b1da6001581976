import { shallowRef } from 'vue';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import { api } from '../api';

/**
 * Names of referenced resources (a guest's host, a network's wire), fetched in batches: every id asked for during one
 * render is looked up with one `<kind>.list` per kind (`filter id:a,b,c`). Reading `refName` in a render makes that
 * render update when the names arrive.
 */
const names = new Map<string, string | null>();
const pending = new Map<ResourceKind, Set<string>>();
const version = shallowRef(0);
let timer: ReturnType<typeof setTimeout> | null = null;
const BATCH = 500;

const key = (kind: ResourceKind, id: string): string => `${kind}\u0000${id}`;

async function flush(): Promise<void> {
  timer = null;
  const work = [...pending.entries()];
  pending.clear();
  for (const [kind, ids] of work) {
    const all = [...ids];
    for (let i = 0; i < all.length; i += BATCH) {
      const chunk = all.slice(i, i + BATCH);
      try {
        const res = await api().call(`${kind}.list` as 'hosts.list', { limit: chunk.length, filter: [`id:${chunk.join(',')}`] });
        for (const item of res.items) names.set(key(kind, item.id), item.name);
        // Ids that did not come back no longer exist: remember that, so they are not asked again and again.
        for (const id of chunk) if (!names.has(key(kind, id))) names.set(key(kind, id), null);
      } catch {
        for (const id of chunk) names.delete(key(kind, id));
      }
    }
  }
  version.value++;
}

/** The name of `kind/id`: a string, null when it does not exist, undefined while it loads. */
export function refName(kind: ResourceKind, id: string): string | null | undefined {
  void version.value;
  const k = key(kind, id);
  if (names.has(k)) return names.get(k);
  let set = pending.get(kind);
  if (!set) pending.set(kind, (set = new Set()));
  if (!set.has(id)) {
    set.add(id);
    timer ??= setTimeout(() => void flush(), 20);
  }
  return undefined;
}

/** Seeds the cache with names already at hand (a list page of the kind itself). */
export function rememberNames(kind: ResourceKind, items: readonly { id: string; name: string }[]): void {
  for (const item of items) names.set(key(kind, item.id), item.name);
}

/** A resource was renamed or deleted: forget it (it is looked up again when shown). */
export function forgetName(kind: string, id: string): void {
  if (names.delete(key(kind as ResourceKind, id))) version.value++;
}
