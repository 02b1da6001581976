 
import { defineComponent, h, type PropType, type VNodeChild } from 'vue';
import { Lock, WarningFilled } from '@element-plus/icons-vue';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import type { ColumnDef } from '../../inventory/kinds';
import { refName } from '../../inventory/names';
import { formatDateTime, formatNumber, relativeTime } from '../../util/format';
import { formatCapacity, statusType } from '../../inventory/format';

type Translate = (key: string, named?: Record<string, unknown>) => string;
type Row = Record<string, unknown> & { id: string };

export interface CellContext {
  t: Translate;
  te: (key: string) => boolean;
  locale: string;
  now: number;
  kind: ResourceKind;
  /** Labels already translated for this locale (thousands of cells share a few of them). */
  memo?: Map<string, string>;
}

function memo(ctx: Pick<CellContext, 'memo'>, key: string, make: () => string): string {
  if (!ctx.memo) return make();
  let v = ctx.memo.get(key);
  if (v === undefined) ctx.memo.set(key, (v = make()));
  return v;
}

/** A status in the user's language (`inv.status.<s>`), else as it is. */
export function statusLabel(ctx: Pick<CellContext, 't' | 'te' | 'memo'>, status: string): string {
  return memo(ctx, `s:${status}`, () => {
    const k = `inv.status.${status}`;
    return ctx.te(k) ? ctx.t(k) : status.replace(/_/g, ' ');
  });
}

const icon = (comp: unknown, cls: string, extra: Record<string, unknown> = {}) => h('i', { class: `el-icon ${cls}`, ...extra }, [h(comp as never)]);

/** A bar of `used` against `total` with its text: used over total (percent on hover). */
export function miniBar(used: number, total: number | null, text: string): VNodeChild {
  const pct = total && total > 0 ? Math.min(100, (used / total) * 100) : 0;
  const level = pct >= 90 ? 'is-danger' : pct >= 75 ? 'is-warning' : '';
  return h('div', { class: 'sd-minibar-cell', title: total ? `${Math.round((used / total) * 100)} %` : undefined }, [
    h('div', { class: `sd-minibar ${level}` }, [h('i', { style: { width: `${pct}%` } })]),
    h('span', { class: 'sd-minibar-text' }, text),
  ]);
}

function text(v: unknown, cls = ''): VNodeChild {
  const s = v === null || v === undefined || v === '' ? '—' : String(v);
  return h('span', { class: `sd-cell-text ${cls}`, title: s }, s);
}

