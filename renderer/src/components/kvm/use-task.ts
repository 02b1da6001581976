import { computed, ref, watch, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import type { Task } from '@shared/contract/tasks';
import { api } from '../../api';
import { useEvent } from '../../composables';
import { showError, showSuccess } from '../../notify';
import { useTasksStore, isActive, isFinal } from '../../stores/tasks';

/**
 * Starting an operation that answers a task: the task is fetched into the store (so its live updates show at once)
 * and a short confirmation names it (`what`, already in the user's language). Resolves the task id, or null when the
 * call was refused (the error is shown).
 */
export function useTaskStarter() {
  const i18n = useI18n();
  const tasks = useTasksStore();
  return async function start(what: string, run: () => Promise<{ taskId: string }>, opts: { quiet?: boolean } = {}): Promise<string | null> {
    try {
      const { taskId } = await run();
      tasks.get(taskId).catch(() => {});
      if (!opts.quiet) showSuccess(i18n.t('kvm.started', { what }));
      return taskId;
    } catch (e) {
      showError(e);
      return null;
    }
  };
}

/**
 * The recent tasks of one resource (by target id), newest first, kept live from task.updated events; `onFinished`
 * runs when one of them ends (the caller reloads what the task changed).
 */
export function useResourceTasks(targetId: Ref<string>, opts: { limit?: number; onFinished?: (task: Task) => void } = {}) {
  const limit = opts.limit ?? 8;
  const items = ref<Task[]>([]);
  const loading = ref(false);
  const error = ref<unknown>(null);

  async function load(): Promise<void> {
    const id = targetId.value;
    loading.value = true;
    try {
      const res = await api().call('tasks.list', { limit, sort: '-created_at', filter: [`target_id:${id}`] });
      if (id === targetId.value) {
        items.value = res.items;
        error.value = null;
      }
    } catch (e) {
      if (id === targetId.value) error.value = e;
    } finally {
      loading.value = false;
    }
  }
  watch(targetId, () => void load(), { immediate: true });

  useEvent('task.updated', (ev) => {
    const tk = ev.task;
    if (tk.target?.id !== targetId.value) return;
    const i = items.value.findIndex((x) => x.id === tk.id);
    const before = i >= 0 ? items.value[i]! : null;
    if (before && before.updatedAt > tk.updatedAt) return;
    if (i >= 0) items.value.splice(i, 1, tk);
    else items.value = [tk, ...items.value].slice(0, limit);
    if (isFinal(tk) && (!before || !isFinal(before))) opts.onFinished?.(tk);
  });

  const active = computed(() => items.value.filter(isActive));
  return { items, active, loading, error, load };
}
