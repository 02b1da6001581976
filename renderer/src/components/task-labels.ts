import type { Composer } from 'vue-i18n';
import type { Task } from '@shared/contract/tasks';
import { percent } from '../util/format';

type T = Pick<Composer, 't' | 'te'>;

/** `system.backup` → "Database backup"; an unknown type shows as it is. */
export function taskName(i18n: T, type: string): string {
  const key = `taskType.${type}`;
  return i18n.te(key) || i18n.te(key, 'en') ? i18n.t(key) : type;
}

/**
 * A task's title, more precise than its type where the parameters say what it does: a guest device operation by its
 * `op` (Attach disk), a guest action by its `action` (Guest action: Force off), an agent upgrade apart from an install.
 */
export function taskTitle(i18n: T, task: Pick<Task, 'type' | 'params'>): string {
  const p = (task.params ?? {}) as Record<string, unknown>;
  const has = (key: string) => i18n.te(key) || i18n.te(key, 'en');
  if (task.type === 'guests.op' && typeof p.op === 'string' && has(`taskType.guests.ops.${p.op}`)) return i18n.t(`taskType.guests.ops.${p.op}`);
  if ((task.type === 'guests.action' || task.type === 'guests.bulk') && typeof p.action === 'string' && has(`inv.action.${p.action}`)) {
    return i18n.t('tasks.withAction', { task: taskName(i18n, task.type), action: i18n.t(`inv.action.${p.action}`) });
  }
  if (task.type === 'hosts.bootstrap' && p.mode === 'upgrade') return i18n.t('taskType.hosts.upgrade');
  return taskName(i18n, task.type);
}

/** el-progress status for a task. */
export function progressStatus(task: Pick<Task, 'status'>): '' | 'success' | 'exception' | 'warning' {
  if (task.status === 'succeeded') return 'success';
  if (task.status === 'failed') return 'exception';
  if (task.status === 'cancelled' || task.status === 'interrupted' || task.status === 'cancelling') return 'warning';
  return '';
}

/** Succeeded tasks show 100 % whatever their last reported progress. */
export function taskPercent(task: Pick<Task, 'status' | 'progress'>): number {
  return task.status === 'succeeded' ? 100 : percent(task.progress);
}

/** `onCopyPages` → "Copy pages": the readable form of a stage without a translation. */
export function humanizeStage(stage: string): string {
  const words = stage
    .replace(/^on(?=[A-Z])/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : stage;
}

/** A task's stage in the user's language: per type, then common stages, then humanized. */
export function stageLabel(i18n: T, type: string, stage: string): string {
  for (const key of [`taskStage.${type}.${stage}`, `taskStage.common.${stage}`]) {
    if (i18n.te(key) || i18n.te(key, 'en')) return i18n.t(key);
  }
  return humanizeStage(stage);
}
