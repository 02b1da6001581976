/* eslint-disable vue/one-component-per-file -- small render-function components that belong together */
import { defineComponent, h, type PropType, type ShallowRef } from 'vue';
import { Star, StarFilled } from '@element-plus/icons-vue';
import type { ResourceKind } from '@shared/contract/inventory/kinds';
import { useInventoryStore } from '../../stores/inventory';
import type { CellContext } from './cells';

type Row = { id: string; name: string };

/**
 * The selection checkbox and the favourite star of a list row, as components with stable props (see CellView): they
 * re-render when the selection or the favourites change, not on every scroll frame.
 */
export const SelectCell = defineComponent({
  name: 'SdSelectCell',
  props: {
    row: { type: Object as PropType<Row>, required: true },
    kind: { type: String as PropType<ResourceKind>, required: true },
    selection: { type: Object as PropType<ShallowRef<Map<string, unknown>>>, required: true },
    ctx: { type: Object as PropType<CellContext>, required: true },
    onToggle: { type: Function as PropType<(row: never) => unknown>, required: true },
  },
  setup(props) {
    return () =>
      h('input', {
        type: 'checkbox',
        class: 'sd-check',
        checked: props.selection.value.has(props.row.id),
        'aria-label': props.ctx.t('inv.selectRow', { name: props.row.name }),
        'data-testid': `select-${props.kind}-${props.row.id}`,
        onClick: (e: Event) => {
          e.stopPropagation();
          props.onToggle(props.row as never);
        },
      });
  },
});

export const StarCell = defineComponent({
  name: 'SdStarCell',
  props: {
    row: { type: Object as PropType<Row>, required: true },
    kind: { type: String as PropType<ResourceKind>, required: true },
    ctx: { type: Object as PropType<CellContext>, required: true },
    onToggle: { type: Function as PropType<(row: never) => unknown>, required: true },
  },
  setup(props) {
    const inventory = useInventoryStore();
    return () => {
      const on = inventory.isFavorite(props.kind, props.row.id);
      const folder = on ? inventory.folderOf(props.kind, props.row.id) : null;
      const { t } = props.ctx;
      return h(
        'button',
        {
          type: 'button',
          class: `sd-star ${on ? 'is-on' : ''}`,
          'data-testid': `star-${props.kind}-${props.row.id}`,
          'data-on': on ? 'true' : 'false',
          'aria-pressed': on,
          title: on ? (folder ? t('inv.fav.inFolder', { folder }) : t('inv.fav.remove')) : t('inv.fav.add'),
          onClick: (e: Event) => {
            e.stopPropagation();
            props.onToggle(props.row as never);
          },
        },
        [h('i', { class: 'el-icon' }, [h(on ? StarFilled : Star)])],
      );
    };
  },
});