export function renderCell(col: ColumnDef, row: Row, ctx: CellContext): VNodeChild {
  const v = row[col.field ?? col.key];
  switch (col.cell) {
    case 'name': {
      const parts: VNodeChild[] = [h('span', { class: 'sd-cell-name', title: String(v ?? '') }, String(v ?? ''))];
      if (row.stale) {
        parts.push(
          icon(WarningFilled, 'sd-stale-icon', {
            'data-testid': `stale-${ctx.kind}-${row.id}`,
            title: ctx.t('inv.staleTitle', { at: row.syncedAt ? formatDateTime(row.syncedAt as string) : ctx.t('inv.never') }),
          }),
        );
      }
      if (row.readOnly) parts.push(icon(Lock, 'sd-lock-icon', { title: memo(ctx, 'ro', () => ctx.t('inv.readOnlyRow')) }));
      return h('span', { class: 'sd-cell-name-wrap' }, parts);
    }
    case 'status':
    case 'health': {
      const s = String(v ?? 'unknown');
      return h('span', { class: `sd-status is-${statusType(s)}`, 'data-status': s }, statusLabel(ctx, s));
    }
    case 'provider':
      return h('span', { class: 'sd-provider' }, memo(ctx, `p:${String(v)}`, () => (ctx.te(`inv.provider.${String(v)}`) ? ctx.t(`inv.provider.${String(v)}`) : String(v ?? ''))));
    case 'mono':
      return text(v, 'sd-mono');
    case 'number':
      return text(v === null || v === undefined ? null : formatNumber(Number(v), ctx.locale));
    case 'mb':
      return text(formatCapacity(Number(v ?? 0), 'MB'));
    case 'gb':
      return text(formatCapacity(Number(v ?? 0), 'GB'));
    case 'mbps':
      return text(v === null || v === undefined ? null : ctx.t('inv.unit.mbps', { n: formatNumber(Number(v), ctx.locale) }));
    case 'date':
      return text(formatDateTime(v as string | null));
    case 'age':
      return v ? h('span', { class: 'sd-cell-text', title: formatDateTime(v as string) }, relativeTime(v as string, ctx.now, ctx.locale)) : text(memo(ctx, 'never', () => ctx.t('inv.never')), 'sd-muted');
    case 'bool':
      return h('span', { class: v ? 'sd-bool is-on' : 'sd-bool' }, v ? memo(ctx, 'yes', () => ctx.t('inv.yes')) : memo(ctx, 'no', () => ctx.t('inv.no')));
    case 'list':
      return text(Array.isArray(v) ? v.join(', ') : v);
    case 'count':
      return text(Array.isArray(v) ? v.length : 0);
    case 'tags': {
      const tags = (Array.isArray(v) ? v : []) as { key: string; value: string; source: string }[];
      if (!tags.length) return text(null, 'sd-muted');
      const shown = tags.slice(0, 3);
      return h('span', { class: 'sd-cell-tags', title: tags.map((x) => `${x.key}=${x.value}`).join('\n') }, [
        ...shown.map((x) => h('span', { class: `sd-chip ${x.source === 'provider' ? 'is-provider' : ''}` }, x.value === '' ? x.key : `${x.key}=${x.value}`)),
        tags.length > 3 ? h('span', { class: 'sd-chip is-more' }, `+${tags.length - 3}`) : null,
      ]);
    }
    case 'ref': {
      if (!v) return text(null, 'sd-muted');
      const n = refName(col.ref!, String(v));
      return n ? text(n) : text(String(v), 'sd-mono sd-muted');
    }
    case 'hostCpu': {
      const cap = Number(row.cpuCores ?? 0) * Number(row.cpuOvercommit ?? 1);
      return miniBar(Number(row.cpuAllocated ?? 0), cap, `${Number(row.cpuAllocated ?? 0)} / ${Math.round(cap)}`);
    }
    case 'hostMemory': {
      const cap = Number(row.memoryMb ?? 0) * Number(row.memoryOvercommit ?? 1);
      return miniBar(Number(row.memoryAllocatedMb ?? 0), cap, `${formatCapacity(Number(row.memoryAllocatedMb ?? 0), 'MB')} / ${formatCapacity(cap, 'MB')}`);
    }
    case 'hostStorage': {
      const cap = Number(row.storageGb ?? 0) * Number(row.storageOvercommit ?? 1);
      return miniBar(Number(row.storageAllocatedGb ?? 0), cap, `${formatCapacity(Number(row.storageAllocatedGb ?? 0), 'GB')} / ${formatCapacity(cap, 'GB')}`);
    }
    case 'storageUsage':
      return miniBar(Number(row.usedGb ?? 0), Number(row.capacityGb ?? 0), `${formatCapacity(Number(row.usedGb ?? 0), 'GB')} / ${formatCapacity(Number(row.capacityGb ?? 0), 'GB')}`);
    case 'ipUsage':
      return miniBar(Number(row.usedIps ?? 0), Number(row.totalIps ?? 0), `${Number(row.usedIps ?? 0)} / ${Number(row.totalIps ?? 0)}`);
    case 'quota': {
      const q = col.quota!;
      const used = Number((row.usage as Record<string, number> | undefined)?.[q] ?? 0);
      const limit = (row.quota as Record<string, number | null> | undefined)?.[q] ?? null;
      const fmt = (n: number) => (q === 'memoryMb' ? formatCapacity(n, 'MB') : q === 'storageGb' ? formatCapacity(n, 'GB') : formatNumber(n, ctx.locale));
      return miniBar(used, limit, `${fmt(used)} / ${limit === null ? '∞' : fmt(limit)}`);
    }
    default:
      return text(v);
  }
}

/**
 * One cell as a component with stable props (the column, the row object, the context of this locale and minute): the
 * virtual grid re-renders every visible row on each scroll frame, and Vue skips a child component whose props did not
 * change, so a cell is drawn once when its row appears, and again only when its data, the language or the clock change.
 */
export const CellView = defineComponent({
  name: 'SdCell',
  props: {
    col: { type: Object as PropType<ColumnDef>, required: true },
    row: { type: Object as PropType<Row>, required: true },
    ctx: { type: Object as PropType<CellContext>, required: true },
  },
  setup(props) {
    return () => renderCell(props.col, props.row, props.ctx);
  },
});

/** Why an action is unavailable, in the user's language (statuses and providers translated too). */
export function reasonText(ctx: Pick<CellContext, 't' | 'te' | 'memo'>, reason: { key: string; named?: Record<string, unknown> }): string {
  const named = { ...(reason.named ?? {}) };
  // Mid-sentence: "not allowed while running", not "while Running" (a no-op for Chinese).
  if (typeof named.status === 'string') named.status = statusLabel(ctx, named.status).toLocaleLowerCase();
  if (typeof named.provider === 'string') {
    const k = `inv.provider.${named.provider}`;
    if (ctx.te(k)) named.provider = ctx.t(k);
  }
  if (typeof named.action === 'string') {
    const k = `inv.action.${named.action}`;
    if (ctx.te(k)) named.action = ctx.t(k).toLocaleLowerCase();
  }
  return ctx.t(reason.key, named);
}
