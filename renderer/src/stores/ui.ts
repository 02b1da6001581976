import { defineStore } from 'pinia';
import { ref } from 'vue';

/** App-wide UI state that several views drive: the task drawer (opened when a bulk action starts a task). */
export const useUiStore = defineStore('ui', () => {
  const taskDrawerOpen = ref(false);
  function showTasks(): void {
    taskDrawerOpen.value = true;
  }
  return { taskDrawerOpen, showTasks };
});
