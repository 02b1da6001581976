import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { Output } from '@shared/contract';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import { api } from '../api';

export type Capabilities = Output<'system.capabilities'>;
export type InventorySummary = Output<'inventory.summary'>;

/**
 * What the inventory views share: the providers' capabilities and where the inventory came from (the read-only
 * banner), the dashboard roll-ups (oldest sync), and the user's favourites with their folders.
 */
export const useInventoryStore = defineStore('inventory', () => {
  const capabilities = ref<Capabilities | null>(null);
  const summary = ref<InventorySummary | null>(null);
  /** kind → (id → folder). */
  const favorites = shallowRef(new Map<ResourceKind, Map<string, string>>());
  const folders = ref<{ folder: string; count: number }[]>([]);
  const favoritesLoaded = ref(false);

  let capsPromise: Promise<Capabilities> | null = null;
  async function loadCapabilities(force = false): Promise<Capabilities> {
    if (!force && capsPromise) return capsPromise;
    capsPromise = api().call('system.capabilities');
    try {
      capabilities.value = await capsPromise;
      return capabilities.value;
    } catch (e) {
      capsPromise = null;
      throw e;
    }
  }

  async function loadSummary(): Promise<InventorySummary> {
    summary.value = await api().call('inventory.summary');
    return summary.value;
  }

  async function loadFavorites(): Promise<void> {
    const res = await api().call('favorites.list', {});
    const next = new Map<ResourceKind, Map<string, string>>();
    for (const f of res.items) {
      let m = next.get(f.kind);
      if (!m) next.set(f.kind, (m = new Map()));
      m.set(f.id, f.folder);
    }
    favorites.value = next;
    folders.value = res.folders;
    favoritesLoaded.value = true;
  }

  function isFavorite(kind: ResourceKind, id: string): boolean {
    return favorites.value.get(kind)?.has(id) ?? false;
  }
  function folderOf(kind: ResourceKind, id: string): string | null {
    const f = favorites.value.get(kind)?.get(id);
    return f === undefined ? null : f;
  }
  function favoriteCount(kind: ResourceKind): number {
    return favorites.value.get(kind)?.size ?? 0;
  }

  async function addFavorites(kind: ResourceKind, ids: string[], folder = ''): Promise<void> {
    if (!ids.length) return;
    for (let i = 0; i < ids.length; i += 10_000) await api().call('favorites.add', { kind, ids: ids.slice(i, i + 10_000), folder });
    await loadFavorites();
  }
  async function removeFavorites(kind: ResourceKind, ids: string[]): Promise<void> {
    if (!ids.length) return;
    for (let i = 0; i < ids.length; i += 10_000) await api().call('favorites.remove', { kind, ids: ids.slice(i, i + 10_000) });
    await loadFavorites();
  }

  const origin = computed(() => capabilities.value?.inventoryOrigin ?? null);

  return {
    capabilities,
    summary,
    favorites,
    folders,
    favoritesLoaded,
    origin,
    loadCapabilities,
    loadSummary,
    loadFavorites,
    isFavorite,
    folderOf,
    favoriteCount,
    addFavorites,
    removeFavorites,
  };
});
