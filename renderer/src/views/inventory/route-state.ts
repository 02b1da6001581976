import { computed, nextTick, watch, type WritableComputedRef } from 'vue';
import { useRoute, useRouter } from 'vue-router';

/** The tab of a tabbed area, kept in the address (`?tab=zones`) so a reload or a link lands on it. */
export function useRouteTab<T extends string>(tabs: readonly T[], fallback: T): WritableComputedRef<T> {
  const route = useRoute();
  const router = useRouter();
  return computed({
    get: () => {
      const t = route.query.tab;
      return typeof t === 'string' && (tabs as readonly string[]).includes(t) ? (t as T) : fallback;
    },
    set: (v) => {
      const { filter: _filter, ...rest } = route.query;
      void router.replace({ query: { ...rest, tab: v === fallback ? undefined : v } });
    },
  });
}

/** Filters handed over in the address (`?filter=host_id:h-1`), for a list to start with. */
export function useRouteFilter() {
  const route = useRoute();
  return computed(() => {
    const f = route.query.filter;
    return (Array.isArray(f) ? f : f ? [f] : []).filter((x): x is string => typeof x === 'string' && x.includes(':'));
  });
}

/**
 * A resource to open handed over in the address (`/guests?open=<id>`, as links from another resource's detail do):
 * `open` is called with it once the list is there, and the parameter leaves the address (a reload does not reopen it).
 */
export function useRouteOpen(open: (id: string) => void) {
  const route = useRoute();
  const router = useRouter();
  watch(
    () => route.query.open,
    (id) => {
      if (typeof id !== 'string' || !id) return;
      // The list mounts in the same tick as the view: open after it has.
      void nextTick(() => {
        open(id);
        const { open: _open, ...rest } = route.query;
        void router.replace({ query: rest });
      });
    },
    { immediate: true },
  );
}
