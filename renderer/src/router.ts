import { createRouter, createWebHashHistory, createWebHistory, type RouteRecordRaw, type Router } from 'vue-router';
import { AREAS } from './nav/areas';
import DashboardView from './views/DashboardView.vue';
import TasksView from './views/TasksView.vue';
import AuditView from './views/AuditView.vue';
import SettingsView from './views/SettingsView.vue';
import AreaEmptyView from './views/AreaEmptyView.vue';
import HostsView from './views/HostsView.vue';
import GuestsView from './views/GuestsView.vue';
import NetworksView from './views/NetworksView.vue';
import StorageView from './views/StorageView.vue';
import ImagesView from './views/ImagesView.vue';
import CloudAccountsView from './views/CloudAccountsView.vue';
import ProjectsView from './views/ProjectsView.vue';
import NotFoundView from './views/NotFoundView.vue';

const built: Record<string, RouteRecordRaw> = {
  dashboard: { path: '/dashboard', name: 'dashboard', component: DashboardView, meta: { area: 'dashboard' } },
  // One path segment per page: the build's asset URLs are relative (`./assets/…`), so a deeper path would break a
  // reload. A task or an audit entry is addressed by query: `/tasks?id=…` (what search.global answers).
  tasks: { path: '/tasks', name: 'tasks', component: TasksView, meta: { area: 'tasks' } },
  audit: { path: '/audit', name: 'audit', component: AuditView, meta: { area: 'audit' } },
  settings: { path: '/settings', name: 'settings', component: SettingsView, meta: { area: 'settings' } },
  // Inventory areas; tabs and filters travel in the query (`/networks?tab=zones`, `/guests?filter=host_id:h-1`).
  hosts: { path: '/hosts', name: 'hosts', component: HostsView, meta: { area: 'hosts' } },
  guests: { path: '/guests', name: 'guests', component: GuestsView, meta: { area: 'guests' } },
  // Open consoles as tabs (kept alive across pages by the shell; noVNC and xterm.js load with the page); a tab moved to its own window is `/console?…` below.
  consoles: { path: '/consoles', name: 'consoles', component: () => import('./views/ConsolesView.vue'), meta: { area: 'consoles' } },
  networks: { path: '/networks', name: 'networks', component: NetworksView, meta: { area: 'networks' } },
  storage: { path: '/storage', name: 'storage', component: StorageView, meta: { area: 'storage' } },
  images: { path: '/images', name: 'images', component: ImagesView, meta: { area: 'images' } },
  'cloud-accounts': { path: '/cloud-accounts', name: 'cloud-accounts', component: CloudAccountsView, meta: { area: 'cloud-accounts' } },
  projects: { path: '/projects', name: 'projects', component: ProjectsView, meta: { area: 'projects' } },
  // Reports load with their page (exceljs and the PDF stay in the main process; the view is forms and tables).
  reports: { path: '/reports', name: 'reports', component: () => import('./views/ReportsView.vue'), meta: { area: 'reports' } },
  // Monitoring loads with its page (ECharts stays out of the first bundle).
  monitoring: { path: '/monitoring', name: 'monitoring', component: () => import('./views/MonitoringView.vue'), meta: { area: 'monitoring' } },
  alerts: { path: '/alerts', name: 'alerts', component: () => import('./views/AlertsView.vue'), meta: { area: 'alerts' } },
};

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/dashboard' },
  ...AREAS.map(
    (area): RouteRecordRaw =>
      built[area.id] ?? {
        path: area.path,
        name: area.id,
        component: AreaEmptyView,
        props: { areaId: area.id },
        meta: { area: area.id },
      },
  ),
  // One console in a window of its own, without the app's navigation (meta.bare): /console?kind=vnc&guestId=…
  { path: '/console', name: 'console', component: () => import('./views/ConsoleWindowView.vue'), meta: { bare: true } },
  { path: '/tasks/:id', redirect: (to) => ({ path: '/tasks', query: { ...to.query, id: String(to.params.id) } }) },
  { path: '/audit/:id', redirect: (to) => ({ path: '/audit', query: { ...to.query, id: String(to.params.id) } }) },
  { path: '/index.html', redirect: '/dashboard' },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: NotFoundView },
];

/**
 * Created after boot has taken the token out of the address (the history reads the location when it is created).
 * History mode: both the headless server and Electron's app:// protocol answer every extension-less path with the
 * page. Hash mode only where there is no server at all (file://).
 */
export function createAppRouter(): Router {
  return createRouter({
    history: window.location.protocol === 'file:' ? createWebHashHistory() : createWebHistory(),
    routes,
    scrollBehavior: () => ({ top: 0 }),
  });
}
