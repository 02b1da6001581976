/* global window, document, requestAnimationFrame */
// The peer of the ui-grid benchmark, built by bench/ui-grid.mjs with vite into a temp dir (never part of the product):
// Element Plus's plain el-table (v1, every row in the DOM) with the same columns as Skydeck's guest list.
import { createApp, h, nextTick } from 'vue';
import { ElTable, ElTableColumn } from 'element-plus';
import 'element-plus/dist/index.css';

const STATUSES = ['running', 'running', 'running', 'ready', 'suspended', 'start_failed'];
const COLUMNS = [
  ['name', 'Name', 180],
  ['status', 'Status', 120],
  ['provider', 'Provider', 100],
  ['host', 'Host', 140],
  ['project', 'Project', 120],
  ['vcpu', 'vCPUs', 70],
  ['memory', 'Memory', 90],
  ['ips', 'IP addresses', 130],
  ['synced', 'Synced', 125],
];

function rows(n) {
  return Array.from({ length: n }, (_, i) => ({
    id: `g-${i}`,
    name: `vm-${String(i).padStart(6, '0')}`,
    status: STATUSES[i % STATUSES.length],
    provider: i % 10 === 0 ? 'aws' : 'kvm',
    host: `kvm-${String(i % 10000).padStart(5, '0')}`,
    project: `project-${i % 24}`,
    vcpu: 1 << i % 4,
    memory: `${1 << (i >> 2) % 6} GiB`,
    ips: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    synced: 'now',
  }));
}

const frame = () => new Promise((r) => requestAnimationFrame(() => r()));

window.__bench = {
  /** Mounts the table with `n` rows; resolves with ms from mount to the first painted frame. */
  async mount(n) {
    const data = rows(n);
    const t0 = performance.now();
    const app = createApp({
      render: () =>
        h(ElTable, { data, height: 700, rowKey: 'id', style: { width: '1160px' } }, () =>
          COLUMNS.map(([prop, label, width]) =>
            h(ElTableColumn, { prop, label, width }, prop === 'status' ? { default: ({ row }) => h('span', { class: `st st-${row.status}` }, row.status) } : undefined),
          ),
        ),
    });
    app.mount('#app');
    await nextTick();
    await frame();
    await frame();
    return { ms: performance.now() - t0, domRows: document.querySelectorAll('.el-table__body tr').length };
  },
  /** The element that scrolls the table body. */
  scroller() {
    return document.querySelector('.el-table__body-wrapper .el-scrollbar__wrap');
  },
};
