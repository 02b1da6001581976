import type { SkydeckEvent } from '@shared/events';

export type EventListener = (event: SkydeckEvent) => void;

/** The one typed event bus from the core to its transports. A throwing listener never breaks the others. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly onListenerError: (e: unknown) => void = () => {}) {}

  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: SkydeckEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
