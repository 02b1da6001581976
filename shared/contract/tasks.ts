import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime } from './common';
import { listQuerySchema, listResultSchema } from '../list';

export const TASK_STATUSES = ['queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export const taskErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** Why, in a word the UI can group by: `interrupted`, `unreachable`, `timeout`, … */
  reason: z.string().optional(),
});

export const taskSchema = z.object({
  id: z.string(),
  type: z.string(),
  /** The resource the task works on, e.g. { kind: 'guest', id: 'g-1' }; null for system tasks. */
  target: z.object({ kind: z.string(), id: z.string(), name: z.string().optional() }).nullable(),
  status: z.enum(TASK_STATUSES),
  stage: z.string(),
  progress: z.number().min(0).max(100),
  message: z.string(),
  params: z.record(z.string(), z.unknown()),
  result: z.unknown().nullable(),
  error: taskErrorSchema.nullable(),
  attempts: z.number().int(),
  parentId: z.string().nullable(),
  createdBy: z.string(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  updatedAt: isoTime,
});
export type Task = z.infer<typeof taskSchema>;

export const taskStageEntrySchema = z.object({
  stage: z.string(),
  status: z.enum(['entered', 'completed', 'failed']),
  message: z.string(),
  at: isoTime,
});
export type TaskStageEntry = z.infer<typeof taskStageEntrySchema>;

export const taskDetailSchema = taskSchema.extend({ history: z.array(taskStageEntrySchema) });
export type TaskDetail = z.infer<typeof taskDetailSchema>;

export const taskRefSchema = z.object({ taskId: z.string() });

export const tasks = {
  'tasks.list': command({
    summary: 'Tasks, newest first by default; filter by status, type, target_kind, target_id, parent_id',
    input: listQuerySchema,
    output: listResultSchema(taskSchema),
    mutating: false,
    list: 'tasks',
  }),
  'tasks.get': command({
    summary: 'One task with its stage history',
    input: z.object({ id: idSchema }).strict(),
    output: taskDetailSchema,
    mutating: false,
  }),
  'tasks.cancel': command({
    summary: 'Ask a queued or running task to stop; it ends as cancelled at its next stage boundary',
    input: z.object({ id: idSchema }).strict(),
    output: taskSchema,
    mutating: true,
  }),
};
