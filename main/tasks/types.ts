import type { z } from 'zod';
import type { Task } from '@shared/contract/tasks';
import type { Logger } from '../log/logger';

/**
 * A task type is a small state machine, as Cloudpods keeps them: named stages (`onInit` → … ), each an idempotent step
 * whose completion is committed before the next begins, and optional `<stage>Failed` handlers that clean up.
 * Later issues add task types; the engine's plumbing stays as it is.
 */
export interface StageContext<P> {
  readonly task: Task;
  readonly params: P;
  /** Aborted when the task is cancelled or the app shuts down; long stages must pass it on. */
  readonly signal: AbortSignal;
  /** Reports progress inside the stage (0–100 overall); committed and streamed, at most ~10 times a second. */
  progress(percent: number, message?: string): void;
  readonly log: Logger;
}

export type StageResult =
  /** `patch` is merged into the task's params in the same commit as the stage change (state a resumed stage needs). */
  | { next: string; progress?: number; message?: string; patch?: Record<string, unknown> }
  | { done: unknown; message?: string };

export type StageHandler<P> = (ctx: StageContext<P>) => Promise<StageResult>;

export interface TaskTarget {
  kind: string;
  id: string;
  name?: string;
}

export interface TaskType<P = unknown> {
  type: string;
  params: z.ZodType<P>;
  /** Every stage, `onInit` first. */
  stages: Record<string, StageHandler<P>>;
  /** `<stage>Failed` handlers: run once when that stage fails, before the task is marked failed. */
  failed?: Record<string, (ctx: StageContext<P>, error: unknown) => Promise<void>>;
  /** Runs once when the task is cancelled in a stage, before it is marked cancelled (e.g. to put a status back). */
  cancelled?: (ctx: StageContext<P>) => Promise<void>;
  /**
   * After a crash or quit, the engine asks what to do with a task that was in `stage`. Stages are idempotent, so the
   * default is to run that stage again; a type that cannot resume reconciles the resource's real status and answers
   * `interrupt`.
   */
  recover?(task: Task, params: P): Promise<'resume' | 'interrupt'>;
}

/** Thrown (or used as an abort reason) when the app is shutting down: the task stays where it is and resumes at the next start. */
export class ShutdownSignal extends Error {
  constructor() {
    super('Skydeck is shutting down');
    this.name = 'ShutdownSignal';
  }
}

export class CancelSignal extends Error {
  constructor() {
    super('cancelled by user');
    this.name = 'CancelSignal';
  }
}
