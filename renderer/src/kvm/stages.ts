import type { Task, TaskStageEntry } from '@shared/contract/tasks';

/** The stages of a KVM host's bootstrap task (hosts.bootstrap: hosts.add, and upgradeAgent), in the order they run. */
export const BOOTSTRAP_STAGES = ['onConnect', 'onProbe', 'onRuntime', 'onUpload', 'onStart', 'onHandshake', 'onSync'] as const;

/** The stages of guests.create after its set-up. */
export const CREATE_GUEST_STAGES = ['onDisk', 'onSeed', 'onDefine', 'onStart', 'onSync'] as const;

/** Stages that only set a task up or wrap it up: shown when they run, not announced ahead. */
const HOUSEKEEPING = new Set(['onInit']);

export type StepState = 'done' | 'active' | 'failed' | 'stopped' | 'pending' | 'skipped';

export interface StageStep {
  stage: string;
  state: StepState;
  /** The last message the stage left in the history (or the task's, for the running stage). */
  message: string;
}

type TaskLike = Pick<Task, 'stage' | 'status' | 'message'>;

/**
 * A task's stages as a step list: the `expected` order first, with every stage the history or the task shows that is
 * not in it inserted where it ran. Each step is done, running, failed, stopped (cancelled or interrupted there),
 * pending, or skipped (the task went past it without entering it, which only the loaded history can tell).
 */
export function stageSteps(expected: readonly string[], task: TaskLike | null, history: readonly TaskStageEntry[]): StageStep[] {
  const order: string[] = [...expected];
  let prev: string | null = null;
  const place = (stage: string): void => {
    if (!order.includes(stage)) {
      const at = prev === null ? 0 : order.indexOf(prev) + 1;
      order.splice(at, 0, stage);
    }
    prev = stage;
  };
  for (const h of history) place(h.stage);
  if (task && task.stage && task.status !== 'queued') place(task.stage);

  const last = new Map<string, TaskStageEntry>();
  for (const h of history) last.set(h.stage, h);

  const status = task?.status ?? 'queued';
  const current = task && status !== 'queued' ? task.stage : null;
  const finished = status === 'succeeded' || status === 'failed' || status === 'cancelled' || status === 'interrupted';
  // How far the task got: the current stage, or the furthest stage in the history.
  let reached = current ? order.indexOf(current) : -1;
  for (const h of history) reached = Math.max(reached, order.indexOf(h.stage));

  const steps = order.map((stage, i): StageStep => {
    const h = last.get(stage);
    let state: StepState;
    if (stage === current && !finished) state = 'active';
    else if (stage === current && status === 'failed') state = 'failed';
    else if (stage === current && (status === 'cancelled' || status === 'interrupted')) state = 'stopped';
    else if (h?.status === 'completed') state = 'done';
    else if (h?.status === 'failed') state = 'failed';
    else if (h?.status === 'entered') state = status === 'succeeded' ? 'done' : 'active';
    else if (stage === current && status === 'succeeded') state = 'done';
    else if (i < reached) state = history.length ? 'skipped' : 'done';
    else if (status === 'succeeded') state = 'skipped';
    else state = 'pending';
    const message = stage === current && !finished ? (task?.message ?? h?.message ?? '') : (h?.message ?? '');
    return { stage, state, message };
  });
  // Housekeeping stages that never ran are noise in a list of what is about to happen.
  return steps.filter((s) => !(HOUSEKEEPING.has(s.stage) && (s.state === 'pending' || s.state === 'skipped')));
}

/** The step list is finished and failed: the dialog offers to go back and fix the input. */
export function failedStep(steps: readonly StageStep[]): StageStep | null {
  return steps.find((s) => s.state === 'failed') ?? null;
}
