import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { SystemInfo } from '@shared/contract/system';
import { api } from '../api';
import type { SocketState } from '../api/http-transport';

/** system.info and the state of the connection to the core. */
export const useSystemStore = defineStore('system', () => {
  const info = ref<SystemInfo | null>(null);
  /** Client clock when info arrived, to advance the uptime locally. */
  const infoAt = ref(0);
  const loading = ref(false);
  const error = ref<unknown>(null);
  /** How this window reaches the core. */
  const transport = ref<'electron' | 'http'>('electron');
  /** The event socket in headless mode; null in Electron (IPC never drops). */
  const socket = ref<SocketState | null>(null);
  /** The server refused this tab's token: the session is over. */
  const authRefused = ref(false);

  async function loadInfo(): Promise<void> {
    loading.value = true;
    try {
      info.value = await api().call('system.info');
      infoAt.value = Date.now();
      error.value = null;
    } catch (e) {
      error.value = e;
      throw e;
    } finally {
      loading.value = false;
    }
  }

  /** Uptime in seconds at `now` (pass a ticking clock to animate it). */
  function uptimeAt(now: number): number | null {
    if (!info.value) return null;
    return info.value.uptimeSeconds + Math.max(0, (now - infoAt.value) / 1000);
  }

  const connected = computed(() => socket.value === null || socket.value.status === 'open');

  return { info, infoAt, loading, error, transport, socket, authRefused, connected, loadInfo, uptimeAt };
});
