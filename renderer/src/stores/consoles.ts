import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { useRouter } from 'vue-router';
import type { ConsoleTicket } from '@shared/contract/consoles';
import { singletonKey, type ConsoleSpec } from '../consoles/spec';

/** What a tab shows about its console, for its label. */
export type TabState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'disconnected' | 'exited' | 'closed' | 'error';

export interface ConsoleTab {
  id: string;
  spec: ConsoleSpec;
  /** The name the opener knew ("web-1"), replaced by the ticket's title once one is issued. */
  title: string;
  state: TabState;
  /**
   * A ticket already issued for this tab (the SSH dialog checks credentials and the host key with consoles.open before
   * the tab exists); used once by the console, which asks for new ones afterwards.
   */
  ticket: ConsoleTicket | null;
}

let seq = 0;

/**
 * The open consoles of this window, in memory only: a guest SSH tab's spec holds the credentials the admin typed, so
 * nothing here is ever written to storage, and closing the tab (or the window) forgets them.
 */
export const useConsolesStore = defineStore('consoles', () => {
  const tabs = shallowRef<ConsoleTab[]>([]);
  const activeId = ref<string | null>(null);
  const active = computed(() => tabs.value.find((t) => t.id === activeId.value) ?? null);

  /**
   * Opens a console tab and makes it the active one; a guest's display or serial port that is already open is focused
   * instead of opened twice. Returns the tab's id.
   */
  function open(spec: ConsoleSpec, title: string, ticket: ConsoleTicket | null = null): string {
    const key = singletonKey(spec);
    const existing = key ? tabs.value.find((t) => singletonKey(t.spec) === key) : undefined;
    if (existing) {
      activeId.value = existing.id;
      return existing.id;
    }
    const id = `c${++seq}`;
    tabs.value = [...tabs.value, { id, spec, title, state: 'connecting', ticket }];
    activeId.value = id;
    return id;
  }

  function close(id: string): void {
    const i = tabs.value.findIndex((t) => t.id === id);
    if (i < 0) return;
    const next = tabs.value.filter((t) => t.id !== id);
    tabs.value = next;
    if (activeId.value === id) activeId.value = (next[i] ?? next[i - 1] ?? null)?.id ?? null;
  }

  function activate(id: string): void {
    if (tabs.value.some((t) => t.id === id)) activeId.value = id;
  }

  function update(id: string, patch: Partial<Pick<ConsoleTab, 'title' | 'state'>>): void {
    const tab = tabs.value.find((t) => t.id === id);
    if (!tab) return;
    if ((patch.title === undefined || patch.title === tab.title) && (patch.state === undefined || patch.state === tab.state)) return;
    tabs.value = tabs.value.map((t) => (t.id === id ? { ...t, ...patch } : t));
  }

  /** The tab's pre-issued ticket, once: a ticket is valid for one WebSocket only. */
  function takeTicket(id: string): ConsoleTicket | null {
    const tab = tabs.value.find((t) => t.id === id);
    if (!tab?.ticket) return null;
    const ticket = tab.ticket;
    tabs.value = tabs.value.map((t) => (t.id === id ? { ...t, ticket: null } : t));
    return ticket;
  }

  return { tabs, activeId, active, open, close, activate, update, takeTicket };
});

/** Opens a console tab and shows the Consoles page: what the entry points (guest, host) call. */
export function useOpenConsole(): (spec: ConsoleSpec, title: string, ticket?: ConsoleTicket | null) => string {
  const store = useConsolesStore();
  const router = useRouter();
  return (spec, title, ticket = null) => {
    const id = store.open(spec, title, ticket);
    if (router.currentRoute.value.name !== 'consoles') void router.push({ name: 'consoles' });
    return id;
  };
}
