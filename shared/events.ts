import { z } from 'zod';
import { taskSchema } from './contract/tasks';
import { settingsSchema } from './contract/settings';

/**
 * The typed event stream from the core to every UI: over IPC (`webContents.send`) in the desktop app, over the
 * `/api/v1/events` WebSocket in headless mode. Each event is one JSON object with a `type`.
 */
export const eventSchema = z.discriminatedUnion('type', [
  /** A task was created or changed stage, progress or status. */
  z.object({ type: z.literal('task.updated'), task: taskSchema }),
  /** A resource row was created, changed or deleted; lists showing that kind refetch. */
  z.object({
    type: z.literal('resource.changed'),
    kind: z.string(),
    id: z.string(),
    action: z.enum(['created', 'updated', 'deleted']),
  }),
  z.object({ type: z.literal('settings.changed'), settings: settingsSchema }),
  /** A notification for the user (the desktop app also shows it natively through the platform port). */
  z.object({
    type: z.literal('notification'),
    level: z.enum(['info', 'success', 'warning', 'error']),
    title: z.string(),
    body: z.string(),
  }),
]);

export type SkydeckEvent = z.infer<typeof eventSchema>;
export type EventType = SkydeckEvent['type'];
export type EventOf<T extends EventType> = Extract<SkydeckEvent, { type: T }>;
