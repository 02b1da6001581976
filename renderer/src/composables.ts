import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';
import type { EventOf, SkydeckEvent } from '@shared/events';
import { onEvent, onReconnect } from './live';

/** Listens to an event type while the component is mounted. */
export function useEvent<T extends SkydeckEvent['type']>(type: T, cb: (event: EventOf<T>) => void): void {
  let off: (() => void) | null = null;
  onMounted(() => {
    off = onEvent(type, cb);
  });
  onBeforeUnmount(() => off?.());
}

/** Runs `cb` when the event socket comes back, while the component is mounted. */
export function useReconnect(cb: () => void): void {
  let off: (() => void) | null = null;
  onMounted(() => {
    off = onReconnect(cb);
  });
  onBeforeUnmount(() => off?.());
}

/** A clock that ticks every `ms` while the component is mounted. */
export function useNow(ms = 1000): Ref<number> {
  const now = ref(Date.now());
  let timer: ReturnType<typeof setInterval> | null = null;
  onMounted(() => {
    timer = setInterval(() => (now.value = Date.now()), ms);
  });
  onBeforeUnmount(() => {
    if (timer) clearInterval(timer);
  });
  return now;
}

/** Calls `fn` at most once per `ms`, trailing (for refetches triggered by bursts of events). */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  run.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return run;
}
