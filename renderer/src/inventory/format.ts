/** Inventory formatting: capacities and status colours. Pure, tested in Node. */

/** 2048 MB → "2 GiB", 1536 GB → "1.5 TiB" (binary units, as hypervisors count them). */
export function formatCapacity(n: number, unit: 'MB' | 'GB'): string {
  if (!Number.isFinite(n)) return '';
  const units = unit === 'MB' ? ['MiB', 'GiB', 'TiB', 'PiB'] : ['GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = v === 0 ? '0' : Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
  return `${s} ${units[i]}`;
}

export type StatusType = 'success' | 'warning' | 'danger' | 'info' | 'primary';

const SUCCESS = new Set(['running', 'online', 'active', 'enabled', 'available', 'ok', 'connected', 'attached', 'healthy']);
const DANGER = new Set(['error', 'unreachable', 'offline', 'disconnected', 'failed', 'lost']);
const WARNING = new Set(['suspended', 'maintenance', 'degraded', 'pending', 'vanished']);
const PRIMARY = new Set(['starting', 'stopping', 'rebooting', 'suspending', 'resuming', 'deleting', 'creating', 'syncing', 'migrating', 'connecting', 'bootstrapping', 'upgrading']);

/** Which colour a status shows in. */
export function statusType(status: string): StatusType {
  if (SUCCESS.has(status)) return 'success';
  if (DANGER.has(status) || status.endsWith('_failed')) return 'danger';
  if (WARNING.has(status)) return 'warning';
  if (PRIMARY.has(status)) return 'primary';
  return 'info';
}

/** Used over capacity as a whole percentage for a bar (0 when there is no capacity). */
export function usagePercent(used: number, capacity: number | null | undefined): number {
  if (!capacity || capacity <= 0 || !Number.isFinite(used)) return 0;
  return Math.max(0, Math.min(100, Math.round((used / capacity) * 100)));
}
