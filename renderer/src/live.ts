import { ElNotification } from 'element-plus';
import type { EventOf, SkydeckEvent } from '@shared/events';
import { api, httpTransport } from './api';
import { useSettingsStore } from './stores/settings';
import { useSystemStore } from './stores/system';
import { useTasksStore } from './stores/tasks';

const reconnectListeners = new Set<() => void>();
const eventListeners = new Set<(event: SkydeckEvent) => void>();

/** Runs `cb` each time the event socket comes back after a drop (whatever is on screen may be stale). */
export function onReconnect(cb: () => void): () => void {
  reconnectListeners.add(cb);
  return () => {
    reconnectListeners.delete(cb);
  };
}

/** Listens to one event type; returns the unsubscribe function. */
export function onEvent<T extends SkydeckEvent['type']>(type: T, cb: (event: EventOf<T>) => void): () => void {
  const l = (event: SkydeckEvent): void => {
    if (event.type === type) cb(event as EventOf<T>);
  };
  eventListeners.add(l);
  return () => {
    eventListeners.delete(l);
  };
}

/** Connects the stores to the event stream and the socket's state. Call once, after Pinia is installed. */
export function startLive(): void {
  const tasks = useTasksStore();
  const settings = useSettingsStore();
  const system = useSystemStore();

  api().on((event) => {
    switch (event.type) {
      case 'task.updated':
        tasks.apply(event.task);
        break;
      case 'settings.changed':
        settings.applyRemote(event.settings);
        break;
      case 'notification':
        ElNotification({ type: event.level, title: event.title, message: event.body, duration: event.level === 'error' ? 0 : 6000 });
        break;
      default:
        break;
    }
    for (const l of eventListeners) {
      try {
        l(event);
      } catch (e) {
        console.error(e);
      }
    }
  });

  const http = httpTransport();
  if (http) {
    system.transport = 'http';
    http.onState((state) => {
      system.socket = { ...state };
      if (state.status === 'open' && state.reconnected) {
        tasks.refresh().catch(() => {});
        settings.load().catch(() => {});
        for (const cb of reconnectListeners) cb();
      }
    });
  }
}

/** Asks the HTTP transport to retry the socket now. */
export function reconnectNow(): void {
  httpTransport()?.reconnectNow();
}
