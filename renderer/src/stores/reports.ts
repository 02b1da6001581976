import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Input } from '@shared/contract';
import type { Price, RateCard, Schedule } from '@shared/contract/reports';
import type { Task } from '@shared/contract/tasks';
import { api } from '../api';

export type StoredPrice = Price & { source: 'manual' | 'provider'; listHourly: number | null; currency: string | null; updatedAt: string };
export type ScheduleItem = Schedule;

/** Report schedules, the rate card and cloud prices, and recent report tasks: a thin cache over the API. */
export const useReportsStore = defineStore('reports', () => {
  const schedules = ref<ScheduleItem[]>([]);
  const rateCard = ref<RateCard | null>(null);
  const prices = ref<StoredPrice[]>([]);
  /** Recent `reports.run` and `reports.snapshot` tasks, newest first. */
  const recent = ref<Task[]>([]);

  async function loadSchedules(): Promise<void> {
    schedules.value = (await api().call('reports.listSchedules')).items;
  }
  async function createSchedule(input: Input<'reports.createSchedule'>): Promise<ScheduleItem> {
    const s = await api().call('reports.createSchedule', input);
    await loadSchedules();
    return s;
  }
  async function updateSchedule(id: string, patch: Input<'reports.updateSchedule'>['patch']): Promise<ScheduleItem> {
    const s = await api().call('reports.updateSchedule', { id, patch });
    await loadSchedules();
    return s;
  }
  async function deleteSchedule(id: string): Promise<void> {
    await api().call('reports.deleteSchedule', { id });
    await loadSchedules();
  }
  async function runSchedule(id: string): Promise<string> {
    const { taskId } = await api().call('reports.runSchedule', { id });
    await loadSchedules();
    return taskId;
  }

  async function loadRates(): Promise<void> {
    const [card, list] = await Promise.all([api().call('reports.getRateCard'), api().call('reports.listPrices')]);
    rateCard.value = card;
    prices.value = list.items as StoredPrice[];
  }
  async function saveRateCard(card: RateCard): Promise<void> {
    rateCard.value = await api().call('reports.setRateCard', card);
  }
  async function setPrice(p: Price): Promise<void> {
    await api().call('reports.setPrice', p);
    prices.value = (await api().call('reports.listPrices')).items as StoredPrice[];
  }
  async function deletePrice(p: Pick<Price, 'provider' | 'region' | 'instanceType'>): Promise<void> {
    await api().call('reports.deletePrice', p);
    prices.value = (await api().call('reports.listPrices')).items as StoredPrice[];
  }

  async function loadRecent(): Promise<void> {
    const [runs, snaps] = await Promise.all([
      api().call('tasks.list', { limit: 15, sort: '-created_at', filter: ['type:reports.run'] }),
      api().call('tasks.list', { limit: 5, sort: '-created_at', filter: ['type:reports.snapshot'] }),
    ]);
    recent.value = [...runs.items, ...snaps.items].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).slice(0, 15);
  }
  /** Patches a task from a task.updated event (and adds a new report task at the top). */
  function patchTask(task: Task): void {
    if (task.type !== 'reports.run' && task.type !== 'reports.snapshot') return;
    const i = recent.value.findIndex((t) => t.id === task.id);
    if (i >= 0) {
      if (recent.value[i]!.updatedAt <= task.updatedAt) recent.value[i] = task;
    } else recent.value = [task, ...recent.value].slice(0, 15);
  }

  return { schedules, rateCard, prices, recent, loadSchedules, createSchedule, updateSchedule, deleteSchedule, runSchedule, loadRates, saveRateCard, setPrice, deletePrice, loadRecent, patchTask };
});
