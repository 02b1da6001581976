import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Task, TaskDetail } from '@shared/contract/tasks';
import { FINAL_TASK_STATUSES } from '@shared/contract/tasks';
import { api } from '../api';

/** How many tasks the drawer shows. */
export const RECENT_LIMIT = 20;
const ACTIVE = new Set<Task['status']>(['queued', 'running', 'cancelling']);

export function isActive(task: Pick<Task, 'status'>): boolean {
  return ACTIVE.has(task.status);
}
export function isFinal(task: Pick<Task, 'status'>): boolean {
  return FINAL_TASK_STATUSES.includes(task.status);
}

/**
 * Running and recent tasks (the drawer and the header badge) and the latest known state of every task seen, patched
 * by task.updated events. Views with their own pages (the Tasks view) read lists themselves and patch from events too.
 */
export const useTasksStore = defineStore('tasks', () => {
  /** Latest known state by id. */
  const byId = ref<Record<string, Task>>({});
  /** The drawer's tasks, newest first. */
  const recentIds = ref<string[]>([]);
  /** Ids of tasks in status `running`. */
  const runningIds = ref<Set<string>>(new Set());
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<unknown>(null);

  const recent = computed(() => recentIds.value.map((id) => byId.value[id]).filter((t): t is Task => !!t));
  const runningCount = computed(() => runningIds.value.size);

  function remember(task: Task): void {
    const known = byId.value[task.id];
    // Events can overtake a list answer: never go back in time.
    if (known && known.updatedAt > task.updatedAt) return;
    byId.value[task.id] = task;
    // A bulk action's children are followed through their parent: they do not count or list on their own.
    if (task.status === 'running' && task.parentId === null) runningIds.value.add(task.id);
    else runningIds.value.delete(task.id);
  }

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const [recentPage, running] = await Promise.all([
        api().call('tasks.list', { limit: RECENT_LIMIT, sort: '-created_at', filter: ['parent_id:null'] }),
        api().call('tasks.list', { limit: 1000, filter: ['status:running', 'parent_id:null'] }),
      ]);
      runningIds.value = new Set(running.items.map((t) => t.id));
      for (const t of [...running.items, ...recentPage.items]) remember(t);
      recentIds.value = recentPage.items.map((t) => t.id);
      loaded.value = true;
      error.value = null;
    } catch (e) {
      error.value = e;
      throw e;
    } finally {
      loading.value = false;
    }
  }

  /** A task.updated event. */
  function apply(task: Task): void {
    remember(task);
    if (task.parentId === null && !recentIds.value.includes(task.id)) {
      recentIds.value = [task.id, ...recentIds.value].slice(0, RECENT_LIMIT);
    }
  }

  async function get(id: string): Promise<TaskDetail> {
    const detail = await api().call('tasks.get', { id });
    const { history: _history, ...task } = detail;
    remember(task);
    return detail;
  }

  async function cancel(id: string): Promise<Task> {
    const task = await api().call('tasks.cancel', { id });
    apply(task);
    return task;
  }

  return { byId, recentIds, runningIds, recent, runningCount, loading, loaded, error, refresh, apply, get, cancel };
});
